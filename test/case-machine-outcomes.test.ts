// What each input of the case machine records and calls for, part two: four eyes under each rules version, break
// glass, retraction, escalation and what a case learns from milder events. Part one is
// test/case-machine-timeline.test.ts. Server-free; written against mutants the other tests let live
// (docs/mutation-testing.md).
import assert from 'node:assert/strict';
import {
  added,
  backend,
  claimed,
  decide,
  decision,
  explanation,
  fire,
  go,
  iso,
  open,
  refusal,
  RULES2,
  SYSTEM,
  T0,
  TERMS,
  user,
} from './helpers/case-steps';
import type { CaseInput } from '../core/case-types';
import type { CaseTerms, Decision, ReasonContribution, RestrictiveTier } from '../core/model';

describe('case timeline: four eyes', () => {
  const aboveLimit: CaseTerms = { ...TERMS, unlockApprovalAboveScore: 59 };

  it('rules 3: an UNLOCK of a case scored above the limit waits for a second reviewer, with its explanation', () => {
    const s = claimed('FREEZE', aboveLimit);
    const pending = go(s, decide('UNLOCK', { explanation })).state;
    assert.equal(pending.status, 'PENDING_APPROVAL');
    assert.deepEqual(pending.pendingClose, {
      by: 'r1',
      rationale: 'because',
      at: iso(T0 + 1_000),
      decision: 'UNLOCK',
      evidenceVersion: 1,
      explanation,
    });
    assert.deepEqual(pending.deadlines, { approvalDueAt: T0 + 1_000 + TERMS.approvalSlaMs! });
    const approved = go(pending, { kind: 'APPROVAL', reviewer: 'r2', approve: true, rationale: 'ok' });
    assert.equal(approved.state.outcome, 'RESTORED');
    assert.deepEqual(approved.state.explanation, explanation);
  });

  it('an UNLOCK at the limit, without a limit, or under rules 2 restores at once', () => {
    assert.equal(
      go(claimed('FREEZE', { ...TERMS, unlockApprovalAboveScore: 60 }), decide('UNLOCK')).state.outcome,
      'RESTORED',
    );
    assert.equal(go(claimed('FREEZE', TERMS), decide('UNLOCK')).state.outcome, 'RESTORED');
    const rules2 = { ...aboveLimit, rulesVersion: 2 };
    assert.equal(go(claimed('FREEZE', rules2), decide('UNLOCK')).state.outcome, 'RESTORED');
  });

  it('the limit holds from rules 3 on: a rules 3 case above it waits as a rules 4 one does', () => {
    for (const rulesVersion of [3, 4])
      assert.equal(
        go(claimed('FREEZE', { ...aboveLimit, rulesVersion }), decide('UNLOCK')).state.status,
        'PENDING_APPROVAL',
        `rules ${rulesVersion}`,
      );
  });

  it('an approval SLA breach is recorded with who decided, and escalates', () => {
    const pending = go(claimed('FREEZE', aboveLimit), decide('UNLOCK')).state;
    const breached = fire(pending, 'APPROVAL_SLA');
    assert.deepEqual(added(pending, breached.state), [
      {
        at: iso(breached.at),
        actor: SYSTEM,
        type: 'APPROVAL_SLA_BREACHED',
        approvalDueAt: iso(pending.deadlines.approvalDueAt!),
        decidedBy: 'r1',
        escalated: true,
      },
    ]);
    assert.deepEqual(breached.effects, [{ kind: 'NOTIFY_BACKEND', event: 'ESCALATED' }]);
  });

  it('new evidence voids a waiting decision (rules 3) and records which one', () => {
    const pending = go(claimed('FREEZE', aboveLimit), decide('UNLOCK')).state;
    const info = go(pending, { kind: 'INFO', answer: 'more', actor: user }, T0 + 2_000).state;
    assert.deepEqual(
      added(pending, info).map((t) => t.type),
      ['INFO_PROVIDED', 'DECISION_VOIDED'],
    );
    assert.deepEqual(added(pending, info)[1], {
      at: iso(T0 + 2_000),
      actor: SYSTEM,
      type: 'DECISION_VOIDED',
      decidedBy: 'r1',
      decision: 'UNLOCK',
      evidenceVersion: 2,
    });
    assert.equal(info.status, 'IN_REVIEW');
    assert.equal(info.pendingClose, null);
  });

  it('rules 2: a CLOSE waits under the review SLA it had; a retraction still voids it', () => {
    const s = claimed('CLOSE', RULES2, { verificationAllowed: false });
    const pending = go(s, decide('CLOSE')).state;
    assert.deepEqual(pending.deadlines, { reviewDueAt: s.deadlines.reviewDueAt });
    assert.deepEqual(pending.pendingClose, { by: 'r1', rationale: 'because', at: iso(T0 + 1_000) });
    // An appeal would not void it under rules 2, but a withdrawn report does.
    const retracted = go(pending, { kind: 'RETRACT', eventId: 'e1', reason: 'error', actor: backend }).state;
    const voided = added(pending, retracted).find((t) => t.type === 'DECISION_VOIDED');
    assert.deepEqual(voided, {
      at: iso(T0 + 1_000),
      actor: SYSTEM,
      type: 'DECISION_VOIDED',
      decidedBy: 'r1',
      decision: 'CLOSE',
      evidenceVersion: 2,
    });
    assert.equal(retracted.status, 'IN_REVIEW');
  });
});

describe('case timeline: break glass', () => {
  for (const [action, outcome, effects] of [
    [
      'LIFT',
      'RESTORED',
      ['NOTIFY_BACKEND:BREAK_GLASS', 'LIFT_RESTRICTION', 'NOTIFY_USER:OUTCOME', 'NOTIFY_BACKEND:OUTCOME'],
    ],
    [
      'CLOSE',
      'CLOSED',
      ['NOTIFY_BACKEND:BREAK_GLASS', 'CLOSE_ACCOUNT', 'NOTIFY_USER:OUTCOME', 'NOTIFY_BACKEND:OUTCOME'],
    ],
  ] as const)
    it(`${action}: ends the case ${outcome} at once, whatever it waited for, and tells the backend`, () => {
      const pending = go(claimed('CLOSE', TERMS, { verificationAllowed: false }), decide('CLOSE')).state;
      const r = go(pending, {
        kind: 'BREAK_GLASS',
        by: 's1',
        action,
        rationale: 'customer call',
        explanation,
      });
      assert.equal(r.state.outcome, outcome);
      assert.equal(r.state.pendingClose, null);
      assert.deepEqual(r.state.explanation, explanation);
      assert.deepEqual(
        r.effects.map((e) =>
          e.kind === 'NOTIFY_USER'
            ? `${e.kind}:${e.template}`
            : e.kind === 'NOTIFY_BACKEND'
              ? `${e.kind}:${e.event}`
              : e.kind,
        ),
        effects,
      );
      assert.deepEqual(added(pending, r.state)[0], {
        at: iso(T0 + 1_000),
        actor: { kind: 'reviewer', id: 's1' },
        type: 'BREAK_GLASS',
        action,
        rationale: 'customer call',
      });
      assert.equal(added(pending, r.state).at(-1)!.actor.kind, 'reviewer', "the outcome is the senior's");
    });

  it('rules 5: a break-glass decided on an evidence version is refused once the case has moved on; rules 4 takes it', () => {
    const s = open('FREEZE').state;
    const at = (v: number): CaseInput => ({
      kind: 'BREAK_GLASS',
      by: 's1',
      action: 'LIFT',
      rationale: 'bulk action b1',
      evidenceVersion: v,
    });
    const current = s.evidenceVersion ?? 0;
    assert.equal(
      refusal(s, at(current + 1)),
      'EVIDENCE_CHANGED: the case has new evidence since the version you saw',
    );
    assert.equal(go(s, at(current)).state.outcome, 'RESTORED');
    const rules4 = open('FREEZE', {}, { ...TERMS, rulesVersion: 4 }).state;
    assert.equal(go(rules4, at(current + 1)).state.outcome, 'RESTORED', 'rules 4: no such check');
  });

  it('without an explanation, none is given', () => {
    const r = go(open('FREEZE').state, { kind: 'BREAK_GLASS', by: 's1', action: 'LIFT', rationale: 'r' });
    assert.equal(r.state.explanation, undefined);
  });
});

describe('case timeline: retraction', () => {
  const retract = (eventId: string): CaseInput => ({
    kind: 'RETRACT',
    eventId,
    reason: 'sent in error',
    actor: backend,
  });
  const twoEvents = (terms: CaseTerms) =>
    go(open('STEP_UP', {}, terms).state, {
      kind: 'RISK_EVENT',
      eventId: 'e2',
      eventType: 'LOGIN',
      decision: decision('FREEZE'),
      actor: backend,
    }).state;

  it('only an event the case recorded, and only once; recorded with its reason', () => {
    const s = open('FREEZE').state;
    assert.match(refusal(s, retract('e9')), /^UNKNOWN_EVENT/);
    const once = go(s, retract('e1')).state;
    assert.deepEqual(added(s, once)[0], {
      at: iso(T0 + 1_000),
      actor: backend,
      type: 'EVENT_RETRACTED',
      eventId: 'e1',
      reason: 'sent in error',
    });
    assert.match(refusal(once, retract('e1')), /^ALREADY_RETRACTED/);
  });

  it('with every recorded event retracted the case ends restored, if the policy says so; else it goes to review', () => {
    const restores = { ...TERMS, retractionRestores: true };
    const s = twoEvents(restores);
    const first = go(s, retract('e1')).state;
    assert.equal(first.status, 'IN_REVIEW', 'one event still stands');
    assert.equal(first.outcome, null);
    const both = go(first, retract('e2'));
    assert.equal(both.state.outcome, 'RESTORED');
    assert.ok(both.effects.some((e) => e.kind === 'LIFT_RESTRICTION'));

    const keeps = go(go(twoEvents(TERMS), retract('e1')).state, retract('e2')).state;
    assert.equal(keeps.outcome, null);
    assert.equal(keeps.status, 'IN_REVIEW');
  });

  it('a retraction while the user is waiting sends the case to review', () => {
    const s = open('FREEZE').state;
    const r = go(s, retract('e1'));
    assert.equal(r.state.status, 'IN_REVIEW');
    assert.deepEqual(
      added(s, r.state).map((t) => t.type),
      ['EVENT_RETRACTED', 'REVIEW_STARTED'],
    );
  });
});

describe('case timeline: escalation and reasons', () => {
  const event = (tier: RestrictiveTier, extra: Partial<Decision> = {}, eventId = 'e2'): CaseInput => ({
    kind: 'RISK_EVENT',
    eventId,
    eventType: 'LOGIN',
    decision: decision(tier, extra),
    actor: backend,
  });

  it('an escalation is recorded from and to, with the new reasons; verification stays possible if both allow it', () => {
    const s = open('STEP_UP').state;
    const up = go(
      s,
      event('FREEZE', { reasons: [{ code: 'ACCOUNT_TAKEOVER_SUSPECTED', contribution: 80, ruleId: 'ato' }] }),
    ).state;
    assert.deepEqual(added(s, up)[1], {
      at: iso(T0 + 1_000),
      actor: SYSTEM,
      type: 'ESCALATED',
      from: 'STEP_UP',
      to: 'FREEZE',
      reasons: ['ACCOUNT_TAKEOVER_SUSPECTED'],
    });
    assert.equal(up.verificationAllowed, true);
  });

  it('under review the restriction tightens with the backend told, and the review carries on', () => {
    const s = claimed('LIMIT');
    const r = go(s, event('FREEZE'));
    assert.equal(r.state.status, 'IN_REVIEW');
    assert.deepEqual(r.effects, [
      { kind: 'APPLY_RESTRICTION', tier: 'FREEZE', lockout: false },
      { kind: 'NOTIFY_USER', template: 'RESTRICTED' },
      { kind: 'NOTIFY_BACKEND', event: 'RESTRICTION_CHANGED' },
    ]);
  });

  it('a new lockout after a lifted one is recorded as an escalation from NONE', () => {
    const lifted = fire(open('FREEZE', { lockout: true }).state, 'LOCKOUT_LIFT');
    assert.equal(lifted.state.status, 'MONITORING');
    const again = go(lifted.state, event('FREEZE', { lockout: true }), lifted.at + 1_000).state;
    assert.deepEqual(added(lifted.state, again)[1], {
      at: iso(lifted.at + 1_000),
      actor: SYSTEM,
      type: 'ESCALATED',
      from: 'NONE',
      to: 'FREEZE',
      reasons: ['IDENTITY_MISMATCH'],
    });
  });

  it('a milder event teaches the case only something new: a new reason among known ones, not known ones alone', () => {
    const s = open('FREEZE').state;
    const known = go(s, event('STEP_UP')).state;
    assert.equal(known.unchangedEvents?.count, 1, 'only a known reason: counted');
    const mixed = go(
      s,
      event('STEP_UP', {
        reasons: [
          { code: 'IDENTITY_MISMATCH', contribution: 10, ruleId: 'identity' },
          { code: 'OVERDUE_HISTORY', contribution: 10, ruleId: 'overdue' },
        ],
      }),
    ).state;
    assert.deepEqual(
      mixed.reasons.map((r) => r.code),
      ['IDENTITY_MISMATCH', 'OVERDUE_HISTORY'],
    );
  });

  it('a kept milder event is recorded as a risk event and leaves verification possible when it allows it', () => {
    const s = open('FREEZE').state;
    const kept = go(
      s,
      event('STEP_UP', { reasons: [{ code: 'OVERDUE_HISTORY', contribution: 10, ruleId: 'overdue' }] }),
    ).state;
    assert.deepEqual(added(s, kept), [
      {
        at: iso(T0 + 1_000),
        actor: backend,
        type: 'RISK_EVENT',
        eventId: 'e2',
        eventType: 'LOGIN',
        tier: 'STEP_UP',
        score: 60,
        reasons: ['OVERDUE_HISTORY'],
        policyVersion: 'v7',
      },
    ]);
    assert.equal(kept.verificationAllowed, true);
  });

  it('a milder event with known reasons that rules out verification is kept, and verification is then refused', () => {
    const s = open('FREEZE').state;
    const kept = go(s, event('STEP_UP', { verificationAllowed: false })).state;
    assert.equal(added(s, kept)[0]!.type, 'RISK_EVENT');
    assert.equal(kept.verificationAllowed, false);
    assert.equal(kept.unchangedEvents, undefined);
  });

  it('a source missing from several events is listed once', () => {
    const s = open('STEP_UP', { unavailableSources: ['bureau'] }).state;
    const again = go(s, event('FREEZE', { unavailableSources: ['bureau', 'device'] })).state;
    assert.deepEqual(again.missingSources, ['bureau', 'device']);
  });

  it('an event that restricts nothing is counted, even with a reason the case has not seen', () => {
    const s = open('FREEZE').state;
    const none = go(
      s,
      event('NONE' as RestrictiveTier, {
        reasons: [{ code: 'NEW_DEVICE_LOCATION_JUMP', contribution: 10, ruleId: 'device' }],
      }),
    ).state;
    assert.deepEqual(none.reasons, s.reasons);
    assert.equal(none.unchangedEvents?.count, 1);
  });

  it('the latest contact an event gives wins; an event without one keeps the one the case has', () => {
    const s = open('FREEZE').state;
    const first = go(s, {
      ...event('STEP_UP', {}, 'e2'),
      contact: { email: 'old@example.com' },
    } as CaseInput).state;
    assert.deepEqual(first.contact, { email: 'old@example.com' });
    const second = go(first, {
      ...event('STEP_UP', {}, 'e3'),
      contact: { email: 'new@example.com' },
    } as CaseInput).state;
    assert.deepEqual(second.contact, { email: 'new@example.com' });
    const third = go(second, event('STEP_UP', {}, 'e4')).state;
    assert.deepEqual(third.contact, { email: 'new@example.com' });
  });

  it('a reason keeps its largest contribution, and the rule that gave it first when two give the same', () => {
    const s = open('STEP_UP').state;
    const reasons = (contribution: number, ruleId: string): Partial<Decision> => ({
      reasons: [{ code: 'IDENTITY_MISMATCH', contribution, ruleId }],
    });
    const same = go(s, event('FREEZE', reasons(60, 'other'))).state;
    assert.deepEqual(same.reasons, [{ code: 'IDENTITY_MISMATCH', contribution: 60, ruleId: 'identity' }]);
    const larger = go(s, event('FREEZE', reasons(70, 'other'))).state;
    assert.deepEqual(larger.reasons, [
      { code: 'IDENTITY_MISMATCH', contribution: 70, ruleId: 'other' },
    ] as ReasonContribution[]);
  });
});
