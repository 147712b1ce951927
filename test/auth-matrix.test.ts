// Who may call what: every route of the route table × every kind of caller, over real HTTP against the real
// app and a real worker on the dev server. A route added to the table without a row here fails the test.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { routes, type AppDeps } from '../api/app';
import { startApi, type RunningApi } from '../api/main';
import { parseConfig } from '../infra/config';
import { quiet } from './helpers/deps';
import { riskEvent, uniqueAccount } from './helpers/events';
import { newHarness, type Harness } from './helpers/harness';
import { sharedDevServer, TEST_CODEC_KEYS } from './helpers/servers';
import { requires } from './helpers/requirements';

const ADMIN_TOKEN = `matrix-admin-${randomUUID()}`;
const CALLERS = {
  none: undefined,
  unknown: `unknown-${randomUUID()}`,
  backend: 'dev-backend',
  reviewer: 'dev-reviewer-1',
  senior: 'dev-senior',
  admin: ADMIN_TOKEN,
  analyst: 'dev-analyst',
} as const;
type Caller = keyof typeof CALLERS;
const COLUMNS = Object.keys(CALLERS) as Caller[];

/** What the matrix needs to build a request: an open case (CLOSE for confirmed fraud) awaiting the user. */
interface Fixture {
  account: string;
  caseId: string;
}

interface Row {
  /** How each caller is answered, in the order of CALLERS: none, unknown, backend, reviewer, senior, admin, analyst. */
  expect: [number, number, number, number, number, number, number];
  /** The problem code of an allowed caller's answer when it is not a 200. */
  code?: string;
  request(f: Fixture): { path: string; body?: unknown };
}

const unknownCase = () => `${uniqueAccount()}.0123456789ab`;
const harmless = () =>
  riskEvent(uniqueAccount(), 'LOGIN', { newDevice: false, geoDistanceKm: 3, minutesSinceLastLogin: 600 });

// The one table. Case actions go to the open case, whose state refuses them (409) without any change, except
// the appeal, which the case would accept: it goes to a case that does not exist (404).
const MATRIX: Record<string, Row> = {
  //                                                   none unknown backend reviewer senior admin analyst
  'GET /healthz': { expect: [200, 200, 200, 200, 200, 200, 200], request: () => ({ path: '/healthz' }) },
  'GET /readyz': { expect: [200, 200, 200, 200, 200, 200, 200], request: () => ({ path: '/readyz' }) },
  'POST /v1/risk-events': {
    expect: [401, 401, 200, 403, 403, 200, 403],
    request: () => ({ path: '/v1/risk-events', body: harmless() }),
  },
  'POST /v1/simulate': {
    expect: [401, 401, 200, 200, 200, 200, 200],
    request: () => ({ path: '/v1/simulate', body: harmless() }),
  },
  'GET /v1/accounts/:accountId/restriction': {
    expect: [401, 401, 200, 200, 200, 200, 403],
    request: (f) => ({ path: `/v1/accounts/${f.account}/restriction` }),
  },
  'POST /v1/accounts/restrictions': {
    expect: [401, 401, 200, 200, 200, 200, 403],
    request: (f) => ({
      path: '/v1/accounts/restrictions',
      body: { accountIds: [f.account, uniqueAccount()] },
    }),
  },
  'GET /v1/cases/:caseId': {
    expect: [401, 401, 200, 200, 200, 200, 403],
    request: (f) => ({ path: `/v1/cases/${f.caseId}` }),
  },
  'GET /v1/cases/:caseId/audit': {
    expect: [401, 401, 403, 200, 200, 200, 403],
    request: (f) => ({ path: `/v1/cases/${f.caseId}/audit` }),
  },
  'GET /v1/audit-keys': {
    expect: [200, 200, 200, 200, 200, 200, 200],
    request: () => ({ path: '/v1/audit-keys' }),
  },
  'POST /v1/cases/:caseId/verification': {
    expect: [401, 401, 409, 403, 403, 409, 403],
    code: 'NOT_AWAITING_VERIFICATION',
    request: (f) => ({
      path: `/v1/cases/${f.caseId}/verification`,
      body: { method: 'OTP', passed: true, requestId: `v-${randomUUID()}` },
    }),
  },
  'POST /v1/cases/:caseId/appeal': {
    expect: [401, 401, 404, 403, 403, 404, 403],
    code: 'CASE_NOT_FOUND',
    request: () => ({
      path: `/v1/cases/${unknownCase()}/appeal`,
      body: { statement: 'It was me.', requestId: `a-${randomUUID()}` },
    }),
  },
  'POST /v1/cases/:caseId/info': {
    expect: [401, 401, 409, 403, 403, 409, 403],
    code: 'NOT_AWAITING_INFO',
    request: (f) => ({
      path: `/v1/cases/${f.caseId}/info`,
      body: { answer: 'Here it is.', requestId: `i-${randomUUID()}` },
    }),
  },
  'POST /v1/cases/:caseId/second-review': {
    expect: [401, 401, 409, 403, 403, 409, 403],
    code: 'CASE_OPEN',
    request: (f) => ({
      path: `/v1/cases/${f.caseId}/second-review`,
      body: { statement: 'Please look again.', requestId: `s-${randomUUID()}` },
    }),
  },
  'GET /v1/review-queue': {
    expect: [401, 401, 403, 200, 200, 200, 403],
    request: () => ({ path: '/v1/review-queue?limit=5' }),
  },
  'GET /v1/cases': {
    expect: [401, 401, 403, 200, 200, 200, 403],
    request: (f) => ({ path: `/v1/cases?q=${f.account}` }),
  },
  'GET /v1/ended-cases': {
    expect: [401, 401, 403, 200, 200, 200, 403],
    request: () => ({ path: '/v1/ended-cases?limit=1' }),
  },
  'POST /v1/cases/:caseId/claim': {
    expect: [401, 401, 403, 409, 409, 409, 403],
    code: 'NOT_IN_REVIEW',
    request: (f) => ({ path: `/v1/cases/${f.caseId}/claim` }),
  },
  'POST /v1/cases/:caseId/release': {
    expect: [401, 401, 403, 409, 409, 409, 403],
    code: 'NOT_IN_REVIEW',
    request: (f) => ({ path: `/v1/cases/${f.caseId}/release` }),
  },
  'POST /v1/cases/:caseId/decision': {
    expect: [401, 401, 403, 409, 409, 409, 403],
    code: 'NOT_IN_REVIEW',
    request: (f) => ({
      path: `/v1/cases/${f.caseId}/decision`,
      body: { decision: 'UNLOCK', rationale: 'Fine.', requestId: `d-${randomUUID()}` },
    }),
  },
  'POST /v1/cases/:caseId/approval': {
    expect: [401, 401, 403, 409, 409, 409, 403],
    code: 'NOT_PENDING_APPROVAL',
    request: (f) => ({
      path: `/v1/cases/${f.caseId}/approval`,
      body: { approve: true, rationale: 'Agreed.', requestId: `p-${randomUUID()}` },
    }),
  },
  'POST /v1/risk-events/:eventId/retraction': {
    expect: [401, 401, 404, 403, 403, 404, 403],
    code: 'EVENT_NOT_FOUND',
    request: (f) => ({
      path: `/v1/risk-events/never-${randomUUID()}/retraction`,
      body: { accountId: f.account, reason: 'Reported in error.', requestId: `r-${randomUUID()}` },
    }),
  },
  // Opens a case by hand on a fresh account for every allowed caller.
  'POST /v1/cases': {
    expect: [401, 401, 403, 200, 200, 200, 403],
    request: () => ({
      path: '/v1/cases',
      body: {
        accountId: uniqueAccount(),
        tier: 'LIMIT',
        reason: 'ABNORMAL_FUND_FLOWS',
        rationale: 'Seen in a manual audit.',
        requestId: `m-${randomUUID()}`,
      },
    }),
  },
  // A case that does not exist: break glass on the fixture would end it for the rows after this one.
  'POST /v1/cases/:caseId/break-glass': {
    expect: [401, 401, 403, 403, 404, 404, 403],
    code: 'CASE_NOT_FOUND',
    request: () => ({
      path: `/v1/cases/${unknownCase()}/break-glass`,
      body: { action: 'LIFT', rationale: 'Customer verified in branch.', requestId: `b-${randomUUID()}` },
    }),
  },
  // A principal with no session: nothing to end, so the matrix changes nothing.
  'POST /v1/staff/:id/sessions/revoke': {
    expect: [401, 401, 403, 403, 403, 200, 403],
    request: () => ({ path: `/v1/staff/nobody-${randomUUID()}/sessions/revoke` }),
  },
  'GET /v1/guards': {
    expect: [401, 401, 403, 200, 200, 200, 200],
    request: () => ({ path: '/v1/guards' }),
  },
  // The matrix's policy guards no rule: a senior's or an admin's re-arming finds none, and changes nothing.
  'POST /v1/guards/:ruleId/rearm': {
    expect: [401, 401, 403, 403, 404, 404, 403],
    code: 'GUARD_NOT_FOUND',
    request: () => ({ path: '/v1/guards/identity-mismatch/rearm' }),
  },
  // A dry run by a rule no case was restricted by: recorded, matching nothing, changing nothing.
  'POST /v1/bulk-actions': {
    expect: [401, 401, 403, 403, 202, 202, 403],
    request: () => ({
      path: '/v1/bulk-actions',
      body: {
        requestId: `bk-${randomUUID()}`,
        selector: { rule: 'no-such-rule' },
        action: 'LIFT',
        explanation: { text: 'Restricted in error.' },
      },
    }),
  },
  'GET /v1/bulk-actions': {
    expect: [401, 401, 403, 403, 200, 200, 403],
    request: () => ({ path: '/v1/bulk-actions' }),
  },
  'GET /v1/bulk-actions/:bulkId': {
    expect: [401, 401, 403, 403, 404, 404, 403],
    code: 'BULK_NOT_FOUND',
    request: () => ({ path: `/v1/bulk-actions/bk-${randomUUID()}` }),
  },
  'POST /v1/bulk-actions/:bulkId/approval': {
    expect: [401, 401, 403, 403, 404, 404, 403],
    code: 'BULK_NOT_FOUND',
    request: () => ({ path: `/v1/bulk-actions/bk-${randomUUID()}/approval` }),
  },
  'POST /v1/bulk-actions/:bulkId/cancel': {
    expect: [401, 401, 403, 403, 404, 404, 403],
    code: 'BULK_NOT_FOUND',
    request: () => ({ path: `/v1/bulk-actions/bk-${randomUUID()}/cancel` }),
  },
  // A fresh account every call: nothing holds it, so the admin's request is accepted (a pending erasure only).
  'POST /v1/accounts/:accountId/erasure': {
    expect: [401, 401, 403, 403, 403, 202, 403],
    request: () => ({
      path: `/v1/accounts/${uniqueAccount()}/erasure`,
      body: { requestId: `e-${randomUUID()}`, reason: 'DATA_SUBJECT_REQUEST' },
    }),
  },
  'POST /v1/erasures/:erasureId/approval': {
    expect: [401, 401, 403, 403, 403, 404, 403],
    code: 'ERASURE_NOT_FOUND',
    request: () => ({
      path: '/v1/erasures/er_0000000000000000000000/approval',
      body: { requestId: `p-${randomUUID()}` },
    }),
  },
  'GET /v1/erasures/:erasureId': {
    expect: [401, 401, 403, 403, 403, 404, 403],
    code: 'ERASURE_NOT_FOUND',
    request: () => ({ path: '/v1/erasures/er_0000000000000000000000' }),
  },
  'GET /v1/changes': {
    expect: [401, 401, 200, 403, 403, 200, 403],
    request: () => ({ path: '/v1/changes?after=0&limit=1' }),
  },
  'GET /v1/reports/overturns': {
    expect: [401, 401, 403, 403, 200, 200, 200],
    request: () => ({ path: '/v1/reports/overturns?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z' }),
  },
  'GET /v1/reports/shadow': {
    expect: [401, 401, 403, 403, 200, 200, 200],
    request: () => ({ path: '/v1/reports/shadow' }),
  },
};

// The payload codec (api/codec-routes.ts) is served beside the route table: decoding is case work (a console
// session counts as its principal's role), encoding an admin's; a known caller of another role gets 403.
const CODEC_MATRIX: Record<string, Row> = {
  //                                                   none unknown backend reviewer senior admin analyst
  'POST /codec/decode': {
    expect: [401, 401, 403, 200, 200, 200, 403],
    request: () => ({ path: '/codec/decode', body: { payloads: [] } }),
  },
  'POST /codec/encode': {
    expect: [401, 401, 403, 403, 403, 200, 403],
    request: () => ({ path: '/codec/encode', body: { payloads: [] } }),
  },
};

/** "METHOD /path" of every route the app serves, straight from its route table (no handler is called). */
const ROUTE_KEYS = routes({} as AppDeps).map((r) => `${r.method.toUpperCase()} ${r.path}`);

describe('authorization matrix', function () {
  requires('temporal');
  this.timeout(120_000);
  let api: RunningApi;
  let h: Harness;
  let workerDone: Promise<void>;
  let dataDir: string;
  let fixture: Fixture;

  before(async function () {
    this.timeout(300_000);
    const server = await sharedDevServer();
    h = await newHarness();
    workerDone = h.worker.run();
    dataDir = mkdtempSync(join(tmpdir(), 'cordon-matrix-'));
    const config = parseConfig({
      PORT: '0',
      TEMPORAL_ADDRESS: server.address,
      CORDON_TASK_QUEUE: h.taskQueue,
      CORDON_DATA_DIR: dataDir,
      CORDON_TOKENS: `${ADMIN_TOKEN}=admin:matrix-admin`,
      CORDON_CODEC_KEYS: TEST_CODEC_KEYS,
    });
    api = await startApi(config, quiet);
    const account = uniqueAccount();
    const opened = await send(
      'POST',
      '/v1/risk-events',
      'backend',
      riskEvent(account, 'FRAUD_REPORT', { source: 'card-network', confirmed: true }),
    );
    assert.equal(opened.status, 200, JSON.stringify(opened.body));
    assert.equal(opened.body.status, 'AWAITING_USER');
    fixture = { account, caseId: opened.body.caseId };
  });

  after(async () => {
    await api?.close();
    h?.worker.shutdown();
    await workerDone;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** Calls as one of CALLERS, or with any other token. */
  async function send(
    method: string,
    path: string,
    caller: string,
    body?: unknown,
  ): Promise<{ status: number; headers: Headers; body: any }> {
    // Object.hasOwn, not `in`: the impostor tokens below include "constructor" and "toString".
    const token = Object.hasOwn(CALLERS, caller) ? CALLERS[caller as Caller] : caller;
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: await res.json() };
  }

  it('has one row for every route of the route table, and none for a route that is gone', () => {
    assert.deepEqual(Object.keys(MATRIX).sort(), [...ROUTE_KEYS].sort());
  });

  for (const key of [...ROUTE_KEYS, ...Object.keys(CODEC_MATRIX)])
    it(key, async () => {
      const row = MATRIX[key] ?? CODEC_MATRIX[key];
      assert.ok(row, `no row in the authorization matrix for ${key}: add one`);
      const [method, pattern] = key.split(' ') as [string, string];
      const answered: Record<string, number> = {};
      for (const [i, caller] of COLUMNS.entries()) {
        const { path, body } = row.request(fixture);
        const r = await send(method, path, caller, body);
        answered[caller] = r.status;
        const want: number = row.expect[i]!;
        assert.equal(r.status, want, `${caller} → ${method} ${pattern}: ${JSON.stringify(r.body)}`);
        if (want === 401) {
          assert.equal(r.body.code, 'UNAUTHORIZED');
          assert.equal(r.headers.get('www-authenticate'), 'Bearer');
        } else if (want === 403) assert.equal(r.body.code, 'FORBIDDEN');
        else if (want !== 200) assert.equal(r.body.code, row.code, `${caller} → ${method} ${pattern}`);
      }
      assert.deepEqual(Object.values(answered), row.expect);
    });

  it('nothing in the matrix changed the open case', async () => {
    const view = (await send('GET', `/v1/cases/${fixture.caseId}`, 'backend')).body;
    assert.equal(view.status, 'AWAITING_USER');
    assert.equal(view.appealed, false);
    const types = view.timeline.map((t: { type: string }) => t.type);
    for (const t of ['APPEAL', 'CLAIM', 'DECISION', 'VERIFICATION', 'INFO', 'APPROVAL'])
      assert.ok(!types.includes(t), `no ${t} in ${types.join()}`);
  });

  describe('tokens', () => {
    const impostors = [
      'constructor',
      '__proto__',
      'toString',
      'hasOwnProperty',
      'valueOf',
      'isPrototypeOf',
      '__defineGetter__',
      'dev-backen',
      'dev-backend-',
      'DEV-BACKEND',
      `${ADMIN_TOKEN}x`,
    ];

    it('names on Object.prototype and near misses of real tokens never authenticate, on any route', async () => {
      for (const r of routes({} as AppDeps)) {
        if (r.roles === 'public') continue;
        for (const token of impostors) {
          const path = r.path.replace(':caseId', fixture.caseId).replace(':accountId', fixture.account);
          const res = await send(r.method.toUpperCase(), path, token, r.body ? harmless() : undefined);
          assert.equal(res.status, 401, `${token} → ${r.method} ${r.path}`);
          assert.equal(res.body.code, 'UNAUTHORIZED');
        }
      }
    });

    it('the token table is a Map, so it has nothing but the configured tokens', () => {
      const { tokens } = parseConfig({ CORDON_TOKENS: `${ADMIN_TOKEN}=admin:matrix-admin` });
      assert.ok(tokens instanceof Map);
      for (const name of impostors.slice(0, 7)) assert.equal(tokens.get(name), undefined, name);
      assert.deepEqual(tokens.get(ADMIN_TOKEN), { role: 'admin', id: 'matrix-admin' });
      assert.deepEqual(
        [...tokens.keys()].sort(),
        ['dev-analyst', 'dev-backend', 'dev-reviewer-1', 'dev-reviewer-2', 'dev-senior', ADMIN_TOKEN].sort(),
      );
    });

    it('the scheme is case-insensitive, the token is not, and only "Bearer" is accepted', async () => {
      const get = (authorization: string) =>
        fetch(`${api.url}/v1/review-queue?limit=1`, { headers: { authorization } }).then((r) => r.status);
      assert.equal(await get('bearer dev-reviewer-1'), 200);
      assert.equal(await get('Bearer dev-reviewer-1'), 200);
      assert.equal(await get('Bearer Dev-Reviewer-1'), 401);
      assert.equal(await get('Basic dev-reviewer-1'), 401);
      assert.equal(await get('Bearer dev-reviewer-1 extra'), 401);
      assert.equal(await get('Bearer '), 401);
    });
  });
});
