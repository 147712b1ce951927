// What Cordon's outbox carries: notices to a user and events for the backend, each built when the transition that
// called for it happened (workflows/messages.ts builds them), delivered by the dispatcher (activities/).
import type { Explanation, NoticeTemplate } from './case-types';
import type { Contact } from './events';
import type { CaseStatus, Locale, Outcome, ReasonCode, RestrictiveTier } from './model';

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
  /** OUTCOME: why, in the reviewer's words with a catalogue reason. */
  explanation?: Explanation;
  /** Where to reach the user, when the backend gave it (personal data: never logged). */
  contact?: Contact;
  idempotencyKey: string;
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

/** Everything the backend's webhook and its change feed (GET /v1/changes) carry. */
export type WebhookEvent = BackendEvent | AccountErasedEvent;

/** An outbox message about an account rather than one of its cases (Cordon's own, never a workflow's). */
export interface AccountMessage {
  kind: 'NOTIFY_BACKEND';
  event: AccountErasedEvent;
}
