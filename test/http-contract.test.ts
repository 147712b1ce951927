// The HTTP contract around the routes, over real HTTP: 503 when Temporal is out of reach, 405 with Allow for
// another method on a known path, and an OpenAPI document that lists every status a route can answer.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { routes, type AppDeps } from '../api/app';
import { temporalUnavailable } from '../api/errors';
import { startApi, type RunningApi } from '../api/main';
import { parseConfig } from '../infra/config';
import type { Logger } from '../infra/logger';
import { freePort, startDevServer } from '../scripts/dev-server';
import { ensureTemporalCli } from '../scripts/temporal-tools';
import { riskEvent, uniqueAccount } from './helpers/events';
import { testDataConverter } from './helpers/servers';
import { requires } from './helpers/requirements';

const ADMIN = 'admin-token-for-the-contract-tests';

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

/** A logger that keeps every line, to check what reaches the logs. */
function recordingLogger(lines: string[]): Logger {
  const write = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    void lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);
  const logger: Logger = {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: () => logger,
  };
  return logger;
}

/** The route table as "METHOD /path", read from the app itself (the handlers are never called). */
const table = routes({} as AppDeps);

describe('HTTP contract', function () {
  requires('temporal');
  this.timeout(60_000);
  const logs: string[] = [];
  let dataDir: string;
  let deadAddress: string;
  let connection: Connection;
  let api: RunningApi;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cordon-contract-'));
    // Nothing listens there, and no retries: every call to Temporal fails at once with UNAVAILABLE.
    deadAddress = `127.0.0.1:${await freePort()}`;
    connection = Connection.lazy({ address: deadAddress, interceptors: [] });
    api = await startApi(
      parseConfig({ PORT: '0', CORDON_DATA_DIR: dataDir, CORDON_TOKENS: `${ADMIN}=admin:admin-1` }),
      recordingLogger(logs),
      connection,
    );
  });

  after(async () => {
    await api?.close();
    await connection?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function call(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; headers?: Record<string, string>; base?: string } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${options.base ?? api.url}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.status, headers: res.headers, text, body };
  }

  function assertProblem(r: Reply, status: number, code: string): void {
    assert.equal(r.status, status, r.text);
    assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(r.body.status, status);
    assert.equal(r.body.code, code);
    assert.ok(r.body.title);
  }

  describe('503 when Temporal is out of reach', () => {
    const account = uniqueAccount('private-person');
    const caseId = `${account}.0123456789ab`;
    const requests: [string, string, string, unknown?][] = [
      ['GET', `/v1/cases/${caseId}`, 'dev-backend'],
      ['GET', '/v1/review-queue', 'dev-reviewer-1'],
      ['POST', '/v1/risk-events', 'dev-backend', riskEvent(account, 'IDENTITY_CHECK', { matched: false })],
      ['POST', `/v1/cases/${caseId}/appeal`, 'dev-backend', { statement: 'it was me', requestId: 'a-1' }],
      ['POST', `/v1/cases/${caseId}/claim`, 'dev-reviewer-1'],
    ];
    for (const [method, path, token, body] of requests)
      it(`${method} ${path.replace(account, '{account}')} answers 503 TEMPORAL_UNAVAILABLE with Retry-After`, async () => {
        const r = await call(method, path, { token, body });
        assertProblem(r, 503, 'TEMPORAL_UNAVAILABLE');
        assert.match(r.headers.get('retry-after') ?? '', /^[1-9]\d*$/, 'Retry-After in seconds');
        assert.doesNotMatch(r.text, new RegExp(`${account}|${deadAddress}|ECONNREFUSED`), 'no personal data');
      });

    it('logs a warning that names neither the account nor the address', () => {
      const warnings = logs.filter((l) => l.includes('Temporal unavailable'));
      assert.ok(warnings.length >= requests.length, logs.join('\n'));
      for (const line of warnings) assert.doesNotMatch(line, new RegExp(`${account}|${deadAddress}`), line);
    });

    it('what needs no Temporal still answers', async () => {
      assert.equal((await call('GET', '/healthz')).status, 200);
      const simulated = await call('POST', '/v1/simulate', {
        token: 'dev-backend',
        body: riskEvent(account, 'IDENTITY_CHECK', { matched: false }),
      });
      assert.equal(simulated.status, 200, simulated.text);
      assert.equal(simulated.body.decision.tier, 'FREEZE');
      // The hot path: the restriction check reads Cordon's database, and so does a harmless event for an
      // account without an open case.
      const restriction = await call('GET', `/v1/accounts/${account}/restriction`, { token: 'dev-backend' });
      assert.equal(restriction.status, 200, restriction.text);
      assert.deepEqual(restriction.body, {
        accountId: account,
        restricted: false,
        tier: 'NONE',
        status: null,
        caseId: null,
        allowed: [
          'SIGN_IN',
          'VIEW_STATEMENTS',
          'REPAY',
          'DEPOSIT',
          'CHANGE_DETAILS',
          'TRANSFER_OUT',
          'WITHDRAW',
          'BORROW',
        ],
        blocked: [],
      });
      const batch = await call('POST', '/v1/accounts/restrictions', {
        token: 'dev-backend',
        body: { accountIds: [account, 'someone-else'] },
      });
      assert.equal(batch.status, 200, batch.text);
      assert.deepEqual(
        batch.body.items.map((i: { accountId: string }) => i.accountId),
        [account, 'someone-else'],
      );
      const harmless = await call('POST', '/v1/risk-events', {
        token: 'dev-backend',
        body: riskEvent(account, 'LOGIN', { newDevice: false, geoDistanceKm: 3, minutesSinceLastLogin: 600 }),
      });
      assert.equal(harmless.status, 200, harmless.text);
      assert.equal(harmless.body.status, 'NO_ACTION');
    });

    it('and when the dev server of a running API stops (a worker connection, as npm start shares)', async function () {
      this.timeout(120_000);
      const server = await startDevServer({ cli: await ensureTemporalCli(), port: await freePort() });
      let native: NativeConnection | undefined;
      let ownApi: RunningApi | undefined;
      const ownDir = mkdtempSync(join(tmpdir(), 'cordon-contract-'));
      try {
        native = await NativeConnection.connect({ address: server.address });
        ownApi = await startApi(
          parseConfig({ PORT: '0', CORDON_DATA_DIR: ownDir }),
          recordingLogger([]),
          native,
        );
        const path = `/v1/cases/${caseId}`;
        assert.equal((await call('GET', path, { token: 'dev-backend', base: ownApi.url })).status, 404);
        await server.stop();
        const r = await call('GET', path, { token: 'dev-backend', base: ownApi.url });
        assertProblem(r, 503, 'TEMPORAL_UNAVAILABLE');
        assert.match(r.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
      } finally {
        await ownApi?.close();
        await native?.close();
        await server.stop();
        rmSync(ownDir, { recursive: true, force: true });
      }
    });

    it("the Temporal client's error where nothing listens is the one the API recognises", async () => {
      // The same detection the API uses, on the client directly: a ServiceError caused by a gRPC UNAVAILABLE.
      const client = new Client({ connection, dataConverter: testDataConverter });
      const err = await client.workflow
        .getHandle('nowhere')
        .query('view')
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.equal(temporalUnavailable(err), 'UNAVAILABLE');
      assert.equal(temporalUnavailable(new Error('something else')), undefined);
    });
  });

  describe('405 with Allow for another method on a known path', () => {
    it('GET /v1/risk-events is a 405 that allows POST, before any authentication', async () => {
      const r = await call('GET', '/v1/risk-events');
      assertProblem(r, 405, 'METHOD_NOT_ALLOWED');
      assert.equal(r.headers.get('allow'), 'POST');
    });

    it('every path of the route table refuses the methods it does not answer', async () => {
      const byPath = new Map<string, Set<string>>();
      for (const r of table) {
        if (!byPath.has(r.path)) byPath.set(r.path, new Set());
        byPath.get(r.path)!.add(r.method.toUpperCase());
      }
      for (const [pattern, methods] of byPath) {
        const path = pattern
          .replace(':caseId', `${uniqueAccount()}.0123456789ab`)
          .replace(':accountId', uniqueAccount());
        const allow = ['GET', 'HEAD', 'POST'].filter(
          (m) => methods.has(m) || (m === 'HEAD' && methods.has('GET')),
        );
        for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => !methods.has(m))) {
          const r = await call(method, path, { token: 'dev-backend' });
          assertProblem(r, 405, 'METHOD_NOT_ALLOWED');
          assert.equal(r.headers.get('allow'), allow.join(', '), `${method} ${pattern}`);
        }
      }
    });

    it('the OpenAPI document and the health check refuse POST too', async () => {
      for (const path of ['/openapi.json', '/healthz']) {
        const r = await call('POST', path, { body: {} });
        assertProblem(r, 405, 'METHOD_NOT_ALLOWED');
        assert.equal(r.headers.get('allow'), 'GET, HEAD');
      }
      assert.equal((await call('HEAD', '/healthz')).status, 200);
    });

    it('a CORS preflight (OPTIONS) is not refused', async () => {
      const r = await call('OPTIONS', '/v1/risk-events', {
        headers: {
          origin: 'https://backoffice.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      });
      assert.equal(r.status, 204);
      assert.equal(r.headers.get('allow'), 'POST');
    });

    it('an unknown path is still a 404', async () => {
      assertProblem(await call('GET', '/v1/nowhere', { token: 'dev-backend' }), 404, 'NO_ROUTE');
      assertProblem(await call('DELETE', '/v1/risk-events/extra', { token: 'dev-backend' }), 404, 'NO_ROUTE');
      assertProblem(
        await call('POST', '/codec/nowhere', { token: 'dev-backend', body: {} }),
        404,
        'NO_ROUTE',
      );
    });

    it('the codec endpoint: POST only (405 with Allow), 401 before anything else, and no Temporal needed', async () => {
      for (const path of ['/codec/decode', '/codec/encode']) {
        const r = await call('GET', path, { token: 'dev-backend' });
        assertProblem(r, 405, 'METHOD_NOT_ALLOWED');
        assert.equal(r.headers.get('allow'), 'POST');
        assertProblem(await call('POST', path, { body: { payloads: [] } }), 401, 'UNAUTHORIZED');
      }
      const payloads = [
        { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: 'e30=' },
      ];
      // Encoding forges what Cordon would accept as its own: admin only.
      assertProblem(
        await call('POST', '/codec/encode', { token: 'dev-reviewer-1', body: { payloads } }),
        403,
        'FORBIDDEN',
      );
      const encoded = await call('POST', '/codec/encode', { token: ADMIN, body: { payloads } });
      assert.equal(encoded.status, 200, encoded.text);
      const decoded = await call('POST', '/codec/decode', { token: 'dev-reviewer-1', body: encoded.body });
      assert.deepEqual(decoded.body, { payloads });
    });
  });

  describe('the OpenAPI document lists every status', () => {
    let doc: any;
    before(async () => {
      doc = (await call('GET', '/openapi.json')).body;
    });
    const operation = (method: string, path: string) =>
      doc.paths[path.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];
    const statuses = (method: string, path: string) =>
      Object.keys(operation(method, path)?.responses ?? {})
        .map(Number)
        .sort((a, b) => a - b);

    it('for the routes, exactly', () => {
      const body = [200, 400, 401, 403, 405, 413, 415, 500, 503];
      const caseAction = [200, 400, 401, 403, 404, 405, 409, 413, 415, 500, 503];
      const expected: Record<string, number[]> = {
        'GET /healthz': [200, 405, 500, 503],
        'POST /v1/risk-events': body,
        'POST /v1/risk-events/:eventId/retraction': [200, 400, 401, 403, 404, 405, 409, 413, 415, 500, 503],
        'POST /v1/cases': [200, 400, 401, 403, 405, 409, 413, 415, 500, 503],
        'POST /v1/simulate': body,
        'GET /v1/accounts/:accountId/restriction': [200, 400, 401, 403, 405, 500, 503],
        'GET /v1/cases/:caseId': [200, 400, 401, 403, 404, 405, 500, 503],
        'POST /v1/cases/:caseId/verification': caseAction,
        'POST /v1/cases/:caseId/appeal': caseAction,
        'POST /v1/cases/:caseId/info': caseAction,
        'GET /v1/review-queue': [200, 400, 401, 403, 405, 500, 503],
        'POST /v1/cases/:caseId/claim': [200, 400, 401, 403, 404, 405, 409, 500, 503],
        'POST /v1/cases/:caseId/decision': caseAction,
        'POST /v1/cases/:caseId/approval': caseAction,
        'POST /v1/accounts/:accountId/erasure': [202, 400, 401, 403, 405, 409, 413, 415, 500, 503],
        'POST /v1/erasures/:erasureId/approval': [202, 400, 401, 403, 404, 405, 409, 413, 415, 500, 503],
        'GET /v1/erasures/:erasureId': [200, 400, 401, 403, 404, 405, 500, 503],
      };
      for (const [key, list] of Object.entries(expected)) {
        const [method, path] = key.split(' ') as [string, string];
        assert.deepEqual(statuses(method, path), list, key);
      }
    });

    it('for every route of the table, by what it takes', () => {
      for (const r of table) {
        const want = new Set([r.status ?? 200, 405, 500, 503]);
        if (r.params || r.query || r.body) want.add(400);
        if (r.roles !== 'public') [401, 403].forEach((s) => want.add(s));
        if (r.body) [413, 415].forEach((s) => want.add(s));
        const got = statuses(r.method, r.path);
        for (const s of want) assert.ok(got.includes(s), `${r.method} ${r.path} lists ${s}: ${got.join()}`);
      }
    });

    it('states the rules the API checks: a listed time zone, a question with REQUEST_INFO only, the report window', () => {
      const body = (method: string, path: string) =>
        operation(method, path).requestBody.content['application/json'].schema;
      // The contact: written once, with the time zones the API accepts (an empty one is not among them).
      const contact = doc.components.schemas.Contact;
      const zones: string[] = contact.properties.timeZone.enum;
      assert.ok(zones.includes('Asia/Shanghai') && zones.includes('UTC'), 'the zones are listed');
      assert.ok(!zones.includes(''), 'an empty time zone is not one');
      for (const path of ['/v1/risk-events', '/v1/simulate'])
        for (const variant of body('POST', path).oneOf) {
          assert.deepEqual(variant.properties.contact, { $ref: '#/components/schemas/Contact' }, path);
          assert.deepEqual(
            variant.properties.eventId.not,
            { pattern: '^(staff|linked):' },
            'no "staff:" or "linked:" event IDs',
          );
          assert.notEqual(variant.properties.type.const, 'LINKED_ACCOUNT_RISK', "Cordon's own signal");
          assert.match(variant.properties.occurredAt.description, /OCCURRED_IN_FUTURE/);
        }
      // A decision: REQUEST_INFO requires a question; every other decision must not have one, and takes the
      // outcome codes that fit it (core/outcomes.ts; reason codes, deprecated, too).
      const decision = body('POST', '/v1/cases/:caseId/decision').oneOf as any[];
      const ask = decision.find((d) => d.properties.decision.const === 'REQUEST_INFO');
      const others = decision.filter((d) => d !== ask);
      assert.ok(ask.required.includes('question'), 'REQUEST_INFO requires a question');
      assert.deepEqual(others.map((d) => d.properties.decision.const).sort(), ['CLOSE', 'UNLOCK', 'UPHOLD']);
      for (const d of others) {
        assert.deepEqual(d.properties.question.not, {}, 'no question with another decision');
        const codes: string[] = d.properties.explanation.properties.code.enum;
        assert.equal(codes.includes('IDENTITY_CONFIRMED'), d.properties.decision.const === 'UNLOCK');
        assert.equal(codes.includes('RISK_CONFIRMED'), d.properties.decision.const !== 'UNLOCK');
      }
      // Free text: not blank, said as JSON Schema says it (a pattern), not only trimmed by the API.
      assert.ok(ask.properties.rationale.pattern && ask.properties.question.pattern, 'not blank');
      // The window rules relate two parameters to each other and to now: said in words (JSON Schema cannot).
      for (const path of ['/v1/reports/overturns', '/v1/reports/shadow']) {
        const from = operation('GET', path).parameters.find((p: { name: string }) => p.name === 'from');
        assert.match(from.description, /before `to`/);
        assert.match(from.description, /ten years/);
      }
    });

    it('says what refusals of a body mean: duplicate names (400), a charset other than UTF-8 (415)', () => {
      for (const r of table.filter((t) => t.body)) {
        const responses = operation(r.method, r.path).responses;
        assert.match(responses[400].description, /DUPLICATE_KEY/, `${r.method} ${r.path}`);
        assert.match(responses[415].description, /charset other than UTF-8/, `${r.method} ${r.path}`);
      }
    });

    it('as problems, with the headers that come with them', () => {
      for (const r of table) {
        const responses = operation(r.method, r.path).responses;
        for (const [status, response] of Object.entries<any>(responses)) {
          if (status === String(r.status ?? 200)) continue; // the success answer
          const schema = response.content?.['application/problem+json']?.schema;
          assert.ok(schema?.properties?.code, `${r.method} ${r.path} ${status} is a problem`);
          assert.ok(response.description, `${r.method} ${r.path} ${status} has a description`);
        }
        assert.ok(responses[405].headers.Allow, 'a 405 documents Allow');
        assert.ok(responses[503].headers['Retry-After'], 'a 503 documents Retry-After');
        if (r.roles !== 'public') assert.ok(responses[401].headers['WWW-Authenticate']);
      }
    });
  });
});
