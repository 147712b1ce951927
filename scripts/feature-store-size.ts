// Measures the database feature store's size (docs/policy-and-lab.md quotes it): D devices (--devices, 10,000), E
// events each (--events, 10) over 30 days, the four features of the docs' example.
// `npx tsx scripts/feature-store-size.ts [sqlite|postgres] [--devices N] [--events N]` (postgres: a throwaway
// server of the tests' own).
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FeaturesSchema, type FeatureEvent } from '../core/features';
import { openDatabase } from '../infra/database';
import { Store } from '../infra/store';
import { sharedPostgres, stopSharedPostgres } from '../test/helpers/postgres';

/** A whole number given as `--name N`, else the default. */
function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at < 0 ? fallback : Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} takes a whole number above 0`);
  return value;
}
const D = flag('devices', 10_000);
const E = flag('events', 10);
const BASE = Date.parse('2026-10-01T00:00:00Z');
const DAY = 86_400_000;
const features = FeaturesSchema.parse({
  failedLogins10m: { aggregate: 'count', eventTypes: ['LOGIN_FAILED'], by: 'account', window: '10m' },
  transfers24h: {
    aggregate: 'sum',
    eventTypes: ['TRANSFER_ATTEMPT'],
    field: 'amount',
    by: 'account',
    window: '24h',
  },
  payees7d: {
    aggregate: 'distinct',
    eventTypes: ['TRANSFER_ATTEMPT'],
    field: 'entity:payee',
    by: 'account',
    window: '7d',
  },
  accountsPerDevice30d: { aggregate: 'distinct', field: 'account', by: 'entity:device', window: '30d' },
});
const h = (v: string) => createHmac('sha256', 'k').update(v).digest('base64url');

async function main() {
  const dialect = process.argv[2]?.startsWith('--') ? 'sqlite' : (process.argv[2] ?? 'sqlite');
  let store: Store;
  if (dialect === 'sqlite') {
    store = new Store(
      await openDatabase({ sqliteFile: join(mkdtempSync(join(tmpdir(), 'fm-')), 'c.sqlite') }),
    );
  } else {
    const { url } = await sharedPostgres();
    store = new Store(await openDatabase({ url, sqliteFile: '' }));
  }
  const w = store.features.windows(features);
  // Events in time order over 30 days; each device shared by two accounts; 60% LOGIN, 30% LOGIN_FAILED, 10% transfers.
  const events: FeatureEvent[] = [];
  for (let d = 0; d < D; d++)
    for (let i = 0; i < E; i++) {
      const r = (d * 7919 + i * 104729) % 10;
      const type = r < 6 ? 'LOGIN' : r < 9 ? 'LOGIN_FAILED' : 'TRANSFER_ATTEMPT';
      events.push({
        eventId: randomUUID(),
        accountId: `acct_${(2 * d + (i % 2)).toString(16).padStart(16, '0')}`,
        type,
        occurredAt: new Date(BASE + Math.floor(((d * E + i) * 30 * DAY) / (D * E))).toISOString(),
        attributes:
          type === 'TRANSFER_ATTEMPT'
            ? { amount: 120.5, toNewPayee: false }
            : type === 'LOGIN'
              ? { newDevice: false }
              : { consecutiveFailures: 1 },
        entities: { device: h(`dev${d}`), ...(type === 'TRANSFER_ATTEMPT' ? { payee: h(`payee${i}`) } : {}) },
      });
    }
  events.sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));
  const t0 = Date.now();
  for (const e of events) {
    await w.record(e);
    await w.valuesFor(e);
  }
  const secs = (Date.now() - t0) / 1000;
  const count = async (sql: string) => Number((await store.db.query<{ n: number }>(sql))[0]!.n);
  const hits = await count('SELECT COUNT(*) AS n FROM feature_hits');
  const evs = await count('SELECT COUNT(*) AS n FROM feature_events');
  const deviceKeys = await count(
    "SELECT COUNT(DISTINCT key) AS n FROM feature_hits WHERE key NOT LIKE 'acct_%'",
  );
  const accountKeys = await count(
    "SELECT COUNT(DISTINCT key) AS n FROM feature_hits WHERE key LIKE 'acct_%'",
  );
  let hitBytes: number, evBytes: number;
  if (dialect === 'sqlite') {
    const sizes = await store.db.query<{ name: string; b: number }>(
      'SELECT name, SUM(pgsize) AS b FROM dbstat GROUP BY name',
    );
    const by = (n: string) => Number(sizes.find((s) => s.name === n)?.b ?? 0);
    hitBytes = by('feature_hits') + by('feature_hits_ev') + by('feature_hits_expires');
    evBytes = by('feature_events') + by('feature_events_occurred') + by('feature_events_expires');
  } else {
    await store.db.run('VACUUM ANALYZE feature_hits');
    await store.db.run('VACUUM ANALYZE feature_events');
    hitBytes = await count("SELECT pg_total_relation_size('feature_hits') AS n");
    evBytes = await count("SELECT pg_total_relation_size('feature_events') AS n");
  }
  console.log(
    JSON.stringify({
      dialect,
      devices: D,
      eventsPerDevice: E,
      events: events.length,
      secs,
      eventsPerSec: Math.round(events.length / secs),
      hits,
      evs,
      deviceKeys,
      accountKeys,
      hitBytes,
      evBytes,
      bytesPerHit: Math.round(hitBytes / hits),
      bytesPerEvent: Math.round(evBytes / evs),
      bytesPerDevice: Math.round((hitBytes + evBytes) / D),
      millionDevices30dGB: +((((hitBytes + evBytes) / D) * 1e6) / 1e9).toFixed(2),
    }),
  );
  await store.db.close();
  if (dialect !== 'sqlite') await stopSharedPostgres();
}
void main();
