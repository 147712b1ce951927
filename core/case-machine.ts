// The case lifecycle as a pure transition function: (state, input) -> (state, effects) or a typed refusal.
// No Temporal, no I/O, no clock: time comes in with every input. Workflows import this module, so it stays
// free of zod and heavy dependencies.
// The heart is `transition(state, input, now)` below; the types are in case-types.ts, the shared moves of a
// transition in case-step.ts, the timers in case-timers.ts.
import { isMoreSevere, REVIEW_STATUSES, type Actor } from './model';
import type { CaseInput, CaseState, Effect, OpenCase, TimelineType, Transition } from './case-types';
import {
  appendEntry,
  backToReview,
  armClaimIdle,
  finish,
  freshCase,
  iso,
  mergeReasons,
  newEvidence,
  refuse,
  restrictionOf,
  riskEventDetails,
  rulesOf,
  startReview,
  enterTier,
  Step,
  SYSTEM,
  USER_WAITING,
} from './case-step';
import { timer } from './case-timers';
import { secondReviewRefusal } from './second-review';

/** Opens a case for a restrictive decision. The caller handles NONE (no case is opened for it). */
export function openCase(o: OpenCase): { state: CaseState; effects: Effect[] } {
  if (o.decision.tier === 'NONE') throw new Error('openCase needs a restrictive decision');
  const blank = freshCase({
    ...o,
    tier: o.decision.tier,
    score: o.decision.score,
    reasons: o.decision.reasons,
    verificationAllowed: o.decision.verificationAllowed,
    missingSources: o.decision.unavailableSources,
  });

  const step = new Step(blank, o.at);
  step.log(o.actor, 'RISK_EVENT', riskEventDetails(o.eventId, o.eventType, o.decision));
  enterTier(step, o.decision.tier, o.decision.lockout);
  return { state: step.state, effects: step.effects };
}

export function transition(prev: CaseState, input: CaseInput, at: number): Transition {
  if (prev.outcome !== null) return refuse('CASE_CLOSED', `the case has ended (${prev.outcome})`);
  const step = new Step(prev, at);
  const s = step.state;
  switch (input.kind) {
    case 'RISK_EVENT':
      return riskEvent(step, input);
    case 'VERIFICATION': {
      const awaiting =
        s.status === 'VERIFICATION_REQUIRED' ||
        s.status === 'PROTECTIVE_HOLD' ||
        (s.status === 'AWAITING_USER' && s.tier === 'FREEZE');
      if (!awaiting)
        return refuse('NOT_AWAITING_VERIFICATION', `the case is not awaiting verification (${s.status})`);
      if (!s.verificationAllowed)
        return refuse(
          'VERIFICATION_NOT_ALLOWED',
          'verification cannot resolve this case; the user may appeal',
        );
      if (s.status === 'PROTECTIVE_HOLD' && at < (s.deadlines.coolingOffEndsAt ?? 0))
        return refuse('COOLING_OFF', `confirmation opens after the cooling-off period`);
      step.log(input.actor, 'VERIFICATION', { method: input.method, passed: input.passed });
      // Rules 3: a failed verification is a risk signal of its own, weighed by the policy, kept as a reason.
      if (!input.passed && rulesOf(s) >= 3) {
        const weight = s.terms.failedVerificationWeight ?? 0;
        s.reasons = mergeReasons(s.reasons, [
          { code: 'FAILED_VERIFICATIONS', contribution: weight, ruleId: 'failed-verification' },
        ]);
        s.score += weight;
        newEvidence(step);
      }
      if (input.passed && s.terms.tiers[s.tier].verificationRestores) finish(step, 'RESTORED', input.actor);
      else startReview(step);
      return step.done();
    }
    case 'APPEAL': {
      if (s.appealed) return refuse('ALREADY_APPEALED', 'this case already has an appeal');
      if (s.status === 'MONITORING') return refuse('APPEAL_NOT_ALLOWED', 'the account is not restricted');
      if (!s.terms.tiers[s.tier].appealAllowed)
        return refuse('APPEAL_NOT_ALLOWED', 'this tier takes no appeal');
      s.appealed = true;
      step.log(input.actor, 'APPEAL', {
        statement: input.statement,
        ...(input.evidence?.length ? { evidence: input.evidence } : {}),
      });
      newEvidence(step);
      // An appeal on a case already under review joins that review.
      if (USER_WAITING.includes(s.status)) startReview(step);
      return step.done();
    }
    case 'CLAIM': {
      if (!REVIEW_STATUSES.includes(s.status))
        return refuse('NOT_IN_REVIEW', `the case is not in review (${s.status})`);
      const notHim = secondReviewRefusal(s, input.reviewer, input.senior);
      if (notHim) return refuse(notHim.code, notHim.message);
      if (s.assignee === input.reviewer) return step.done(); // claiming again is a no-op
      const holder = s.assignee;
      if (holder !== null && !input.senior)
        return refuse('CLAIMED_BY_OTHER', 'another reviewer holds this case');
      s.assignee = input.reviewer;
      armClaimIdle(step);
      step.log(
        { kind: 'reviewer', id: input.reviewer },
        'CLAIM',
        holder ? { takeover: true, from: holder } : {},
      );
      return step.done();
    }
    case 'RELEASE': {
      if (!REVIEW_STATUSES.includes(s.status))
        return refuse('NOT_IN_REVIEW', `the case is not in review (${s.status})`);
      if (s.assignee === null) return refuse('NOT_CLAIMED', 'nobody holds this case');
      if (s.assignee !== input.reviewer && !input.senior)
        return refuse('CLAIMED_BY_OTHER', 'only the holder or a senior can release this case');
      step.log({ kind: 'reviewer', id: input.reviewer }, 'RELEASED', { holder: s.assignee });
      s.assignee = null;
      delete s.deadlines.claimIdleAt;
      return step.done();
    }
    case 'DECISION':
      return decide(step, input);
    case 'APPROVAL': {
      if (s.status !== 'PENDING_APPROVAL' || !s.pendingClose)
        return refuse('NOT_PENDING_APPROVAL', `the case is not awaiting approval (${s.status})`);
      if (s.pendingClose.by === input.reviewer)
        return refuse('SAME_REVIEWER', 'the approval must come from a reviewer other than the decider');
      const notHim = secondReviewRefusal(s, input.reviewer, input.senior);
      if (notHim) return refuse(notHim.code, notHim.message);
      if (input.evidenceVersion !== undefined && input.evidenceVersion !== (s.evidenceVersion ?? 0))
        return refuse('EVIDENCE_CHANGED', 'the case has new evidence since the version you saw');
      const reviewer: Actor = { kind: 'reviewer', id: input.reviewer };
      step.log(reviewer, 'APPROVAL', { approve: input.approve, rationale: input.rationale });
      if (input.approve) {
        const pending = s.pendingClose;
        if (pending.explanation) s.explanation = pending.explanation;
        finish(step, pending.decision === 'UNLOCK' ? 'RESTORED' : 'CLOSED', reviewer);
      } else {
        s.pendingClose = null;
        backToReview(step);
      }
      return step.done();
    }
    case 'INFO': {
      // Rules 3: the user may also add information while the case is in review or awaits approval.
      const unasked = rulesOf(s) >= 3 && (s.status === 'IN_REVIEW' || s.status === 'PENDING_APPROVAL');
      if (s.status !== 'AWAITING_INFO' && !unasked)
        return refuse('NOT_AWAITING_INFO', `no information was requested (${s.status})`);
      step.log(input.actor, 'INFO_PROVIDED', {
        answer: input.answer,
        ...(input.evidence?.length ? { evidence: input.evidence } : {}),
      });
      delete s.question;
      const asked = s.status === 'AWAITING_INFO';
      newEvidence(step);
      if (asked) backToReview(step);
      return step.done();
    }
    case 'BREAK_GLASS': {
      // Rules 5: decided on an evidence version (a bulk action's dry run), refused once the case has moved on.
      if (
        rulesOf(s) >= 5 &&
        input.evidenceVersion !== undefined &&
        input.evidenceVersion !== (s.evidenceVersion ?? 0)
      )
        return refuse('EVIDENCE_CHANGED', 'the case has new evidence since the version you saw');
      const actor: Actor = { kind: 'reviewer', id: input.by };
      step.log(actor, 'BREAK_GLASS', { action: input.action, rationale: input.rationale });
      s.pendingClose = null;
      if (input.explanation) s.explanation = input.explanation;
      step.effect({ kind: 'NOTIFY_BACKEND', event: 'BREAK_GLASS' });
      finish(step, input.action === 'LIFT' ? 'RESTORED' : 'CLOSED', actor);
      return step.done();
    }
    case 'RETRACT':
      return retract(step, input);
    case 'GUARD_TRIPPED':
      step.log(input.actor, 'GUARD_TRIPPED', {
        ruleId: input.ruleId,
        hourCount: input.hourCount,
        baselinePerHour: input.baselinePerHour,
        onTrip: input.onTrip,
      });
      return step.done();
    case 'TIMER':
      return timer(step, input.timer);
  }
}

function riskEvent(step: Step, input: Extract<CaseInput, { kind: 'RISK_EVENT' }>): Transition {
  const s = step.state;
  const d = input.decision;
  if (input.contact) s.contact = input.contact;
  for (const src of d.unavailableSources) if (!s.missingSources.includes(src)) s.missingSources.push(src);
  const from = s.tier;
  const lockoutActive = s.deadlines.lockoutLiftsAt !== undefined;
  // A FREEZE for a real reason (not another lockout) makes a self-lifting lockout a real freeze.
  const hardensLockout = lockoutActive && d.tier === 'FREEZE' && !d.lockout;
  const rearmsLockout = s.status === 'MONITORING';
  const tier = d.tier;
  // Never de-escalate.
  if (tier === 'NONE' || !(isMoreSevere(tier, from) || hardensLockout || rearmsLockout)) {
    // Not more severe, but it may still teach the case something: a new reason, or that verification can no
    // longer resolve it (a regulatory hold joining a freeze). Then it is recorded and kept.
    const known = new Set(s.reasons.map((r) => r.code));
    const teaches =
      tier !== 'NONE' &&
      (s.terms.rulesVersion ?? 1) >= 2 &&
      (d.reasons.some((r) => !known.has(r.code)) || (s.verificationAllowed && !d.verificationAllowed));
    if (teaches) {
      step.log(input.actor, 'RISK_EVENT', riskEventDetails(input.eventId, input.eventType, d));
      s.reasons = mergeReasons(s.reasons, d.reasons);
      s.score = Math.max(s.score, d.score);
      s.verificationAllowed = s.verificationAllowed && d.verificationAllowed;
      newEvidence(step);
      return step.done();
    }
    // Counted, not listed: a stream of harmless events must not grow what the case carries.
    const prev = s.unchangedEvents ?? { count: 0, lastAt: null };
    s.unchangedEvents = { count: prev.count + 1, lastAt: iso(step.at) };
    return step.done();
  }
  step.log(input.actor, 'RISK_EVENT', riskEventDetails(input.eventId, input.eventType, d));

  s.reasons = mergeReasons(s.reasons, d.reasons);
  s.score = Math.max(s.score, d.score);
  s.verificationAllowed = s.verificationAllowed && d.verificationAllowed;
  newEvidence(step);
  if (rearmsLockout) {
    s.tier = tier;
    step.log(SYSTEM, 'ESCALATED', { from: 'NONE', to: tier, reasons: d.reasons.map((r) => r.code) });
    enterTier(step, tier, d.lockout);
    return step.done();
  }
  step.log(SYSTEM, 'ESCALATED', { from, to: tier, reasons: d.reasons.map((r) => r.code) });
  if (USER_WAITING.includes(s.status)) {
    // A lockout on top of an existing restriction is a plain freeze: lifting itself would drop the other one.
    enterTier(step, tier, false);
  } else {
    // Under review: the restriction tightens now, the review carries on with the new tier.
    s.tier = tier;
    step.effect(restrictionOf(s));
    step.effect({ kind: 'NOTIFY_USER', template: 'RESTRICTED' });
    step.effect({ kind: 'NOTIFY_BACKEND', event: 'RESTRICTION_CHANGED' });
  }
  return step.done();
}

function decide(step: Step, input: Extract<CaseInput, { kind: 'DECISION' }>): Transition {
  const s = step.state;
  if (s.status !== 'IN_REVIEW')
    return refuse('NOT_IN_REVIEW', `the case is not awaiting a decision (${s.status})`);
  if (s.assignee === null) return refuse('NOT_CLAIMED', 'claim the case before deciding it');
  if (s.assignee !== input.reviewer) return refuse('CLAIMED_BY_OTHER', 'another reviewer holds this case');
  const notHim = secondReviewRefusal(s, input.reviewer, input.senior);
  if (notHim) return refuse(notHim.code, notHim.message);
  const evidenceVersion = s.evidenceVersion ?? 0;
  if (input.evidenceVersion !== undefined && input.evidenceVersion !== evidenceVersion)
    return refuse('EVIDENCE_CHANGED', 'the case has new evidence since the version you saw');
  const reviewer: Actor = { kind: 'reviewer', id: input.reviewer };
  step.log(reviewer, 'DECISION', {
    decision: input.decision,
    rationale: input.rationale,
    ...(input.question !== undefined ? { question: input.question } : {}),
    ...(input.explanation ? { explanation: input.explanation } : {}),
    ...(rulesOf(s) >= 3 ? { evidenceVersion } : {}),
  });
  const unlockNeedsApproval =
    (rulesOf(s) >= 3 &&
      s.terms.unlockApprovalAboveScore !== undefined &&
      s.score > s.terms.unlockApprovalAboveScore) ||
    // Overturning a closure on second review still takes two people.
    (s.secondReview !== undefined && s.tier === 'CLOSE');
  switch (input.decision) {
    case 'UNLOCK':
      if (unlockNeedsApproval) awaitApproval(step, input, 'UNLOCK');
      else {
        if (input.explanation) s.explanation = input.explanation;
        finish(step, 'RESTORED', reviewer);
      }
      break;
    case 'UPHOLD':
      if (input.explanation) s.explanation = input.explanation;
      finish(step, 'UPHELD', reviewer);
      break;
    case 'CLOSE':
      if (s.terms.tiers[s.tier].fourEyesClose) awaitApproval(step, input, 'CLOSE');
      else {
        if (input.explanation) s.explanation = input.explanation;
        finish(step, 'CLOSED', reviewer);
      }
      break;
    case 'REQUEST_INFO':
      s.status = 'AWAITING_INFO';
      s.deadlines = { infoDueAt: step.at + s.terms.tiers[s.tier].infoDeadlineMs };
      if (input.question !== undefined) s.question = input.question;
      step.effect({ kind: 'NOTIFY_USER', template: 'INFO_REQUESTED' });
      break;
  }
  return step.done();
}

/** Four-eyes: the decision waits for a second reviewer, bound to the evidence its decider saw. */
function awaitApproval(
  step: Step,
  input: Extract<CaseInput, { kind: 'DECISION' }>,
  decision: 'CLOSE' | 'UNLOCK',
): void {
  const s = step.state;
  s.status = 'PENDING_APPROVAL';
  const base = { by: input.reviewer, rationale: input.rationale, at: iso(step.at) };
  if (rulesOf(s) < 3) {
    // Before rules 3: only CLOSE waited, under the review's SLA, which never fired in this status.
    s.pendingClose = base;
    s.deadlines = { reviewDueAt: s.deadlines.reviewDueAt };
    return;
  }
  s.pendingClose = {
    ...base,
    decision,
    evidenceVersion: s.evidenceVersion ?? 0,
    ...(input.explanation ? { explanation: input.explanation } : {}),
  };
  s.slaBreached = false;
  s.deadlines = { approvalDueAt: step.at + (s.terms.approvalSlaMs ?? s.terms.tiers[s.tier].reviewSlaMs) };
}

function retract(step: Step, input: Extract<CaseInput, { kind: 'RETRACT' }>): Transition {
  const s = step.state;
  const recorded = s.timeline.filter((t) => t.type === 'RISK_EVENT').map((t) => t.eventId as string);
  if (!recorded.includes(input.eventId))
    return refuse(
      'UNKNOWN_EVENT',
      'this case recorded no such event (events that changed nothing are not kept)',
    );
  const retracted = s.retractedEvents ?? [];
  if (retracted.includes(input.eventId))
    return refuse('ALREADY_RETRACTED', 'this event was already retracted');
  s.retractedEvents = [...retracted, input.eventId];
  step.log(input.actor, 'EVENT_RETRACTED', { eventId: input.eventId, reason: input.reason });
  // A second review rests on the first case's outcome, not on the events it recorded since: those withdrawn, the
  // outcome still stands until a senior decides.
  const nothingLeft = !s.secondReview && recorded.every((id) => s.retractedEvents!.includes(id));
  if (nothingLeft && s.terms.retractionRestores) {
    finish(step, 'RESTORED', input.actor);
    return step.done();
  }
  newEvidence(step, true);
  // A restriction that rests on a withdrawn report needs a person's look: the case goes to review.
  if (USER_WAITING.includes(s.status)) startReview(step);
  return step.done();
}

/** Whether the account is restricted in this state (every tier but NONE restricts; MONITORING does not). */
export function isRestricted(s: Pick<CaseState, 'status' | 'outcome'>): boolean {
  if (s.status === 'MONITORING') return false;
  return s.outcome !== 'RESTORED';
}

/** Records a carried-out effect in the timeline (applied, lifted, notified...). */
export function recordEffect(
  s: CaseState,
  at: number,
  entry: { type: TimelineType } & Record<string, unknown>,
): void {
  appendEntry(s, { at: iso(at), actor: SYSTEM, ...entry });
}
