// Feature windows against the naive reference (test/helpers/feature-reference.ts): any declared features, any
// events in any order (ties, retries, late and too-late events, events without the feature's key), each
// recorded and then read as the decision path does. Every outcome and every value must be equal, and the state
// must not keep keys the clock has left behind. The long cases drive what a handful of events never reaches in
// the compact store (core/feature-key-windows.ts, core/feature-event-ids.ts): hundreds of keys whose slots are
// dropped after long gaps and handed to new keys, windows long enough to be compacted, late events inserted
// before, inside and after a cursor, reads of events never recorded, retries after the retry memory, IDs with
// characters beyond a byte, sums past the largest double; and the fast date reading against Date.parse.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FeaturesSchema, type Features } from '../core/features';
import { FeatureWindows, instantMs } from '../core/feature-windows';
import { ReferenceWindows } from './helpers/feature-reference';

const seed = process.env.CORDON_PROPERTY_SEED ? Number(process.env.CORDON_PROPERTY_SEED) : undefined;
const BASE = Date.parse('2026-10-01T00:00:00Z');

const windowMs = fc.constantFrom(500, 1000, 1500, 2500, 5000);
const types = fc.constantFrom(undefined, ['LOGIN_FAILED'], ['TRANSFER_ATTEMPT'], ['LOGIN_FAILED', 'LOGIN']);
const spec = fc.oneof(
  fc.record({
    aggregate: fc.constant('count' as const),
    eventTypes: types,
    by: fc.constantFrom('account', 'entity:device', 'entity:ip'),
    window: windowMs,
  }),
  fc.record({
    aggregate: fc.constant('sum' as const),
    eventTypes: fc.constant(['TRANSFER_ATTEMPT']),
    field: fc.constant('amount'),
    by: fc.constantFrom('account', 'entity:device'),
    window: windowMs,
  }),
  fc.record({
    aggregate: fc.constant('distinct' as const),
    eventTypes: types,
    field: fc.constantFrom('account', 'entity:device', 'entity:payee'),
    by: fc.constantFrom('account', 'entity:device', 'entity:ip'),
    window: windowMs,
  }),
);
const features = fc.array(spec, { minLength: 1, maxLength: 4 }).map((specs) => {
  const out: Record<string, unknown> = {};
  specs.forEach((s, i) => {
    const { eventTypes, window, ...rest } = s;
    // distinct X by X is refused by the schema: count devices per account instead.
    const fixed = 'field' in rest && rest.field === rest.by ? { ...rest, by: 'account' } : rest;
    if (fixed.aggregate === 'distinct' && fixed.field === 'account' && fixed.by === 'account')
      fixed.by = 'entity:ip';
    out[`f${i}`] = { ...fixed, ...(eventTypes ? { eventTypes } : {}), window: `${window}ms` };
  });
  return FeaturesSchema.parse(out);
});

const event = fc.record({
  id: fc.integer({ min: 0, max: 150 }),
  account: fc.constantFrom('a1', 'a2', 'a3'),
  // Times on a 250 ms grid over 20 s, so events sit exactly on window edges often, or a millisecond off it (so
  // a bucket at a window's edge holds events on both sides of it).
  at: fc
    .tuple(fc.integer({ min: 0, max: 80 }), fc.constantFrom(0, 0, 0, 1, 249))
    .map(([k, d]) => k * 250 + d),
  type: fc.constantFrom('LOGIN_FAILED', 'LOGIN', 'TRANSFER_ATTEMPT'),
  amount: fc.oneof(
    fc.integer({ min: 0, max: 5000 }),
    fc.integer({ min: 0, max: 10_000 }).map((c) => c / 100),
  ),
  device: fc.option(fc.constantFrom('d1', 'd2', 'd3'), { nil: undefined }),
  ip: fc.option(fc.constantFrom('i1', 'i2'), { nil: undefined }),
  payee: fc.option(fc.constantFrom('p1', 'p2', 'p3', 'p4'), { nil: undefined }),
});

type Arb = {
  id: number;
  account: string;
  at: number;
  type: string;
  amount: number;
  device?: string | undefined;
  ip?: string | undefined;
  payee?: string | undefined;
};
const toEvent = (x: Arb) => ({
  eventId: `e${x.id}`,
  accountId: x.account,
  type: x.type,
  occurredAt: new Date(BASE + x.at).toISOString(),
  attributes:
    x.type === 'TRANSFER_ATTEMPT'
      ? { toNewPayee: false, amount: x.amount }
      : x.type === 'LOGIN'
        ? { newDevice: true }
        : { consecutiveFailures: 1 },
  entities: {
    ...(x.device ? { device: x.device } : {}),
    ...(x.ip ? { ip: x.ip } : {}),
    ...(x.payee ? { payee: x.payee } : {}),
  },
});

describe('feature windows: property against the naive reference', () => {
  it('features-property: every outcome and value equals a full rescan, in any order, with retries and late events', () => {
    fc.assert(
      fc.property(
        features,
        fc.array(event, { minLength: 1, maxLength: 120 }),
        fc.option(fc.integer({ min: 0, max: 20_000 }), { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 20_000 }), { nil: undefined }),
        // Mostly in time order (as a file usually is) or in any order.
        fc.boolean(),
        (f: Features, drawn, late, retry, ordered) => {
          const xs = ordered ? [...drawn].sort((a, b) => a.at - b.at) : drawn;
          const o = {
            ...(late === undefined ? {} : { lateToleranceMs: late }),
            ...(retry === undefined ? {} : { retryMemoryMs: retry }),
          };
          const store = new FeatureWindows(f, o);
          const ref = new ReferenceWindows(f, o);
          xs.forEach((x, i) => {
            const e = toEvent(x);
            assert.equal(store.record(e), ref.record(e), `outcome of event ${i}`);
            assert.deepEqual(store.valuesFor(e), ref.valuesFor(e), `values at event ${i}`);
          });
        },
      ),
      { numRuns: 300, ...(seed !== undefined ? { seed } : {}) },
    );
  });

  it('features-expiry: keys the clock has left behind are dropped by themselves', () => {
    const store = new FeatureWindows(
      FeaturesSchema.parse({ n: { aggregate: 'count', by: 'entity:device', window: '10s' } }),
      { lateToleranceMs: 0 },
    );
    for (let i = 0; i < 1000; i++)
      store.record({
        eventId: `e${i}`,
        accountId: `a${i}`,
        type: 'LOGIN',
        occurredAt: new Date(BASE + i * 1000).toISOString(),
        attributes: { newDevice: false },
        entities: { device: `d${i}` },
      });
    // One device per second and a 10 s window: only the last ten or so devices can still be read.
    assert.ok(store.activeKeys <= 12, `${store.activeKeys} keys kept`);
    assert.ok(store.activeKeys >= 10, `${store.activeKeys} keys kept`);
  });

  it('features-property-long: hundreds of keys, long gaps, late events, retries and reads of unrecorded events, over long runs', () => {
    const longEvent = fc.record({
      // Mostly forward by a little, sometimes a long gap (keys idle past their span), sometimes back (late).
      step: fc.oneof(
        { weight: 12, arbitrary: fc.integer({ min: 0, max: 400 }) },
        { weight: 1, arbitrary: fc.integer({ min: 5_000, max: 60_000 }) },
        { weight: 3, arbitrary: fc.integer({ min: -8_000, max: -1 }) },
      ),
      account: fc.integer({ min: 0, max: 300 }),
      type: fc.constantFrom('LOGIN_FAILED', 'LOGIN', 'TRANSFER_ATTEMPT'),
      amount: fc.oneof(
        fc.integer({ min: 0, max: 10_000 }).map((c) => c / 100),
        fc.constantFrom(0.1, 1e12, 999_999_999_999.99),
      ),
      device: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
      ip: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
      payee: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
      // A retry of an earlier event (same IDs, maybe another time): mostly a recent one, so that an event
      // recorded anew after the retry memory is retried again.
      retryOf: fc.option(fc.nat(), { nil: undefined, freq: 6 }),
      // Recorded and read (the decision path), recorded only (the next read finds the cursor where it was), or
      // recorded and then a read at another time of an event never recorded (the cursor moved back and forth).
      mode: fc.constantFrom('decide', 'decide', 'record', 'probe'),
    });
    fc.assert(
      fc.property(
        features,
        fc.array(longEvent, { minLength: 300, maxLength: 900 }),
        fc.integer({ min: 0, max: 6_000 }),
        fc.option(fc.integer({ min: 0, max: 30_000 }), { nil: undefined }),
        (f: Features, drawn, late, retry) => {
          const o = { lateToleranceMs: late, ...(retry === undefined ? {} : { retryMemoryMs: retry }) };
          const store = new FeatureWindows(f, o);
          const ref = new ReferenceWindows(f, o);
          const sent: ReturnType<typeof toEvent>[] = [];
          let at = 0;
          drawn.forEach((x, i) => {
            at = Math.max(0, at + x.step);
            const e = {
              ...toEvent({
                id: i,
                account: `a${x.account}`,
                at,
                type: x.type,
                amount: x.amount,
                device: x.device === undefined ? undefined : `d${x.device}`,
                ip: x.ip === undefined ? undefined : `i${x.ip}`,
                payee: x.payee === undefined ? undefined : `p${x.payee}`,
              }),
            };
            // Some IDs beyond a byte a character (the retry memory keeps them two bytes each).
            if (i % 7 === 0) e.eventId = `é${e.eventId}中`;
            const recent = x.retryOf !== undefined && x.retryOf % 10 < 7;
            const retried =
              x.retryOf === undefined || !sent.length
                ? e
                : {
                    ...sent[
                      recent
                        ? sent.length - 1 - (x.retryOf % Math.min(30, sent.length))
                        : x.retryOf % sent.length
                    ]!,
                    occurredAt: e.occurredAt,
                  };
            sent.push(retried);
            assert.equal(store.record(retried), ref.record(retried), `outcome of event ${i}`);
            if (x.mode === 'record') return;
            assert.deepEqual(store.valuesFor(retried), ref.valuesFor(retried), `values at event ${i}`);
            // The same event as another object: no shortcut from the record just made.
            assert.deepEqual(store.valuesFor({ ...retried }), ref.valuesFor(retried), `copy of event ${i}`);
            if (x.mode === 'probe') {
              const probe = {
                ...e,
                eventId: `probe-${i}`,
                occurredAt: new Date(BASE + Math.max(0, at - (i % 4_000))).toISOString(),
              };
              assert.deepEqual(store.valuesFor(probe), ref.valuesFor(probe), `read at event ${i}`);
            }
          });
        },
      ),
      // A failure is reported as found (shrinking hundreds of events would take long): replay it with its seed.
      { numRuns: 25, endOnFailure: true, ...(seed !== undefined ? { seed } : {}) },
    );
  });

  it('features-property-compaction: one key with thousands of events, its expired head dropped and compacted while it is read; the retry memory compacted while retries come', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('count', 'sum', 'distinct'),
        fc.integer({ min: 200, max: 3_000 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(
          fc.record({
            step: fc.integer({ min: 0, max: 60 }),
            // Late by up to the tolerance (a few times the window: reads straddle what is expiring).
            late: fc.option(fc.nat(), { nil: undefined, freq: 5 }),
            payee: fc.integer({ min: 0, max: 9 }),
            // A retry of one of the last events.
            retry: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined, freq: 6 }),
            // Event IDs of very different lengths: the retry memory's bytes move when it is compacted.
            pad: fc.constantFrom(0, 0, 0, 0, 100),
            read: fc.boolean(),
          }),
          { minLength: 2_000, maxLength: 3_000 },
        ),
        (aggregate, window, tolerance, steps) => {
          const f = FeaturesSchema.parse({
            x:
              aggregate === 'count'
                ? { aggregate, by: 'account', window: `${window}ms` }
                : aggregate === 'sum'
                  ? {
                      aggregate,
                      eventTypes: ['TRANSFER_ATTEMPT'],
                      field: 'amount',
                      by: 'account',
                      window: `${window}ms`,
                    }
                  : { aggregate, field: 'entity:payee', by: 'account', window: `${window}ms` },
          });
          // The retry memory as short as allowed, so retries are forgotten and their memory compacted.
          const o = { lateToleranceMs: tolerance * window, retryMemoryMs: 0 };
          const store = new FeatureWindows(f, o);
          const ref = new ReferenceWindows(f, o);
          const sent: ReturnType<typeof toEvent>[] = [];
          let at = 0;
          steps.forEach((x, i) => {
            at += x.step;
            const t = x.late === undefined ? at : Math.max(0, at - (x.late % (tolerance * window)));
            const e =
              x.retry !== undefined && sent.length >= x.retry
                ? { ...sent[sent.length - x.retry]!, occurredAt: new Date(BASE + t).toISOString() }
                : {
                    ...toEvent({
                      id: i,
                      account: 'a1',
                      at: t,
                      type: 'TRANSFER_ATTEMPT',
                      amount: (i % 1000) / 100,
                      payee: `p${x.payee}`,
                    }),
                    eventId: `e${i}${'x'.repeat(x.pad)}`,
                  };
            sent.push(e);
            assert.equal(store.record(e), ref.record(e), `outcome of event ${i}`);
            if (x.read) assert.deepEqual(store.valuesFor(e), ref.valuesFor(e), `values at event ${i}`);
          });
        },
      ),
      { numRuns: 12, endOnFailure: true, ...(seed !== undefined ? { seed } : {}) },
    );
  });

  it('features-sums: a sum past the largest double counts as the rescan does, and finite again once those events leave', () => {
    const f = FeaturesSchema.parse({
      minutes: {
        aggregate: 'sum',
        eventTypes: ['LOGIN'],
        field: 'minutesSinceLastLogin',
        by: 'account',
        window: '10s',
      },
    });
    const store = new FeatureWindows(f);
    const ref = new ReferenceWindows(f);
    // Windows of 10 s, an event every 4 s: each event's window holds it and the two before it.
    const values = [1, 1e308, 2.5, 1e308, 1e308, 3, 0.25, 7, 1e308, 1, 2, 3, 4, 5];
    const sums = values.map((m, i) => {
      const e = {
        eventId: `m${i}`,
        accountId: 'a',
        type: 'LOGIN',
        occurredAt: new Date(BASE + i * 4_000).toISOString(),
        attributes: { newDevice: false, minutesSinceLastLogin: m },
      };
      assert.equal(store.record(e), ref.record(e));
      const got = store.valuesFor(e);
      assert.deepEqual(got, ref.valuesFor(e), `sum at event ${i}`);
      return got.minutes;
    });
    // Infinity while two huge values share the window, finite again after.
    assert.deepEqual(sums.slice(3, 6), [Infinity, Infinity, Infinity]);
    assert.deepEqual(sums.slice(-3), [1 + 2 + 3, 2 + 3 + 4, 3 + 4 + 5]);
  });

  it("features-instants: the fast date reading gives Date.parse's number for every string", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse('0000-01-01T00:00:00Z'), max: Date.parse('9999-12-31T23:59:59.999Z') }),
        fc.boolean(),
        (ms, withMillis) => {
          const iso = new Date(ms).toISOString();
          const s = withMillis ? iso : iso.slice(0, 19) + 'Z';
          assert.equal(instantMs(s), Date.parse(s), s);
        },
      ),
      { numRuns: 2_000, ...(seed !== undefined ? { seed } : {}) },
    );
    for (const s of [
      '2024-02-29T12:00:00.000Z',
      '2026-02-29T12:00:00.000Z',
      '2026-02-30T00:00:00.000Z',
      '2026-04-31T00:00:00.000Z',
      '2026-01-01T24:00:00.000Z',
      '2026-01-01T23:59:60.000Z',
      '2026-13-01T00:00:00.000Z',
      '2026-00-10T00:00:00.000Z',
      '2026-01-00T00:00:00.000Z',
      '2026-01-32T00:00:00.000Z',
      '2026-02-45T00:00:00.000Z',
      '2026-01-99T00:00:00Z',
      '2026-1-01T00:00:00.000Z',
      '20:6-01-01T00:00:00.000Z',
      '2026-01-01T00:00:00.000z',
      '2026-01-01 00:00:00.000Z',
      '2026-01-01T00:00:00+01:00',
      '2026-01-01T00:00:00.5Z',
      '1900-02-29T00:00:00Z',
      '2000-02-29T00:00:00Z',
      '0000-01-01T00:00:00.000Z',
      '9999-12-31T23:59:59.999Z',
      '+002026-01-01T00:00:00.000Z',
      '',
    ])
      assert.ok(Object.is(instantMs(s), Date.parse(s)), s);
  });
});
