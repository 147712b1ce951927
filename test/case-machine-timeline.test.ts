// What each input of the case machine records and calls for, part one: opening, the user, reviewers, information
// and timers: the timeline entry (type, actor, details) and the effects with their events. Part two (four eyes,
// break glass, retraction, escalation) is test/case-machine-outcomes.test.ts. Server-free; written against
// mutants the other tests let live (docs/mutation-testing.md).
import assert from 'node:assert/strict';
import {
  added,
  appeal,
  backend,
  claim,
  claimed,
  decide,
  decision,
  explanation,
  fire,
  go,
  H,
  iso,
  open,
  r1,
  refusal,
  release,
  RULES1,
  RULES2,
  SYSTEM,
  T0,
  TERMS,
  unchained,
  user,
} from './helpers/case-steps';
import { openCase, recordEffect } from '../core/case-machine';
import { nextTimer } from '../core/case-timers';
import type { CaseInput } from '../core/case-types';
import type { CaseTerms, RestrictiveTier } from '../core/model';

describe('case timeline: opening', () => {
  it('refuses to open a case for NONE', () => {
    assert.throws(() => open('NONE' as RestrictiveTier), /openCase needs a restrictive decision/);
  });

  it('records the event with its tier, score, reasons and policy, and asks for the restriction', () => {
    const { state, effects } = open('FREEZE', {
      unavailableSources: ['bureau'],
      note: 'staff saw it',
      reasons: [
        { code: 'IDENTITY_MISMATCH', contribution: 40, ruleId: 'a' },
        { code: 'REGULATORY_HOLD', contribution: 20, ruleId: 'b' },
      ],
    });
    assert.deepEqual(state.timeline.map(unchained), [
      {
        at: iso(T0),
        actor: backend,
        type: 'RISK_EVENT',
        eventId: 'e1',
        eventType: 'IDENTITY_CHECK',
        tier: 'FREEZE',
        score: 60,
        reasons: ['IDENTITY_MISMATCH', 'REGULATORY_HOLD'],
        policyVersion: 'v7',
        unavailableSources: ['bureau'],
        note: 'staff saw it',
      },
    ]);
    assert.deepEqual(effects, [
      { kind: 'APPLY_RESTRICTION', tier: 'FREEZE', lockout: false },
      { kind: 'NOTIFY_USER', template: 'RESTRICTED' },
      { kind: 'NOTIFY_BACKEND', event: 'RESTRICTION_CHANGED' },
    ]);
    assert.equal(state.status, 'AWAITING_USER');
    assert.equal(state.coolingOffNotified, false);
    assert.equal(state.slaBreached, false);
  });

  it('an event without missing sources or a note records neither; a contact is kept when given', () => {
    const plain = open('STEP_UP').state;
    assert.equal('unavailableSources' in plain.timeline[0]!, false);
    assert.equal('note' in plain.timeline[0]!, false);
    assert.equal('contact' in plain, false);
    const contact = { email: 'a@example.com' };
    const withContact = openCase({
      caseId: 'acct-t.00000000000c',
      accountId: 'acct-t',
      locale: 'en',
      terms: TERMS,
      at: T0,
      eventId: 'e1',
      eventType: 'LOGIN',
      decision: decision('STEP_UP'),
      actor: backend,
      contact,
    }).state;
    assert.deepEqual(withContact.contact, contact);
  });

  it('a temporary lockout asks for a self-lifting restriction', () => {
    assert.deepEqual(open('FREEZE', { lockout: true }).effects[0], {
      kind: 'APPLY_RESTRICTION',
      tier: 'FREEZE',
      lockout: true,
    });
  });
});

describe('case timeline: the user', () => {
  it('a verification is recorded with its method and result', () => {
    const s = open('STEP_UP').state;
    const failed = go(s, { kind: 'VERIFICATION', method: 'FACE', passed: false, actor: user });
    assert.deepEqual(added(s, failed.state)[0], {
      at: iso(T0 + 1_000),
      actor: user,
      type: 'VERIFICATION',
      method: 'FACE',
      passed: false,
    });
  });

  it('rules 3: a failed verification adds its weighted reason and is new evidence; rules 2: neither', () => {
    const s = open('STEP_UP').state;
    const failed = go(s, { kind: 'VERIFICATION', method: 'OTP', passed: false, actor: user }).state;
    const weight = TERMS.failedVerificationWeight!;
    assert.ok(weight > 0);
    assert.deepEqual(failed.reasons.at(-1), {
      code: 'FAILED_VERIFICATIONS',
      contribution: weight,
      ruleId: 'failed-verification',
    });
    assert.equal(failed.score, 60 + weight);
    assert.equal(failed.evidenceVersion, 1);
    const passed = go(s, { kind: 'VERIFICATION', method: 'OTP', passed: true, actor: user }).state;
    assert.equal(passed.reasons.length, 1);

    const old = open('STEP_UP', {}, RULES2).state;
    const oldFailed = go(old, { kind: 'VERIFICATION', method: 'OTP', passed: false, actor: user }).state;
    assert.deepEqual(oldFailed.reasons, old.reasons);
    assert.equal(oldFailed.score, 60);
    assert.equal(oldFailed.evidenceVersion, undefined);
  });

  it('an appeal is recorded with its statement, and its evidence only when there is some', () => {
    const s = open('FREEZE').state;
    const plain = go(s, appeal).state;
    assert.deepEqual(added(s, plain)[0], {
      at: iso(T0 + 1_000),
      actor: user,
      type: 'APPEAL',
      statement: 'it was me',
    });
    assert.deepEqual(added(s, plain)[1], {
      at: iso(T0 + 1_000),
      actor: SYSTEM,
      type: 'REVIEW_STARTED',
      reviewDueAt: iso(T0 + 1_000 + TERMS.tiers.FREEZE.reviewSlaMs),
    });
    const withEvidence = go(s, {
      kind: 'APPEAL',
      statement: 'it was me',
      evidence: ['ev-1'],
      actor: user,
    }).state;
    assert.deepEqual(added(s, withEvidence)[0]!.evidence, ['ev-1']);
    const emptyEvidence = go(s, { kind: 'APPEAL', statement: 'it was me', evidence: [], actor: user }).state;
    assert.equal('evidence' in added(s, emptyEvidence)[0]!, false);
  });

  it('a tier that takes no appeal refuses one', () => {
    const terms: CaseTerms = {
      ...TERMS,
      tiers: { ...TERMS.tiers, LIMIT: { ...TERMS.tiers.LIMIT, appealAllowed: false } },
    };
    assert.equal(
      refusal(open('LIMIT', {}, terms).state, appeal),
      'APPEAL_NOT_ALLOWED: this tier takes no appeal',
    );
  });

  it('an appeal on a case already in review joins that review: no new review, the same due time', () => {
    let s = open('FREEZE').state;
    s = fire(fire(fire(s, 'REMINDER').state, 'REMINDER').state, 'USER_DEADLINE').state;
    assert.equal(s.status, 'IN_REVIEW');
    const joined = go(s, appeal, s.openedAt + 8 * 24 * H);
    assert.deepEqual(
      added(s, joined.state).map((t) => t.type),
      ['APPEAL'],
    );
    assert.deepEqual(joined.effects, []);
    assert.deepEqual(joined.state.deadlines, s.deadlines);
  });
});

describe('case timeline: reviewers', () => {
  it('a claim is recorded as the reviewer; a senior taking over records from whom', () => {
    const inReview = go(open('FREEZE').state, appeal).state;
    const first = go(inReview, claim('r1')).state;
    assert.deepEqual(added(inReview, first), [{ at: iso(T0 + 1_000), actor: r1, type: 'CLAIM' }]);
    const over = go(first, claim('s1', true)).state;
    assert.deepEqual(added(first, over), [
      {
        at: iso(T0 + 1_000),
        actor: { kind: 'reviewer', id: 's1' },
        type: 'CLAIM',
        takeover: true,
        from: 'r1',
      },
    ]);
  });

  it('release: only in review, only a held case, only by its holder or a senior; the idle limit goes too', () => {
    assert.match(
      refusal(open('FREEZE').state, release()),
      /^NOT_IN_REVIEW: the case is not in review \(AWAITING_USER\)$/,
    );
    const inReview = go(open('FREEZE').state, appeal).state;
    assert.equal(refusal(inReview, release()), 'NOT_CLAIMED: nobody holds this case');
    const held = go(inReview, claim('r1')).state;
    assert.ok(held.deadlines.claimIdleAt !== undefined);
    assert.equal(
      refusal(held, release('r2')),
      'CLAIMED_BY_OTHER: only the holder or a senior can release this case',
    );
    for (const [who, senior] of [
      ['r1', undefined],
      ['s1', true],
    ] as const) {
      const released = go(held, release(who, senior)).state;
      assert.equal(released.assignee, null);
      assert.equal(released.deadlines.claimIdleAt, undefined);
      assert.deepEqual(added(held, released), [
        { at: iso(T0 + 1_000), actor: { kind: 'reviewer', id: who }, type: 'RELEASED', holder: 'r1' },
      ]);
    }
  });

  it('a claim arms the idle release only while the case is in review', () => {
    const inReview = go(open('FREEZE').state, appeal).state;
    assert.equal(inReview.deadlines.claimIdleAt, undefined, 'nobody holds it yet');
    const asked = go(go(inReview, claim('r1')).state, decide('REQUEST_INFO')).state;
    const takenOver = go(asked, claim('s1', true)).state;
    assert.equal(takenOver.status, 'AWAITING_INFO');
    assert.equal(takenOver.deadlines.claimIdleAt, undefined);
  });

  it('a decision is recorded with what was decided, the question and explanation when given, and (rules 3) the evidence version', () => {
    const s = claimed();
    const asked = go(s, decide('REQUEST_INFO', { question: 'Which phone?', explanation })).state;
    assert.deepEqual(added(s, asked)[0], {
      at: iso(T0 + 1_000),
      actor: r1,
      type: 'DECISION',
      decision: 'REQUEST_INFO',
      rationale: 'because',
      question: 'Which phone?',
      explanation,
      evidenceVersion: 1,
    });
    assert.equal(asked.question, 'Which phone?');
    const plain = go(s, decide('UPHOLD')).state;
    assert.deepEqual(added(s, plain)[0], {
      at: iso(T0 + 1_000),
      actor: r1,
      type: 'DECISION',
      decision: 'UPHOLD',
      rationale: 'because',
      evidenceVersion: 1,
    });
    const old = claimed('FREEZE', RULES2);
    assert.equal('evidenceVersion' in added(old, go(old, decide('UPHOLD')).state)[0]!, false);
  });

  it('a decision or approval naming the current evidence version is taken; an older one is refused', () => {
    const s = claimed('CLOSE', TERMS, { verificationAllowed: false });
    assert.equal(s.evidenceVersion, 1);
    assert.match(refusal(s, decide('CLOSE', { evidenceVersion: 0 })), /^EVIDENCE_CHANGED/);
    const pending = go(s, decide('CLOSE', { evidenceVersion: 1 })).state;
    assert.equal(pending.status, 'PENDING_APPROVAL');
    const approve = (evidenceVersion: number): CaseInput => ({
      kind: 'APPROVAL',
      reviewer: 'r2',
      approve: true,
      rationale: 'agreed',
      evidenceVersion,
    });
    assert.match(refusal(pending, approve(0)), /^EVIDENCE_CHANGED/);
    const approved = go(pending, approve(1));
    assert.equal(approved.state.outcome, 'CLOSED');
    assert.deepEqual(added(pending, approved.state)[0], {
      at: iso(T0 + 1_000),
      actor: { kind: 'reviewer', id: 'r2' },
      type: 'APPROVAL',
      approve: true,
      rationale: 'agreed',
    });
  });

  it('every deciding decision keeps its explanation for the user', () => {
    const s = claimed();
    assert.deepEqual(go(s, decide('UNLOCK', { explanation })).state.explanation, explanation);
    assert.deepEqual(go(s, decide('UPHOLD', { explanation })).state.explanation, explanation);
    const noFourEyes = claimed('FREEZE');
    assert.deepEqual(go(noFourEyes, decide('CLOSE', { explanation })).state.explanation, explanation);
    assert.equal(go(s, decide('UNLOCK')).state.explanation, undefined);
  });
});

describe('case timeline: information', () => {
  it('rules 3: information added unasked during review is recorded and keeps the review as it was', () => {
    const s = claimed();
    const added1 = go(
      s,
      { kind: 'INFO', answer: 'a receipt', evidence: ['ev-9'], actor: user },
      T0 + 5_000,
    ).state;
    assert.deepEqual(added(s, added1), [
      { at: iso(T0 + 5_000), actor: user, type: 'INFO_PROVIDED', answer: 'a receipt', evidence: ['ev-9'] },
    ]);
    assert.deepEqual(added1.deadlines, s.deadlines, 'the review SLA and claim idle time stay');
    assert.equal(added1.evidenceVersion, 2);
  });

  it('rules 2: information is taken only when asked for', () => {
    assert.match(
      refusal(claimed('FREEZE', RULES2), { kind: 'INFO', answer: 'x', actor: user }),
      /^NOT_AWAITING_INFO/,
    );
  });

  it('an answer to a question sends the case back to review with a fresh SLA', () => {
    const asked = go(claimed(), decide('REQUEST_INFO', { question: 'q' })).state;
    const answered = go(asked, { kind: 'INFO', answer: 'a', evidence: [], actor: user }, T0 + 9_000).state;
    assert.equal(answered.status, 'IN_REVIEW');
    assert.equal(answered.deadlines.reviewDueAt, T0 + 9_000 + TERMS.tiers.FREEZE.reviewSlaMs);
    assert.equal('evidence' in added(asked, answered)[0]!, false);
    assert.equal(answered.question, undefined);
  });
});

describe('case timeline: timers', () => {
  it('reminders and the deadline are recorded with the deadline; cooling-off and a lockout lifting too', () => {
    const s = open('FREEZE').state;
    const deadline = iso(s.deadlines.userDeadlineAt!);
    const reminded = fire(s, 'REMINDER');
    assert.deepEqual(added(s, reminded.state), [
      { at: iso(reminded.at), actor: SYSTEM, type: 'REMINDER_DUE', deadline },
    ]);
    const passed = fire(fire(reminded.state, 'REMINDER').state, 'USER_DEADLINE');
    assert.deepEqual(unchained(passed.state.timeline.find((t) => t.type === 'DEADLINE_PASSED')!), {
      at: iso(passed.at),
      actor: SYSTEM,
      type: 'DEADLINE_PASSED',
      deadline,
    });

    const held = open('PROTECT').state;
    const cooled = fire(held, 'COOLING_OFF_END');
    assert.deepEqual(added(held, cooled.state), [
      { at: iso(cooled.at), actor: SYSTEM, type: 'COOLING_OFF_ENDED' },
    ]);

    const locked = open('FREEZE', { lockout: true }).state;
    const lifted = fire(locked, 'LOCKOUT_LIFT');
    assert.deepEqual(added(locked, lifted.state), [
      { at: iso(lifted.at), actor: SYSTEM, type: 'LOCKOUT_EXPIRED', lockoutCount: 1 },
    ]);
    assert.deepEqual(lifted.effects, [
      { kind: 'LIFT_RESTRICTION' },
      { kind: 'NOTIFY_USER', template: 'LOCKOUT_LIFTED' },
      { kind: 'NOTIFY_BACKEND', event: 'RESTRICTION_CHANGED' },
    ]);
  });

  it('a claim going idle is recorded as released for idleness', () => {
    const s = claimed();
    const idle = fire(s, 'CLAIM_IDLE');
    assert.deepEqual(added(s, idle.state), [
      { at: iso(idle.at), actor: SYSTEM, type: 'RELEASED', holder: 'r1', reason: 'IDLE' },
    ]);
  });

  it('a review SLA breach escalates under rules 3: recorded, and the backend told', () => {
    const s = go(open('FREEZE').state, appeal).state;
    const breached = fire(s, 'REVIEW_SLA');
    assert.deepEqual(added(s, breached.state), [
      {
        at: iso(breached.at),
        actor: SYSTEM,
        type: 'SLA_BREACHED',
        reviewDueAt: iso(s.deadlines.reviewDueAt!),
        assignee: null,
        escalated: true,
      },
    ]);
    assert.deepEqual(breached.effects, [{ kind: 'NOTIFY_BACKEND', event: 'ESCALATED' }]);
    const old = go(open('FREEZE', {}, RULES2).state, appeal).state;
    const quiet = fire(old, 'REVIEW_SLA');
    assert.equal('escalated' in added(old, quiet.state)[0]!, false);
    assert.deepEqual(quiet.effects, []);
    assert.equal(go(open('FREEZE', {}, RULES1).state, appeal).state.terms.rulesVersion, undefined);
  });

  it('a reminder whose time is exactly the opening is counted as passed, not sent', () => {
    const terms: CaseTerms = {
      ...TERMS,
      tiers: {
        ...TERMS.tiers,
        STEP_UP: { ...TERMS.tiers.STEP_UP, userDeadlineMs: 2 * H, remindBeforeMs: [2 * H, H] },
      },
    };
    const s = open('STEP_UP', {}, terms).state;
    assert.equal(s.remindersSent, 1);
    assert.deepEqual(nextTimer(s), { kind: 'REMINDER', at: T0 + H });
  });

  it('more lockouts than waits: the last wait repeats until the lockout turns permanent', () => {
    const terms: CaseTerms = {
      ...TERMS,
      lockout: { waitsMs: [H, 2 * H], permanentAfter: 3, memoryMs: 24 * H },
    };
    let s = open('FREEZE', { lockout: true }, terms).state;
    const waits: number[] = [];
    let at = T0;
    for (let n = 1; n <= 3; n++) {
      const due = nextTimer(s)!;
      assert.equal(due.kind, 'LOCKOUT_LIFT');
      waits.push(due.at - at);
      const lifted = go(s, { kind: 'TIMER', timer: 'LOCKOUT_LIFT' }, due.at).state;
      at = due.at + 1_000;
      s = go(
        lifted,
        {
          kind: 'RISK_EVENT',
          eventId: `l${n}`,
          eventType: 'LOGIN_FAILED',
          decision: decision('FREEZE', { lockout: true }),
          actor: backend,
        },
        at,
      ).state;
    }
    assert.deepEqual(waits, [H, 2 * H, 2 * H]);
    assert.equal(s.lockoutCount, 4);
    assert.equal(s.deadlines.lockoutLiftsAt, undefined, 'the fourth is permanent');
  });
});

describe('case timeline: effects the workflow carried out', () => {
  it('are recorded by the system at the time given, with their details', () => {
    const s = open('FREEZE').state;
    recordEffect(s, T0 + 5, { type: 'NOTIFIED', template: 'RESTRICTED', channel: 'mail' });
    assert.deepEqual(unchained(s.timeline.at(-1)!), {
      at: iso(T0 + 5),
      actor: SYSTEM,
      type: 'NOTIFIED',
      template: 'RESTRICTED',
      channel: 'mail',
    });
  });
});
