import assert from 'node:assert/strict';
import { isRestricted, openCase, transition } from '../core/case-machine';
import { nextTimer } from '../core/case-timers';
import type { CaseInput, CaseState, Effect, RefusalCode, TimerKind } from '../core/case-types';
import type { Decision, ReasonCode, RestrictiveTier, Tier } from '../core/model';
import { caseTermsOf } from '../core/policy';
import { defaultPolicy } from './helpers/deps';

const H = 3_600_000;
const D = 24 * H;
const T0 = Date.parse('2026-11-23T10:00:00Z');
const terms = caseTermsOf(defaultPolicy());
const backend = { kind: 'backend' as const, id: 'backend' };
const user = { kind: 'user' as const, id: 'acct-1' };

function decision(tier: Tier, extra: Partial<Decision> = {}): Decision {
  const code: ReasonCode = tier === 'PROTECT' ? 'SCAM_VICTIM_INDICATORS' : 'IDENTITY_MISMATCH';
  return {
    tier,
    score: 50,
    reasons: tier === 'NONE' ? [] : [{ code, contribution: 50, ruleId: 'r' }],
    policyVersion: 'v1',
    policyHash: 'h',
    lockout: false,
    verificationAllowed: true,
    unavailableSources: [],
    ...extra,
  };
}

function open(tier: RestrictiveTier, extra: Partial<Decision> = {}): { state: CaseState; effects: Effect[] } {
  return openCase({
    caseId: 'acct-1.000000000001',
    accountId: 'acct-1',
    locale: 'en',
    terms,
    at: T0,
    eventId: 'e1',
    eventType: 'TEST',
    decision: decision(tier, extra),
    actor: backend,
  });
}

/** Applies an input that must be allowed. */
function go(state: CaseState, input: CaseInput, at = T0 + 1_000): { state: CaseState; effects: Effect[] } {
  const r = transition(state, input, at);
  if (!r.ok) assert.fail(`refused ${input.kind} in ${state.status}: ${r.refusal.code}`);
  return r;
}

/** Fires the next timer, which must be of the given kind. */
function fire(state: CaseState, kind: TimerKind): { state: CaseState; effects: Effect[]; at: number } {
  const due = nextTimer(state);
  assert.equal(due?.kind, kind, `next timer in ${state.status}`);
  return { ...go(state, { kind: 'TIMER', timer: kind }, due.at), at: due.at };
}

const verify = (passed = true): CaseInput => ({ kind: 'VERIFICATION', method: 'OTP', passed, actor: user });
const appeal: CaseInput = { kind: 'APPEAL', statement: 'it was me', actor: user };
const claim = (reviewer = 'r1'): CaseInput => ({ kind: 'CLAIM', reviewer });
const decide = (d: 'UNLOCK' | 'CLOSE' | 'UPHOLD' | 'REQUEST_INFO', reviewer = 'r1'): CaseInput => ({
  kind: 'DECISION',
  reviewer,
  decision: d,
  rationale: 'because',
});
const approve = (reviewer = 'r2', ok = true): CaseInput => ({
  kind: 'APPROVAL',
  reviewer,
  approve: ok,
  rationale: 'agreed',
});
const info: CaseInput = { kind: 'INFO', answer: 'here', actor: user };
const event = (tier: Tier, extra: Partial<Decision> = {}, eventId = 'e2'): CaseInput => ({
  kind: 'RISK_EVENT',
  eventId,
  eventType: 'TEST',
  decision: decision(tier, extra),
  actor: backend,
});
const kinds = (effects: Effect[]) =>
  effects.map((e) => (e.kind === 'NOTIFY_USER' ? `NOTIFY_USER:${e.template}` : e.kind));

/** Every reachable status (and the variants that matter), built by real transitions. */
function reachable(): Record<string, CaseState> {
  const freeze = open('FREEZE').state;
  const inReview = go(freeze, appeal).state;
  const claimedR1 = go(inReview, claim('r1')).state;
  const closeTier = open('CLOSE', { verificationAllowed: false }).state;
  const protect = open('PROTECT').state;
  const lockout = open('FREEZE', { lockout: true }).state;
  const deadlineReview = fire(fire(fire(freeze, 'REMINDER').state, 'REMINDER').state, 'USER_DEADLINE').state;
  return {
    VERIFICATION_REQUIRED: open('STEP_UP').state,
    LIMITED: open('LIMIT').state,
    'PROTECTIVE_HOLD cooling off': protect,
    'PROTECTIVE_HOLD confirmable': fire(protect, 'COOLING_OFF_END').state,
    'AWAITING_USER freeze': freeze,
    'AWAITING_USER close tier': closeTier,
    'AWAITING_USER regulatory hold': open('FREEZE', { verificationAllowed: false }).state,
    'IN_REVIEW unclaimed': inReview,
    'IN_REVIEW claimed by r2': go(inReview, claim('r2')).state,
    'IN_REVIEW after deadline, claimed by r1': go(deadlineReview, claim('r1')).state,
    'AWAITING_INFO claimed by r1': go(claimedR1, decide('REQUEST_INFO')).state,
    'PENDING_APPROVAL decided by r1': go(go(go(closeTier, appeal).state, claim('r1')).state, decide('CLOSE'))
      .state,
    MONITORING: fire(lockout, 'LOCKOUT_LIFT').state,
    RESTORED: go(freeze, verify()).state,
    UPHELD: go(claimedR1, decide('UPHOLD')).state,
    CLOSED: go(go(go(freeze, appeal).state, claim('r1')).state, decide('CLOSE')).state,
  };
}

type Expect = 'ok' | RefusalCode;
//                                         verify   appeal   claim r1  decide r1  approve r2  info
const MATRIX: Record<string, [Expect, Expect, Expect, Expect, Expect, Expect]> = {
  VERIFICATION_REQUIRED: [
    'ok',
    'ok',
    'NOT_IN_REVIEW',
    'NOT_IN_REVIEW',
    'NOT_PENDING_APPROVAL',
    'NOT_AWAITING_INFO',
  ],
  LIMITED: [
    'NOT_AWAITING_VERIFICATION',
    'ok',
    'NOT_IN_REVIEW',
    'NOT_IN_REVIEW',
    'NOT_PENDING_APPROVAL',
    'NOT_AWAITING_INFO',
  ],
  'PROTECTIVE_HOLD cooling off': [
    'COOLING_OFF',
    'ok',
    'NOT_IN_REVIEW',
    'NOT_IN_REVIEW',
    'NOT_PENDING_APPROVAL',
    'NOT_AWAITING_INFO',
  ],
  'PROTECTIVE_HOLD confirmable': [
    'ok',
    'ok',
    'NOT_IN_REVIEW',
    'NOT_IN_REVIEW',
    'NOT_PENDING_APPROVAL',
    'NOT_AWAITING_INFO',
  ],
  'AWAITING_USER freeze': [
    'ok',
    'ok',
    'NOT_IN_REVIEW',
    'NOT_IN_REVIEW',
    'NOT_PENDING_APPROVAL',
    'NOT_AWAITING_INFO',
  ],
  'AWAITING_USER close tier': [
    'NOT_AWAITING_VERIFICATION',
    'ok',
    'NOT_IN_REVIEW',
    'NOT_IN_REVIEW',
    'NOT_PENDING_APPROVAL',
    'NOT_AWAITING_INFO',
  ],
  'AWAITING_USER regulatory hold': [
    'VERIFICATION_NOT_ALLOWED',
    'ok',
    'NOT_IN_REVIEW',
    'NOT_IN_REVIEW',
    'NOT_PENDING_APPROVAL',
    'NOT_AWAITING_INFO',
  ],
  'IN_REVIEW unclaimed': [
    'NOT_AWAITING_VERIFICATION',
    'ALREADY_APPEALED',
    'ok',
    'NOT_CLAIMED',
    'NOT_PENDING_APPROVAL',
    'ok',
  ],
  'IN_REVIEW claimed by r2': [
    'NOT_AWAITING_VERIFICATION',
    'ALREADY_APPEALED',
    'CLAIMED_BY_OTHER',
    'CLAIMED_BY_OTHER',
    'NOT_PENDING_APPROVAL',
    'ok',
  ],
  'IN_REVIEW after deadline, claimed by r1': [
    'NOT_AWAITING_VERIFICATION',
    'ok',
    'ok',
    'ok',
    'NOT_PENDING_APPROVAL',
    'ok',
  ],
  'AWAITING_INFO claimed by r1': [
    'NOT_AWAITING_VERIFICATION',
    'ALREADY_APPEALED',
    'ok',
    'NOT_IN_REVIEW',
    'NOT_PENDING_APPROVAL',
    'ok',
  ],
  'PENDING_APPROVAL decided by r1': [
    'NOT_AWAITING_VERIFICATION',
    'ALREADY_APPEALED',
    'ok',
    'NOT_IN_REVIEW',
    'ok',
    'ok',
  ],
  MONITORING: [
    'NOT_AWAITING_VERIFICATION',
    'APPEAL_NOT_ALLOWED',
    'NOT_IN_REVIEW',
    'NOT_IN_REVIEW',
    'NOT_PENDING_APPROVAL',
    'NOT_AWAITING_INFO',
  ],
  RESTORED: ['CASE_CLOSED', 'CASE_CLOSED', 'CASE_CLOSED', 'CASE_CLOSED', 'CASE_CLOSED', 'CASE_CLOSED'],
  UPHELD: ['CASE_CLOSED', 'CASE_CLOSED', 'CASE_CLOSED', 'CASE_CLOSED', 'CASE_CLOSED', 'CASE_CLOSED'],
  CLOSED: ['CASE_CLOSED', 'CASE_CLOSED', 'CASE_CLOSED', 'CASE_CLOSED', 'CASE_CLOSED', 'CASE_CLOSED'],
};

describe('case machine: which actions each state allows', () => {
  const states = reachable();
  const actions: [string, CaseInput][] = [
    ['verification', verify()],
    ['appeal', appeal],
    ['claim by r1', claim('r1')],
    ['decision by r1', decide('UNLOCK')],
    ['approval by r2', approve('r2')],
    ['info', info],
  ];

  it('covers every reachable state', () => {
    assert.deepEqual(Object.keys(states).sort(), Object.keys(MATRIX).sort());
  });

  for (const [name, row] of Object.entries(MATRIX)) {
    for (const [i, [action, input]] of actions.entries()) {
      it(`${name}: ${action} → ${row[i]}`, () => {
        const before = JSON.stringify(states[name]);
        const at = name.includes('confirmable') ? T0 + 2 * D : T0 + 1_000;
        const r = transition(states[name]!, input, at);
        assert.equal(r.ok ? 'ok' : r.refusal.code, row[i]);
        assert.equal(JSON.stringify(states[name]), before, 'the input state is never mutated');
        if (!r.ok) assert.ok(r.refusal.message.length > 0);
      });
    }
  }

  it('refuses the approval of a CLOSE by the reviewer who decided it', () => {
    const r = transition(states['PENDING_APPROVAL decided by r1']!, approve('r1'), T0 + 1_000);
    assert.equal(r.ok ? 'ok' : r.refusal.code, 'SAME_REVIEWER');
  });

  it('counts every tier but NONE as restricted; a lifted lockout and a restored case are not', () => {
    const restricted = Object.fromEntries(Object.entries(states).map(([k, s]) => [k, isRestricted(s)]));
    assert.deepEqual(
      Object.keys(restricted).filter((k) => !restricted[k]),
      ['MONITORING', 'RESTORED'],
    );
  });
});

describe('case machine: lifecycles', () => {
  it('opens a FREEZE: restriction applied, user and backend notified, verification deadline from the terms', () => {
    const { state, effects } = open('FREEZE');
    assert.equal(state.status, 'AWAITING_USER');
    assert.deepEqual(kinds(effects), ['APPLY_RESTRICTION', 'NOTIFY_USER:RESTRICTED', 'NOTIFY_BACKEND']);
    assert.equal(state.deadlines.userDeadlineAt, T0 + 7 * D);
    assert.deepEqual(
      state.timeline.map((t) => t.type),
      ['RISK_EVENT'],
    );
    assert.equal(state.timeline[0]!.policyVersion, 'v1');
  });

  it('opens each tier in its waiting status', () => {
    const statuses = (['STEP_UP', 'LIMIT', 'PROTECT', 'FREEZE', 'CLOSE'] as const).map(
      (t) => open(t).state.status,
    );
    assert.deepEqual(statuses, [
      'VERIFICATION_REQUIRED',
      'LIMITED',
      'PROTECTIVE_HOLD',
      'AWAITING_USER',
      'AWAITING_USER',
    ]);
  });

  it('STEP_UP: a passed verification restores; a failed one goes to review', () => {
    const passed = go(open('STEP_UP').state, verify(true));
    assert.equal(passed.state.outcome, 'RESTORED');
    assert.deepEqual(kinds(passed.effects), ['LIFT_RESTRICTION', 'NOTIFY_USER:OUTCOME', 'NOTIFY_BACKEND']);
    const failed = go(open('STEP_UP').state, verify(false));
    assert.equal(failed.state.status, 'IN_REVIEW');
    assert.equal(failed.state.deadlines.reviewDueAt, T0 + 1_000 + 48 * H);
  });

  it('STEP_UP: a reminder a day before the deadline, then the restriction is upheld', () => {
    const reminded = fire(open('STEP_UP').state, 'REMINDER');
    assert.equal(reminded.at, T0 + 72 * H - 24 * H);
    assert.deepEqual(kinds(reminded.effects), ['NOTIFY_USER:REMINDER']);
    const expired = fire(reminded.state, 'USER_DEADLINE');
    assert.equal(expired.at, T0 + 72 * H);
    assert.equal(expired.state.outcome, 'UPHELD');
    assert.ok(!kinds(expired.effects).includes('LIFT_RESTRICTION'), 'an upheld restriction stays');
    assert.equal(nextTimer(expired.state), null);
  });

  it('FREEZE: two reminders, then the deadline sends the case to review; an SLA breach is flagged once', () => {
    let s = open('FREEZE').state;
    s = fire(s, 'REMINDER').state;
    s = fire(s, 'REMINDER').state;
    const review = fire(s, 'USER_DEADLINE');
    assert.equal(review.state.status, 'IN_REVIEW');
    assert.deepEqual(kinds(review.effects), ['NOTIFY_USER:IN_REVIEW']);
    const breached = fire(review.state, 'REVIEW_SLA');
    assert.equal(breached.at, T0 + 7 * D + 24 * H);
    assert.equal(breached.state.slaBreached, true);
    assert.equal(breached.state.timeline.at(-1)!.type, 'SLA_BREACHED');
    assert.equal(nextTimer(breached.state), null, 'no timer after the breach: the case waits for a reviewer');
  });

  it('skips reminders whose time has passed when the deadline is shorter than the reminder offset', () => {
    const short = {
      ...terms,
      tiers: { ...terms.tiers, FREEZE: { ...terms.tiers.FREEZE, userDeadlineMs: H } },
    };
    const { state } = openCase({ ...openArgs(), terms: short });
    assert.equal(state.remindersSent, 2);
    assert.equal(nextTimer(state)?.kind, 'USER_DEADLINE');
  });

  it('LIMIT: appeal goes to review; an unanswered appeal window upholds the limit', () => {
    assert.equal(go(open('LIMIT').state, appeal).state.status, 'IN_REVIEW');
    const s = fire(open('LIMIT').state, 'REMINDER').state;
    assert.equal(fire(s, 'USER_DEADLINE').state.outcome, 'UPHELD');
  });

  it('PROTECT: confirmation opens after the cooling-off period, and then restores', () => {
    const held = open('PROTECT').state;
    assert.equal(held.deadlines.coolingOffEndsAt, T0 + 24 * H);
    assert.equal(
      held.deadlines.userDeadlineAt,
      T0 + 24 * H + 7 * D,
      'the confirmation deadline runs from the end of cooling-off',
    );
    const early = transition(held, verify(), T0 + H);
    assert.equal(early.ok ? 'ok' : early.refusal.code, 'COOLING_OFF');
    const opened = fire(held, 'COOLING_OFF_END');
    assert.deepEqual(kinds(opened.effects), ['NOTIFY_USER:CONFIRMATION_OPEN']);
    assert.equal(go(opened.state, verify(), opened.at + 1).state.outcome, 'RESTORED');
  });

  it('CLOSE: the appeal window ending sends the case to review; a CLOSE decision needs a second reviewer', () => {
    let s = open('CLOSE', { verificationAllowed: false }).state;
    s = fire(s, 'REMINDER').state;
    s = fire(s, 'REMINDER').state;
    s = fire(s, 'USER_DEADLINE').state;
    assert.equal(s.status, 'IN_REVIEW');
    s = go(s, claim('r1')).state;
    const pending = go(s, decide('CLOSE'));
    assert.equal(pending.state.status, 'PENDING_APPROVAL');
    assert.deepEqual(pending.effects, [], 'nothing is closed before the approval');
    const rejected = go(pending.state, approve('r2', false));
    assert.equal(rejected.state.status, 'IN_REVIEW');
    assert.equal(rejected.state.pendingClose, null);
    const closed = go(go(rejected.state, decide('CLOSE')).state, approve('senior'));
    assert.equal(closed.state.outcome, 'CLOSED');
    assert.deepEqual(kinds(closed.effects), ['CLOSE_ACCOUNT', 'NOTIFY_USER:OUTCOME', 'NOTIFY_BACKEND']);
    assert.deepEqual(
      closed.state.timeline.filter((t) => t.type === 'APPROVAL').map((t) => t.approve),
      [false, true],
    );
  });

  it('a CLOSE decision in a tier without four-eyes closes at once', () => {
    const s = go(go(open('FREEZE').state, appeal).state, claim('r1')).state;
    const closed = go(s, decide('CLOSE'));
    assert.equal(closed.state.outcome, 'CLOSED');
  });

  it('REQUEST_INFO waits for the answer or its deadline, then returns to review with a new SLA', () => {
    const s = go(go(go(open('FREEZE').state, appeal).state, claim('r1')).state, decide('REQUEST_INFO'));
    assert.equal(s.state.status, 'AWAITING_INFO');
    assert.deepEqual(kinds(s.effects), ['NOTIFY_USER:INFO_REQUESTED']);
    const answered = go(s.state, info, T0 + D);
    assert.equal(answered.state.status, 'IN_REVIEW');
    assert.equal(answered.state.deadlines.reviewDueAt, T0 + D + 24 * H);
    assert.equal(answered.state.assignee, 'r1', 'the claim survives the information round');
    const expired = fire(s.state, 'INFO_DEADLINE');
    assert.equal(expired.state.status, 'IN_REVIEW');
    assert.equal(expired.state.timeline.at(-1)!.type, 'INFO_DEADLINE_PASSED');
  });

  it('a claim by the same reviewer again changes nothing', () => {
    const s = go(go(open('FREEZE').state, appeal).state, claim('r1')).state;
    const again = go(s, claim('r1'));
    assert.deepEqual(again.state, s);
    assert.deepEqual(again.effects, []);
  });
});

describe('case machine: escalation', () => {
  it('escalates STEP_UP to FREEZE with fresh deadlines and a new restriction', () => {
    const s = go(open('STEP_UP').state, event('FREEZE'), T0 + H);
    assert.equal(s.state.tier, 'FREEZE');
    assert.equal(s.state.status, 'AWAITING_USER');
    assert.equal(s.state.deadlines.userDeadlineAt, T0 + H + 7 * D);
    assert.deepEqual(kinds(s.effects), ['APPLY_RESTRICTION', 'NOTIFY_USER:RESTRICTED', 'NOTIFY_BACKEND']);
    assert.deepEqual(
      s.state.timeline.map((t) => t.type),
      ['RISK_EVENT', 'RISK_EVENT', 'ESCALATED'],
    );
  });

  it('never de-escalates: a milder event is recorded and changes nothing else', () => {
    const before = open('FREEZE').state;
    const s = go(before, event('STEP_UP'));
    assert.equal(s.state.tier, 'FREEZE');
    assert.deepEqual(s.effects, []);
    assert.deepEqual(s.state.deadlines, before.deadlines);
    assert.equal(s.state.timeline.at(-1)!.type, 'RISK_EVENT');
    assert.equal(go(before, event('NONE')).state.tier, 'FREEZE');
  });

  it('under review, escalation tightens the restriction and the review carries on', () => {
    const s = go(go(go(open('LIMIT').state, appeal).state, claim('r1')).state, event('FREEZE'));
    assert.equal(s.state.status, 'IN_REVIEW');
    assert.equal(s.state.tier, 'FREEZE');
    assert.equal(s.state.assignee, 'r1');
    assert.ok(kinds(s.effects).includes('APPLY_RESTRICTION'));
  });

  it('records missing data sources from any event without treating them as risk', () => {
    const s = go(open('STEP_UP').state, event('NONE', { unavailableSources: ['bureau'] }));
    assert.deepEqual(s.state.missingSources, ['bureau']);
    assert.equal(s.state.tier, 'STEP_UP');
  });

  it('a verification-proof reason sticks: once a regulatory hold joins, verification cannot restore', () => {
    const s = go(open('STEP_UP').state, event('FREEZE', { verificationAllowed: false }));
    const r = transition(s.state, verify(), T0 + 2_000);
    assert.equal(r.ok ? 'ok' : r.refusal.code, 'VERIFICATION_NOT_ALLOWED');
  });

  it('a milder event that rules out verification is kept, except in a case opened under rules 1 (before 0.2)', () => {
    const hold = event('FREEZE', {
      verificationAllowed: false,
      reasons: [{ code: 'REGULATORY_HOLD', contribution: 100, ruleId: 'r' }],
    });
    const now = go(open('FREEZE').state, hold);
    assert.ok(now.state.reasons.some((r) => r.code === 'REGULATORY_HOLD'));
    const refused = transition(now.state, verify(), T0 + 2_000);
    assert.equal(refused.ok ? 'ok' : refused.refusal.code, 'VERIFICATION_NOT_ALLOWED');

    // What a case opened by 0.1 did, so that its history replays the same.
    const opened = open('FREEZE').state;
    const before = go({ ...opened, terms: { ...opened.terms, rulesVersion: undefined } }, hold);
    assert.equal(before.state.unchangedEvents?.count, 1);
    assert.equal(transition(before.state, verify(), T0 + 2_000).ok, true);
  });
});

describe('case machine: temporary lockouts', () => {
  const lockout = (eventId: string): CaseInput => event('FREEZE', { lockout: true }, eventId);

  it('lifts itself after a wait that grows with each repeat, and turns permanent after the configured number', () => {
    let s = open('FREEZE', { lockout: true }).state;
    const waits: number[] = [];
    for (let n = 1; n <= 3; n++) {
      const locked = nextTimer(s)!;
      assert.equal(locked.kind, 'LOCKOUT_LIFT', `lockout ${n} lifts itself`);
      waits.push(
        locked.at - (n === 1 ? T0 : Date.parse(s.timeline.findLast((t) => t.type === 'RISK_EVENT')!.at)),
      );
      const lifted = fire(s, 'LOCKOUT_LIFT');
      assert.equal(lifted.state.status, 'MONITORING');
      assert.deepEqual(kinds(lifted.effects), [
        'LIFT_RESTRICTION',
        'NOTIFY_USER:LOCKOUT_LIFTED',
        'NOTIFY_BACKEND',
      ]);
      s = go(lifted.state, lockout(`e-${n}`), lifted.at + 1_000).state;
      assert.equal(s.status, 'AWAITING_USER');
      assert.equal(s.lockoutCount, n + 1);
    }
    assert.deepEqual(waits, [15 * 60_000, H, 24 * H]);
    assert.equal(s.deadlines.lockoutLiftsAt, undefined, 'the fourth lockout does not lift itself');
    assert.equal(nextTimer(s)?.kind, 'REMINDER', 'a permanent lockout waits for verification or appeal');
  });

  it('ends RESTORED when the watch period passes quietly, without lifting twice or notifying the user again', () => {
    const lifted = fire(open('FREEZE', { lockout: true }).state, 'LOCKOUT_LIFT');
    const ended = fire(lifted.state, 'MONITOR_END');
    assert.equal(ended.at, lifted.at + 24 * H);
    assert.equal(ended.state.outcome, 'RESTORED');
    assert.deepEqual(kinds(ended.effects), ['NOTIFY_BACKEND']);
  });

  it('a real freeze reason during a lockout makes it permanent', () => {
    const s = go(open('FREEZE', { lockout: true }).state, event('FREEZE'));
    assert.equal(s.state.deadlines.lockoutLiftsAt, undefined);
    assert.equal(nextTimer(s.state)?.kind, 'REMINDER');
  });

  it('a lockout on top of another restriction is a plain freeze', () => {
    const s = go(open('STEP_UP').state, event('FREEZE', { lockout: true }));
    assert.equal(s.state.tier, 'FREEZE');
    assert.equal(s.state.deadlines.lockoutLiftsAt, undefined);
  });

  it('runs no reminder or verification deadline while a temporary lockout is about to lift', () => {
    const longWait = { ...terms, lockout: { ...terms.lockout, waitsMs: [30 * D] } };
    const { state } = openCase({
      ...openArgs(),
      terms: longWait,
      decision: decision('FREEZE', { lockout: true }),
    });
    assert.deepEqual(nextTimer(state), { kind: 'LOCKOUT_LIFT', at: T0 + 30 * D });
  });

  it('another lockout event while locked is only recorded', () => {
    const locked = open('FREEZE', { lockout: true }).state;
    const s = go(locked, event('FREEZE', { lockout: true }));
    assert.deepEqual(s.effects, []);
    assert.equal(s.state.deadlines.lockoutLiftsAt, locked.deadlines.lockoutLiftsAt);
  });
});

describe('case machine: timers', () => {
  it('refuses a timer that is not due', () => {
    const s = open('FREEZE').state;
    const early = transition(s, { kind: 'TIMER', timer: 'REMINDER' }, T0 + 1_000);
    assert.equal(early.ok ? 'ok' : early.refusal.code, 'NO_SUCH_TIMER');
    const wrong = transition(s, { kind: 'TIMER', timer: 'REVIEW_SLA' }, T0 + 30 * D);
    assert.equal(wrong.ok ? 'ok' : wrong.refusal.code, 'NO_SUCH_TIMER');
  });

  it('PENDING_APPROVAL waits for its own SLA (rules 3; none under rules 2), and nothing after an outcome', () => {
    const states = reachable();
    const pending = states['PENDING_APPROVAL decided by r1']!;
    assert.deepEqual(nextTimer(pending), { kind: 'APPROVAL_SLA', at: pending.deadlines.approvalDueAt });
    const escalated = fire(pending, 'APPROVAL_SLA');
    assert.equal(escalated.state.slaBreached, true);
    assert.deepEqual(escalated.effects, [{ kind: 'NOTIFY_BACKEND', event: 'ESCALATED' }]);
    assert.equal(nextTimer(escalated.state), null, 'escalated once, then waits for a reviewer');
    for (const o of ['RESTORED', 'UPHELD', 'CLOSED']) assert.equal(nextTimer(states[o]!), null);
  });

  it('rules 2 keep 0.2 behaviour: no approval SLA, no escalation webhook, an appeal does not void', () => {
    const old = { ...terms, rulesVersion: 2 };
    const opened = openCase({ ...openArgs(), terms: old, decision: decision('CLOSE') });
    const pending = go(go(go(opened.state, appeal).state, claim('r1')).state, decide('CLOSE'));
    assert.equal(pending.state.status, 'PENDING_APPROVAL');
    assert.equal(pending.state.deadlines.approvalDueAt, undefined);
    assert.equal(nextTimer(pending.state), null);
    assert.deepEqual(Object.keys(pending.state.pendingClose!).sort(), ['at', 'by', 'rationale'], '0.2 shape');
    const newReason = decision('LIMIT', {
      reasons: [{ code: 'ABNORMAL_FUND_FLOWS', contribution: 10, ruleId: 'x' }],
    });
    const taught = go(pending.state, {
      kind: 'RISK_EVENT',
      eventId: 'e2',
      eventType: 'TEST',
      decision: newReason,
      actor: backend,
    });
    assert.equal(taught.state.status, 'PENDING_APPROVAL', 'new evidence does not void under rules 2');
    // Under rules 3 the same evidence voids the pending decision.
    const now = openCase({ ...openArgs(), decision: decision('CLOSE') });
    const pending3 = go(go(go(now.state, appeal).state, claim('r1')).state, decide('CLOSE'));
    const voided = go(pending3.state, {
      kind: 'RISK_EVENT',
      eventId: 'e2',
      eventType: 'TEST',
      decision: newReason,
      actor: backend,
    });
    assert.equal(voided.state.status, 'IN_REVIEW');
    assert.equal(voided.state.pendingClose, null);
    assert.ok(voided.state.timeline.some((t) => t.type === 'DECISION_VOIDED'));
  });
});

function openArgs() {
  return {
    caseId: 'acct-1.000000000001',
    accountId: 'acct-1',
    locale: 'en' as const,
    terms,
    at: T0,
    eventId: 'e1',
    eventType: 'TEST',
    decision: decision('FREEZE'),
    actor: backend,
  };
}
