// Cordon's durable records outside Temporal: event and request idempotency, the message outbox with its
// delivery status (also the backend's change feed), and the archive of ended cases.
import type { AccountRestriction, BackendEvent, UserNotice } from '../core/activity-contract';
import type { ArchivedRequest, CaseView, OutboxMessage, RiskEventResult } from '../core/contracts';
import { openDatabase, type Database } from './database';

export type DeliveryStatus = 'PENDING' | 'DELIVERED' | 'FAILED';

export interface StoredMessage {
  seq: number;
  idempotencyKey: string;
  accountId: string;
  caseId: string;
  message: OutboxMessage;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  channels: string[];
  createdAt: number;
  updatedAt: number;
}

export interface Change {
  cursor: string;
  type: BackendEvent['type'];
  event: BackendEvent;
}

interface MessageRow {
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

function toMessage(r: MessageRow): StoredMessage {
  return {
    seq: r.seq,
    idempotencyKey: r.idempotency_key,
    accountId: r.account_id,
    caseId: r.case_id,
    message: JSON.parse(r.payload) as OutboxMessage,
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    channels: r.channels ? (JSON.parse(r.channels) as string[]) : [],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function keyOf(m: OutboxMessage): string {
  return m.kind === 'NOTIFY_USER' ? m.notice.idempotencyKey : m.event.idempotencyKey;
}

function refsOf(m: OutboxMessage): { accountId: string; caseId: string } {
  const p: UserNotice | BackendEvent = m.kind === 'NOTIFY_USER' ? m.notice : m.event;
  return { accountId: p.accountId, caseId: p.caseId };
}

export class Store {
  constructor(
    readonly db: Database,
    private readonly clock: () => number = Date.now,
  ) {}

  private insertIgnore(table: string, columns: string[]): string {
    const marks = columns.map(() => '?').join(', ');
    return this.db.dialect === 'postgres'
      ? `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${marks}) ON CONFLICT DO NOTHING`
      : `INSERT OR IGNORE INTO ${table} (${columns.join(', ')}) VALUES (${marks})`;
  }

  // --- risk events ---------------------------------------------------------------------------------------

  async recordEvent(result: RiskEventResult): Promise<void> {
    await this.db.run(this.insertIgnore('event_ids', ['account_id', 'event_id', 'result', 'created_at']), [
      result.accountId,
      result.eventId,
      JSON.stringify({ ...result, duplicate: false }),
      this.clock(),
    ]);
  }

  /** The first answer to this event ID if it was seen within the window. */
  async findEvent(accountId: string, eventId: string, windowMs: number): Promise<RiskEventResult | null> {
    const rows = await this.db.query<{ result: string }>(
      'SELECT result FROM event_ids WHERE account_id = ? AND event_id = ? AND created_at >= ?',
      [accountId, eventId, this.clock() - windowMs],
    );
    return rows[0] ? (JSON.parse(rows[0].result) as RiskEventResult) : null;
  }

  // --- human actions -------------------------------------------------------------------------------------

  async findRequest(requestKey: string): Promise<{ fingerprint: string; response: CaseView } | null> {
    const rows = await this.db.query<{ fingerprint: string; response: string }>(
      'SELECT fingerprint, response FROM request_records WHERE request_key = ?',
      [requestKey],
    );
    const r = rows[0];
    return r ? { fingerprint: r.fingerprint, response: JSON.parse(r.response) as CaseView } : null;
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
      [requestKey, caseId, fingerprint, JSON.stringify(response), this.clock()],
    );
  }

  // --- outbox --------------------------------------------------------------------------------------------

  /** Queues messages in the order given; a message already queued (same idempotency key) is left alone. */
  async enqueue(messages: OutboxMessage[]): Promise<void> {
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
        [keyOf(m), accountId, caseId, m.kind, JSON.stringify(m), 'PENDING', now, now, now],
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
    const leased: StoredMessage[] = [];
    for (const r of heads) {
      const won = await this.db.run(
        `UPDATE messages SET leased_until = ? WHERE seq = ? AND status = 'PENDING'
         AND (leased_until IS NULL OR leased_until < ?)`,
        [now + leaseMs, r.seq, now],
      );
      if (won === 1) leased.push(toMessage(r));
    }
    return leased;
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
    return rows.map(toMessage);
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
    return rows.map((r) => {
      const m = toMessage(r);
      const event = (m.message as Extract<OutboxMessage, { kind: 'NOTIFY_BACKEND' }>).event;
      return { cursor: String(r.seq), type: event.type, event };
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
      [view.caseId, view.accountId, now, now + keepMs, JSON.stringify(view), JSON.stringify(requests)],
    );
    for (const e of events) await this.recordEvent(e);
  }

  async archivedCase(caseId: string): Promise<{ view: CaseView; requests: ArchivedRequest[] } | null> {
    const rows = await this.db.query<{ view: string; requests: string }>(
      'SELECT view, requests FROM case_archive WHERE case_id = ? AND expires_at > ?',
      [caseId, this.clock()],
    );
    const r = rows[0];
    return r
      ? { view: JSON.parse(r.view) as CaseView, requests: JSON.parse(r.requests) as ArchivedRequest[] }
      : null;
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

  // --- shadow mode and reports --------------------------------------------------------------------------

  /** One live event scored by a candidate policy; the disagreement, if any, is kept once per event. */
  async recordShadow(o: {
    at: number;
    liveVersion: string;
    candidateVersion: string;
    disagreement?: ShadowDisagreement;
  }): Promise<void> {
    const day = new Date(o.at).toISOString().slice(0, 10);
    const d = o.disagreement;
    const added = d
      ? await this.db.run(
          this.insertIgnore('shadow_disagreements', [
            'account_id',
            'event_id',
            'candidate_version',
            'live_version',
            'at',
            'event_type',
            'live_tier',
            'candidate_tier',
            'live_score',
            'candidate_score',
            'live_reasons',
            'candidate_reasons',
          ]),
          [
            d.accountId,
            d.eventId,
            o.candidateVersion,
            o.liveVersion,
            o.at,
            d.eventType,
            d.liveTier,
            d.candidateTier,
            d.liveScore,
            d.candidateScore,
            JSON.stringify(d.liveReasons),
            JSON.stringify(d.candidateReasons),
          ],
        )
      : 0;
    await this.db.run(
      `INSERT INTO shadow_counts (day, live_version, candidate_version, scored, disagreements) VALUES (?, ?, ?, 1, ?)
       ON CONFLICT (day, live_version, candidate_version) DO UPDATE SET
         scored = shadow_counts.scored + 1, disagreements = shadow_counts.disagreements + excluded.disagreements`,
      [day, o.liveVersion, o.candidateVersion, added],
    );
  }

  /** Counts per day and policy pair within [from, to), and the latest disagreements (at most `examples`). */
  async shadowReport(
    from: number,
    to: number,
    examples: number,
  ): Promise<{
    days: {
      day: string;
      liveVersion: string;
      candidateVersion: string;
      scored: number;
      disagreements: number;
    }[];
    transitions: { liveTier: string; candidateTier: string; count: number }[];
    latest: (ShadowDisagreement & { at: number; liveVersion: string; candidateVersion: string })[];
  }> {
    const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);
    const days = await this.db.query<{
      day: string;
      live_version: string;
      candidate_version: string;
      scored: number;
      disagreements: number;
    }>(
      `SELECT day, live_version, candidate_version, scored, disagreements FROM shadow_counts
       WHERE day >= ? AND day <= ? ORDER BY day, live_version, candidate_version`,
      [dayOf(from), dayOf(to - 1)],
    );
    const transitions = await this.db.query<{ live_tier: string; candidate_tier: string; n: number }>(
      `SELECT live_tier, candidate_tier, COUNT(*) AS n FROM shadow_disagreements WHERE at >= ? AND at < ?
       GROUP BY live_tier, candidate_tier ORDER BY n DESC, live_tier, candidate_tier`,
      [from, to],
    );
    const latest = await this.db.query<Record<string, string | number>>(
      `SELECT * FROM shadow_disagreements WHERE at >= ? AND at < ? ORDER BY at DESC, event_id LIMIT ?`,
      [from, to, examples],
    );
    return {
      days: days.map((d) => ({
        day: d.day,
        liveVersion: d.live_version,
        candidateVersion: d.candidate_version,
        scored: Number(d.scored),
        disagreements: Number(d.disagreements),
      })),
      transitions: transitions.map((t) => ({
        liveTier: t.live_tier,
        candidateTier: t.candidate_tier,
        count: Number(t.n),
      })),
      latest: latest.map((r) => ({
        at: Number(r.at),
        liveVersion: String(r.live_version),
        candidateVersion: String(r.candidate_version),
        accountId: String(r.account_id),
        eventId: String(r.event_id),
        eventType: String(r.event_type),
        liveTier: String(r.live_tier),
        candidateTier: String(r.candidate_tier),
        liveScore: Number(r.live_score),
        candidateScore: Number(r.candidate_score),
        liveReasons: JSON.parse(String(r.live_reasons)) as string[],
        candidateReasons: JSON.parse(String(r.candidate_reasons)) as string[],
      })),
    };
  }

  /** The views of cases that ended within [from, to), oldest first, in pages (for reports over long windows). */
  async *endedCases(from: number, to: number, pageSize = 500): AsyncGenerator<CaseView> {
    let after = { endedAt: from - 1, caseId: '' };
    for (;;) {
      const rows = await this.db.query<{ case_id: string; ended_at: number; view: string }>(
        `SELECT case_id, ended_at, view FROM case_archive
         WHERE ended_at < ? AND (ended_at > ? OR (ended_at = ? AND case_id > ?))
         ORDER BY ended_at, case_id LIMIT ?`,
        [to, after.endedAt, after.endedAt, after.caseId, pageSize],
      );
      for (const r of rows) yield JSON.parse(r.view) as CaseView;
      if (rows.length < pageSize) return;
      const last = rows[rows.length - 1]!;
      after = { endedAt: Number(last.ended_at), caseId: last.case_id };
    }
  }

  /** Drops what has outlived its keeping period. */
  async purge(eventWindowMs: number): Promise<void> {
    const now = this.clock();
    // No rate-limit window is longer than a day.
    await this.db.run('DELETE FROM rate_limits WHERE window_start < ?', [now - 86_400_000]);
    await this.db.run('DELETE FROM case_archive WHERE expires_at <= ?', [now]);
    await this.db.run('DELETE FROM event_ids WHERE created_at < ?', [now - eventWindowMs]);
    await this.db.run('DELETE FROM request_records WHERE created_at < ?', [now - eventWindowMs]);
  }
}

/** Where a candidate policy and the live one decided an event differently. */
export interface ShadowDisagreement {
  accountId: string;
  eventId: string;
  eventType: string;
  liveTier: string;
  candidateTier: string;
  liveScore: number;
  candidateScore: number;
  liveReasons: string[];
  candidateReasons: string[];
}

/** Opens Cordon's database as configured (PostgreSQL by URL, else the SQLite file in the data folder). */
export async function openStore(config: { url?: string; sqliteFile: string }): Promise<Store> {
  return new Store(await openDatabase(config));
}
