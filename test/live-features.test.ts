// Issue 19, the live path: the API computes the policy's features over Cordon's database as it takes each event,
// over real HTTP with a worker on the Temporal dev server. Windows count by occurredAt (a late event lands where it
// belongs), the decision records the values and the rules read them, a retried event counts once (also when two
// API processes on one PostgreSQL take it at once), counts across accounts by an entity work across processes
// that share CORDON_ENTITY_KEY, entity values are stored only keyed-hashed, a simulation reads the windows and
// writes nothing, and the reviewer reads the values under the reason.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startApi, type RunningApi } from '../api/main';
import { featureWords } from '../console/case-evidence';
import { translator } from '../console/i18n';
import type { FeatureSpec } from '../core/features';
import { parseCodecKeys } from '../infra/codec';
import { parseConfig } from '../infra/config';
import { EntityHasher, entityHasherFromConfig } from '../infra/entity-key';
import { loadPolicy } from '../infra/policy-loader';
import { openStore, type Store } from '../infra/store';
import { quiet } from './helpers/deps';
import { eventually, recordHistory } from './helpers/harness';
import { uniqueAccount } from './helpers/events';
import { BACKEND, call, REVIEWER, startOn, type Running } from './helpers/personal-case';
import { startPostgres, type TestPostgres } from './helpers/postgres';
import { requires } from './helpers/requirements';
import { sharedDevServer, TEST_CODEC_KEYS } from './helpers/servers';

const POLICY = resolve(__dirname, '..', 'policy', 'examples', 'detection.json');
const MIN = 60_000;

const at = (t: number) => new Date(t).toISOString();
function failedLogin(accountId: string, t: number, eventId = `evt-${randomUUID()}`) {
  return {
    eventId,
    accountId,
    type: 'LOGIN_FAILED',
    occurredAt: at(t),
    attributes: { consecutiveFailures: 1 },
  };
}
function login(accountId: string, device: string, t = Date.now()) {
  return {
    eventId: `evt-${randomUUID()}`,
    accountId,
    type: 'LOGIN',
    occurredAt: at(t),
    attributes: { newDevice: false, geoDistanceKm: 1, minutesSinceLastLogin: 600 },
    entities: { device },
  };
}

/** A worker and the API on a SQLite file of the suite's own, started before its tests and stopped after. */
function sqliteApi(env: Record<string, string>, started: (store: Store, r: Running) => void): void {
  let store: Store | undefined;
  let r: Running | undefined;
  before(async function () {
    this.timeout(180_000);
    const dataDir = mkdtempSync(join(tmpdir(), 'cordon-live-features-'));
    store = await openStore({
      sqliteFile: join(dataDir, 'cordon.sqlite'),
      codecKeys: parseCodecKeys(TEST_CODEC_KEYS),
    });
    r = await startOn(store, dataDir, { env });
    started(store, r);
  });
  after(async () => {
    await r?.close();
    await store?.db.close();
  });
}

describe('issue 19: the API computes the features', () => {
  describe('configuration', () => {
    it('CORDON_ENTITY_KEY: production refuses to start without it; a short or malformed key is refused without echoing it', () => {
      assert.throws(
        () => entityHasherFromConfig({ mode: 'production', dataDir: '/nonexistent' }),
        /production mode needs CORDON_ENTITY_KEY/,
      );
      const short = randomBytes(16).toString('base64');
      assert.throws(
        () => entityHasherFromConfig({ mode: 'production', dataDir: '/x', entityKey: short }),
        (err: Error) => /32 or more bytes/.test(err.message) && !err.message.includes(short),
      );
      assert.throws(
        () => entityHasherFromConfig({ mode: 'production', dataDir: '/x', entityKey: 'not base64!' }),
        /must be base64/,
      );
      const parsed = parseConfig({ CORDON_ENTITY_KEY: randomBytes(32).toString('base64') });
      assert.ok(parsed.entityKey, 'the configuration carries it');
    });

    it('a hash depends on the key and the kind, never shows the value, and is the same in every process with the key', () => {
      const key = randomBytes(32);
      const one = new EntityHasher(key);
      const two = new EntityHasher(Buffer.from(key));
      const other = new EntityHasher(randomBytes(32));
      const value = '203.0.113.7';
      assert.equal(one.hash('ip', value), two.hash('ip', value));
      assert.notEqual(one.hash('ip', value), other.hash('ip', value), 'another key, another hash');
      assert.notEqual(one.hash('ip', value), one.hash('device', value), 'the kind is part of it');
      assert.match(one.hash('ip', value), /^[A-Za-z0-9_-]{22}$/);
      assert.ok(!one.hash('ip', value).includes('203'));
      assert.deepEqual(Object.keys(one.hashAll({ device: 'd', payee: 'p' })!), ['device', 'payee']);
    });

    it('a feature window longer than CORDON_EVENT_ID_DAYS is refused when the policy is loaded', () => {
      assert.ok(loadPolicy(POLICY, 30));
      assert.throws(
        () => loadPolicy(POLICY, 7),
        /features\.accountsPerDevice30d\.window: longer than the event-ID window/,
      );
    });
  });

  describe('SQLite, one API', function () {
    requires('temporal');
    this.timeout(180_000);
    let store: Store;
    let r: Running;
    let base: string;
    const post = (event: unknown) => call(base, 'POST', '/v1/risk-events', BACKEND, event);
    sqliteApi({ CORDON_POLICY_FILE: POLICY }, (s, running) => {
      store = s;
      r = running;
      base = running.api.url;
    });

    it('counts by event time: the fifth failed login in ten minutes restricts; a late event counts where it belongs (histories-)', async () => {
      const account = uniqueAccount('velocity');
      const t0 = Date.now() - 30 * MIN;
      const values: number[] = [];
      for (let i = 1; i <= 4; i++) {
        const got = await post(failedLogin(account, t0 + i * MIN));
        assert.equal(got.status, 200, got.text);
        assert.equal(got.json.decision.tier, 'NONE', got.text);
        values.push(got.json.decision.features.failedLogins10m);
      }
      assert.deepEqual(values, [1, 2, 3, 4]);
      const fifth = await post(failedLogin(account, t0 + 5 * MIN));
      assert.equal(fifth.json.decision.features.failedLogins10m, 5, fifth.text);
      assert.equal(fifth.json.decision.tier, 'STEP_UP', fifth.text);
      assert.ok(
        fifth.json.decision.reasons.some((x: { ruleId: string }) => x.ruleId === 'velocity-failed-logins'),
        fifth.text,
      );
      // Eleven minutes after the first: (6, 16] holds none of the five.
      const later = await post(failedLogin(account, t0 + 16 * MIN));
      assert.equal(later.json.decision.features.failedLogins10m, 1, later.text);
      // Sent after it, an event that happened at minute 6 is counted with the five before it (by arrival it would
      // have been alone with the one at minute 16).
      const late = await post(failedLogin(account, t0 + 6 * MIN));
      assert.equal(late.json.decision.features.failedLogins10m, 6, late.text);
      // A retry gets its first answer, and the window still counts it once.
      const retried = await post(failedLogin(account, t0 + 5 * MIN, fifth.json.eventId));
      assert.equal(retried.json.duplicate, true, retried.text);
      const next = await post(failedLogin(account, t0 + 7 * MIN));
      assert.equal(next.json.decision.features.failedLogins10m, 7, next.text);
      // A case whose decisions carry features: kept for the replay test of every release.
      await recordHistory('feature-velocity', r.h.handle(account));
    });

    it('the reviewer reads the values under the reason; the case view shows no entity value', async () => {
      const device = `dev-farm-${randomUUID()}`;
      const accounts = [1, 2, 3, 4].map(() => uniqueAccount('farm'));
      const answers = [];
      for (const a of accounts) answers.push(await post(login(a, device)));
      assert.deepEqual(
        answers.map((x) => x.json.decision.features.accountsPerDevice30d),
        [1, 2, 3, 4],
      );
      const fourth = answers[3]!;
      assert.equal(fourth.json.decision.tier, 'LIMIT', fourth.text);
      const view = await call(base, 'GET', `/v1/cases/${fourth.json.caseId}`, REVIEWER);
      assert.equal(view.status, 200, view.text);
      assert.ok(!view.text.includes(device), 'no entity value in the case view');
      const evidence = view.json.evidence as Record<
        string,
        { rules: { fields: Record<string, unknown> }[]; features: Record<string, FeatureSpec> }[]
      >;
      const event = evidence.ACCOUNT_TAKEOVER_SUSPECTED?.[0];
      assert.equal(event?.rules[0]?.fields['feature.accountsPerDevice30d'], 4, view.text);
      // What the value counts, as the reviewer reads it under the reason.
      const definition = event.features.accountsPerDevice30d!;
      assert.deepEqual(definition, {
        aggregate: 'distinct',
        field: 'account',
        by: 'entity:device',
        window: '30d',
      });
      assert.equal(
        featureWords(translator('en'), definition),
        'distinct account over all events sharing its device within 30d',
      );
      assert.equal(
        featureWords(translator('zh-CN'), {
          aggregate: 'count',
          eventTypes: ['LOGIN_FAILED'],
          by: 'account',
          window: '10m',
        }),
        '10m 内本账户的 LOGIN_FAILED 事件数',
      );
    });

    it('entity values are kept only keyed-hashed', async () => {
      const device = `dev-clear-${randomUUID()}`;
      const account = uniqueAccount('clear');
      assert.equal((await post(login(account, device))).status, 200);
      const hasher = entityHasherFromConfig({ mode: 'development', dataDir: r.dataDir });
      const rows = await store.db.query<{ key: string; val: string | null }>(
        'SELECT key, val FROM feature_hits WHERE key = ? OR val = ? OR key = ? OR val = ?',
        [device, device, hasher.hash('device', device), account],
      );
      assert.ok(rows.length >= 1, 'the device was counted');
      assert.ok(
        rows.every((row) => row.key !== device && row.val !== device),
        JSON.stringify(rows),
      );
      assert.ok(
        rows.some((row) => row.key === hasher.hash('device', device)),
        'under its keyed hash',
      );
    });

    it('a simulation reads the windows as the event would find them, and writes nothing', async () => {
      const account = uniqueAccount('simulate');
      const t0 = Date.now() - 20 * MIN;
      for (let i = 1; i <= 4; i++) await post(failedLogin(account, t0 + i * MIN));
      const count = async () =>
        Number(
          (
            await store.db.query<{ n: number }>(
              'SELECT COUNT(*) AS n FROM feature_events WHERE account_id = ?',
              [account],
            )
          )[0]!.n,
        );
      const before = await count();
      const event = failedLogin(account, t0 + 5 * MIN);
      const simulated = await call(base, 'POST', '/v1/simulate', REVIEWER, event);
      assert.equal(simulated.status, 200, simulated.text);
      assert.equal(await count(), before, 'nothing recorded');
      assert.equal(simulated.json.decision.features.failedLogins10m, 5, simulated.text);
      const real = await post(event);
      assert.deepEqual(real.json.decision.features, simulated.json.decision.features);
      assert.equal(real.json.decision.tier, simulated.json.decision.tier);
      assert.equal(await count(), before + 1);
    });
  });

  describe('PostgreSQL, two API processes', function () {
    requires('temporal', 'postgres');
    this.timeout(240_000);
    let pg: TestPostgres;
    let stores: Store[] = [];
    let r: Running;
    let second: RunningApi;
    let bases: string[];

    before(async function () {
      this.timeout(240_000);
      pg = await startPostgres();
      const entityKey = randomBytes(32).toString('base64');
      const open = () =>
        openStore({ url: pg.url, sqliteFile: '', codecKeys: parseCodecKeys(TEST_CODEC_KEYS) });
      stores = [await open(), await open()];
      const env = { CORDON_POLICY_FILE: POLICY, CORDON_ENTITY_KEY: entityKey };
      r = await startOn(stores[0]!, mkdtempSync(join(tmpdir(), 'cordon-live-a-')), { env });
      const server = await sharedDevServer();
      second = await startApi(
        parseConfig({
          PORT: '0',
          TEMPORAL_ADDRESS: server.address,
          CORDON_TASK_QUEUE: r.h.taskQueue,
          CORDON_CODEC_KEYS: TEST_CODEC_KEYS,
          CORDON_DATA_DIR: mkdtempSync(join(tmpdir(), 'cordon-live-b-')),
          CORDON_LINK_KEYS: `t1:${randomBytes(32).toString('base64')}`,
          ...env,
        }),
        quiet,
        undefined,
        stores[1],
      );
      bases = [r.api.url, second.url];
    });
    after(async () => {
      await second?.close();
      await r?.close();
      for (const s of stores) await s.db.close();
      await pg?.stop();
    });

    it('counts across accounts and processes: a device farm seen by both APIs', async () => {
      const device = `dev-pg-${randomUUID()}`;
      const got = [];
      for (let i = 0; i < 4; i++)
        got.push(
          await call(
            bases[i % 2]!,
            'POST',
            '/v1/risk-events',
            BACKEND,
            login(uniqueAccount('pgfarm'), device),
          ),
        );
      assert.deepEqual(
        got.map((x) => x.json.decision.features.accountsPerDevice30d),
        [1, 2, 3, 4],
        got.map((x) => x.text).join('\n'),
      );
      assert.equal(got[3]!.json.decision.tier, 'LIMIT');
    });

    it('one event sent to both processes at once is counted once', async () => {
      const account = uniqueAccount('pgretry');
      const t0 = Date.now() - 20 * MIN;
      for (let round = 1; round <= 3; round++) {
        const event = failedLogin(account, t0 + round * MIN);
        const both = await Promise.all(bases.map((b) => call(b, 'POST', '/v1/risk-events', BACKEND, event)));
        for (const x of both) assert.equal(x.status, 200, x.text);
      }
      const next = await call(
        bases[0]!,
        'POST',
        '/v1/risk-events',
        BACKEND,
        failedLogin(account, t0 + 4 * MIN),
      );
      assert.equal(next.json.decision.features.failedLogins10m, 4, next.text);
    });
  });

  describe('shadow mode: features only the candidate declares', function () {
    requires('temporal');
    this.timeout(180_000);
    let base: string;
    // Live: the default policy (no features). Candidate: the detection example (four features).
    sqliteApi({ CORDON_SHADOW_POLICY: POLICY }, (_store, running) => {
      base = running.api.url;
    });

    it("the candidate's features are recorded and read in shadow, warm up over their window, and change nothing live", async () => {
      const account = uniqueAccount('shadow-velocity');
      const t0 = Date.now() - 30 * MIN;
      const from = new Date(Date.now() - 60 * MIN).toISOString();
      for (let i = 1; i <= 5; i++) {
        const got = await call(base, 'POST', '/v1/risk-events', BACKEND, failedLogin(account, t0 + i * MIN));
        assert.equal(got.json.decision.tier, 'NONE', 'the live policy decides');
        assert.equal(got.json.decision.features, undefined, 'the live policy has no features');
      }
      const report = async () =>
        (
          await call(base, 'GET', `/v1/reports/shadow?from=${encodeURIComponent(from)}`, {
            authorization: 'Bearer dev-analyst',
          })
        ).json;
      // A report read while the fifth event's shadow record lands counts it by day but not among the window's
      // disagreements (recorded after the window's end, the report's "now"): wait for one that has both.
      const first = await eventually(async () => {
        const got = await report();
        return got.scored >= 5 && got.transitions.length > 0 ? got : false;
      }, 30_000);
      assert.deepEqual(
        first.transitions,
        [{ liveTier: 'NONE', candidateTier: 'STEP_UP', count: 1 }],
        JSON.stringify(first),
      );
      const features = first.candidateFeatures as {
        name: string;
        sharedWithLive: boolean;
        recordingSince: string;
        warm: boolean;
      }[];
      assert.deepEqual(features.map((f) => f.name).sort(), [
        'accountsPerDevice30d',
        'failedLogins10m',
        'payees7d',
        'transfers24h',
      ]);
      assert.ok(
        features.every((f) => !f.sharedWithLive && Date.parse(f.recordingSince) === t0 + MIN),
        JSON.stringify(features),
      );
      assert.ok(
        features.every((f) => !f.warm),
        'five minutes of events: no window is whole yet',
      );
      // Eleven minutes after the first event, the ten-minute window is whole; the longer ones are not.
      await call(base, 'POST', '/v1/risk-events', BACKEND, failedLogin(account, t0 + 12 * MIN));
      const later = await eventually(async () => {
        const got = await report();
        return got.scored >= 6 ? got : false;
      }, 30_000);
      const warm = Object.fromEntries(
        (later.candidateFeatures as { name: string; warm: boolean }[]).map((f) => [f.name, f.warm]),
      );
      assert.deepEqual(warm, {
        failedLogins10m: true,
        transfers24h: false,
        payees7d: false,
        accountsPerDevice30d: false,
      });
      const restriction = await call(base, 'GET', `/v1/accounts/${account}/restriction`, BACKEND);
      assert.equal(restriction.json.restricted, false, 'nothing changed because of the candidate');
    });
  });
});
