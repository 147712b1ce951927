// The case machine's vocabulary: its state, the inputs it takes, the effects it calls for, its timers and its
// refusals. Types only (and the refusal codes): the API, the pages and the workflow read a case through them.
import type {
  Actor,
  CaseStatus,
  CaseTerms,
  Decision,
  Locale,
  Outcome,
  ReasonCode,
  ReasonContribution,
  RestrictiveTier,
  ReviewDecision,
} from './model';
import type { Contact } from './events';
import type { OutcomeCode } from './outcomes';

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
  | 'SECOND_REVIEW_REQUESTED'
  | 'GUARD_TRIPPED'
  | 'OUTCOME';

export interface TimelineEntry {
  at: string;
  actor: Actor;
  type: TimelineType;
  /**
   * Rules 4: SHA-256 of the previous entry's hash and this entry's chained form (core/audit-chain.ts), set as the
   * entry is written and never changed; what GET /v1/cases/{id}/audit exports. Absent under earlier rules.
   */
  hash?: string;
  /** Rules 4: each detail written in words (statement, answer, rationale, evidence...) by its SHA-256 (hex). */
  digests?: Record<string, string>;
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

/**
 * The user-facing explanation a reviewer gives with a decision: an outcome code (core/outcomes.ts) and words of
 * their own. A reason code is what explanations carried before 0.5 (still accepted in 0.5, deprecated).
 */
export interface Explanation {
  code: OutcomeCode | ReasonCode;
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
  /** Rules 4: this case is the one second review of an ended case (openSecondReview). */
  secondReview?: SecondReviewOf;
  timeline: TimelineEntry[];
}

/** What a second review carries of the case it reviews again. */
export interface SecondReviewOf {
  previousCaseId: string;
  /** Who decided or approved the first case's outcome: none of them may claim, decide or approve this one. */
  excludedReviewers: string[];
  /** The request that opened it (a repeat answers the case as it is). */
  requestKey: string;
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
      /** Rules 4: a second review is claimed, decided and approved by seniors only. */
      senior?: boolean;
    }
  | {
      kind: 'APPROVAL';
      reviewer: string;
      approve: boolean;
      rationale: string;
      evidenceVersion?: number;
      /** Rules 4: a second review is claimed, decided and approved by seniors only. */
      senior?: boolean;
    }
  | { kind: 'INFO'; answer: string; evidence?: string[]; actor: Actor }
  /** A senior or admin lifts or closes at once, whatever the case's state ("break glass"). */
  | {
      kind: 'BREAK_GLASS';
      by: string;
      action: 'LIFT' | 'CLOSE';
      rationale: string;
      explanation?: Explanation;
      /** Rules 5: the evidence version it was decided on (a bulk action's dry run): refused if the case moved on. */
      evidenceVersion?: number;
    }
  /** The backend withdraws an event it reported in error. */
  | { kind: 'RETRACT'; eventId: string; reason: string; actor: Actor }
  /**
   * A rule's guard tripped while the rule was restricting this case's account (core/guards.ts): recorded in the
   * timeline for the reviewer, changing nothing else.
   */
  | {
      kind: 'GUARD_TRIPPED';
      ruleId: string;
      hourCount: number;
      baselinePerHour: number;
      onTrip: 'alert' | 'capAtStepUp';
      actor: Actor;
    }
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
  /** Rules 4: a second review is claimed, decided and approved by a senior reviewer (or an admin). */
  'SENIOR_REQUIRED',
  /** Internal: a timer fired for a deadline the case no longer has. Never reaches a caller. */
  'NO_SUCH_TIMER',
] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

export interface Refusal {
  code: RefusalCode;
  message: string;
}

export type Transition = { ok: true; state: CaseState; effects: Effect[] } | { ok: false; refusal: Refusal };

/** What opening a case needs: the event that opens it, scored, and the policy's terms. */
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

/** What opening a second review needs: the ended case it reviews again, and the user's (or backend's) request. */
export interface OpenSecondReview {
  caseId: string;
  accountId: string;
  locale: Locale;
  /** The policy's terms now (the review's SLA, four-eyes); the rules version the workflow decides. */
  terms: CaseTerms;
  at: number;
  previousCaseId: string;
  /** The first case's restriction as it ended (UPHELD or CLOSED), its score and reasons. */
  tier: RestrictiveTier;
  score: number;
  reasons: ReasonContribution[];
  excludedReviewers: string[];
  /** The first case's statements and answers, as they were written (their own time, actor and files). */
  carried: TimelineEntry[];
  statement: string;
  evidence?: string[];
  actor: Actor;
  requestKey: string;
  contact?: Contact;
}
