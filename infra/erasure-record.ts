// The audit record of erasures (tables erasures and erasure_requests, migration 7): which account, why (a code),
// who requested and who approved (principal IDs), when each step ended, how it ended. Nothing personal: a failure
// is a code and a message Cordon wrote, never a value it erased.
import type { Database } from './database';

/** Why an account's data is erased: the grounds GDPR art. 17(1) and PIPL art. 47 name, as codes. */
export const ERASURE_REASONS = [
  'DATA_SUBJECT_REQUEST',
  'PURPOSE_FULFILLED',
  'RETENTION_ENDED',
  'CONSENT_WITHDRAWN',
  'UNLAWFUL_PROCESSING',
  'LEGAL_OBLIGATION',
] as const;
export type ErasureReason = (typeof ERASURE_REASONS)[number];

export type ErasureStatus = 'PENDING_APPROVAL' | 'IN_PROGRESS' | 'DONE' | 'FAILED';

/** The steps of an erasure in the order they run (infra/erasure.ts); `step` names the last one done. */
export const ERASURE_STEPS = ['NOTICES', 'EVIDENCE', 'CASES', 'HISTORIES', 'KEY', 'WEBHOOK'] as const;
export type ErasureStep = (typeof ERASURE_STEPS)[number];

/** What each step found and changed: counts only. */
export interface ErasureCounts {
  notices?: number;
  evidenceFiles?: number;
  caseViews?: number;
  requestRecords?: number;
  eventAnswers?: number;
  /** Events' kept evidence (attributes, sources' answers) deleted. */
  eventEvidence?: number;
  /** Policy features' rows of its events (by-account keys, what it added to entity keys) and recorded events. */
  featureRows?: number;
  /** Linked accounts: its entity sightings and the signals it received. */
  entityLinks?: number;
  /** Rule guards: the decisions on its account that counted towards a guard. */
  guardMatches?: number;
  workflowRuns?: number;
  dataKey?: number;
}

/** A step that could not be done: a code, and a message without personal data (shown to admins). */
export class ErasureStepError extends Error {
  override readonly name = 'ErasureStepError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ErasureRecord {
  id: string;
  accountId: string;
  status: ErasureStatus;
  reason: ErasureReason;
  requestedBy: string;
  requestedAt: number;
  requestKey: string;
  requestFingerprint: string;
  approvedBy: string | null;
  approvedAt: number | null;
  startedAt: number | null;
  leaseUntil: number | null;
  step: ErasureStep | null;
  attempts: number;
  completedAt: number | null;
  failedAt: number | null;
  failure: { code: string; message: string } | null;
  counts: ErasureCounts;
}

interface Row {
  id: string;
  account_id: string;
  status: string;
  reason: string;
  requested_by: string;
  requested_at: number;
  request_key: string;
  request_fingerprint: string;
  approved_by: string | null;
  approved_at: number | null;
  started_at: number | null;
  lease_until: number | null;
  step: string | null;
  attempts: number;
  completed_at: number | null;
  failed_at: number | null;
  failure: string | null;
  counts: string | null;
  [k: string]: unknown;
}

const num = (v: number | null) => (v === null ? null : Number(v));

function fromRow(r: Row): ErasureRecord {
  return {
    id: r.id,
    accountId: r.account_id,
    status: r.status as ErasureStatus,
    reason: r.reason as ErasureReason,
    requestedBy: r.requested_by,
    requestedAt: Number(r.requested_at),
    requestKey: r.request_key,
    requestFingerprint: r.request_fingerprint,
    approvedBy: r.approved_by,
    approvedAt: num(r.approved_at),
    startedAt: num(r.started_at),
    leaseUntil: num(r.lease_until),
    step: r.step as ErasureStep | null,
    attempts: Number(r.attempts),
    completedAt: num(r.completed_at),
    failedAt: num(r.failed_at),
    failure: r.failure ? (JSON.parse(r.failure) as { code: string; message: string }) : null,
    counts: r.counts ? (JSON.parse(r.counts) as ErasureCounts) : {},
  };
}

export class ErasureRecords {
  constructor(
    readonly db: Database,
    private readonly clock: () => number = Date.now,
  ) {}

  async get(id: string): Promise<ErasureRecord | null> {
    const [row] = await this.db.query<Row>('SELECT * FROM erasures WHERE id = ?', [id]);
    return row ? fromRow(row) : null;
  }

  async byRequestKey(key: string): Promise<ErasureRecord | null> {
    const [row] = await this.db.query<Row>('SELECT * FROM erasures WHERE request_key = ?', [key]);
    return row ? fromRow(row) : null;
  }

  /** The account's erasure that is not DONE (at most one: a unique index says so), if any. */
  async unfinishedOf(accountId: string): Promise<ErasureRecord | null> {
    const [row] = await this.db.query<Row>(
      "SELECT * FROM erasures WHERE account_id = ? AND status <> 'DONE' ORDER BY requested_at DESC LIMIT 1",
      [accountId],
    );
    return row ? fromRow(row) : null;
  }

  /**
   * Records a new request unless its key is taken (a repeat) or the account has an unfinished erasure; answers
   * whether it did. One statement, so two processes cannot both record one.
   */
  async create(r: {
    id: string;
    accountId: string;
    reason: ErasureReason;
    requestedBy: string;
    requestKey: string;
    requestFingerprint: string;
  }): Promise<boolean> {
    const insert = this.db.dialect === 'postgres' ? 'INSERT INTO erasures' : 'INSERT OR IGNORE INTO erasures';
    const conflict = this.db.dialect === 'postgres' ? ' ON CONFLICT DO NOTHING' : '';
    return (
      (await this.db.run(
        `${insert} (id, account_id, status, reason, requested_by, requested_at, request_key, request_fingerprint)
         VALUES (?, ?, 'PENDING_APPROVAL', ?, ?, ?, ?, ?)${conflict}`,
        [r.id, r.accountId, r.reason, r.requestedBy, this.clock(), r.requestKey, r.requestFingerprint],
      )) === 1
    );
  }

  /** The first answer to an approval request (by its key), if it was answered. */
  async findApproval(key: string): Promise<{ fingerprint: string; answer: unknown } | null> {
    const [row] = await this.db.query<{ fingerprint: string; answer: string }>(
      'SELECT fingerprint, answer FROM erasure_requests WHERE request_key = ?',
      [key],
    );
    return row ? { fingerprint: row.fingerprint, answer: JSON.parse(row.answer) as unknown } : null;
  }

  /** Keeps an approval's first answer (and when it arrived); a concurrent repeat's later write changes nothing. */
  async recordApproval(a: {
    key: string;
    erasureId: string;
    principalId: string;
    fingerprint: string;
    answer: unknown;
    at: number;
  }): Promise<void> {
    const insert =
      this.db.dialect === 'postgres'
        ? 'INSERT INTO erasure_requests'
        : 'INSERT OR IGNORE INTO erasure_requests';
    const conflict = this.db.dialect === 'postgres' ? ' ON CONFLICT DO NOTHING' : '';
    await this.db.run(
      `${insert} (request_key, erasure_id, action, principal_id, fingerprint, answer, created_at)
       VALUES (?, ?, 'APPROVAL', ?, ?, ?, ?)${conflict}`,
      [a.key, a.erasureId, a.principalId, a.fingerprint, JSON.stringify(a.answer), a.at],
    );
  }

  /** Who approved (or approved again, to resume a failed run), and when, oldest first. */
  async approvals(erasureId: string): Promise<{ by: string; at: number }[]> {
    const rows = await this.db.query<{ principal_id: string; created_at: number }>(
      `SELECT principal_id, created_at FROM erasure_requests WHERE erasure_id = ? AND action = 'APPROVAL'
       ORDER BY created_at`,
      [erasureId],
    );
    return rows.map((r) => ({ by: r.principal_id, at: Number(r.created_at) }));
  }

  /**
   * Takes the erasure's run for this process: from PENDING_APPROVAL or FAILED, or from IN_PROGRESS whose lease
   * ran out (its process died). Answers whether it took it; another process's live lease wins.
   */
  async claim(id: string, approver: string, leaseMs: number): Promise<boolean> {
    const now = this.clock();
    return (
      (await this.db.run(
        `UPDATE erasures SET status = 'IN_PROGRESS', lease_until = ?, attempts = attempts + 1,
           approved_by = COALESCE(approved_by, ?), approved_at = COALESCE(approved_at, ?),
           started_at = COALESCE(started_at, ?), failure = NULL, failed_at = NULL
         WHERE id = ? AND (status IN ('PENDING_APPROVAL', 'FAILED')
           OR (status = 'IN_PROGRESS' AND (lease_until IS NULL OR lease_until < ?)))`,
        [now + leaseMs, approver, now, now, id, now],
      )) === 1
    );
  }

  /** A step is done: remembered (a resumed run starts after it), with the counts so far; the lease renewed. */
  async stepDone(id: string, step: ErasureStep, counts: ErasureCounts, leaseMs: number): Promise<void> {
    await this.db.run(
      "UPDATE erasures SET step = ?, counts = ?, lease_until = ? WHERE id = ? AND status = 'IN_PROGRESS'",
      [step, JSON.stringify(counts), this.clock() + leaseMs, id],
    );
  }

  async done(id: string, counts: ErasureCounts): Promise<void> {
    await this.db.run(
      `UPDATE erasures SET status = 'DONE', completed_at = ?, lease_until = NULL, counts = ?
       WHERE id = ? AND status = 'IN_PROGRESS'`,
      [this.clock(), JSON.stringify(counts), id],
    );
  }

  async failed(id: string, failure: { code: string; message: string }): Promise<void> {
    await this.db.run(
      `UPDATE erasures SET status = 'FAILED', failed_at = ?, lease_until = NULL, failure = ?
       WHERE id = ? AND status = 'IN_PROGRESS'`,
      [this.clock(), JSON.stringify(failure), id],
    );
  }
}
