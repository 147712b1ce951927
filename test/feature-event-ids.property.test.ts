// The feature windows' retry memory (core/feature-event-ids.ts) against a naive map of (accountId, eventId) to
// the time last recorded: whether each event is a retry, and how many entries are kept, over thousands of events
// (the arrays grow and are compacted, the table is rebuilt), with IDs that differ only in where account ends and
// event begins, characters past a byte, and expiry at any point. Server-free: part of the mutation run.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RecordedEventIds } from '../core/feature-event-ids';

const seed = process.env.CORDON_PROPERTY_SEED ? Number(process.env.CORDON_PROPERTY_SEED) : undefined;

/** What the memory must answer, without its compact layout: a retry while the clock is less than keepMs past. */
class NaiveIds {
  private readonly last = new Map<string, number>();
  private readonly order: number[] = [];
  private head = 0;
  constructor(readonly keepMs: number) {}
  add(accountId: string, eventId: string, t: number, clock: number): boolean {
    const key = JSON.stringify([accountId, eventId]);
    const at = this.last.get(key);
    if (at !== undefined && at > clock - this.keepMs) return false;
    this.last.set(key, t);
    this.order.push(t);
    return true;
  }
  /** Entries are forgotten oldest recorded first, up to the first one the clock is not keepMs past. */
  expire(clock: number): void {
    while (this.head < this.order.length && this.order[this.head]! <= clock - this.keepMs) this.head++;
  }
  get size(): number {
    return this.order.length - this.head;
  }
}

// Short IDs from small alphabets, so pairs repeat and one pair's characters can be another's split elsewhere
// ('ab' + 'c' and 'a' + 'bc'); some characters past a byte (ż, 中) and one just below (é).
const id = fc
  .array(fc.constantFrom('a', 'b', 'c', 'é', 'ż', '中', '-', '7'), { minLength: 0, maxLength: 5 })
  .map((cs) => cs.join(''));
const op = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({ kind: fc.constant('add' as const), accountId: id, eventId: id, late: fc.nat(30) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('expire' as const) }) },
);

describe('feature windows: the retry memory against a naive map', () => {
  it('event-ids-property: every answer and the number of entries kept, over growth, compaction and expiry', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(5, 40, 400),
        fc.array(fc.tuple(op, fc.nat(3)), { minLength: 1, maxLength: 3_000, size: 'max' }),
        (keepMs, ops) => {
          const real = new RecordedEventIds(keepMs);
          const naive = new NaiveIds(keepMs);
          let clock = 0;
          ops.forEach(([o, step], n) => {
            clock += step;
            if (o.kind === 'expire') {
              real.expire(clock);
              naive.expire(clock);
            } else {
              // An event may be late: its own time before the clock.
              const t = clock - o.late;
              const want = naive.add(o.accountId, o.eventId, t, clock);
              assert.equal(real.add(o.accountId, o.eventId, t, clock), want, `op ${n}: ${JSON.stringify(o)}`);
            }
            assert.equal(real.size, naive.size, `op ${n}: entries kept`);
          });
        },
      ),
      { numRuns: 60, ...(seed !== undefined ? { seed } : {}) },
    );
  });

  it('event-ids-long: tens of thousands of distinct events, each retried once at once and once after keepMs', () => {
    const keepMs = 1_000;
    const real = new RecordedEventIds(keepMs);
    const naive = new NaiveIds(keepMs);
    const wide = (n: number) => (n % 7 === 0 ? `中${n}` : `a${n}`);
    let clock = 0;
    for (let n = 0; n < 40_000; n++) {
      clock += n % 3;
      const [accountId, eventId] = [`acct-${n % 97}`, wide(n)];
      for (const at of [clock, clock])
        assert.equal(
          real.add(accountId, eventId, at, clock),
          naive.add(accountId, eventId, at, clock),
          `event ${n}`,
        );
      if (n % 500 === 0) {
        real.expire(clock);
        naive.expire(clock);
      }
      if (n >= 2_000 && n % 11 === 0) {
        // A retry of an event recorded long ago: recorded anew once the clock is keepMs past it.
        const old = n - 2_000;
        assert.equal(
          real.add(`acct-${old % 97}`, wide(old), clock, clock),
          naive.add(`acct-${old % 97}`, wide(old), clock, clock),
          `old event ${old}`,
        );
      }
      assert.equal(real.size, naive.size, `event ${n}: entries kept`);
    }
  });

  it('event-ids-exact: pairs whose hashes collide are told apart by their IDs, a byte or two a character', () => {
    // Found by searching FNV-1a (the memory's hash) over such IDs; each pair hashes alike.
    const collisions: [[string, string], [string, string]][] = [
      [
        ['a2956', 'e1018'],
        ['a7772', 'e1040'],
      ],
      [
        ['acct-1', 'evt-0468088'],
        ['acct-1', 'evt-1192106'],
      ],
      [
        ['中796', 'é両'],
        ['中382', 'é倀'],
      ],
      [
        ['中-1', '中0137786'],
        ['中-1', '中1276240'],
      ],
    ];
    for (const [x, y] of collisions) {
      const [xs, ys] = [x.join(' '), y.join(' ')];
      assert.equal(fnv1a(...x), fnv1a(...y), `${xs} and ${ys} collide`);
      const ids = new RecordedEventIds(1_000);
      assert.equal(ids.add(...x, 0, 0), true);
      assert.equal(ids.add(...y, 1, 1), true, `${ys} is not a retry of ${xs}`);
      assert.equal(ids.add(...x, 2, 2), false, `${xs} again is a retry`);
      assert.equal(ids.add(...y, 3, 3), false, `${ys} again is a retry`);
      assert.equal(ids.size, 2);
    }
  });
});

/** The memory's hash of a pair (FNV-1a 32, a zero between the IDs), to show the pairs above collide. */
function fnv1a(accountId: string, eventId: string): number {
  let h = 0x811c9dc5;
  for (const c of accountId) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
  h = Math.imul(h, 0x01000193);
  for (const c of eventId) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
  return h | 0;
}
