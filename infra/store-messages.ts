// The outbox's rows as the store hands them out: a message owed to a user or the backend with its delivery status.
// A user notice's payload is sealed under its account's data key until its retention has passed.
import type { AccountMessage, UserNotice, WebhookEvent } from '../core/activity-contract';
import type { OutboxMessage } from '../core/contracts';
import { SEALED_PREFIX, type DataKeys } from './data-keys';
import { FIELD, openJson } from './personal-data';

export type DeliveryStatus = 'PENDING' | 'DELIVERED' | 'FAILED';

/** What the outbox holds: a case's messages, and Cordon's own about an account (account.erased). */
export type StoredOutboxMessage = OutboxMessage | AccountMessage;

export interface StoredMessage {
  seq: number;
  idempotencyKey: string;
  accountId: string;
  caseId: string;
  message: StoredOutboxMessage;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  channels: string[];
  createdAt: number;
  updatedAt: number;
  /** Its personal fields were removed after the retention (CORDON_MESSAGE_RETENTION_DAYS). */
  redacted?: true;
}

export interface Change {
  cursor: string;
  type: WebhookEvent['type'];
  event: WebhookEvent;
}

export interface MessageRow {
  seq: number;
  idempotency_key: string;
  account_id: string;
  case_id: string;
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  last_error: string | null;
  channels: string | null;
  created_at: number;
  updated_at: number;
  [k: string]: unknown;
}

export function toMessage(r: MessageRow, message: StoredOutboxMessage): StoredMessage {
  const { redacted, ...rest } = message as StoredOutboxMessage & { redacted?: true };
  return {
    seq: r.seq,
    idempotencyKey: r.idempotency_key,
    accountId: r.account_id,
    caseId: r.case_id,
    message: rest,
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    channels: r.channels ? (JSON.parse(r.channels) as string[]) : [],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    ...(redacted ? { redacted } : {}),
  };
}

export function keyOf(m: StoredOutboxMessage): string {
  return m.kind === 'NOTIFY_USER' ? m.notice.idempotencyKey : m.event.idempotencyKey;
}

/** The account and case a message belongs to; '' for a message that concerns no case. */
export function refsOf(m: StoredOutboxMessage): { accountId: string; caseId: string } {
  const p: UserNotice | WebhookEvent = m.kind === 'NOTIFY_USER' ? m.notice : m.event;
  return { accountId: p.accountId, caseId: p.caseId ?? '' };
}

/** Rows as messages, their payloads opened (one read for the batch's data keys). */
export async function messagesFrom(keys: DataKeys, rows: MessageRow[]): Promise<StoredMessage[]> {
  await keys.preload(rows.filter((r) => r.payload.startsWith(SEALED_PREFIX)).map((r) => r.account_id));
  return Promise.all(
    rows.map(async (r) =>
      toMessage(r, await openJson<StoredOutboxMessage>(keys, r.account_id, FIELD.message, r.payload)),
    ),
  );
}
