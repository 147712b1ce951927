// The review process of cases opened under rules 3 (0.3), on the dev server: escalation, the approval SLA,
// questions and explanations, four-eyes bound to evidence, break glass, retractions and cases opened by hand.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { RunningApi } from '../api/main';
import { Problem } from '../web/problems';
import type { CaseView } from '../core/contracts';
import {
  appealUpdate,
  approvalUpdate,
  claimUpdate,
  decisionUpdate,
  infoUpdate,
  retractUpdate,
} from '../workflows/definitions';
import type { Actor } from '../core/model';
import { REASONS } from '../core/reasons';
import { parsePolicy } from '../infra/policy-loader';
import { OUTCOME_TEXTS } from '../core/outcomes';
import { riskEvent, uniqueAccount } from './helpers/events';
import {
  eventually,
  recordHistory,
  shortPolicy,
  startApiHarness,
  withHarness,
  type ApiHarness,
  type Harness,
  callApi,
} from './helpers/harness';
import { requires } from './helpers/requirements';

const backend: Actor = { kind: 'backend', id: 'backend' };
const user = (account: string): Actor => ({ kind: 'user', id: account });
const types = (v: CaseView) => v.timeline.map((t) => t.type);

/** The short test policy with changes to its review section and FREEZE tier. */
function policyWith(review: Record<string, unknown>, freeze: Record<string, unknown> = {}) {
  const raw = JSON.parse(JSON.stringify(shortPolicy().policy));
  raw.review = { ...raw.review, ...review };
  Object.assign(raw.tiers.FREEZE, freeze);
  Object.assign(raw.tiers.CLOSE, freeze);
  return parsePolicy(raw, 'review process test policy');
}

/** Opens a FREEZE (identity mismatch) and appeals it, so it waits in review; returns its account. */
async function inReview(h: Harness, type: 'IDENTITY_CHECK' | 'FRAUD_REPORT' = 'IDENTITY_CHECK') {
  const account = uniqueAccount();
  const event =
    type === 'IDENTITY_CHECK'
      ? riskEvent(account, 'IDENTITY_CHECK', { matched: false })
      : riskEvent(account, 'FRAUD_REPORT', { source: 'card-network', confirmed: true });
  await h.cases.reportEvent(event, backend);
  const v = await h.act(account, appealUpdate, {
    statement: 'It was me.',
    requestId: 'a1',
    actor: user(account),
  });
  assert.equal(v.status, 'IN_REVIEW');
  return account;
}

/** The refusal code of a case action through the case service (what the API answers as a 409). */
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof Problem) return String(err.extra.code);
    throw err;
  }
  assert.fail('expected a refusal');
}

describe('review process (rules 3) on the dev server', function () {
  requires('temporal');
  this.timeout(60_000);

  it('a breached review SLA escalates: the case and its queue item say so, the backend hears case.escalated (histories-)', () =>
    withHarness(
      async (h) => {
        const account = await inReview(h);
        await h.act(account, claimUpdate, { reviewer: 'r1' });
        const v = await eventually(async () => (await h.view(account)).escalated && h.view(account), 15_000);
        const breach = v.timeline.find((t) => t.type === 'SLA_BREACHED');
        assert.equal(breach?.escalated, true);
        const webhook = await eventually(
          async () =>
            h.backend.events.find((e) => e.caseId === v.caseId && e.type === 'case.escalated') ?? false,
          10_000,
          'case.escalated delivered',
        );
        assert.equal(webhook.status, 'IN_REVIEW');
        const item = await eventually(
          async () =>
            (await h.cases.reviewQueue(undefined, 500, true)).find((i) => i.caseId === v.caseId) ?? false,
          10_000,
          'in the senior queue',
        );
        assert.equal(item.escalated, true);
        // A senior takes it over; the takeover is in the timeline.
        const taken = await h.act(account, claimUpdate, { reviewer: 'senior-1', senior: true });
        assert.equal(taken.assignee, 'senior-1');
        await recordHistory('review-sla-escalated', h.handle(account));
        assert.deepEqual(taken.timeline.at(-1), {
          ...taken.timeline.at(-1),
          type: 'CLAIM',
          takeover: true,
          from: 'r1',
        });
      },
      { policy: policyWith({}, { reviewSla: '2s' }) },
    ));

  it('a decision waiting for approval has its own SLA, which escalates too', () =>
    withHarness(
      async (h) => {
        const account = await inReview(h, 'FRAUD_REPORT');
        await h.act(account, claimUpdate, { reviewer: 'r1' });
        const pending = await h.act(account, decisionUpdate, {
          reviewer: 'r1',
          decision: 'CLOSE',
          rationale: 'Confirmed fraud.',
          requestId: 'd1',
        });
        assert.equal(pending.status, 'PENDING_APPROVAL');
        assert.ok(pending.deadlines.approvalDueAt, 'the approval deadline is shown');
        assert.equal(pending.deadlines.reviewDueAt, undefined);
        const v = await eventually(async () => (await h.view(account)).escalated && h.view(account), 15_000);
        assert.ok(types(v).includes('APPROVAL_SLA_BREACHED'));
        await eventually(
          async () => h.backend.events.some((e) => e.caseId === v.caseId && e.type === 'case.escalated'),
          10_000,
        );
        // Escalated, still decidable: the second reviewer approves.
        const closed = await h.act(account, approvalUpdate, {
          reviewer: 'r2',
          approve: true,
          rationale: 'Agreed.',
        });
        assert.equal(closed.outcome, 'CLOSED');
      },
      { policy: policyWith({ approvalSla: '2s' }, { reviewSla: '1h' }) },
    ));

  it('REQUEST_INFO carries a question to the user; the outcome notice tells the user why (histories-)', () =>
    withHarness(
      async (h) => {
        const account = await inReview(h);
        await h.act(account, claimUpdate, { reviewer: 'r1' });
        const question = 'Which city did you open the account in?';
        const asked = await h.act(account, decisionUpdate, {
          reviewer: 'r1',
          decision: 'REQUEST_INFO',
          rationale: 'Need more.',
          question,
          requestId: 'd1',
        });
        assert.equal(asked.question, question);
        const notice = await eventually(
          async () =>
            h.channel.sent.find(
              (s) => s.notice.caseId === asked.caseId && s.notice.template === 'INFO_REQUESTED',
            ) ?? false,
        );
        assert.ok(notice.message.body.includes(question), notice.message.body);
        const answered = await h.act(account, infoUpdate, {
          answer: 'Shenzhen.',
          requestId: 'i1',
          actor: user(account),
        });
        assert.equal(answered.question, null);
        await h.act(account, claimUpdate, { reviewer: 'r1' });
        // 0.5: an outcome code of its own (a reason code would open an unlock with a negative sentence).
        const explanation = {
          code: 'IDENTITY_CONFIRMED' as const,
          text: 'Your documents matched after all.',
        };
        const done = await h.act(account, decisionUpdate, {
          reviewer: 'r1',
          decision: 'UNLOCK',
          rationale: 'Matches the bureau.',
          explanation,
          requestId: 'd2',
        });
        assert.equal(done.outcome, 'RESTORED');
        assert.deepEqual(done.explanation, explanation);
        const outcome = await eventually(
          async () =>
            h.channel.sent.find((s) => s.notice.caseId === done.caseId && s.notice.template === 'OUTCOME') ??
            false,
        );
        assert.ok(
          outcome.message.body.includes(OUTCOME_TEXTS.IDENTITY_CONFIRMED.user.en),
          outcome.message.body,
        );
        assert.ok(!outcome.message.body.includes(REASONS.IDENTITY_MISMATCH.user.en), outcome.message.body);
        assert.ok(outcome.message.body.includes(explanation.text), outcome.message.body);
        await recordHistory('question-explanation', h.handle(account));
      },
      { policy: policyWith({}, { reviewSla: '1h', infoDeadline: '1h' }) },
    ));

  it('four-eyes is bound to the evidence: new information voids a pending decision, a stale version is refused (histories-)', () =>
    withHarness(
      async (h) => {
        const account = await inReview(h, 'FRAUD_REPORT');
        const claimed = await h.act(account, claimUpdate, { reviewer: 'r1' });
        const seen = claimed.evidenceVersion;
        const pending = await h.act(account, decisionUpdate, {
          reviewer: 'r1',
          decision: 'CLOSE',
          rationale: 'Confirmed fraud.',
          evidenceVersion: seen,
          requestId: 'd1',
        });
        assert.equal(pending.pendingApproval?.evidenceVersion, seen);
        // The user adds information while the decision waits: the decision is void.
        const voided = await h.act(account, infoUpdate, {
          answer: 'Here is my police report.',
          evidence: ['doc-77'],
          requestId: 'i1',
          actor: user(account),
        });
        assert.equal(voided.status, 'IN_REVIEW');
        assert.equal(voided.pendingApproval, null);
        assert.equal(voided.evidenceVersion, seen + 1);
        assert.ok(types(voided).includes('DECISION_VOIDED'));
        const caseId = voided.caseId;
        const approve = (evidenceVersion: number, requestId: string) =>
          h.cases.act(caseId, approvalUpdate, {
            reviewer: 'r2',
            approve: true,
            rationale: 'ok',
            evidenceVersion,
            requestId,
          });
        assert.equal(await refusal(approve(seen, 'p1')), 'NOT_PENDING_APPROVAL');
        // Deciding on what was seen before the new evidence is refused; on the current version it stands.
        const decide = (evidenceVersion: number, requestId: string) =>
          h.cases.act(caseId, decisionUpdate, {
            reviewer: 'r1',
            decision: 'CLOSE',
            rationale: 'Still fraud.',
            evidenceVersion,
            requestId,
          });
        assert.equal(await refusal(decide(seen, 'd2')), 'EVIDENCE_CHANGED');
        await decide(seen + 1, 'd3');
        const closed = await approve(seen + 1, 'p2');
        assert.equal(closed.outcome, 'CLOSED');
        await recordHistory('four-eyes-evidence-voided', h.handle(account));
      },
      { policy: policyWith({}, { reviewSla: '1h' }) },
    ));

  it('an UNLOCK of a case scored above the policy limit needs a second reviewer', () =>
    withHarness(
      async (h) => {
        const account = await inReview(h);
        await h.act(account, claimUpdate, { reviewer: 'r1' });
        const pending = await h.act(account, decisionUpdate, {
          reviewer: 'r1',
          decision: 'UNLOCK',
          rationale: 'Looks fine.',
          requestId: 'd1',
        });
        assert.equal(pending.status, 'PENDING_APPROVAL');
        assert.equal(pending.pendingApproval?.decision, 'UNLOCK');
        assert.equal(h.gateway.accounts.has(account), true, 'still restricted while it waits');
        assert.equal(
          await refusal(
            h.cases.act(pending.caseId, approvalUpdate, { reviewer: 'r1', approve: true, rationale: 'me' }),
          ),
          'SAME_REVIEWER',
        );
        const done = await h.act(account, approvalUpdate, {
          reviewer: 'r2',
          approve: true,
          rationale: 'Agreed.',
        });
        assert.equal(done.outcome, 'RESTORED');
        assert.equal(h.gateway.accounts.has(account), false, 'lifted');
      },
      { policy: policyWith({ unlockApprovalAboveScore: 10 }, { reviewSla: '1h' }) },
    ));

  it('a retraction of every event the case rests on restores it where the policy says so', () =>
    withHarness(
      async (h) => {
        const account = uniqueAccount();
        const event = riskEvent(account, 'FRAUD_REPORT', { source: 'card-network', confirmed: true });
        await h.cases.reportEvent(event, backend);
        const { caseId } = await h.view(account);
        const args = { eventId: event.eventId, reason: 'Report withdrawn.', requestId: 'r1', actor: backend };
        const done = await h.cases.act(caseId, retractUpdate, args);
        assert.equal(done.outcome, 'RESTORED');
        assert.deepEqual(done.retractedEvents, [event.eventId]);
        assert.ok(types(done).includes('EVENT_RETRACTED'));
        assert.equal(h.gateway.accounts.has(account), false);
      },
      { policy: policyWith({ retractionRestores: true }) },
    ));
});

describe('review process over HTTP', function () {
  requires('temporal');
  this.timeout(60_000);
  let running: ApiHarness;
  let api: RunningApi;
  let h: Harness;

  before(async function () {
    this.timeout(300_000);
    running = await startApiHarness();
    ({ api, h } = running);
  });
  after(() => running?.close());

  const TOKENS = { backend: 'dev-backend', r1: 'dev-reviewer-1', r2: 'dev-reviewer-2', senior: 'dev-senior' };
  async function post(path: string, who: keyof typeof TOKENS, body: unknown) {
    const res = await callApi(api.url, 'POST', path, TOKENS[who], body);
    return { ...res, type: res.headers.get('content-type') ?? '' };
  }
  async function frozen(): Promise<{ account: string; caseId: string; eventId: string }> {
    const account = uniqueAccount();
    const event = riskEvent(account, 'IDENTITY_CHECK', { matched: false });
    const r = await post('/v1/risk-events', 'backend', event);
    assert.equal(r.status, 200);
    return { account, caseId: r.body.caseId, eventId: event.eventId };
  }

  it('break glass: a senior lifts a case at once (audited, the backend told); a reviewer may not', async () => {
    const { account, caseId } = await frozen();
    const body = { action: 'LIFT', rationale: 'Verified in branch with ID.', requestId: `b-${randomUUID()}` };
    assert.equal((await post(`/v1/cases/${caseId}/break-glass`, 'r1', body)).status, 403);
    const lifted = await post(`/v1/cases/${caseId}/break-glass`, 'senior', body);
    assert.equal(lifted.status, 200, JSON.stringify(lifted.body));
    assert.equal(lifted.body.outcome, 'RESTORED');
    const entry = lifted.body.timeline.find((t: { type: string }) => t.type === 'BREAK_GLASS');
    assert.deepEqual([entry.actor.id, entry.action, entry.rationale], ['senior', 'LIFT', body.rationale]);
    assert.equal(h.gateway.accounts.has(account), false);
    await eventually(async () =>
      h.backend.events.some((e) => e.caseId === caseId && e.type === 'case.break_glass'),
    );
    // The same request again answers the first answer; another body under its ID is a conflict.
    assert.equal((await post(`/v1/cases/${caseId}/break-glass`, 'senior', body)).status, 200);
    const reused = await post(`/v1/cases/${caseId}/break-glass`, 'senior', { ...body, action: 'CLOSE' });
    assert.equal(reused.status, 409);
    assert.equal(reused.body.code, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('a retracted event is recorded and sends the case to review; an unknown one is a 404', async () => {
    const { account, caseId, eventId } = await frozen();
    const body = { accountId: account, reason: 'Flagged by mistake.', requestId: `r-${randomUUID()}` };
    const r = await post(`/v1/risk-events/${eventId}/retraction`, 'backend', body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.caseId, caseId);
    assert.equal(r.body.status, 'IN_REVIEW');
    assert.deepEqual(r.body.retractedEvents, [eventId]);
    assert.equal(
      (await post(`/v1/risk-events/${eventId}/retraction`, 'backend', body)).status,
      200,
      'a repeat',
    );
    const again = await post(`/v1/risk-events/${eventId}/retraction`, 'backend', {
      ...body,
      requestId: 'another',
    });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'ALREADY_RETRACTED');
    const unknown = await post(`/v1/risk-events/evt-never-${randomUUID()}/retraction`, 'backend', body);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'EVENT_NOT_FOUND');
  });

  it('staff open a case by hand: the tier and reason they chose, their rationale in the timeline, once per requestId', async () => {
    const account = uniqueAccount();
    const body = {
      accountId: account,
      tier: 'FREEZE',
      reason: 'ABNORMAL_FUND_FLOWS',
      rationale: 'Mule pattern found in a manual audit.',
      locale: 'zh-CN',
      requestId: `m-${randomUUID()}`,
    };
    assert.equal((await post('/v1/cases', 'backend', body)).status, 403);
    const opened = await post('/v1/cases', 'r1', body);
    assert.equal(opened.status, 200, JSON.stringify(opened.body));
    assert.equal(opened.body.decision.tier, 'FREEZE');
    assert.equal(opened.body.status, 'AWAITING_USER');
    const view = await h.view(account);
    const first = view.timeline[0]!;
    assert.deepEqual(
      [first.type, first.actor.kind, first.actor.id, first.note],
      ['RISK_EVENT', 'reviewer', 'reviewer-1', body.rationale],
    );
    assert.equal(view.locale, 'zh-CN');
    assert.equal(view.verificationAllowed, false, 'only a person can lift what a person found');
    const repeat = await post('/v1/cases', 'r1', body);
    assert.equal(repeat.body.duplicate, true);
    assert.equal(repeat.body.caseId, opened.body.caseId);
    const bad = await post('/v1/cases', 'r1', { ...body, tier: 'NONE', requestId: 'x' });
    assert.equal(bad.status, 400);
    assert.ok(bad.type.startsWith('application/problem+json'));
    assert.deepEqual(
      bad.body.errors.map((e: { path: string }) => e.path),
      ['body.tier'],
    );
  });

  it("the user's contact from the event reaches the notices and nowhere else: not the case view, not the timeline", async () => {
    const account = uniqueAccount();
    const contact = { email: 'li.wei@example.cn', phone: '+86 138 0000 0000', timeZone: 'Asia/Shanghai' };
    const event = { ...riskEvent(account, 'IDENTITY_CHECK', { matched: false }), contact };
    const r = await post('/v1/risk-events', 'backend', event);
    assert.equal(r.status, 200);
    const res = await fetch(`${api.url}/v1/cases/${r.body.caseId}`, {
      headers: { authorization: 'Bearer dev-reviewer-1' },
    });
    const text = await res.text();
    assert.ok(!text.includes('li.wei') && !text.includes('138 0000'), 'no contact in the case view');
    const notice = await eventually(
      async () => h.channel.sent.find((s) => s.notice.caseId === r.body.caseId) ?? false,
    );
    assert.deepEqual(notice.notice.contact, contact);
    const bad = await post('/v1/risk-events', 'backend', {
      ...event,
      eventId: `evt-${randomUUID()}`,
      contact: { email: 'not-an-address', timeZone: 'Mars/Olympus' },
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: { path: string }) => e.path).sort(), [
      'body.contact.email',
      'body.contact.timeZone',
    ]);
    assert.ok(
      !JSON.stringify(bad.body).includes('not-an-address'),
      'the problem does not echo personal data',
    );
  });

  it('a failed verification is a risk signal the policy weighs: a reason of its own, in the same answer', async () => {
    const account = uniqueAccount();
    const event = riskEvent(account, 'LOGIN', {
      newDevice: true,
      geoDistanceKm: 2000,
      minutesSinceLastLogin: 30,
    });
    const opened = await post('/v1/risk-events', 'backend', event);
    assert.equal(opened.body.decision.tier, 'STEP_UP');
    const body = { method: 'OTP', passed: false, requestId: `v-${randomUUID()}` };
    const r = await post(`/v1/cases/${opened.body.caseId}/verification`, 'backend', body);
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'IN_REVIEW');
    const signal = r.body.reasons.find((x: { code: string }) => x.code === 'FAILED_VERIFICATIONS');
    assert.deepEqual([signal?.contribution, r.body.score], [30, opened.body.decision.score + 30]);
    assert.equal(r.body.evidenceVersion, 1);
    assert.deepEqual(
      await h.view(account),
      { ...r.body, reasons: (await h.view(account)).reasons },
      'the answer is the case',
    );
  });

  it('REQUEST_INFO without a question is a 400 naming body.question, and changes nothing', async () => {
    const { account, caseId } = await frozen();
    const before = await h.view(account);
    const r = await post(`/v1/cases/${caseId}/decision`, 'r1', {
      decision: 'REQUEST_INFO',
      rationale: 'Need more.',
      requestId: `d-${randomUUID()}`,
    });
    assert.equal(r.status, 400);
    assert.deepEqual(
      r.body.errors.map((e: { path: string }) => e.path),
      ['body.question'],
    );
    assert.deepEqual(await h.view(account), before);
  });
});
