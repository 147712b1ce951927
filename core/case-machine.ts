// The case lifecycle as a pure transition function: (state, input) -> (state, effects) or a typed refusal.
// No Temporal, no I/O, no clock: time comes in with every input. Workflows import this module, so it stays
// free of zod and heavy dependencies.
import {
  isMoreSevere,
  REVIEW_STATUSES,
  type Actor,
  type CaseStatus,
  type CaseTerms,
  type Decision,
  type Locale,
  type Outcome,
  type ReasonCode,
  type ReasonContribution,
  type RestrictiveTier,
  type ReviewDecision,
} from './model';
import type { Contact } from './events';

export type TimelineType =
  | 'RISK_EVENT'
  | 'ESCALATED'
  | 'RESTRICTION_APPLIED'
  | 'RESTRICTION_LIFTED'
  | 'ACCOUNT_CLOSED'
  | 'NOTIFIED'
  | 'WEBHOOK_SENT'
  | 'EFFECT_FAILED'
  | 'DELIVERY_FAILED'
  | 'REMINDER_DUE'
  | 'VERIFICATION'
  | 'APPEAL'
  | 'DEADLINE_PASSED'
  | 'COOLING_OFF_ENDED'
  | 'LOCKOUT_EXPIRED'
  | 'REVIEW_STARTED'
  | 'CLAIM'
  | 'RELEASED'
  | 'DECISION'
  | 'APPROVAL'
  | 'INFO_PROVIDED'
  | 'INFO_DEADLINE_PASSED'
  | 'SLA_BREACHED'
  | 'APPROVAL_SLA_BREACHED'
  | 'DECISION_VOIDED'
  | 'BREAK_GLASS'
  | 'EVENT_RETRACTED'
  | 'OUTCOME';

export interface TimelineEntry {
  at: string;
  actor: Actor;
  type: TimelineType;
  [detail: string]: unknown;
}

export type NoticeTemplate =
  | 'RESTRICTED'
  | 'REMINDER'
  | 'IN_REVIEW'
  | 'INFO_REQUESTED'
  | 'CONFIRMATION_OPEN'
  | 'LOCKOUT_LIFTED'
  | 'OUTCOME';

/** Side effects the workflow carries out with activities after a transition. */
export type Effect =
  | { kind: 'APPLY_RESTRICTION'; tier: RestrictiveTier; lockout: boolean }
  | { kind: 'LIFT_RESTRICTION' }
  | { kind: 'CLOSE_ACCOUNT' }
  | { kind: 'NOTIFY_USER'; template: NoticeTemplate }
  | { kind: 'NOTIFY_BACKEND'; event: BackendEventKind };

/** What the backend hears about: `restriction.changed`, `case.outcome`, `case.escalated`, `case.break_glass`. */
export type BackendEventKind = 'RESTRICTION_CHANGED' | 'OUTCOME' | 'ESCALATED' | 'BREAK_GLASS';

export type TimerKind =
  | 'REMINDER'
  | 'USER_DEADLINE'
  | 'COOLING_OFF_END'
  | 'LOCKOUT_LIFT'
  | 'MONITOR_END'
  | 'REVIEW_SLA'
  | 'INFO_DEADLINE'
  | 'CLAIM_IDLE'
  | 'APPROVAL_SLA';

export interface Deadlines {
  /** Verify (STEP_UP, FREEZE), confirm (PROTECT) or appeal (LIMIT, CLOSE) by then. */
  userDeadlineAt?: number;
  coolingOffEndsAt?: number;
  lockoutLiftsAt?: number;
  monitorUntil?: number;
  reviewDueAt?: number;
  infoDueAt?: number;
  /** The claim goes back to the queue then unless its holder acts on the case. */
  claimIdleAt?: number;
  /** A decision waiting for its second reviewer escalates then (cases opened under rules 3). */
  approvalDueAt?: number;
}

/** The user-facing explanation a reviewer gives with a decision: a catalogue reason and words of their own. */
export interface Explanation {
  code: ReasonCode;
  text: string;
}

/** A decision that waits for a second reviewer, bound to the evidence version its decider saw. */
export interface PendingDecision {
  by: string;
  rationale: string;
  at: string;
  /** Absent: CLOSE (the only four-eyes decision before rules 3). */
  decision?: 'CLOSE' | 'UNLOCK';
  evidenceVersion?: number;
  explanation?: Explanation;
}

export interface CaseState {
  caseId: string;
  accountId: string;
  locale: Locale;
  openedAt: number;
  status: CaseStatus;
  tier: RestrictiveTier;
  score: number;
  /** Every distinct reason seen in this case, with its largest contribution. */
  reasons: ReasonContribution[];
  verificationAllowed: boolean;
  terms: CaseTerms;
  deadlines: Deadlines;
  remindersSent: number;
  coolingOffNotified: boolean;
  lockoutCount: number;
  assignee: string | null;
  appealed: boolean;
  /** The decision waiting for a second reviewer (named for the only such decision before 0.3). */
  pendingClose: PendingDecision | null;
  slaBreached: boolean;
  missingSources: string[];
  outcome: Outcome | null;
  /** Risk events that changed nothing (harmless or not more severe), counted rather than logged one by one. */
  unchangedEvents?: { count: number; lastAt: string | null };
  /**
   * Bumped by everything that adds to what a reviewer must weigh (a recorded risk event, an appeal, an answer,
   * a retraction). A decision names the version it saw; absent: 0.
   */
  evidenceVersion?: number;
  /** The reviewer's question while information is requested. */
  question?: string;
  /** The user-facing explanation of the outcome, given with the deciding decision. */
  explanation?: Explanation;
  /** Risk events the backend withdrew (event IDs). */
  retractedEvents?: string[];
  /** How to reach the user (personal data: never in the view, the timeline or logs). The latest given wins. */
  contact?: Contact;
  timeline: TimelineEntry[];
}

export type CaseInput =
  | {
      kind: 'RISK_EVENT';
      eventId: string;
      eventType: string;
      decision: Decision;
      actor: Actor;
      contact?: Contact;
    }
  | { kind: 'VERIFICATION'; method: string; passed: boolean; actor: Actor }
  | { kind: 'APPEAL'; statement: string; evidence?: string[]; actor: Actor }
  /** A senior's claim on a case another reviewer holds takes it over; a reviewer's is refused. */
  | { kind: 'CLAIM'; reviewer: string; senior?: boolean }
  /** Gives a claimed case back to the queue: by its holder, or by a senior. */
  | { kind: 'RELEASE'; reviewer: string; senior?: boolean }
  | {
      kind: 'DECISION';
      reviewer: string;
      decision: ReviewDecision;
      rationale: string;
      /** REQUEST_INFO: what the user is asked. */
      question?: string;
      explanation?: Explanation;
      /** The evidence version the reviewer saw: refused when the case has moved on since. */
      evidenceVersion?: number;
    }
  | { kind: 'APPROVAL'; reviewer: string; approve: boolean; rationale: string; evidenceVersion?: number }
  | { kind: 'INFO'; answer: string; evidence?: string[]; actor: Actor }
  /** A senior or admin lifts or closes at once, whatever the case's state ("break glass"). */
  | {
      kind: 'BREAK_GLASS';
      by: string;
      action: 'LIFT' | 'CLOSE';
      rationale: string;
      explanation?: Explanation;
    }
  /** The backend withdraws an event it reported in error. */
  | { kind: 'RETRACT'; eventId: string; reason: string; actor: Actor }
  | { kind: 'TIMER'; timer: TimerKind };

export const REFUSAL_CODES = [
  'CASE_CLOSED',
  'NOT_AWAITING_VERIFICATION',
  'VERIFICATION_NOT_ALLOWED',
  'COOLING_OFF',
  'APPEAL_NOT_ALLOWED',
  'ALREADY_APPEALED',
  'NOT_IN_REVIEW',
  'CLAIMED_BY_OTHER',
  'NOT_CLAIMED',
  'NOT_PENDING_APPROVAL',
  'SAME_REVIEWER',
  'NOT_AWAITING_INFO',
  'EVIDENCE_CHANGED',
  'UNKNOWN_EVENT',
  'ALREADY_RETRACTED',
  /** Internal: a timer fired for a deadline the case no longer has. Never reaches a caller. */
  'NO_SUCH_TIMER',
] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

export interface Refusal {
  code: RefusalCode;
  message: string;
}

export type Transition = { ok: true; state: CaseState; effects: Effect[] } | { ok: false; refusal: Refusal };

const SYSTEM: Actor = { kind: 'system', id: 'cordon' };
const USER_WAITING: readonly CaseStatus[] = [
  'VERIFICATION_REQUIRED',
  'AWAITING_USER',
  'LIMITED',
  'PROTECTIVE_HOLD',
];

/** The version of the case machine's rules a case opened under (see CaseTerms.rulesVersion). */
function rulesOf(s: CaseState): number {
  return s.terms.rulesVersion ?? 1;
}

function iso(at: number): string {
  return new Date(at).toISOString();
}

function refuse(code: RefusalCode, message: string): Transition {
  return { ok: false, refusal: { code, message } };
}

/** A small mutable builder over a copy of the state, so every transition is a pure function of its inputs. */
class Step {
  readonly state: CaseState;
  readonly effects: Effect[] = [];

  constructor(
    prev: CaseState,
    readonly at: number,
  ) {
    this.state = structuredCloneState(prev);
  }

  log(actor: Actor, type: TimelineType, details: Record<string, unknown> = {}): void {
    this.state.timeline.push({ at: iso(this.at), actor, type, ...details });
  }

  effect(effect: Effect): void {
    this.effects.push(effect);
  }

  done(): Transition {
    return { ok: true, state: this.state, effects: this.effects };
  }
}

function structuredCloneState(s: CaseState): CaseState {
  // JSON-safe by construction (it is also the workflow's continue-as-new payload). The timeline only ever
  // grows by appending entries that are never changed afterwards, so a shallow copy of it is enough: a
  // transition costs the same on the first day of a case and after thousands of entries.
  const copy = JSON.parse(JSON.stringify({ ...s, timeline: [] })) as CaseState;
  copy.timeline = s.timeline.slice();
  return copy;
}

function mergeReasons(into: ReasonContribution[], add: ReasonContribution[]): ReasonContribution[] {
  const byCode = new Map(into.map((r) => [r.code, r]));
  for (const r of add) {
    const prev = byCode.get(r.code);
    if (!prev || r.contribution > prev.contribution) byCode.set(r.code, r);
  }
  return [...byCode.values()];
}

function restrictionOf(s: CaseState): Effect {
  return { kind: 'APPLY_RESTRICTION', tier: s.tier, lockout: s.deadlines.lockoutLiftsAt !== undefined };
}

/** Puts the case into the waiting status of its tier with fresh deadlines from the case's terms. */
function enterTier(step: Step, tier: RestrictiveTier, lockout: boolean): void {
  const s = step.state;
  const terms = s.terms.tiers[tier];
  const at = step.at;
  s.tier = tier;
  s.deadlines = {};
  s.coolingOffNotified = false;
  s.pendingClose = null;
  switch (tier) {
    case 'STEP_UP':
      s.status = 'VERIFICATION_REQUIRED';
      break;
    case 'LIMIT':
      s.status = 'LIMITED';
      break;
    case 'FREEZE':
    case 'CLOSE':
      s.status = 'AWAITING_USER';
      break;
    case 'PROTECT':
      s.status = 'PROTECTIVE_HOLD';
      s.deadlines.coolingOffEndsAt = at + terms.coolingOffMs;
      break;
  }
  const userClockStart = s.deadlines.coolingOffEndsAt ?? at;
  s.deadlines.userDeadlineAt = userClockStart + terms.userDeadlineMs;
  // Reminders whose time has already passed (deadline shorter than the reminder offset) are skipped.
  s.remindersSent = terms.remindBeforeMs.filter(
    (before) => s.deadlines.userDeadlineAt! - before <= at,
  ).length;
  if (tier === 'FREEZE' && lockout) {
    s.lockoutCount += 1;
    const { waitsMs, permanentAfter } = s.terms.lockout;
    if (s.lockoutCount <= permanentAfter) {
      const wait = waitsMs[Math.min(s.lockoutCount - 1, waitsMs.length - 1)]!;
      s.deadlines.lockoutLiftsAt = at + wait;
    }
  }
  step.effect(restrictionOf(s));
  step.effect({ kind: 'NOTIFY_USER', template: 'RESTRICTED' });
  step.effect({ kind: 'NOTIFY_BACKEND', event: 'RESTRICTION_CHANGED' });
}

/** The case is (again) in review, with a fresh SLA from the case's terms. */
function startReview(step: Step): void {
  backToReview(step);
  step.log(SYSTEM, 'REVIEW_STARTED', { reviewDueAt: iso(step.state.deadlines.reviewDueAt!) });
  step.effect({ kind: 'NOTIFY_USER', template: 'IN_REVIEW' });
}

function finish(step: Step, outcome: Outcome, actor: Actor): void {
  const s = step.state;
  if (outcome === 'RESTORED' && s.status !== 'MONITORING') step.effect({ kind: 'LIFT_RESTRICTION' });
  if (outcome === 'CLOSED') step.effect({ kind: 'CLOSE_ACCOUNT' });
  s.outcome = outcome;
  s.deadlines = {};
  // A lifted lockout already told the user; the quiet end of its watch period needs no second message.
  if (s.status !== 'MONITORING') step.effect({ kind: 'NOTIFY_USER', template: 'OUTCOME' });
  s.status = outcome;
  step.log(actor, 'OUTCOME', { outcome });
  step.effect({ kind: 'NOTIFY_BACKEND', event: 'OUTCOME' });
}

export interface OpenCase {
  caseId: string;
  accountId: string;
  locale: Locale;
  terms: CaseTerms;
  at: number;
  eventId: string;
  eventType: string;
  decision: Decision;
  actor: Actor;
  contact?: Contact;
}

/** Opens a case for a restrictive decision. The caller handles NONE (no case is opened for it). */
export function openCase(o: OpenCase): { state: CaseState; effects: Effect[] } {
  if (o.decision.tier === 'NONE') throw new Error('openCase needs a restrictive decision');
  const blank: CaseState = {
    caseId: o.caseId,
    accountId: o.accountId,
    locale: o.locale,
    openedAt: o.at,
    status: 'AWAITING_USER',
    tier: o.decision.tier,
    score: o.decision.score,
    reasons: mergeReasons([], o.decision.reasons),
    verificationAllowed: o.decision.verificationAllowed,
    terms: o.terms,
    deadlines: {},
    remindersSent: 0,
    coolingOffNotified: false,
    lockoutCount: 0,
    assignee: null,
    appealed: false,
    pendingClose: null,
    slaBreached: false,
    missingSources: [...o.decision.unavailableSources],
    outcome: null,
    ...(o.contact ? { contact: o.contact } : {}),
    timeline: [],
  };
  const step = new Step(blank, o.at);
  step.log(o.actor, 'RISK_EVENT', riskEventDetails(o.eventId, o.eventType, o.decision));
  enterTier(step, o.decision.tier, o.decision.lockout);
  return { state: step.state, effects: step.effects };
}

function riskEventDetails(eventId: string, eventType: string, d: Decision): Record<string, unknown> {
  return {
    eventId,
    eventType,
    tier: d.tier,
    score: d.score,
    reasons: d.reasons.map((r) => r.code),
    policyVersion: d.policyVersion,
    ...(d.unavailableSources.length ? { unavailableSources: d.unavailableSources } : {}),
    ...(d.note !== undefined ? { note: d.note } : {}),
  };
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
    case 'TIMER':
      return timer(step, input.timer);
  }
}

function backToReview(step: Step): void {
  const s = step.state;
  s.status = 'IN_REVIEW';
  s.deadlines = { reviewDueAt: step.at + s.terms.tiers[s.tier].reviewSlaMs };
  s.slaBreached = false;
  armClaimIdle(step);
}

/** The holder of a claim in review has the terms' idle time to act before the claim goes back to the queue. */
function armClaimIdle(step: Step): void {
  const s = step.state;
  if (s.assignee === null || s.terms.claimIdleMs === undefined || s.status !== 'IN_REVIEW') return;
  s.deadlines.claimIdleAt = step.at + s.terms.claimIdleMs;
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
    rulesOf(s) >= 3 &&
    s.terms.unlockApprovalAboveScore !== undefined &&
    s.score > s.terms.unlockApprovalAboveScore;
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

/**
 * Something new for a reviewer to weigh. Under rules 3 it voids a decision waiting for approval: the second
 * reviewer would otherwise approve what the first decided without it.
 */
function newEvidence(step: Step, voidAlways = false): void {
  const s = step.state;
  s.evidenceVersion = (s.evidenceVersion ?? 0) + 1;
  if (s.status !== 'PENDING_APPROVAL' || !s.pendingClose || !(voidAlways || rulesOf(s) >= 3)) return;
  step.log(SYSTEM, 'DECISION_VOIDED', {
    decidedBy: s.pendingClose.by,
    decision: s.pendingClose.decision ?? 'CLOSE',
    evidenceVersion: s.evidenceVersion,
  });
  s.pendingClose = null;
  backToReview(step);
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
  const nothingLeft = recorded.every((id) => s.retractedEvents!.includes(id));
  if (nothingLeft && s.terms.retractionRestores) {
    finish(step, 'RESTORED', input.actor);
    return step.done();
  }
  newEvidence(step, true);
  // A restriction that rests on a withdrawn report needs a person's look: the case goes to review.
  if (USER_WAITING.includes(s.status)) startReview(step);
  return step.done();
}

function timer(step: Step, kind: TimerKind): Transition {
  const s = step.state;
  const due = nextTimer(s);
  if (!due || due.kind !== kind || due.at > step.at)
    return refuse('NO_SUCH_TIMER', `no ${kind} timer is due at ${iso(step.at)}`);
  switch (kind) {
    case 'REMINDER':
      s.remindersSent += 1;
      step.log(SYSTEM, 'REMINDER_DUE', { deadline: iso(s.deadlines.userDeadlineAt!) });
      step.effect({ kind: 'NOTIFY_USER', template: 'REMINDER' });
      break;
    case 'USER_DEADLINE':
      step.log(SYSTEM, 'DEADLINE_PASSED', { deadline: iso(s.deadlines.userDeadlineAt!) });
      if (s.terms.tiers[s.tier].onUserDeadline === 'REVIEW') startReview(step);
      else finish(step, 'UPHELD', SYSTEM);
      break;
    case 'COOLING_OFF_END':
      s.coolingOffNotified = true;
      step.log(SYSTEM, 'COOLING_OFF_ENDED');
      step.effect({ kind: 'NOTIFY_USER', template: 'CONFIRMATION_OPEN' });
      break;
    case 'LOCKOUT_LIFT':
      step.log(SYSTEM, 'LOCKOUT_EXPIRED', { lockoutCount: s.lockoutCount });
      s.status = 'MONITORING';
      s.deadlines = { monitorUntil: step.at + s.terms.lockout.memoryMs };
      step.effect({ kind: 'LIFT_RESTRICTION' });
      step.effect({ kind: 'NOTIFY_USER', template: 'LOCKOUT_LIFTED' });
      step.effect({ kind: 'NOTIFY_BACKEND', event: 'RESTRICTION_CHANGED' });
      break;
    case 'MONITOR_END':
      finish(step, 'RESTORED', SYSTEM);
      break;
    case 'REVIEW_SLA':
      s.slaBreached = true;
      step.log(SYSTEM, 'SLA_BREACHED', {
        reviewDueAt: iso(s.deadlines.reviewDueAt!),
        assignee: s.assignee,
        ...(rulesOf(s) >= 3 ? { escalated: true } : {}),
      });
      // Rules 3: a breach escalates to the senior queue and the backend tells operations.
      if (rulesOf(s) >= 3) step.effect({ kind: 'NOTIFY_BACKEND', event: 'ESCALATED' });
      break;
    case 'APPROVAL_SLA':
      s.slaBreached = true;
      step.log(SYSTEM, 'APPROVAL_SLA_BREACHED', {
        approvalDueAt: iso(s.deadlines.approvalDueAt!),
        decidedBy: s.pendingClose?.by ?? null,
        escalated: true,
      });
      step.effect({ kind: 'NOTIFY_BACKEND', event: 'ESCALATED' });
      break;
    case 'INFO_DEADLINE':
      step.log(SYSTEM, 'INFO_DEADLINE_PASSED');
      delete s.question;
      backToReview(step);
      break;
    case 'CLAIM_IDLE':
      step.log(SYSTEM, 'RELEASED', { holder: s.assignee, reason: 'IDLE' });
      s.assignee = null;
      delete s.deadlines.claimIdleAt;
      break;
  }
  return step.done();
}

/** The next timer the case waits for, if any: the earliest of its deadlines that is still pending. */
export function nextTimer(s: CaseState): { kind: TimerKind; at: number } | null {
  if (s.outcome !== null) return null;
  const d = s.deadlines;
  // A temporary lockout lifts itself before any verification deadline: nothing else is due meanwhile.
  if (s.status === 'AWAITING_USER' && d.lockoutLiftsAt !== undefined)
    return { kind: 'LOCKOUT_LIFT', at: d.lockoutLiftsAt };
  const candidates: { kind: TimerKind; at: number }[] = [];
  if (USER_WAITING.includes(s.status) && d.userDeadlineAt !== undefined) {
    const reminders = s.terms.tiers[s.tier].remindBeforeMs;
    const before = reminders[s.remindersSent];
    if (before !== undefined) candidates.push({ kind: 'REMINDER', at: d.userDeadlineAt - before });
    candidates.push({ kind: 'USER_DEADLINE', at: d.userDeadlineAt });
  }
  if (s.status === 'PROTECTIVE_HOLD' && d.coolingOffEndsAt !== undefined && !s.coolingOffNotified)
    candidates.push({ kind: 'COOLING_OFF_END', at: d.coolingOffEndsAt });
  if (s.status === 'MONITORING' && d.monitorUntil !== undefined)
    candidates.push({ kind: 'MONITOR_END', at: d.monitorUntil });
  if (s.status === 'IN_REVIEW' && d.reviewDueAt !== undefined && !s.slaBreached)
    candidates.push({ kind: 'REVIEW_SLA', at: d.reviewDueAt });
  if (s.status === 'IN_REVIEW' && s.assignee !== null && d.claimIdleAt !== undefined)
    candidates.push({ kind: 'CLAIM_IDLE', at: d.claimIdleAt });
  if (s.status === 'AWAITING_INFO' && d.infoDueAt !== undefined)
    candidates.push({ kind: 'INFO_DEADLINE', at: d.infoDueAt });
  if (s.status === 'PENDING_APPROVAL' && d.approvalDueAt !== undefined && !s.slaBreached)
    candidates.push({ kind: 'APPROVAL_SLA', at: d.approvalDueAt });
  // Ties resolve in the order pushed: a reminder never comes after its own deadline.
  return candidates.reduce<{ kind: TimerKind; at: number } | null>(
    (a, b) => (a === null || b.at < a.at ? b : a),
    null,
  );
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
  s.timeline.push({ at: iso(at), actor: SYSTEM, ...entry });
}
