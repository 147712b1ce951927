// The HTTP API over real HTTP, against a real worker on the dev server.
import assert from 'node:assert/strict';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { RunningApi } from '../api/main';
import { caseWorkflowId } from '../core/contracts';
import { SA } from '../workflows/definitions';
import { EXAMPLES, riskEvent, uniqueAccount } from './helpers/events';
import { eventually, recordHistory, type Harness, startApiHarness, type ApiHarness } from './helpers/harness';
import { requires } from './helpers/requirements';

const TOKENS = { backend: 'dev-backend', r1: 'dev-reviewer-1', r2: 'dev-reviewer-2', senior: 'dev-senior' };
type Who = keyof typeof TOKENS;

interface Reply {
  status: number;
  type: string;
  body: any;
}

describe('HTTP API', function () {
  requires('temporal');
  this.timeout(60_000);
  let api: RunningApi;
  let h: Harness;
  let running: ApiHarness | undefined;

  before(async function () {
    this.timeout(300_000);
    running = await startApiHarness();
    ({ h, api } = running);
  });

  after(() => running?.close());

  async function call(
    method: string,
    path: string,
    who: Who | null,
    body?: unknown,
    raw?: string,
  ): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (who) headers.authorization = `Bearer ${TOKENS[who]}`;
    if (body !== undefined || raw !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers,
      body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const type = res.headers.get('content-type') ?? '';
    return { status: res.status, type, body: await res.json() };
  }
  const post = (path: string, who: Who | null, body?: unknown) => call('POST', path, who, body);
  const get = (path: string, who: Who | null) => call('GET', path, who);

  async function workflowExists(accountId: string): Promise<boolean> {
    try {
      await h.client.workflow.getHandle(caseWorkflowId(accountId)).describe();
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  function assertProblem(r: Reply, status: number, code?: string): void {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.match(r.type, /^application\/problem\+json/);
    assert.equal(r.body.status, status);
    assert.ok(r.body.title);
    if (code) assert.equal(r.body.code, code);
  }

  it('walks a freeze through appeal, review and unlock', async () => {
    const account = uniqueAccount();
    const reported = await post(
      '/v1/risk-events',
      'backend',
      riskEvent(account, 'IDENTITY_CHECK', { matched: false, field: 'name' }),
    );
    assert.equal(reported.status, 200);
    assert.equal(reported.body.status, 'AWAITING_USER');
    assert.equal(reported.body.decision.tier, 'FREEZE');
    assert.deepEqual(reported.body.decision.reasons, [
      { code: 'IDENTITY_MISMATCH', contribution: 50, ruleId: 'identity-mismatch' },
    ]);
    const caseId: string = reported.body.caseId;

    const restriction = await get(`/v1/accounts/${account}/restriction`, 'backend');
    assert.deepEqual(restriction.body, {
      accountId: account,
      restricted: true,
      tier: 'FREEZE',
      status: 'AWAITING_USER',
      caseId,
      // What the gateway enforces (the default policy's FREEZE): repaying still works, nothing else does.
      allowed: ['REPAY'],
      blocked: [
        'SIGN_IN',
        'VIEW_STATEMENTS',
        'DEPOSIT',
        'CHANGE_DETAILS',
        'TRANSFER_OUT',
        'WITHDRAW',
        'BORROW',
      ],
    });

    const appealed = await post(`/v1/cases/${caseId}/appeal`, 'backend', {
      statement: 'I changed my name',
      evidence: ['doc-1'],
      requestId: 'ap-1',
    });
    assert.equal(appealed.body.status, 'IN_REVIEW');

    const queued = await eventually(
      async () => {
        const q = await get('/v1/review-queue', 'r1');
        return q.body.items.find((i: { caseId: string }) => i.caseId === caseId) ?? false;
      },
      10_000,
      'case in the review queue',
    );
    assert.equal(queued.tier, 'FREEZE');
    assert.equal(queued.assignee, null);
    assert.ok(Date.parse(queued.reviewDueAt) > Date.now());

    assert.equal((await post(`/v1/cases/${caseId}/claim`, 'r1')).body.assignee, 'reviewer-1');
    const decided = await post(`/v1/cases/${caseId}/decision`, 'r1', {
      decision: 'UNLOCK',
      rationale: 'Name change confirmed.',
      requestId: 'd-1',
    });
    assert.equal(decided.status, 200);
    assert.equal(decided.body.outcome, 'RESTORED');

    const view = await eventually(
      async () => {
        const v = await get(`/v1/cases/${caseId}`, 'r2');
        return (
          v.body.timeline.some(
            (t: { type: string; event?: string }) => t.type === 'WEBHOOK_SENT' && t.event === 'case.outcome',
          ) && v
        );
      },
      10_000,
      'outcome webhook',
    );
    const types = view.body.timeline.map((t: { type: string }) => t.type);
    for (const t of [
      'RISK_EVENT',
      'RESTRICTION_APPLIED',
      'NOTIFIED',
      'APPEAL',
      'CLAIM',
      'DECISION',
      'RESTRICTION_LIFTED',
      'OUTCOME',
    ])
      assert.ok(types.includes(t), `timeline has ${t}: ${types}`);
    const decision = view.body.timeline.find((t: { type: string }) => t.type === 'DECISION');
    assert.deepEqual(decision.actor, { kind: 'reviewer', id: 'reviewer-1' });
    assert.equal(view.body.reasons[0].explanation.user['zh-CN'].length > 0, true);
    assert.deepEqual((await get(`/v1/accounts/${account}/restriction`, 'backend')).body, {
      accountId: account,
      restricted: false,
      tier: 'NONE',
      status: 'RESTORED',
      caseId,
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
  });

  describe('the default policy over HTTP', () => {
    const statusOf: Record<string, string> = {
      CLOSE: 'AWAITING_USER',
      FREEZE: 'AWAITING_USER',
      STEP_UP: 'VERIFICATION_REQUIRED',
      LIMIT: 'LIMITED',
      PROTECT: 'PROTECTIVE_HOLD',
      NONE: 'NO_ACTION',
    };
    for (const [name, [type, attributes, tier]] of Object.entries(EXAMPLES)) {
      it(`${name} decides ${tier} (${statusOf[tier]})`, async () => {
        const account = uniqueAccount();
        const event = riskEvent(account, type, attributes as never);
        const simulated = await post('/v1/simulate', 'backend', event);
        assert.equal(simulated.body.decision.tier, tier);
        assert.equal(await workflowExists(account), false, 'simulate has no effect');
        const reported = await post('/v1/risk-events', 'backend', event);
        assert.equal(reported.body.decision.tier, tier);
        assert.equal(reported.body.status, statusOf[tier]);
        assert.equal(
          await workflowExists(account),
          tier !== 'NONE',
          'only a restricting event starts a workflow',
        );
        if (tier === 'NONE') assert.equal(reported.body.caseId, null);
      });
    }
  });

  it('a harmless event for an account with an open case enters that case', async () => {
    const account = uniqueAccount();
    const opened = await post(
      '/v1/risk-events',
      'backend',
      riskEvent(account, 'CREDIT_REPORT', { lendersLast30d: 7, scoreDelta: 0, overdueDays: 0 }),
    );
    const harmless = await post(
      '/v1/risk-events',
      'backend',
      riskEvent(account, 'LOGIN', { newDevice: false }),
    );
    assert.equal(harmless.body.caseId, opened.body.caseId);
    assert.equal(harmless.body.status, 'LIMITED');
    const view = await get(`/v1/cases/${opened.body.caseId}`, 'backend');
    // Counted, not listed: harmless events do not grow the case's timeline.
    assert.equal(view.body.timeline.filter((t: { type: string }) => t.type === 'RISK_EVENT').length, 1);
    assert.equal(view.body.unchangedEvents.count, 1);
  });

  it('escalates an open case and never de-escalates it', async () => {
    const account = uniqueAccount();
    await post(
      '/v1/risk-events',
      'backend',
      riskEvent(account, 'LOGIN', { newDevice: true, geoDistanceKm: 2000, minutesSinceLastLogin: 30 }),
    );
    const escalated = await post(
      '/v1/risk-events',
      'backend',
      riskEvent(account, 'IDENTITY_CHECK', { matched: false }),
    );
    assert.equal(escalated.body.status, 'AWAITING_USER');
    const milder = await post(
      '/v1/risk-events',
      'backend',
      riskEvent(account, 'CREDIT_REPORT', { lendersLast30d: 7, scoreDelta: 0, overdueDays: 0 }),
    );
    assert.equal(milder.body.decision.tier, 'LIMIT');
    assert.equal(milder.body.status, 'AWAITING_USER');
    assert.equal((await get(`/v1/accounts/${account}/restriction`, 'backend')).body.tier, 'FREEZE');
  });

  it('a repeated event ID gets the same answer and no new effect', async () => {
    const account = uniqueAccount();
    const event = riskEvent(account, 'IDENTITY_CHECK', { matched: false });
    const first = await post('/v1/risk-events', 'backend', event);
    const second = await post('/v1/risk-events', 'backend', event);
    assert.equal(second.body.duplicate, true);
    assert.deepEqual({ ...second.body, duplicate: false }, first.body);
    const view = await get(`/v1/cases/${first.body.caseId}`, 'backend');
    assert.equal(
      view.body.timeline.filter((t: { type: string }) => t.type === 'RESTRICTION_APPLIED').length,
      1,
    );
  });

  it('verification restores a step-up; a verification for a case not awaiting one is refused', async () => {
    const account = uniqueAccount();
    const { body } = await post(
      '/v1/risk-events',
      'backend',
      riskEvent(account, 'LOGIN', { newDevice: true, geoDistanceKm: 2000, minutesSinceLastLogin: 30 }),
    );
    const verified = await post(`/v1/cases/${body.caseId}/verification`, 'backend', {
      method: 'OTP',
      passed: true,
      requestId: 'v-1',
    });
    assert.equal(verified.body.outcome, 'RESTORED');
    const limited = await post(
      '/v1/risk-events',
      'backend',
      riskEvent(uniqueAccount(), 'CREDIT_REPORT', { lendersLast30d: 7, scoreDelta: 0, overdueDays: 0 }),
    );
    assertProblem(
      await post(`/v1/cases/${limited.body.caseId}/verification`, 'backend', {
        method: 'OTP',
        passed: true,
        requestId: 'v-2',
      }),
      409,
      'NOT_AWAITING_VERIFICATION',
    );
  });

  it('closing for fraud needs a second, different reviewer (histories-)', async () => {
    const account = uniqueAccount();
    const { body } = await post(
      '/v1/risk-events',
      'backend',
      riskEvent(account, 'FRAUD_REPORT', { source: 'card-network', confirmed: true }),
    );
    assert.equal(body.status, 'AWAITING_USER');
    const caseId = body.caseId;
    assertProblem(
      await post(`/v1/cases/${caseId}/verification`, 'backend', {
        method: 'OTP',
        passed: true,
        requestId: 'v',
      }),
      409,
      'NOT_AWAITING_VERIFICATION',
    );
    await post(`/v1/cases/${caseId}/appeal`, 'backend', { statement: 'not me', requestId: 'a' });
    await post(`/v1/cases/${caseId}/claim`, 'r1');
    const pending = await post(`/v1/cases/${caseId}/decision`, 'r1', {
      decision: 'CLOSE',
      rationale: 'Confirmed by the network.',
      requestId: 'd',
    });
    assert.equal(pending.body.status, 'PENDING_APPROVAL');
    assert.equal(pending.body.pendingApproval.decidedBy, 'reviewer-1');
    assertProblem(
      await post(`/v1/cases/${caseId}/approval`, 'r1', { approve: true, rationale: 'me too' }),
      409,
      'SAME_REVIEWER',
    );
    const closed = await post(`/v1/cases/${caseId}/approval`, 'r2', { approve: true, rationale: 'Agreed.' });
    assert.equal(closed.body.outcome, 'CLOSED');
    assert.deepEqual((await get(`/v1/accounts/${account}/restriction`, 'backend')).body, {
      accountId: account,
      restricted: true,
      tier: 'CLOSE',
      status: 'CLOSED',
      caseId,
      // A closed account: sign in to read statements, and repay.
      allowed: ['SIGN_IN', 'VIEW_STATEMENTS', 'REPAY'],
      blocked: ['DEPOSIT', 'CHANGE_DETAILS', 'TRANSFER_OUT', 'WITHDRAW', 'BORROW'],
    });
    assert.equal(h.gateway.accounts.get(account)?.closed, true);
    await h.client.workflow.getHandle(caseWorkflowId(account)).result();
    await recordHistory('fraud-close-four-eyes', h.client.workflow.getHandle(caseWorkflowId(account)));
  });

  describe('refusals', () => {
    it('401 without a valid token, 403 for the wrong role', async () => {
      const event = riskEvent(uniqueAccount(), 'IDENTITY_CHECK', { matched: false });
      assertProblem(await post('/v1/risk-events', null, event), 401, 'UNAUTHORIZED');
      assertProblem(await call('POST', '/v1/risk-events', null, event, undefined), 401);
      const wrongToken = await fetch(`${api.url}/v1/review-queue`, {
        headers: { authorization: 'Bearer nope' },
      });
      assert.equal(wrongToken.status, 401);
      assertProblem(await post('/v1/risk-events', 'r1', event), 403, 'FORBIDDEN');
      assertProblem(await get('/v1/review-queue', 'backend'), 403, 'FORBIDDEN');
      assert.equal(await workflowExists(event.accountId), false, 'a refused request changes nothing');
    });

    it('400 with field paths for bad input, and nothing changes', async () => {
      const account = uniqueAccount();
      const bad = {
        ...riskEvent(account, 'IDENTITY_CHECK', { matched: false }),
        attributes: { matched: 'no' },
        occurredAt: 'yesterday',
      };
      const r = await post('/v1/risk-events', 'backend', bad);
      assertProblem(r, 400, 'VALIDATION_FAILED');
      const paths = r.body.errors.map((e: { path: string }) => e.path);
      assert.ok(paths.includes('body.attributes.matched'), paths.join());
      assert.ok(paths.includes('body.occurredAt'), paths.join());
      assert.equal(await workflowExists(account), false);
      assertProblem(
        await call('POST', '/v1/risk-events', 'backend', undefined, '{"eventId":'),
        400,
        'MALFORMED_JSON',
      );
      const text = await fetch(`${api.url}/v1/risk-events`, {
        method: 'POST',
        headers: { authorization: 'Bearer dev-backend', 'content-type': 'text/plain' },
        body: 'hi',
      });
      assert.equal(text.status, 415);
      assertProblem(await get('/v1/cases/not-a-case-id', 'backend'), 400, 'VALIDATION_FAILED');
      assertProblem(await get('/v1/review-queue?limit=0', 'r1'), 400, 'VALIDATION_FAILED');
      assertProblem(await get('/v1/nowhere', 'backend'), 404, 'NO_ROUTE');
    });

    it('400 for a bad appeal leaves the case as it was', async () => {
      const { body } = await post(
        '/v1/risk-events',
        'backend',
        riskEvent(uniqueAccount(), 'IDENTITY_CHECK', { matched: false }),
      );
      const before = await get(`/v1/cases/${body.caseId}`, 'backend');
      const r = await post(`/v1/cases/${body.caseId}/appeal`, 'backend', {
        statement: 'x'.repeat(2001),
        requestId: 'a-1',
      });
      assertProblem(r, 400, 'VALIDATION_FAILED');
      assert.deepEqual(
        r.body.errors.map((e: { path: string }) => e.path),
        ['body.statement'],
      );
      const after = await get(`/v1/cases/${body.caseId}`, 'backend');
      assert.equal(after.body.status, before.body.status);
      assert.equal(after.body.appealed, false);
    });

    it('404 for an unknown case', async () => {
      assertProblem(await get(`/v1/cases/${uniqueAccount()}.0123456789ab`, 'backend'), 404, 'CASE_NOT_FOUND');
      assertProblem(
        await post(`/v1/cases/${uniqueAccount()}.0123456789ab/claim`, 'r1'),
        404,
        'CASE_NOT_FOUND',
      );
      const { body } = await post(
        '/v1/risk-events',
        'backend',
        riskEvent(uniqueAccount(), 'IDENTITY_CHECK', { matched: false }),
      );
      const forged = `${body.accountId}.0123456789ab`;
      assertProblem(await get(`/v1/cases/${forged}`, 'backend'), 404, 'CASE_NOT_FOUND');
    });

    it('409 for actions the state does not allow; the same reviewer claiming again is a 200', async () => {
      const { body } = await post(
        '/v1/risk-events',
        'backend',
        riskEvent(uniqueAccount(), 'IDENTITY_CHECK', { matched: false }),
      );
      const c = `/v1/cases/${body.caseId}`;
      assertProblem(await post(`${c}/claim`, 'r1'), 409, 'NOT_IN_REVIEW');
      assert.equal(
        (await post(`${c}/appeal`, 'backend', { statement: 'mine', requestId: 'a-1' })).status,
        200,
      );
      assertProblem(
        await post(`${c}/appeal`, 'backend', { statement: 'again', requestId: 'a-2' }),
        409,
        'ALREADY_APPEALED',
      );
      assert.equal(
        (await post(`${c}/appeal`, 'backend', { statement: 'mine', requestId: 'a-1' })).status,
        200,
        'a retried request is answered',
      );
      assertProblem(
        await post(`${c}/decision`, 'r1', { decision: 'UNLOCK', rationale: 'x', requestId: 'd-0' }),
        409,
        'NOT_CLAIMED',
      );
      assert.equal((await post(`${c}/claim`, 'r1')).status, 200);
      assert.equal((await post(`${c}/claim`, 'r1')).status, 200);
      assertProblem(await post(`${c}/claim`, 'r2'), 409, 'CLAIMED_BY_OTHER');
      assertProblem(
        await post(`${c}/decision`, 'r2', { decision: 'UNLOCK', rationale: 'x', requestId: 'd-1' }),
        409,
        'CLAIMED_BY_OTHER',
      );
      assertProblem(
        await post(`${c}/approval`, 'r2', { approve: true, rationale: 'x' }),
        409,
        'NOT_PENDING_APPROVAL',
      );
      assert.equal(
        (await post(`${c}/decision`, 'r1', { decision: 'UPHOLD', rationale: 'stays', requestId: 'd-2' })).body
          .outcome,
        'UPHELD',
      );
      await eventually(
        async () =>
          (await get(c, 'backend')).body.timeline.some((t: { event?: string }) => t.event === 'case.outcome'),
        10_000,
        'case ended',
      );
      assertProblem(
        await post(`${c}/appeal`, 'backend', { statement: 'late', requestId: 'a-3' }),
        409,
        'CASE_CLOSED',
      );
      assertProblem(
        await post(`${c}/decision`, 'r1', { decision: 'UNLOCK', rationale: 'x', requestId: 'd-3' }),
        409,
        'CASE_CLOSED',
      );
    });
  });

  it('keeps search attributes current for the Web UI, with no personal data', async () => {
    const account = uniqueAccount();
    const { body } = await post(
      '/v1/risk-events',
      'backend',
      riskEvent(account, 'IDENTITY_CHECK', { matched: false }),
    );
    await post(`/v1/cases/${body.caseId}/appeal`, 'backend', {
      statement: 'private statement text',
      requestId: 'a',
    });
    await post(`/v1/cases/${body.caseId}/claim`, 'r2');
    const sa = (await h.client.workflow.getHandle(caseWorkflowId(account)).describe()).typedSearchAttributes;
    assert.equal(sa.get(SA.status), 'IN_REVIEW');
    assert.equal(sa.get(SA.tier), 'FREEZE');
    assert.deepEqual(sa.get(SA.reasonCodes), ['IDENTITY_MISMATCH']);
    assert.equal(sa.get(SA.assignee), 'reviewer-2');
    assert.equal(sa.get(SA.caseId), body.caseId);
    assert.ok(sa.get(SA.reviewDueAt) instanceof Date);
    assert.doesNotMatch(JSON.stringify(sa), /private statement/);
    const listed = await eventually(
      async () => {
        const found = [];
        for await (const wf of h.client.workflow.list({
          query: `CordonAssignee = "reviewer-2" AND CordonCaseId = "${body.caseId}"`,
        }))
          found.push(wf);
        return found.length === 1 && found;
      },
      10_000,
      'visible by search attributes',
    );
    assert.equal(listed[0]!.workflowId, caseWorkflowId(account));
    await post(`/v1/cases/${body.caseId}/decision`, 'r2', {
      decision: 'UNLOCK',
      rationale: 'fine',
      requestId: 'd',
    });
    const ended = (await h.client.workflow.getHandle(caseWorkflowId(account)).describe())
      .typedSearchAttributes;
    assert.equal(ended.get(SA.status), 'RESTORED');
    assert.equal(ended.get(SA.reviewDueAt), undefined, 'a case out of review has no review due time');
  });

  it('finds an earlier case of an account after a new one has opened', async () => {
    const account = uniqueAccount();
    const first = await post(
      '/v1/risk-events',
      'backend',
      riskEvent(account, 'LOGIN', { newDevice: true, geoDistanceKm: 2000, minutesSinceLastLogin: 30 }),
    );
    await post(`/v1/cases/${first.body.caseId}/verification`, 'backend', {
      method: 'OTP',
      passed: true,
      requestId: 'v',
    });
    const second = await eventually(
      async () => {
        const r = await post(
          '/v1/risk-events',
          'backend',
          riskEvent(account, 'IDENTITY_CHECK', { matched: false }),
        );
        return r.body.caseId !== first.body.caseId && r;
      },
      10_000,
      'a second case',
    );
    assert.equal(second.body.status, 'AWAITING_USER');
    const old = await eventually(
      async () => {
        const r = await get(`/v1/cases/${first.body.caseId}`, 'backend');
        return r.status === 200 && r;
      },
      10_000,
      'earlier case found through visibility',
    );
    assert.equal(old.body.outcome, 'RESTORED');
    assertProblem(
      await post(`/v1/cases/${first.body.caseId}/appeal`, 'backend', { statement: 'x', requestId: 'a' }),
      409,
      'CASE_CLOSED',
    );
    assert.equal(
      (await get(`/v1/accounts/${account}/restriction`, 'backend')).body.caseId,
      second.body.caseId,
    );
  });

  it('a claim can be released by its holder or a senior; a senior takes over, a reviewer cannot', async () => {
    const account = uniqueAccount();
    const { body } = await post(
      '/v1/risk-events',
      'backend',
      riskEvent(account, 'IDENTITY_CHECK', { matched: false, field: 'name' }),
    );
    const caseId: string = body.caseId;
    await post(`/v1/cases/${caseId}/appeal`, 'backend', { statement: 'me', requestId: 'a' });
    assert.equal((await post(`/v1/cases/${caseId}/claim`, 'r1')).body.assignee, 'reviewer-1');
    assertProblem(await post(`/v1/cases/${caseId}/claim`, 'r2'), 409, 'CLAIMED_BY_OTHER');
    assertProblem(await post(`/v1/cases/${caseId}/release`, 'r2'), 409, 'CLAIMED_BY_OTHER');
    const taken = await post(`/v1/cases/${caseId}/claim`, 'senior');
    assert.equal(taken.status, 200);
    assert.equal(taken.body.assignee, 'senior');
    const takeover = taken.body.timeline.filter((t: { type: string }) => t.type === 'CLAIM').pop();
    assert.deepEqual([takeover.takeover, takeover.from], [true, 'reviewer-1'], 'the takeover is recorded');
    const released = await post(`/v1/cases/${caseId}/release`, 'senior');
    assert.equal(released.body.assignee, null);
    assert.equal((await post(`/v1/cases/${caseId}/claim`, 'r2')).body.assignee, 'reviewer-2');
    assert.equal((await post(`/v1/cases/${caseId}/release`, 'r2')).body.assignee, null);
    assertProblem(await post(`/v1/cases/${caseId}/release`, 'r2'), 409, 'NOT_CLAIMED');
    const queue = await eventually(async () => {
      const q = await get('/v1/review-queue?escalated=false&limit=500', 'r1');
      return q.body.items.find((i: { caseId: string }) => i.caseId === caseId) ?? false;
    });
    assert.equal(queue.escalated, false);
    const seniorQueue = await get('/v1/review-queue?escalated=true&limit=500', 'senior');
    assert.equal(seniorQueue.status, 200);
    assert.equal(
      seniorQueue.body.items.find((i: { caseId: string }) => i.caseId === caseId),
      undefined,
      'not breached: not in the senior queue',
    );
  });

  describe('the promises over HTTP (issue 6)', () => {
    it('an event whose ID is a prototype name restricts the account (was a 500)', async () => {
      const account = uniqueAccount();
      const r = await post(
        '/v1/risk-events',
        'backend',
        riskEvent(account, 'IDENTITY_CHECK', { matched: false, field: 'name' }, 'constructor'),
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.duplicate, false);
      const restriction = await get(`/v1/accounts/${account}/restriction`, 'backend');
      assert.equal(restriction.body.restricted, true);
    });

    it('a requestId is per action and principal: reused for another body it is a 409, repeated it answers the first answer', async () => {
      const account = uniqueAccount();
      const { body } = await post(
        '/v1/risk-events',
        'backend',
        riskEvent(account, 'IDENTITY_CHECK', { matched: false, field: 'name' }),
      );
      const caseId: string = body.caseId;
      const appeal = (statement: string) =>
        post(`/v1/cases/${caseId}/appeal`, 'backend', { statement, requestId: 'same-id' });
      const first = await appeal('it was me on holiday');
      assert.equal(first.status, 200);
      assertProblem(await appeal('something else'), 409, 'IDEMPOTENCY_KEY_REUSED');
      const again = await appeal('it was me on holiday');
      assert.deepEqual(again.body, first.body, 'the first answer again');
      // The same requestId on another action is another request: applied, not silently ignored.
      assert.equal((await post(`/v1/cases/${caseId}/claim`, 'r1')).status, 200);
      const decided = await post(`/v1/cases/${caseId}/decision`, 'r1', {
        decision: 'UNLOCK',
        rationale: 'travel confirmed',
        requestId: 'same-id',
      });
      assert.equal(decided.status, 200);
      assert.equal(decided.body.outcome, 'RESTORED');
      const repeat = await post(`/v1/cases/${caseId}/decision`, 'r1', {
        decision: 'UNLOCK',
        rationale: 'travel confirmed',
        requestId: 'same-id',
      });
      assert.equal(repeat.status, 200, 'a true repeat of the action that ended the case');
      assert.equal(repeat.body.outcome, 'RESTORED');
      const other = await post(`/v1/cases/${caseId}/decision`, 'r1', {
        decision: 'UPHOLD',
        rationale: 'travel confirmed',
        requestId: 'same-id',
      });
      assertProblem(other, 409, 'IDEMPOTENCY_KEY_REUSED');
    });

    it('GET /v1/changes lets the backend catch up, in order, page by page', async () => {
      const account = uniqueAccount();
      const { body } = await post(
        '/v1/risk-events',
        'backend',
        riskEvent(account, 'LOGIN', { newDevice: true, geoDistanceKm: 2000, minutesSinceLastLogin: 30 }),
      );
      await post(`/v1/cases/${body.caseId}/verification`, 'backend', {
        method: 'OTP',
        passed: true,
        requestId: 'v-1',
      });
      const all = await eventually(async () => {
        const items: { cursor: string; type: string; event: { caseId: string } }[] = [];
        for (let after = '0'; ;) {
          const page = await get(`/v1/changes?after=${after}&limit=2`, 'backend');
          assert.equal(page.status, 200);
          items.push(...page.body.items);
          if (page.body.items.length < 2) break;
          after = page.body.next;
        }
        const mine = items.filter((i) => i.event.caseId === body.caseId);
        return mine.length === 2 && items;
      });
      const cursors = all.map((i) => Number(i.cursor));
      assert.deepEqual(
        cursors,
        [...cursors].sort((a, b) => a - b),
        'in order',
      );
      assert.deepEqual(
        all.filter((i) => i.event.caseId === body.caseId).map((i) => i.type),
        ['restriction.changed', 'case.outcome'],
      );
      assertProblem(await get('/v1/changes?after=-1', 'backend'), 400, 'VALIDATION_FAILED');
      assertProblem(await get('/v1/changes', 'r1'), 403, 'FORBIDDEN');
    });
  });

  it('serves an OpenAPI document generated from the schemas, and a health check', async () => {
    const doc = (await get('/openapi.json', null)).body;
    assert.equal(doc.openapi, '3.1.0');
    for (const p of [
      '/v1/risk-events',
      '/v1/simulate',
      '/v1/accounts/{accountId}/restriction',
      '/v1/cases/{caseId}',
      '/v1/cases/{caseId}/verification',
      '/v1/cases/{caseId}/appeal',
      '/v1/review-queue',
      '/v1/cases/{caseId}/claim',
      '/v1/cases/{caseId}/decision',
      '/v1/cases/{caseId}/approval',
      '/v1/cases/{caseId}/info',
      '/v1/cases/{caseId}/break-glass',
      '/v1/cases',
      '/v1/risk-events/{eventId}/retraction',
      '/v1/accounts/restrictions',
    ])
      assert.ok(doc.paths[p], `documents ${p}`);
    const eventSchema = doc.paths['/v1/risk-events'].post.requestBody.content['application/json'].schema;
    const types = eventSchema.oneOf
      .map((v: { properties: { type: { const: string } } }) => v.properties.type.const)
      .sort();
    assert.deepEqual(types, [
      'BORROW_REQUEST',
      'CREDIT_REPORT',
      'DATA_SOURCE_ERROR',
      'FRAUD_REPORT',
      'IDENTITY_CHECK',
      'LOGIN',
      'LOGIN_FAILED',
      'REGULATORY_HOLD',
      'TRANSFER_ATTEMPT',
      'USER_ACTION_BURST',
      'VERIFICATION_FAILED',
    ]);
    const appeal = doc.paths['/v1/cases/{caseId}/appeal'].post.requestBody.content['application/json'].schema;
    assert.equal(appeal.properties.statement.maxLength, 2000);
    assert.deepEqual((await get('/healthz', null)).body.status, 'ok');
  });
});
