// Issue 15, defect 2: a staff member's case opening (POST /v1/cases) is a request of its own, keyed by the
// account, the principal and its requestId, never colliding with the backend's event IDs; and the backend
// cannot retract it. Over real HTTP, against a real worker and dev server.
import assert from 'node:assert/strict';
import { callApi, recordHistory, startApiHarness, type ApiHarness } from './helpers/harness';
import { uniqueAccount } from './helpers/events';
import { requires } from './helpers/requirements';

const BACKEND = 'dev-backend';
const REVIEWER = 'dev-reviewer-1';

const opening = (accountId: string, requestId: string, extra: Record<string, unknown> = {}) => ({
  accountId,
  tier: 'FREEZE',
  reason: 'EXTERNAL_FRAUD_REPORT',
  rationale: 'a call from the card network',
  requestId,
  ...extra,
});

describe('staff case openings are requests of their own (issue 15, defect 2)', function () {
  requires('temporal');
  this.timeout(90_000);
  let env: ApiHarness;
  const call = (method: string, path: string, token: string, body?: unknown) =>
    callApi(env.api.url, method, path, token, body);

  before(async () => {
    env = await startApiHarness();
  });
  after(() => env.close());

  it('refuses a backend event ID in the staff space (400 RESERVED_EVENT_ID), changing nothing', async () => {
    const account = uniqueAccount();
    const r = await call('POST', '/v1/risk-events', BACKEND, {
      eventId: 'staff:reviewer-1:r1',
      accountId: account,
      type: 'IDENTITY_CHECK',
      occurredAt: new Date().toISOString(),
      attributes: { matched: false, field: 'name' },
    });
    assert.equal(r.status, 400);
    assert.match(r.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(r.body.code, 'RESERVED_EVENT_ID');
    assert.deepEqual(
      r.body.errors.map((e: { path: string }) => e.path),
      ['body.eventId'],
    );
    const check = await call('GET', `/v1/accounts/${account}/restriction`, BACKEND);
    assert.equal(check.body.restricted, false, 'nothing happened');
  });

  it("a reviewer's opening is never answered by a backend event that used the same ID", async () => {
    const account = uniqueAccount();
    // Before 0.4 the backend could send this ID; the reviewer's FREEZE then got NO_ACTION.
    const backendEvent = await call('POST', '/v1/risk-events', BACKEND, {
      eventId: 'staff:reviewer-1:same-id',
      accountId: account,
      type: 'LOGIN',
      occurredAt: new Date().toISOString(),
      attributes: { newDevice: false, geoDistanceKm: 1, minutesSinceLastLogin: 600 },
    });
    assert.equal(backendEvent.status, 400);
    const r = await call('POST', '/v1/cases', REVIEWER, opening(account, 'same-id'));
    assert.equal(r.status, 200);
    assert.equal(r.body.duplicate, false);
    assert.equal(r.body.decision.tier, 'FREEZE');
    const check = await call('GET', `/v1/accounts/${account}/restriction`, BACKEND);
    assert.equal(check.body.tier, 'FREEZE', 'the account is restricted');
  });

  it('a repeat gets the first answer; the same requestId with another body is a 409, changing nothing (histories-)', async () => {
    const account = uniqueAccount();
    const first = await call('POST', '/v1/cases', REVIEWER, opening(account, 'open-1'));
    assert.equal(first.status, 200);
    assert.equal(first.body.duplicate, false);
    assert.equal(first.body.requestFingerprint, undefined, 'the fingerprint stays inside');
    const again = await call('POST', '/v1/cases', REVIEWER, opening(account, 'open-1'));
    assert.equal(again.status, 200);
    assert.equal(again.body.duplicate, true);
    assert.equal(again.body.caseId, first.body.caseId);
    const other = await call('POST', '/v1/cases', REVIEWER, opening(account, 'open-1', { tier: 'CLOSE' }));
    assert.equal(other.status, 409);
    assert.equal(other.body.code, 'IDEMPOTENCY_KEY_REUSED');
    const view = await call('GET', `/v1/cases/${first.body.caseId}`, REVIEWER);
    assert.equal(view.body.tier, 'FREEZE', 'the other body changed nothing');
    // Another reviewer's requestId is another request.
    const senior = await call('POST', '/v1/cases', 'dev-senior', opening(account, 'open-1'));
    assert.equal(senior.status, 200);
    assert.equal(senior.body.duplicate, false);
    await recordHistory('staff-opening-reused-request', env.h.handle(account));
  });

  it('the case refuses the other body too when the API has no record of the first answer', async () => {
    const account = uniqueAccount();
    const first = await call('POST', '/v1/cases', REVIEWER, opening(account, 'open-2'));
    assert.equal(first.status, 200);
    // As if the API that answered had died before writing its record: only the case knows the request.
    await env.h.store.db.run('DELETE FROM event_ids WHERE account_id = ?', [account]);
    const other = await call(
      'POST',
      '/v1/cases',
      REVIEWER,
      opening(account, 'open-2', { rationale: 'else' }),
    );
    assert.equal(other.status, 409);
    assert.equal(other.body.code, 'IDEMPOTENCY_KEY_REUSED');
    const again = await call('POST', '/v1/cases', REVIEWER, opening(account, 'open-2'));
    assert.equal(again.body.duplicate, true);
  });

  it("the backend cannot retract a staff member's opening (409 NOT_RETRACTABLE)", async () => {
    const account = uniqueAccount();
    const first = await call('POST', '/v1/cases', REVIEWER, opening(account, 'open-3'));
    assert.equal(first.status, 200);
    const r = await call('POST', `/v1/risk-events/staff:reviewer-1:open-3/retraction`, BACKEND, {
      accountId: account,
      reason: 'sent in error',
      requestId: 'retract-1',
    });
    assert.equal(r.status, 409);
    assert.equal(r.body.code, 'NOT_RETRACTABLE');
    const view = await call('GET', `/v1/cases/${first.body.caseId}`, REVIEWER);
    assert.deepEqual(view.body.retractedEvents, []);
    assert.equal(view.body.status, first.body.status, 'the case did not move');
  });
});
