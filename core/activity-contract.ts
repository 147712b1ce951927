// The activity interface as the workflow sees it (type-only there); implementations are in activities/.
import type { Explanation, NoticeTemplate } from './case-machine';
import type { CaseArchive, OutboxMessage, RiskEventResult } from './contracts';
import type { Contact, RiskEvent } from './events';
import type { CaseStatus, CaseTerms, Decision, Locale, Outcome, ReasonCode, RestrictiveTier } from './model';

export interface ScoreResult {
  decision: Decision;
  /** The policy's terms, fixed into the case if this event opens one. */
  terms: CaseTerms;
  /** When asked: the first answer Cordon's database holds for this event ID (then nothing is to be done). */
  firstAnswer?: RiskEventResult;
}

/**
 * What the hot-path restriction check answers for an account, written by the case to Cordon's database
 * whenever it opens, changes status or ends. `version` only increases (case start, workflow time, sequence,
 * as fixed-width text), so a late retry never overwrites a newer state.
 */
export interface AccountRestriction {
  accountId: string;
  caseId: string;
  status: CaseStatus;
  tier: RestrictiveTier;
  restricted: boolean;
  /** An open case (also MONITORING, which restricts nothing). */
  open: boolean;
  version: string;
}

export interface RestrictionCommand {
  caseId: string;
  accountId: string;
  idempotencyKey: string;
  /** The case's state after the transition, recorded before the gateway is called. */
  record?: AccountRestriction;
  /** 0.4: the messages of the same transition, handed to the outbox once the gateway has the command. */
  messages?: OutboxMessage[];
}

export interface ApplyRestrictionCommand extends RestrictionCommand {
  tier: RestrictiveTier;
  lockout: boolean;
  reasonCodes: ReasonCode[];
}

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

export interface Delivery {
  channel: string;
  /** False when the receiver said it had already seen this idempotency key. */
  delivered: boolean;
}

export interface CaseArchiveWithRecord {
  record?: AccountRestriction;
}

export interface CaseActivities {
  scoreRiskEvent(event: RiskEvent, lookupFirstAnswer?: boolean): Promise<ScoreResult>;
  applyRestriction(command: ApplyRestrictionCommand): Promise<void>;
  liftRestriction(command: RestrictionCommand): Promise<void>;
  closeAccount(command: RestrictionCommand): Promise<void>;
  notifyUser(notice: UserNotice): Promise<Delivery[]>;
  notifyBackend(event: BackendEvent): Promise<Delivery>;
  /** Hands messages to Cordon's outbox (its database), where the dispatcher delivers them in order. */
  enqueueMessages(messages: OutboxMessage[], record?: AccountRestriction): Promise<void>;
  /** Writes the account's restriction record (0.3: on every change of status, tier or openness). */
  recordRestriction(record: AccountRestriction): Promise<void>;
  /** The first answer Cordon's database holds for this event ID of the account within its window, if any. */
  firstAnswerOf(accountId: string, eventId: string): Promise<RiskEventResult | null>;
  /** Writes first answers to Cordon's database (a case hands over the IDs it no longer keeps itself). */
  recordEvents(results: RiskEventResult[]): Promise<void>;
  /** Keeps an ended case's final view, its answered requests and events in Cordon's database. */
  archiveCase(archive: CaseArchive & CaseArchiveWithRecord): Promise<void>;
}
