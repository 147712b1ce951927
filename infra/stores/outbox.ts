// The outbox: the messages owed to users and the backend, in order per account, with their delivery status. The
// workflow hands them over; the dispatcher leases and delivers them. A user notice's payload is sealed under its
// account's data key until its retention has passed (CORDON_MESSAGE_RETENTION_DAYS). While tracing is on, a
// message queued inside a trace (an activity of a traced request) keeps its W3C `traceparent` beside it
// (message_traces) until it is settled, so its delivery joins that trace.
import type {
  AccountMessage,
  GuardMessage,
  OutboxMessage,
  UserNotice,
  WebhookEvent,
} from '../../core/messages';
import { DataKeyError, SEALED_PREFIX, type DataKeys } from '../data-keys';
import { FIELD, messageIsPersonal, openJson, sealJson } from '../personal-data';
import { redactNoticesOf, redactSettledNotices } from '../personal-data-jobs';
import { currentTraceContext, type StoredTraceContext } from '../trace-context';
import { insertIgnore, type StoreContext } from './context';

export type DeliveryStatus = 'PENDING' | 'DELIVERED' | 'FAILED';

/** What the outbox holds: a case's messages, and Cordon's own about an account (account.erased) or itself. */
export type StoredOutboxMessage = OutboxMessage | AccountMessage | GuardMessage;

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
  /** The trace it was queued in (W3C traceparent, and tracestate if it had one), when tracing was on. */
  trace?: StoredTraceContext;
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
  traceparent?: string | null;
  tracestate?: string | null;
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
    ...(r.traceparent
      ? { trace: { traceparent: r.traceparent, ...(r.tracestate ? { tracestate: r.tracestate } : {}) } }
      : {}),
  };
}

export function keyOf(m: StoredOutboxMessage): string {
  return m.kind === 'NOTIFY_USER' ? m.notice.idempotencyKey : m.event.idempotencyKey;
}

/** The account and case a message belongs to; '' for a message that concerns no case. */
export function refsOf(m: StoredOutboxMessage): { accountId: string; caseId: string } {
  const p: UserNotice | WebhookEvent = m.kind === 'NOTIFY_USER' ? m.notice : m.event;
  return { accountId: p.accountId ?? '', caseId: p.caseId ?? '' };
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

export const DEFAULT_MESSAGE_RETENTION_MS = 30 * 86_400_000;

export class OutboxStore {
  constructor(
    private readonly c: StoreContext,
    /** How long a settled user notice keeps its personal fields. */
    private readonly retentionMs: number = DEFAULT_MESSAGE_RETENTION_MS,
  ) {}

  /** Queues messages in the order given; a message already queued (same idempotency key) is left alone. */
  async enqueue(messages: StoredOutboxMessage[]): Promise<void> {
    const { db, dataKeys, clock } = this.c;
    const now = clock();
    const trace = currentTraceContext();
    for (const m of messages) {
      const { accountId, caseId } = refsOf(m);
      await db.run(
        insertIgnore(db, 'messages', [
          'idempotency_key',
          'account_id',
          'case_id',
          'kind',
          'payload',
          'status',
          'next_attempt_at',
          'created_at',
          'updated_at',
        ]),
        [
          keyOf(m),
          accountId,
          caseId,
          m.kind,
          m.kind === 'NOTIFY_USER' && messageIsPersonal(m)
            ? await sealJson(dataKeys, accountId, FIELD.message, m)
            : JSON.stringify(m),
          'PENDING',
          now,
          now,
          now,
        ],
      );
      if (trace)
        await db.run(insertIgnore(db, 'message_traces', ['idempotency_key', 'traceparent']), [
          keyOf(m),
          trace.traceparent,
        ]);
      if (trace?.tracestate)
        await db.run(insertIgnore(db, 'message_tracestates', ['idempotency_key', 'tracestate']), [
          keyOf(m),
          trace.tracestate,
        ]);
    }
  }

  /**
   * Leases the next deliverable message of each account (the oldest pending one, if it is due and not leased
   * by another dispatcher): messages of one account go out in order, accounts do not wait for each other.
   */
  async leaseDue(limit: number, leaseMs: number): Promise<StoredMessage[]> {
    const { db } = this.c;
    const now = this.c.clock();
    const heads = await db.query<MessageRow>(
      `SELECT m.*, t.traceparent, s.tracestate FROM messages m
       LEFT JOIN message_traces t ON t.idempotency_key = m.idempotency_key
       LEFT JOIN message_tracestates s ON s.idempotency_key = m.idempotency_key
       WHERE m.status = 'PENDING'
         AND m.seq = (SELECT MIN(seq) FROM messages p WHERE p.account_id = m.account_id AND p.status = 'PENDING')
         AND m.next_attempt_at <= ? AND (m.leased_until IS NULL OR m.leased_until < ?)
       ORDER BY m.seq LIMIT ?`,
      [now, now, limit],
    );
    const leased: MessageRow[] = [];
    for (const r of heads) {
      const won = await db.run(
        `UPDATE messages SET leased_until = ? WHERE seq = ? AND status = 'PENDING'
         AND (leased_until IS NULL OR leased_until < ?)`,
        [now + leaseMs, r.seq, now],
      );
      if (won === 1) leased.push(r);
    }
    // One at a time, so a message that cannot be opened does not hold up the others.
    const messages: StoredMessage[] = [];
    for (const r of leased) {
      try {
        messages.push(...(await messagesFrom(this.c.dataKeys, [r])));
      } catch (err) {
        if (!(err instanceof DataKeyError)) throw err;
        // Its personal data was erased: it can never go out. (A wrapping key not configured is a setting to fix:
        // the message stays leased and is tried again when the lease ends.)
        if (err.reason === 'GONE') await this.markFailed(r.seq, 'its personal data was erased');
      }
    }
    return messages;
  }

  async markDelivered(seq: number, channels: string[]): Promise<void> {
    await this.c.db.run(
      `UPDATE messages SET status = 'DELIVERED', attempts = attempts + 1, leased_until = NULL, channels = ?,
       last_error = NULL, updated_at = ? WHERE seq = ?`,
      [JSON.stringify(channels), this.c.clock(), seq],
    );
  }

  async markRetry(seq: number, error: string, nextAttemptAt: number): Promise<void> {
    await this.c.db.run(
      `UPDATE messages SET attempts = attempts + 1, leased_until = NULL, last_error = ?, next_attempt_at = ?,
       updated_at = ? WHERE seq = ?`,
      [error, nextAttemptAt, this.c.clock(), seq],
    );
  }

  async markFailed(seq: number, error: string): Promise<void> {
    await this.c.db.run(
      `UPDATE messages SET status = 'FAILED', attempts = attempts + 1, leased_until = NULL, last_error = ?,
       updated_at = ? WHERE seq = ?`,
      [error, this.c.clock(), seq],
    );
  }

  async messagesOf(caseId: string): Promise<StoredMessage[]> {
    const rows = await this.c.db.query<MessageRow>('SELECT * FROM messages WHERE case_id = ? ORDER BY seq', [
      caseId,
    ]);
    return messagesFrom(this.c.dataKeys, rows);
  }

  async counts(): Promise<{ kind: string; status: string; count: number }[]> {
    const rows = await this.c.db.query<{ kind: string; status: string; n: number }>(
      'SELECT kind, status, COUNT(*) AS n FROM messages GROUP BY kind, status ORDER BY kind, status',
    );
    return rows.map((r) => ({ kind: r.kind, status: r.status, count: Number(r.n) }));
  }

  async pendingCount(): Promise<number> {
    const rows = await this.c.db.query<{ n: number }>(
      "SELECT COUNT(*) AS n FROM messages WHERE status = 'PENDING'",
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Removes the personal fields of every notice of an account now (erasure, before its key is destroyed). */
  redactNoticesOf(accountId: string): Promise<number> {
    return redactNoticesOf(this.c.db, this.c.dataKeys, accountId);
  }

  /** Removes the personal fields of notices settled longer than the retention before `now`, and the trace
   * contexts of settled messages (their deliveries are over). */
  async purge(now: number): Promise<void> {
    await redactSettledNotices(this.c.db, this.c.dataKeys, now - this.retentionMs);
    for (const table of ['message_traces', 'message_tracestates'])
      await this.c.db.run(
        `DELETE FROM ${table} WHERE idempotency_key IN
         (SELECT idempotency_key FROM messages WHERE status <> 'PENDING')`,
      );
  }
}
