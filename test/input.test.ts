// Input the API must refuse although it is well-formed JSON, over real HTTP with a real worker and Temporal dev
// server: an event from the future, a body naming a member twice, a charset other than UTF-8; and the answers
// that carry personal data are never cached.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { charsetOf, duplicateKeyPath } from '../api/json-body';
import { parseConfig } from '../infra/config';
import { riskEvent, uniqueAccount } from './helpers/events';
import { startApiHarness, type ApiHarness } from './helpers/harness';
import { requires } from './helpers/requirements';
import { caseViewQuery } from '../workflows/definitions';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { testCodec } from './helpers/servers';

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

describe('input the schema alone would let through', function () {
  requires('temporal');
  this.timeout(120_000);
  let running: ApiHarness;
  let dataDir: string;

  before(async function () {
    this.timeout(180_000);
    dataDir = mkdtempSync(join(tmpdir(), 'cordon-input-'));
    running = await startApiHarness(undefined, { CORDON_DATA_DIR: dataDir });
  });
  after(async () => {
    await running?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** A request with the body sent exactly as given (a string is not re-encoded). */
  async function send(
    method: string,
    path: string,
    o: { token?: string; body?: unknown; type?: string } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.body !== undefined) headers['content-type'] = o.type ?? 'application/json';
    const res = await fetch(`${running.api.url}${path}`, {
      method,
      headers,
      body: o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: res.status, headers: res.headers, text, body };
  }

  function assertProblem(r: Reply, status: number, code: string, path?: string): void {
    assert.equal(r.status, status, r.text);
    assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(r.body.code, code, r.text);
    if (path)
      assert.deepEqual(
        r.body.errors?.map((e: { path: string }) => e.path),
        [path],
        r.text,
      );
  }

  const restriction = async (accountId: string) =>
    (await send('GET', `/v1/accounts/${accountId}/restriction`, { token: 'dev-backend' })).body as {
      restricted: boolean;
      tier: string;
      status: string | null;
      caseId: string | null;
    };

  describe('entities', () => {
    it('a card number is refused (400, never echoed); tokens are taken and dropped at intake, stored nowhere', async () => {
      const account = uniqueAccount('entities');
      const card = '4111111111111111';
      const refused = await send('POST', '/v1/risk-events', {
        token: 'dev-backend',
        body: { ...riskEvent(account, 'IDENTITY_CHECK', { matched: false }), entities: { card } },
      });
      assertProblem(refused, 400, 'VALIDATION_FAILED', 'body.entities.card');
      assert.ok(!refused.text.includes(card), 'the number is not echoed');
      const device = `device-token-${account}`;
      const taken = await send('POST', '/v1/risk-events', {
        token: 'dev-backend',
        body: {
          ...riskEvent(account, 'IDENTITY_CHECK', { matched: false }),
          entities: { device, card: 'tok_abc' },
        },
      });
      assert.equal(taken.status, 200, taken.text);
      const caseId = taken.body.caseId as string;
      const read = await send('GET', `/v1/cases/${caseId}`, { token: 'dev-senior' });
      assert.equal(read.status, 200);
      assert.ok(!read.text.includes(device), 'not in the case, its timeline or its evidence');
      const view = await running.h.handle(account).query(caseViewQuery);
      assert.ok(!JSON.stringify(view).includes(device), "not in the workflow's state");
      // Nor in anything the workflow received: every payload of its history, decrypted with the tests' key.
      const { events } = await running.h.handle(account).fetchHistory();
      const payloads: Payload[] = [];
      const collect = (v: unknown): void => {
        if (v === null || typeof v !== 'object') return;
        if ((v as Payload).metadata && (v as Payload).data) payloads.push(v);
        else for (const child of Object.values(v)) collect(child);
      };
      collect(events);
      assert.ok(payloads.length > 0, 'the history has payloads');
      const texts = await Promise.all(
        payloads.map(async (p) =>
          String(JSON.stringify(defaultPayloadConverter.fromPayload((await testCodec.decode([p]))[0]!))),
        ),
      );
      assert.ok(
        texts.some((t) => t.includes('IDENTITY_CHECK')),
        'the event itself is there',
      );
      assert.ok(!texts.some((t) => t.includes(device)), 'the entity is not');
    });
  });

  describe('occurredAt', () => {
    it('an event more than CORDON_EVENT_MAX_FUTURE_S (300 s) ahead: 400 OCCURRED_IN_FUTURE, nothing restricted', async () => {
      const account = uniqueAccount('future');
      for (const occurredAt of ['2099-01-01T00:00:00Z', new Date(Date.now() + 400_000).toISOString()]) {
        const event = { ...riskEvent(account, 'IDENTITY_CHECK', { matched: false }), occurredAt };
        assertProblem(
          await send('POST', '/v1/risk-events', { token: 'dev-backend', body: event }),
          400,
          'OCCURRED_IN_FUTURE',
          'body.occurredAt',
        );
        assertProblem(
          await send('POST', '/v1/simulate', { token: 'dev-analyst', body: event }),
          400,
          'OCCURRED_IN_FUTURE',
          'body.occurredAt',
        );
      }
      const after = await restriction(account);
      assert.deepEqual(
        { restricted: after.restricted, tier: after.tier, status: after.status, caseId: after.caseId },
        { restricted: false, tier: 'NONE', status: null, caseId: null },
        'nothing restricted',
      );
    });

    it('within the allowed skew, and any time in the past, the event is taken', async () => {
      const skewed = uniqueAccount('skewed');
      const ahead = riskEvent(skewed, 'IDENTITY_CHECK', { matched: false });
      ahead.occurredAt = new Date(Date.now() + 120_000).toISOString();
      const taken = await send('POST', '/v1/risk-events', { token: 'dev-backend', body: ahead });
      assert.equal(taken.status, 200, taken.text);
      assert.equal(taken.body.decision.tier, 'FREEZE');
      const old = riskEvent(uniqueAccount('old'), 'IDENTITY_CHECK', { matched: false });
      old.occurredAt = '2001-02-03T04:05:06Z';
      const simulated = await send('POST', '/v1/simulate', { token: 'dev-backend', body: old });
      assert.equal(simulated.status, 200, simulated.text);
      assert.equal(simulated.body.decision.tier, 'FREEZE');
    });

    it('CORDON_EVENT_MAX_FUTURE_S sets the skew: 300 s by default, whole seconds up to a day', () => {
      assert.equal(parseConfig({}).eventMaxFutureMs, 300_000);
      assert.equal(parseConfig({ CORDON_EVENT_MAX_FUTURE_S: '0' }).eventMaxFutureMs, 0);
      assert.equal(parseConfig({ CORDON_EVENT_MAX_FUTURE_S: '3600' }).eventMaxFutureMs, 3_600_000);
      for (const bad of ['-1', '1.5', '86401', 'soon'])
        assert.throws(() => parseConfig({ CORDON_EVENT_MAX_FUTURE_S: bad }), /CORDON_EVENT_MAX_FUTURE_S/);
    });

    it('the configured skew is the one the API applies', async function () {
      this.timeout(180_000);
      const strict = await startApiHarness(undefined, {
        CORDON_DATA_DIR: dataDir,
        CORDON_EVENT_MAX_FUTURE_S: '0',
      });
      try {
        const event = riskEvent(uniqueAccount('strict'), 'IDENTITY_CHECK', { matched: false });
        event.occurredAt = new Date(Date.now() + 60_000).toISOString();
        const res = await fetch(`${strict.api.url}/v1/simulate`, {
          method: 'POST',
          headers: { authorization: 'Bearer dev-backend', 'content-type': 'application/json' },
          body: JSON.stringify(event),
        });
        assert.equal(res.status, 400, 'api/main.ts hands config.eventMaxFutureMs to the app');
        assert.equal(((await res.json()) as { code: string }).code, 'OCCURRED_IN_FUTURE');
      } finally {
        await strict.close();
      }
    });
  });

  describe('duplicate member names', () => {
    it('a second "type" cannot be smuggled in: 400 DUPLICATE_KEY with its path, nothing restricted', async () => {
      const account = uniqueAccount('smuggle');
      const occurredAt = new Date().toISOString();
      // Read by the first "type", a harmless login; JSON.parse keeps the last, an identity mismatch (a freeze).
      const body =
        `{"eventId":"evt-dup-1","accountId":"${account}","occurredAt":"${occurredAt}",` +
        `"type":"LOGIN","attributes":{"newDevice":false},"type":"IDENTITY_CHECK","attributes":{"matched":false}}`;
      assertProblem(
        await send('POST', '/v1/risk-events', { token: 'dev-backend', body }),
        400,
        'DUPLICATE_KEY',
        'body.type',
      );
      assert.equal((await restriction(account)).restricted, false);
      // Nested, and spelled with an escape: the same name all the same.
      const nested =
        `{"eventId":"evt-dup-2","accountId":"${account}","occurredAt":"${occurredAt}",` +
        `"type":"IDENTITY_CHECK","attributes":{"matched":true,"\\u006datched":false}}`;
      assertProblem(
        await send('POST', '/v1/simulate', { token: 'dev-backend', body: nested }),
        400,
        'DUPLICATE_KEY',
        'body.attributes.matched',
      );
    });

    it('finds the first repeated name in one pass, wherever it is, and nothing else', () => {
      assert.equal(duplicateKeyPath('{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}'), null, 'one per object');
      assert.deepEqual(duplicateKeyPath('{"a":{"x":[1,{"y":1,"z":"}","y":2}]}}'), ['a', 'x', 1, 'y']);
      assert.deepEqual(duplicateKeyPath('{"k\\"q":1,"k\\u0022q":2}'), ['k"q']);
      assert.equal(duplicateKeyPath('{"a":"{\\"a\\":1,\\"a\\":2}"}'), null, 'JSON inside a string is text');
      assert.equal(duplicateKeyPath('[{"a":1}, {"a":1}]'), null);
      assert.deepEqual(duplicateKeyPath('[{"a":1}, {"b":1,"b":1}]'), [1, 'b']);
      // Not JSON: left to the parser (MALFORMED_JSON).
      for (const bad of ['{"a":1,"a', '{"a\\x":1}', '']) assert.equal(duplicateKeyPath(bad), null, bad);
      // Deep nesting needs no recursion; a 64 KiB body is scanned in well under a millisecond or so.
      const deep = '['.repeat(30_000) + '{"a":1,"a":2}' + ']'.repeat(30_000);
      assert.equal(duplicateKeyPath(deep)?.length, 30_001);
      const big = JSON.stringify({
        items: Array.from({ length: 2_000 }, (_, i) => ({ id: i, text: 'x'.repeat(20) })),
      });
      const started = performance.now();
      for (let i = 0; i < 10; i++) assert.equal(duplicateKeyPath(big), null);
      assert.ok(performance.now() - started < 500, 'ten 64 KiB scans in half a second');
    });
  });

  describe('charsets', () => {
    it('application/json with a charset other than UTF-8: 415 UNSUPPORTED_MEDIA_TYPE', async () => {
      const event = riskEvent(uniqueAccount('charset'), 'IDENTITY_CHECK', { matched: false });
      for (const charset of ['utf-16', 'UTF-16LE', 'latin1', 'utf8'])
        assertProblem(
          await send('POST', '/v1/simulate', {
            token: 'dev-backend',
            body: JSON.stringify(event),
            type: `application/json; charset=${charset}`,
          }),
          415,
          'UNSUPPORTED_MEDIA_TYPE',
        );
      for (const type of ['application/json; charset=utf-8', 'application/json;charset="UTF-8"'])
        assert.equal(
          (await send('POST', '/v1/simulate', { token: 'dev-backend', body: JSON.stringify(event), type }))
            .status,
          200,
          type,
        );
      assert.equal(charsetOf('application/json; foo=bar; charset="UTF-16"'), 'utf-16');
      assert.equal(charsetOf('application/json'), undefined);
    });
  });

  describe('Cache-Control: no-store', () => {
    it('on a case with its statement, on actions, refusals, the console and the user pages', async () => {
      const account = uniqueAccount('cache');
      const opened = await send('POST', '/v1/risk-events', {
        token: 'dev-backend',
        body: riskEvent(account, 'IDENTITY_CHECK', { matched: false }),
      });
      assert.equal(opened.status, 200, opened.text);
      const caseId = opened.body.caseId as string;
      const appeal = await send('POST', `/v1/cases/${caseId}/appeal`, {
        token: 'dev-backend',
        body: { statement: 'My passport number is X1234567', requestId: 'cache-appeal-1' },
      });
      assert.equal(appeal.status, 200, appeal.text);
      const view = await send('GET', `/v1/cases/${caseId}`, { token: 'dev-reviewer-1' });
      assert.equal(view.status, 200);
      assert.ok(view.text.includes('X1234567'), 'the case carries the statement');
      const answers: [string, Reply][] = [
        ['the case', view],
        ['an action', appeal],
        ['a risk event', opened],
        ['a refusal', await send('GET', `/v1/cases/${caseId}`)],
        ['the console', await send('GET', '/console/login')],
        ['a user page', await send('GET', '/u/not-a-link')],
      ];
      for (const [what, r] of answers) assert.equal(r.headers.get('cache-control'), 'no-store', what);
    });
  });
});
