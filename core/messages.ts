// What Cordon's outbox carries: notices to a user and events for the backend, each built when the transition that
// called for it happened (workflows/messages.ts builds them), delivered by the dispatcher (activities/).
import type { Explanation, NoticeTemplate } from './case-types';
import type { Contact } from './events';
import type { ActorKind, CaseStatus, Locale, Outcome, ReasonCode, RestrictiveTier } from './model';

/** A message waiting to be sent; built when the transition happened so it says what was true then. */
export type OutboxMessage =
  { kind: 'NOTIFY_USER'; notice: UserNotice } | { kind: 'NOTIFY_BACKEND'; event: BackendEvent };

export interface UserNotice {
  caseId: string;
  accountId: string;
  locale: Locale;
  template: NoticeTemplate;
  tier: RestrictiveTier;
  status: CaseStatus;
  reasonCodes: ReasonCode[];
  /** The next thing the user must do by (ISO), if any. */
  deadline?: string;
  /** INFO_REQUESTED: the reviewer's question. */
  question?: string;
  /** OUTCOME: why, in the reviewer's words with an outcome code (a reason code before 0.5). */
  explanation?: Explanation;
  /** Where to reach the user, when the backend gave it (personal data: never logged). */
  contact?: Contact;
  idempotencyKey: string;
  /**
   * 0.5 (core/notice-facts.ts): what the case accepted from the user when the notice was built (core/user-actions.ts):
   * the mail lists only these. Absent in notices built before: the mail then lists the reasons' advice as it did.
   */
  actions?: NoticeActions;
  /** 0.5: while the case is in review, when a decision is expected (the review's SLA, or the approval's). */
  decisionDueAt?: string;
  /** 0.5, OUTCOME: the decision letter's facts, so the final mail carries the letter and outlives its link. */
  letter?: LetterFacts;
}

/** What the user may do on the case (core/user-actions.ts's UserActions, as the notice carries it). */
export interface NoticeActions {
  verify: boolean;
  confirm: boolean;
  confirmFrom: string | null;
  appeal: boolean;
  info: 'answer' | 'add' | null;
}

/** The facts of an ended case the decision letter states beyond its codes (no personal data). */
export interface LetterFacts {
  openedAt: string;
  decidedAt: string;
  /** Who ended it: a reviewer, the user (a verification), the system (a deadline), the backend (a retraction). */
  decidedBy: ActorKind;
  /** The case is itself a second review: its outcome is final within Cordon. */
  secondReview?: boolean;
  /** When the restriction ends, where the case has such a date. */
  until?: string;
}

export interface BackendEvent {
  type: 'restriction.changed' | 'case.outcome' | 'case.escalated' | 'case.break_glass';
  caseId: string;
  accountId: string;
  status: CaseStatus;
  tier: RestrictiveTier;
  restricted: boolean;
  reasonCodes: ReasonCode[];
  outcome: Outcome | null;
  at: string;
  idempotencyKey: string;
}

/**
 * An account's personal data was erased (POST /v1/erasures/{erasureId}/approval): the backend erases its own
 * copies. It concerns the account, not one of its cases (`caseId` is null), and goes out in order with the
 * account's other messages. Codes and IDs only.
 */
export interface AccountErasedEvent {
  type: 'account.erased';
  accountId: string;
  caseId: null;
  erasureId: string;
  /** When Cordon finished erasing (ISO). */
  at: string;
  idempotencyKey: string;
}

/**
 * A rule's guard tripped (core/guards.ts): many accounts were being restricted by one rule. It concerns no single
 * case or account (both null). Codes and counts only.
 */
export interface GuardTrippedEvent {
  type: 'guard.tripped';
  accountId: null;
  caseId: null;
  ruleId: string;
  /** What the trip does: `alert` (the rule keeps restricting) or `capAtStepUp`. */
  onTrip: 'alert' | 'capAtStepUp';
  /** The rule's matches in the sliding hour that tripped it, and its trailing 7-day hourly baseline. */
  hourCount: number;
  baselinePerHour: number;
  at: string;
  idempotencyKey: string;
}

/** Everything the backend's webhook and its change feed (GET /v1/changes) carry. */
export type WebhookEvent = BackendEvent | AccountErasedEvent | GuardTrippedEvent;

/** An outbox message about an account rather than one of its cases (Cordon's own, never a workflow's). */
export interface AccountMessage {
  kind: 'NOTIFY_BACKEND';
  event: AccountErasedEvent;
}

/** An outbox message about Cordon itself (a guard's trip): in order among themselves, apart from every account. */
export interface GuardMessage {
  kind: 'NOTIFY_BACKEND';
  event: GuardTrippedEvent;
}
