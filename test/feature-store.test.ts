// Policy features in Cordon's database (infra/stores/feature-store.ts), on SQLite and on PostgreSQL: every outcome
// and value equals the naive reference (test/helpers/feature-reference.ts) for random features and events in any
// order, with retries, late and too-late events and times on window edges; two stores on one database recording
// the same events at once count each once; a retry repairs rows a crash left out, and a second policy (shadow
// mode) shares the recorded events without counting anything twice; the purge (through Store.purge) keeps only rows that can still be
// read, and reading after it gives the same values; an account's erasure (its CASES step) removes its rows and no
// one else's.
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { FeaturesSchema, type FeatureEvent, type Features } from '../core/features';
import { openDatabase } from '../infra/database';
import { runErasure } from '../infra/erasure';
import { ErasureRecords } from '../infra/erasure-record';
import type { HistoryEraser } from '../infra/erasure-temporal';
import type { EvidenceStore } from '../infra/evidence/types';
import { createLogger } from '../infra/logger';
import { Store } from '../infra/store';
import { eventFingerprint as fingerprintOf } from '../infra/stores/feature-store';
import { ReferenceWindows } from './helpers/feature-reference';
import { sharedPostgres } from './helpers/postgres';
import { requires } from './helpers/requirements';

const seed = process.env.CORDON_PROPERTY_SEED ? Number(process.env.CORDON_PROPERTY_SEED) : undefined;
const BASE = Date.parse('2026-10-01T00:00:00Z');

/** Entity values reach the store keyed-hashed, as intake will give them. */
const hashed = (v: string) => createHmac('sha256', 'test-entity-key').update(v).digest('base64url');

// The arbitraries of test/features.property.test.ts (the in-memory windows' property), with fewer events per run:
// each is a few database round trips.
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
    const fixed = 'field' in rest && rest.field === rest.by ? { ...rest, by: 'account' } : rest;
    if (fixed.aggregate === 'distinct' && fixed.field === 'account' && fixed.by === 'account')
      fixed.by = 'entity:ip';
    out[`f${i}`] = { ...fixed, ...(eventTypes ? { eventTypes } : {}), window: `${window}ms` };
  });
  return FeaturesSchema.parse(out);
});

const event = fc.record({
  id: fc.integer({ min: 0, max: 60 }),
  account: fc.constantFrom('a1', 'a2', 'a3'),
  // A 250 ms grid, exactly on window edges often, or a millisecond either side of them.
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
/** Late tolerance and retry memory: any, or on the events' grid (so an event sits exactly on their edge). */
const tolerance = fc.oneof(
  fc.integer({ min: 0, max: 20_000 }),
  fc.integer({ min: 0, max: 80 }).map((k) => k * 250),
);
type Arb = typeof event extends fc.Arbitrary<infer T> ? T : never;
const toEvent = (x: Arb): FeatureEvent => ({
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
    ...(x.device ? { device: hashed(x.device) } : {}),
    ...(x.ip ? { ip: hashed(x.ip) } : {}),
    ...(x.payee ? { payee: hashed(x.payee) } : {}),
  },
});

/** A database of this test's own (the features' clock is the whole database's latest event). */
type Opener = () => Promise<Store>;
const databases: [string, Opener][] = [
  [
    'SQLite',
    async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'cordon-features-')), 'cordon.sqlite');
      return new Store(await openDatabase({ sqliteFile: file }));
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const { url } = await sharedPostgres();
      const admin = await openDatabase({ url, sqliteFile: '' });
      const name = `features_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
      await admin.run(`CREATE DATABASE ${name}`);
      await admin.close();
      const at = new URL(url);
      at.pathname = `/${name}`;
      return new Store(await openDatabase({ url: at.toString(), sqliteFile: '' }));
    },
  ],
];

const empty = async (store: Store) => {
  await store.db.run('DELETE FROM feature_hits');
  await store.db.run('DELETE FROM feature_events');
};
const rowsOf = async (store: Store, table: string, where = '1 = 1', params: string[] = []) =>
  Number(
    (await store.db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`, params))[0]!.n,
  );

const login = (i: number, at: number, device: string, account = `a${i}`): FeatureEvent => ({
  eventId: `e${i}`,
  accountId: account,
  type: 'LOGIN',
  occurredAt: new Date(BASE + at).toISOString(),
  attributes: { newDevice: false },
  entities: { device: hashed(device) },
});

for (const [name, open] of databases) {
  describe(`features in Cordon's database on ${name}`, function () {
    if (name === 'PostgreSQL') requires('postgres');
    this.timeout(120_000);
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.db.close();
    });

    it('feature-store-property: every outcome and value equals a full rescan, in any order, with retries and late events, recorded and read apart, in one call, or many calls at once', async () => {
      await fc.assert(
        fc.asyncProperty(
          features,
          fc.array(event, { minLength: 1, maxLength: 100, size: 'medium' }),
          fc.option(tolerance, { nil: undefined }),
          fc.option(tolerance, { nil: undefined }),
          fc.boolean(),
          fc.constantFrom('apart', 'one call', 'at once'),
          async (f: Features, drawn, late, retry, ordered, how) => {
            await empty(store);
            const xs = ordered ? [...drawn].sort((a, b) => a.at - b.at) : drawn;
            const o = {
              ...(late === undefined ? {} : { lateToleranceMs: late }),
              ...(retry === undefined ? {} : { retryMemoryMs: retry }),
            };
            const db = store.features.windows(f, o);
            const ref = new ReferenceWindows(f, o);
            if (how === 'at once' && name === 'SQLite') {
              // The live path under load: every call begun in one turn (on SQLite, one group commit), each
              // answered as if it had come alone, in the order the calls were made.
              const got = await Promise.all(xs.map((x) => db.recordAndRead(toEvent(x))));
              for (const [i, x] of xs.entries()) {
                const e = toEvent(x);
                ref.record(e);
                assert.deepEqual(got[i], ref.valuesFor(e), `values at event ${i}`);
              }
              return;
            }
            for (const [i, x] of xs.entries()) {
              const e = toEvent(x);
              if (how !== 'apart') {
                // The live path's one call (api/live-features.ts): the clock read once for both.
                ref.record(e);
                assert.deepEqual(await db.recordAndRead(e), ref.valuesFor(e), `values at event ${i}`);
                continue;
              }
              assert.equal(await db.record(e), ref.record(e), `outcome of event ${i}`);
              assert.deepEqual(await db.valuesFor(e), ref.valuesFor(e), `values at event ${i}`);
            }
          },
        ),
        {
          numRuns: Number(process.env.CORDON_FEATURE_STORE_RUNS ?? 300),
          ...(seed !== undefined ? { seed } : {}),
        },
      );
    });

    it('feature-store-edges: the window, the late tolerance and the retry memory, each exactly on its edge and 1 ms off', async () => {
      await empty(store);
      const f = FeaturesSchema.parse({ n: { aggregate: 'count', by: 'account', window: '1000ms' } });
      const o = { lateToleranceMs: 500, retryMemoryMs: 3000 };
      const db = store.features.windows(f, o);
      const ref = new ReferenceWindows(f, o);
      const at = (id: string, ms: number): FeatureEvent => ({ ...login(0, ms, 'd'), eventId: id });
      const steps: [FeatureEvent, string, Record<string, number>][] = [
        [at('e1', 0), 'RECORDED', { n: 1 }],
        [at('e2', 1000), 'RECORDED', { n: 1 }], // e1 at exactly occurredAt − window: out
        [at('e3', 1999), 'RECORDED', { n: 2 }], // e2 1 ms inside
        [at('e4', 1499), 'RECORDED', { n: 2 }], // exactly the late tolerance behind: counts, where it belongs
        [at('e5', 1498), 'TOO_LATE', {}], // 1 ms more: too late, no values
        [at('e6', 3000), 'RECORDED', { n: 1 }],
        [at('e2', 3000), 'DUPLICATE', { n: 1 }], // first seen 2000 ms before the clock: still remembered
        // First seen exactly the retry memory before: counts anew (alone in (1999, 2999]).
        [at('e1', 2999), 'RECORDED', { n: 1 }],
        [at('e1', 2999), 'DUPLICATE', { n: 1 }],
      ];
      for (const [i, [e, outcome, values]] of steps.entries()) {
        const got = [await db.record(e), await db.valuesFor(e)];
        assert.deepEqual(got, [outcome, values], `step ${i}`);
        assert.deepEqual(got, [ref.record(e), ref.valuesFor(e)], `step ${i}: the reference`);
      }
    });

    it('feature-store-concurrent: two stores on one database recording the same events at once count each once', async () => {
      await empty(store);
      const other = new Store(
        name === 'SQLite'
          ? await openDatabase({
              sqliteFile: (await store.db.query<{ file: string }>('PRAGMA database_list'))[0]!.file,
            })
          : await openDatabase({ url: await urlOf(store), sqliteFile: '' }),
      );
      try {
        const f = FeaturesSchema.parse({
          perDevice: { aggregate: 'count', by: 'entity:device', window: '1h' },
          accounts: { aggregate: 'distinct', field: 'account', by: 'entity:device', window: '1h' },
        });
        const [a, b] = [store.features.windows(f), other.features.windows(f)];
        const events = Array.from({ length: 40 }, (_, i) => login(i, i * 1000, 'shared'));
        // Each event by both stores at once, twice (a retry racing its first delivery).
        const outcomes = await Promise.all(
          events.flatMap((e) => [a.record(e), b.record(e), a.record(e), b.record(e)]),
        );
        for (let i = 0; i < events.length; i++)
          assert.deepEqual(
            outcomes.slice(i * 4, i * 4 + 4).filter((o) => o === 'RECORDED').length,
            1,
            `event ${i}: ${outcomes.slice(i * 4, i * 4 + 4).join(', ')}`,
          );
        const last = events[events.length - 1]!;
        assert.deepEqual(await a.valuesFor(last), { perDevice: 40, accounts: 40 });
        assert.deepEqual(await b.valuesFor(last), { perDevice: 40, accounts: 40 });
        assert.equal(await rowsOf(store, 'feature_events'), 40);
      } finally {
        await other.db.close();
      }
    });

    it('feature-store-beginnings: an event that could not note when a feature began fails alone; the next notes it', async () => {
      await empty(store);
      await store.db.run('DELETE FROM feature_definitions');
      const f = FeaturesSchema.parse({ n: { aggregate: 'count', by: 'account', window: '1000ms' } });
      const db = store.features.windows(f);
      await store.db.run('ALTER TABLE feature_definitions RENAME TO feature_definitions_away');
      try {
        await assert.rejects(db.recordAndRead(login(1, 0, 'd')), /feature_definitions/);
      } finally {
        await store.db.run('ALTER TABLE feature_definitions_away RENAME TO feature_definitions');
      }
      assert.deepEqual(await db.recordAndRead(login(2, 10, 'd', 'a1')), { n: 1 });
      assert.equal(await rowsOf(store, 'feature_definitions'), 1);
    });

    it('feature-store-repair: a retry after a crash between the two writes, or under a second policy, counts its rows once', async () => {
      await empty(store);
      const live = FeaturesSchema.parse({ n: { aggregate: 'count', by: 'entity:device', window: '1h' } });
      const candidate = FeaturesSchema.parse({
        n: { aggregate: 'count', by: 'entity:device', window: '1h' },
        accounts: { aggregate: 'distinct', field: 'account', by: 'entity:device', window: '1h' },
      });
      const [a, b] = [store.features.windows(live), store.features.windows(candidate)];
      // A process died after recording the event, before its rows: the retry finds it recorded, writes them.
      const first = login(1, 0, 'd', 'x');
      await store.db.run(
        'INSERT INTO feature_events (account_id, event_id, occurred_at, expires_at, fingerprint) VALUES (?, ?, ?, ?, ?)',
        ['x', first.eventId, BASE, BASE + 86_400_000, fingerprintOf(first)],
      );
      assert.deepEqual([await a.record(first), await a.valuesFor(first)], ['DUPLICATE', { n: 1 }]);
      assert.deepEqual([await a.record(first), await a.valuesFor(first)], ['DUPLICATE', { n: 1 }]);
      // A shadow candidate sees the live policy's events: the shared feature once, its own one written now.
      const second = login(2, 1000, 'd', 'y');
      assert.equal(await a.record(second), 'RECORDED');
      assert.deepEqual(
        [await b.record(second), await b.valuesFor(second)],
        ['DUPLICATE', { n: 2, accounts: 1 }],
      );
      assert.equal(await rowsOf(store, 'feature_hits'), 3);
    });

    it('feature-store-expiry: Store.purge keeps only rows that can still be read, and values do not change', async () => {
      await empty(store);
      const f = FeaturesSchema.parse({ n: { aggregate: 'count', by: 'entity:device', window: '10s' } });
      const o = { lateToleranceMs: 0, retryMemoryMs: 10_000 };
      const db = store.features.windows(f, o);
      const ref = new ReferenceWindows(f, o);
      // One device per second, each seen twice 0.5 s apart: a 10 s window reads about the last ten devices.
      for (let i = 0; i < 300; i++) {
        await db.record(login(2 * i, i * 1000, `d${i}`));
        await db.record(login(2 * i + 1, i * 1000 + 500, `d${i}`));
      }
      assert.equal(await rowsOf(store, 'feature_hits'), 600);
      await store.purge(86_400_000);
      const clock = BASE + 299_500;
      // Rows at or before clock − (window + late) can be read by no event that is not too late: all gone.
      assert.equal(await rowsOf(store, 'feature_hits', 'at <= ?', [String(clock - 10_000)]), 0);
      const kept = await rowsOf(store, 'feature_hits');
      assert.ok(kept >= 19 && kept <= 21, `${kept} rows kept`);
      const keys = Number(
        (await store.db.query<{ n: number }>('SELECT COUNT(DISTINCT key) AS n FROM feature_hits'))[0]!.n,
      );
      assert.ok(keys <= 11, `${keys} devices kept`);
      assert.ok((await rowsOf(store, 'feature_events')) <= 21, 'retries remembered only as long as asked');
      // What is left reads as the full history does.
      for (let i = 0; i < 300; i++) {
        ref.record(login(2 * i, i * 1000, `d${i}`));
        ref.record(login(2 * i + 1, i * 1000 + 500, `d${i}`));
      }
      for (const probe of [
        login(9000, 299_500, 'd299'),
        login(9001, 299_600, 'd295'),
        login(9002, 299_500, 'd289'),
      ])
        assert.deepEqual(await db.valuesFor(probe), ref.valuesFor(probe));
    });

    it("feature-store-erasure: an account's rows go (its keys, what it added to a device, its events), no one else's", async () => {
      await empty(store);
      const f = FeaturesSchema.parse({
        logins: { aggregate: 'count', by: 'account', window: '1h' },
        accounts: { aggregate: 'distinct', field: 'account', by: 'entity:device', window: '1h' },
      });
      const db = store.features.windows(f);
      for (let i = 0; i < 5; i++) {
        await db.record(login(i, i * 1000, 'shared', 'gone'));
        // The same event IDs: they are unique per account only.
        await db.record(login(i, i * 1000 + 1, 'shared', 'stays'));
      }
      const before = await db.valuesFor(login(200, 10_000, 'shared', 'stays'));
      assert.deepEqual(before, { logins: 5, accounts: 2 });
      // Through the erasure's steps from CASES on (no case, no evidence file: the earlier steps have nothing).
      const records = new ErasureRecords(store.db);
      const id = randomUUID();
      const created = await records.create({
        id,
        accountId: 'gone',
        reason: 'DATA_SUBJECT_REQUEST',
        requestedBy: 'admin-1',
        requestKey: id,
        requestFingerprint: 'f',
      });
      assert.ok(created && (await records.claim(id, 'admin-2', 60_000)));
      await runErasure(
        {
          store,
          evidence: {} as EvidenceStore,
          histories: { eraseRuns: async () => 0 } satisfies HistoryEraser,
          records,
          logger: createLogger('test', { level: 'error' }),
          leaseMs: 60_000,
        },
        { ...(await records.get(id))!, step: 'EVIDENCE' },
      );
      const done = (await records.get(id))!;
      assert.equal(done.status, 'DONE', JSON.stringify(done.failure));
      assert.equal(
        done.counts.featureRows,
        5 * 2 + 5,
        'two rows per event (one per feature), its five events',
      );
      assert.equal(await rowsOf(store, 'feature_hits', 'key = ? OR val = ?', ['gone', 'gone']), 0);
      assert.equal(await rowsOf(store, 'feature_events', 'account_id = ?', ['gone']), 0);
      assert.equal(await rowsOf(store, 'feature_hits', 'key = ? OR val = ?', ['stays', 'stays']), 10);
      assert.equal(await rowsOf(store, 'feature_events', 'account_id = ?', ['stays']), 5);
      assert.deepEqual(await db.valuesFor(login(200, 10_000, 'shared', 'stays')), { logins: 5, accounts: 1 });
    });
  });
}

async function urlOf(store: Store): Promise<string> {
  const { url } = await sharedPostgres();
  const [{ name }] = (await store.db.query<{ name: string }>('SELECT current_database() AS name')) as [
    { name: string },
  ];
  const at = new URL(url);
  at.pathname = `/${name}`;
  return at.toString();
}
