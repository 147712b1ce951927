// The activity interface as the workflow sees it (type-only there); implementations are in activities/.
import type { CaseArchive, RiskEventResult } from './contracts';
import type { RiskEvent } from './events';
import type { BackendEvent, OutboxMessage, UserNotice } from './messages';
import type { CaseStatus, CaseTerms, Decision, ReasonCode, RestrictiveTier } from './model';

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
