// The building blocks of a transition: a builder over a copy of the state, and the moves several inputs share
// (entering a tier, starting or resuming a review, finishing, new evidence). Pure, like the machine itself.
import {
  type Actor,
  type CaseStatus,
  type Decision,
  type Outcome,
  type ReasonContribution,
  type RestrictiveTier,
} from './model';
import type { CaseState, Effect, RefusalCode, TimelineEntry, TimelineType, Transition } from './case-types';
import { AUDIT_CHAIN_RULES, chainEntry, headOf } from './audit-chain';

export const SYSTEM: Actor = { kind: 'system', id: 'cordon' };
export const USER_WAITING: readonly CaseStatus[] = [
  'VERIFICATION_REQUIRED',
  'AWAITING_USER',
  'LIMITED',
  'PROTECTIVE_HOLD',
];

/** The version of the case machine's rules a case opened under (see CaseTerms.rulesVersion). */
export function rulesOf(s: CaseState): number {
  return s.terms.rulesVersion ?? 1;
}

export function iso(at: number): string {
  return new Date(at).toISOString();
}

export function refuse(code: RefusalCode, message: string): Transition {
  return { ok: false, refusal: { code, message } };
}

/** A small mutable builder over a copy of the state, so every transition is a pure function of its inputs. */
export class Step {
  readonly state: CaseState;
  readonly effects: Effect[] = [];

  constructor(
    prev: CaseState,
    readonly at: number,
  ) {
    this.state = structuredCloneState(prev);
  }

  log(actor: Actor, type: TimelineType, details: Record<string, unknown> = {}): void {
    appendEntry(this.state, { at: iso(this.at), actor, type, ...details });
  }

  effect(effect: Effect): void {
    this.effects.push(effect);
  }

  done(): Transition {
    return { ok: true, state: this.state, effects: this.effects };
  }
}

/**
 * The one way an entry joins a timeline (Step.log, and recordEffect for what the workflow carried out). Rules 4:
 * hash-chained as it is written (core/audit-chain.ts); cases opened under earlier rules keep plain entries.
 */
export function appendEntry(s: CaseState, entry: TimelineEntry): void {
  s.timeline.push(rulesOf(s) >= AUDIT_CHAIN_RULES ? chainEntry(headOf(s.caseId, s.timeline), entry) : entry);
}

/** A case's state before anything has happened in it: what every opening starts from. */
export function freshCase(o: {
  caseId: string;
  accountId: string;
  locale: CaseState['locale'];
  at: number;
  tier: RestrictiveTier;
  score: number;
  reasons: ReasonContribution[];
  verificationAllowed: boolean;
  terms: CaseState['terms'];
  missingSources: readonly string[];
  contact?: CaseState['contact'];
}): CaseState {
  return {
    caseId: o.caseId,
    accountId: o.accountId,
    locale: o.locale,
    openedAt: o.at,
    status: 'AWAITING_USER',
    tier: o.tier,
    score: o.score,
    reasons: mergeReasons([], o.reasons),
    verificationAllowed: o.verificationAllowed,
    terms: o.terms,
    deadlines: {},
    remindersSent: 0,
    coolingOffNotified: false,
    lockoutCount: 0,
    assignee: null,
    appealed: false,
    pendingClose: null,
    slaBreached: false,
    missingSources: [...o.missingSources],
    outcome: null,
    ...(o.contact ? { contact: o.contact } : {}),
    timeline: [],
  };
}

export function structuredCloneState(s: CaseState): CaseState {
  // JSON-safe by construction (it is also the workflow's continue-as-new payload). The timeline only ever
  // grows by appending entries that are never changed afterwards, so a shallow copy of it is enough: a
  // transition costs the same on the first day of a case and after thousands of entries.
  const copy = JSON.parse(JSON.stringify({ ...s, timeline: [] })) as CaseState;
  copy.timeline = s.timeline.slice();
  return copy;
}

export function mergeReasons(into: ReasonContribution[], add: ReasonContribution[]): ReasonContribution[] {
  const byCode = new Map(into.map((r) => [r.code, r]));
  for (const r of add) {
    const prev = byCode.get(r.code);
    if (!prev || r.contribution > prev.contribution) byCode.set(r.code, r);
  }
  return [...byCode.values()];
}

export function restrictionOf(s: CaseState): Effect {
  return { kind: 'APPLY_RESTRICTION', tier: s.tier, lockout: s.deadlines.lockoutLiftsAt !== undefined };
}

/** Puts the case into the waiting status of its tier with fresh deadlines from the case's terms. */
export function enterTier(step: Step, tier: RestrictiveTier, lockout: boolean): void {
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
export function startReview(step: Step): void {
  backToReview(step);
  step.log(SYSTEM, 'REVIEW_STARTED', { reviewDueAt: iso(step.state.deadlines.reviewDueAt!) });
  step.effect({ kind: 'NOTIFY_USER', template: 'IN_REVIEW' });
}

export function finish(step: Step, outcome: Outcome, actor: Actor): void {
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

export function riskEventDetails(eventId: string, eventType: string, d: Decision): Record<string, unknown> {
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

export function backToReview(step: Step): void {
  const s = step.state;
  s.status = 'IN_REVIEW';
  s.deadlines = { reviewDueAt: step.at + s.terms.tiers[s.tier].reviewSlaMs };
  s.slaBreached = false;
  armClaimIdle(step);
}

/** The holder of a claim in review has the terms' idle time to act before the claim goes back to the queue. */
export function armClaimIdle(step: Step): void {
  const s = step.state;
  if (s.assignee === null || s.terms.claimIdleMs === undefined || s.status !== 'IN_REVIEW') return;
  s.deadlines.claimIdleAt = step.at + s.terms.claimIdleMs;
}

/**
 * Something new for a reviewer to weigh. Under rules 3 it voids a decision waiting for approval: the second
 * reviewer would otherwise approve what the first decided without it.
 */
export function newEvidence(step: Step, voidAlways = false): void {
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
