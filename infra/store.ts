// Cordon's durable records outside Temporal: event and request idempotency, the message outbox with its
// delivery status (also the backend's change feed), and the archive of ended cases. Personal values are sealed
// under their account's data key (infra/personal-data.ts says which); IDs, statuses and times stay plain columns.
import { dirname } from 'node:path';
import type { AccountRestriction } from '../core/activity-contract';
import { parseCaseId, type ArchivedRequest, type CaseView, type RiskEventResult } from '../core/contracts';
import type { CodecKey } from './codec';
import { DataKeyError, DataKeys, processLocalWrapKeys, wrapKeysOf } from './data-keys';
import { openDatabase, type Database } from './database';
import { FIELD, eventResultIsPersonal, messageIsPersonal, openJson, sealJson } from './personal-data';
import { redactNoticesOf, redactSettledNotices } from './personal-data-jobs';
import {
  keyOf,
  messagesFrom,
  refsOf,
  type Change,
  type MessageRow,
  type StoredMessage,
  type StoredOutboxMessage,
} from './store-messages';
import { recordShadow, shadowReport } from './store-shadow';

export type { ShadowDisagreement } from './store-shadow';
export type { Change, DeliveryStatus, StoredMessage, StoredOutboxMessage } from './store-messages';

/** The account a case belongs to: its ID says (see makeCaseId). */
function accountOfCase(caseId: string): string {
  const parsed = parseCaseId(caseId);
  if (!parsed) throw new Error(`not a case ID: ${caseId}`);
  return parsed.accountId;
}

export interface StoreOptions {
  /** Seals personal values; without it (tests on a bare database) a key that lives as long as the process. */
  dataKeys?: DataKeys;
  /** How long a settled user notice keeps its personal fields (default 30 days). */
  messageRetentionMs?: number;
}

export const DEFAULT_MESSAGE_RETENTION_MS = 30 * 86_400_000;

export class Store {
  readonly dataKeys: DataKeys;
  private readonly messageRetentionMs: number;

  constructor(
    readonly db: Database,
    private readonly clock: () => number = Date.now,
    o: StoreOptions = {},
  ) {
    this.dataKeys = o.dataKeys ?? new DataKeys(db, processLocalWrapKeys(), { register: true });
    this.messageRetentionMs = o.messageRetentionMs ?? DEFAULT_MESSAGE_RETENTION_MS;
  }

  private insertIgnore(table: string, columns: string[]): string {
    const marks = columns.map(() => '?').join(', ');
    return this.db.dialect === 'postgres'
      ? `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${marks}) ON CONFLICT DO NOTHING`
      : `INSERT OR IGNORE INTO ${table} (${columns.join(', ')}) VALUES (${marks})`;
  }

  // --- risk events ---------------------------------------------------------------------------------------

  async recordEvent(result: RiskEventResult): Promise<void> {
    const first = { ...result, duplicate: false };
    await this.db.run(this.insertIgnore('event_ids', ['account_id', 'event_id', 'result', 'created_at']), [
      result.accountId,
      result.eventId,
      eventResultIsPersonal(first)
        ? await sealJson(this.dataKeys, result.accountId, FIELD.event, first)
        : JSON.stringify(first),
      this.clock(),
    ]);
  }

  /** The first answer to this event ID if it was seen within the window. */
  async findEvent(accountId: string, eventId: string, windowMs: number): Promise<RiskEventResult | null> {
    const rows = await this.db.query<{ result: string }>(
      'SELECT result FROM event_ids WHERE account_id = ? AND event_id = ? AND created_at >= ?',
      [accountId, eventId, this.clock() - windowMs],
    );
    return rows[0] ? openJson<RiskEventResult>(this.dataKeys, accountId, FIELD.event, rows[0].result) : null;
  }

  // --- human actions -------------------------------------------------------------------------------------

  async findRequest(requestKey: string): Promise<{ fingerprint: string; response: CaseView } | null> {
    const rows = await this.db.query<{ case_id: string; fingerprint: string; response: string }>(
      'SELECT case_id, fingerprint, response FROM request_records WHERE request_key = ?',
      [requestKey],
    );
    const r = rows[0];
    if (!r) return null;
    const response = await openJson<CaseView>(
      this.dataKeys,
      accountOfCase(r.case_id),
      FIELD.request,
      r.response,
    );
    return { fingerprint: r.fingerprint, response };
  }

  async recordRequest(requestKey: string, caseId: string, fingerprint: string, response: CaseView) {
    await this.db.run(
      this.insertIgnore('request_records', [
        'request_key',
        'case_id',
        'fingerprint',
        'response',
        'created_at',
      ]),
      [
        requestKey,
        caseId,
        fingerprint,
        await sealJson(this.dataKeys, accountOfCase(caseId), FIELD.request, response),
        this.clock(),
      ],
    );
  }

  // --- outbox --------------------------------------------------------------------------------------------

  /** Queues messages in the order given; a message already queued (same idempotency key) is left alone. */
  async enqueue(messages: StoredOutboxMessage[]): Promise<void> {
    const now = this.clock();
    for (const m of messages) {
      const { accountId, caseId } = refsOf(m);
      await this.db.run(
        this.insertIgnore('messages', [
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
            ? await sealJson(this.dataKeys, accountId, FIELD.message, m)
            : JSON.stringify(m),
          'PENDING',
          now,
          now,
          now,
        ],
      );
    }
  }

  /**
   * Leases the next deliverable message of each account (the oldest pending one, if it is due and not leased
   * by another dispatcher): messages of one account go out in order, accounts do not wait for each other.
   */
  async leaseDue(limit: number, leaseMs: number): Promise<StoredMessage[]> {
    const now = this.clock();
    const heads = await this.db.query<MessageRow>(
      `SELECT m.* FROM messages m
       WHERE m.status = 'PENDING'
         AND m.seq = (SELECT MIN(seq) FROM messages p WHERE p.account_id = m.account_id AND p.status = 'PENDING')
         AND m.next_attempt_at <= ? AND (m.leased_until IS NULL OR m.leased_until < ?)
       ORDER BY m.seq LIMIT ?`,
      [now, now, limit],
    );
    const leased: MessageRow[] = [];
    for (const r of heads) {
      const won = await this.db.run(
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
        messages.push(...(await messagesFrom(this.dataKeys, [r])));
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
    await this.db.run(
      `UPDATE messages SET status = 'DELIVERED', attempts = attempts + 1, leased_until = NULL, channels = ?,
       last_error = NULL, updated_at = ? WHERE seq = ?`,
      [JSON.stringify(channels), this.clock(), seq],
    );
  }

  async markRetry(seq: number, error: string, nextAttemptAt: number): Promise<void> {
    await this.db.run(
      `UPDATE messages SET attempts = attempts + 1, leased_until = NULL, last_error = ?, next_attempt_at = ?,
       updated_at = ? WHERE seq = ?`,
      [error, nextAttemptAt, this.clock(), seq],
    );
  }

  async markFailed(seq: number, error: string): Promise<void> {
    await this.db.run(
      `UPDATE messages SET status = 'FAILED', attempts = attempts + 1, leased_until = NULL, last_error = ?,
       updated_at = ? WHERE seq = ?`,
      [error, this.clock(), seq],
    );
  }

  async messagesOf(caseId: string): Promise<StoredMessage[]> {
    const rows = await this.db.query<MessageRow>('SELECT * FROM messages WHERE case_id = ? ORDER BY seq', [
      caseId,
    ]);
    return messagesFrom(this.dataKeys, rows);
  }

  async messageCounts(): Promise<{ kind: string; status: string; count: number }[]> {
    const rows = await this.db.query<{ kind: string; status: string; n: number }>(
      'SELECT kind, status, COUNT(*) AS n FROM messages GROUP BY kind, status ORDER BY kind, status',
    );
    return rows.map((r) => ({ kind: r.kind, status: r.status, count: Number(r.n) }));
  }

  async pendingCount(): Promise<number> {
    const rows = await this.db.query<{ n: number }>(
      "SELECT COUNT(*) AS n FROM messages WHERE status = 'PENDING'",
    );
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Restriction changes and outcomes after a cursor, in the order they happened. On PostgreSQL a sequence
   * number can commit after a higher one, so rows younger than a second are left for the next call.
   */
  async changesAfter(cursor: number, limit: number): Promise<Change[]> {
    const settled = this.db.dialect === 'postgres' ? this.clock() - 1_000 : Number.MAX_SAFE_INTEGER;
    const rows = await this.db.query<MessageRow>(
      `SELECT * FROM messages WHERE kind = 'NOTIFY_BACKEND' AND seq > ? AND created_at <= ? ORDER BY seq LIMIT ?`,
      [cursor, settled, limit],
    );
    // Backend events are kept plain (nothing personal): the feed needs no data key.
    return (await messagesFrom(this.dataKeys, rows)).map((m) => {
      const event = (m.message as Extract<StoredOutboxMessage, { kind: 'NOTIFY_BACKEND' }>).event;
      return { cursor: String(m.seq), type: event.type, event };
    });
  }

  // --- archive of ended cases ----------------------------------------------------------------------------

  async archiveCase(view: CaseView, requests: ArchivedRequest[], events: RiskEventResult[], keepMs: number) {
    const now = this.clock();
    await this.db.run(
      this.insertIgnore('case_archive', [
        'case_id',
        'account_id',
        'ended_at',
        'expires_at',
        'view',
        'requests',
      ]),
      [
        view.caseId,
        view.accountId,
        now,
        now + keepMs,
        await sealJson(this.dataKeys, view.accountId, FIELD.archiveView, view),
        await sealJson(this.dataKeys, view.accountId, FIELD.archiveRequests, requests),
      ],
    );
    for (const e of events) await this.recordEvent(e);
  }

  async archivedCase(caseId: string): Promise<{ view: CaseView; requests: ArchivedRequest[] } | null> {
    const rows = await this.db.query<{ account_id: string; view: string; requests: string }>(
      'SELECT account_id, view, requests FROM case_archive WHERE case_id = ? AND expires_at > ?',
      [caseId, this.clock()],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      view: await openJson<CaseView>(this.dataKeys, r.account_id, FIELD.archiveView, r.view),
      requests: await openJson<ArchivedRequest[]>(
        this.dataKeys,
        r.account_id,
        FIELD.archiveRequests,
        r.requests,
      ),
    };
  }

  // --- restriction records -------------------------------------------------------------------------------

  /** Writes an account's record unless the stored one is as new or newer (a late retry changes nothing). */
  async recordRestriction(r: AccountRestriction, onlyIfAbsent = false): Promise<void> {
    const columns = [
      'account_id',
      'case_id',
      'status',
      'tier',
      'restricted',
      'is_open',
      'version',
      'updated_at',
    ];
    const values = [r.accountId, r.caseId, r.status, r.tier, r.restricted ? 1 : 0, r.open ? 1 : 0, r.version];
    if (onlyIfAbsent) {
      await this.db.run(this.insertIgnore('account_restrictions', columns), [...values, this.clock()]);
      return;
    }
    await this.db.run(
      `INSERT INTO account_restrictions (${columns.join(', ')}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (account_id) DO UPDATE SET case_id = excluded.case_id, status = excluded.status,
         tier = excluded.tier, restricted = excluded.restricted, is_open = excluded.is_open,
         version = excluded.version, updated_at = excluded.updated_at
       WHERE account_restrictions.version < excluded.version`,
      [...values, this.clock()],
    );
  }

  /** The records of these accounts, in the order asked (null where an account has none). */
  async restrictionsOf(accountIds: readonly string[]): Promise<(AccountRestriction | null)[]> {
    if (accountIds.length === 0) return [];
    const rows = await this.db.query<{
      account_id: string;
      case_id: string;
      status: string;
      tier: string;
      restricted: number;
      is_open: number;
      version: string;
    }>(
      `SELECT account_id, case_id, status, tier, restricted, is_open, version FROM account_restrictions
       WHERE account_id IN (${accountIds.map(() => '?').join(', ')})`,
      [...accountIds],
    );
    const byAccount = new Map(rows.map((r) => [r.account_id, r]));
    return accountIds.map((id) => {
      const r = byAccount.get(id);
      return r
        ? {
            accountId: r.account_id,
            caseId: r.case_id,
            status: r.status as AccountRestriction['status'],
            tier: r.tier as AccountRestriction['tier'],
            restricted: Number(r.restricted) === 1,
            open: Number(r.is_open) === 1,
            version: r.version,
          }
        : null;
    });
  }

  // --- deliveries by channels that cannot deduplicate -----------------------------------------------------

  async wasDelivered(channel: string, idempotencyKey: string): Promise<boolean> {
    const rows = await this.db.query(
      'SELECT 1 AS found FROM channel_deliveries WHERE channel = ? AND idempotency_key = ?',
      [channel, idempotencyKey],
    );
    return rows.length > 0;
  }

  async recordDelivery(channel: string, idempotencyKey: string): Promise<void> {
    await this.db.run(
      this.insertIgnore('channel_deliveries', ['channel', 'idempotency_key', 'delivered_at']),
      [channel, idempotencyKey, this.clock()],
    );
  }

  // --- rate limits ---------------------------------------------------------------------------------------

  /**
   * Counts one hit on a key in the current fixed window and says whether it is within the limit; when it is
   * not, how long until the window ends (for Retry-After). One statement, so concurrent processes count right.
   */
  async hit(
    key: string,
    windowMs: number,
    limit: number,
  ): Promise<{ allowed: boolean; retryAfterMs: number }> {
    const now = this.clock();
    const windowStart = Math.floor(now / windowMs) * windowMs;
    const rows = await this.db.query<{ hits: number }>(
      `INSERT INTO rate_limits (limit_key, window_start, hits) VALUES (?, ?, 1)
       ON CONFLICT (limit_key, window_start) DO UPDATE SET hits = rate_limits.hits + 1
       RETURNING hits`,
      [key, windowStart],
    );
    const hits = Number(rows[0]?.hits ?? 1);
    return { allowed: hits <= limit, retryAfterMs: windowStart + windowMs - now };
  }

  // --- shadow mode and reports (infra/store-shadow.ts) ----------------------------------------------------

  recordShadow(o: Parameters<typeof recordShadow>[1]): Promise<void> {
    return recordShadow(this.db, o);
  }

  shadowReport(from: number, to: number, examples: number): ReturnType<typeof shadowReport> {
    return shadowReport(this.db, from, to, examples);
  }

  /** The views of cases that ended within [from, to), oldest first, in pages (for reports over long windows). */
  async *endedCases(from: number, to: number, pageSize = 500): AsyncGenerator<CaseView> {
    let after = { endedAt: from - 1, caseId: '' };
    for (;;) {
      const rows = await this.db.query<{
        case_id: string;
        account_id: string;
        ended_at: number;
        view: string;
      }>(
        `SELECT case_id, account_id, ended_at, view FROM case_archive
         WHERE ended_at < ? AND (ended_at > ? OR (ended_at = ? AND case_id > ?))
         ORDER BY ended_at, case_id LIMIT ?`,
        [to, after.endedAt, after.endedAt, after.caseId, pageSize],
      );
      // One read for the page's keys, not one per case.
      await this.dataKeys.preload(rows.map((r) => r.account_id));
      for (const r of rows)
        yield await openJson<CaseView>(this.dataKeys, r.account_id, FIELD.archiveView, r.view);
      if (rows.length < pageSize) return;
      const last = rows[rows.length - 1]!;
      after = { endedAt: Number(last.ended_at), caseId: last.case_id };
    }
  }

  /** Removes the personal fields of every notice of an account now (erasure, before its key is destroyed). */
  redactNoticesOf(accountId: string): Promise<number> {
    return redactNoticesOf(this.db, this.dataKeys, accountId);
  }

  /** Drops what has outlived its keeping period, and settled notices' personal fields past their retention. */
  async purge(eventWindowMs: number): Promise<void> {
    const now = this.clock();
    await redactSettledNotices(this.db, this.dataKeys, now - this.messageRetentionMs);
    // No rate-limit window is longer than a day.
    await this.db.run('DELETE FROM rate_limits WHERE window_start < ?', [now - 86_400_000]);
    await this.db.run('DELETE FROM case_archive WHERE expires_at <= ?', [now]);
    await this.db.run('DELETE FROM event_ids WHERE created_at < ?', [now - eventWindowMs]);
    await this.db.run('DELETE FROM request_records WHERE created_at < ?', [now - eventWindowMs]);
  }
}

/**
 * Opens Cordon's database as configured (PostgreSQL by URL, else the SQLite file in the data folder), with data
 * keys wrapped by CORDON_CODEC_KEYS, or in development by the codec key in the data folder (the SQLite file's).
 */
export async function openStore(config: {
  url?: string;
  sqliteFile: string;
  codecKeys?: readonly CodecKey[];
  messageRetentionMs?: number;
}): Promise<Store> {
  const db = await openDatabase(config);
  const wrapKeys = wrapKeysOf({ codecKeys: config.codecKeys, dataDir: dirname(config.sqliteFile) });
  return new Store(db, Date.now, {
    dataKeys: new DataKeys(db, wrapKeys, { register: true }),
    messageRetentionMs: config.messageRetentionMs,
  });
}
