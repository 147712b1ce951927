// Reviewed bulk actions (issue 20) in Cordon's database:
// - bulk_case_index: one row per (case, rule) written at intake for every restricting decision that reached a
//   case (api/case-events.ts), with the decision's policy version and the case's opening time, so a selector by
//   rule, policy version or opening window finds its open cases without scanning them. No personal data.
// - bulk_actions: each bulk action, from its dry run to its end, with its progress counters.
// - bulk_action_cases: the exact cases its dry run matched, each with the evidence version it was seen at, and
//   what became of it (PENDING, DONE, SKIPPED with a reason, FAILED).
import { insertIgnore, type StoreContext } from './context';

export type BulkStatus = 'PENDING_APPROVAL' | 'RUNNING' | 'DONE' | 'CANCELLED' | 'POLICY_CHANGED';
export type BulkCaseState = 'PENDING' | 'DONE' | 'SKIPPED' | 'FAILED';

export interface BulkSelector {
  rule?: string;
  reasonCode?: string;
  policyVersion?: string;
  status?: string;
  openedFrom?: string;
  openedTo?: string;
}

export interface BulkAction {
  bulkId: string;
  requestedBy: string;
  requestId: string;
  /** The request's body fingerprint: a reused requestId with another body is refused. */
  fingerprint: string;
  action: 'LIFT' | 'RESCORE';
  selector: BulkSelector;
  explanation: { code?: string; text: string };
  /** RESCORE: the running policy's hash at the dry run. */
  policyHash: string | null;
  status: BulkStatus;
  total: number;
  done: number;
  skipped: number;
  failed: number;
  approvedBy: string | null;
  createdAt: number;
  approvedAt: number | null;
  finishedAt: number | null;
  cancelRequested: boolean;
}

export interface BulkCase {
  seq: number;
  caseId: string;
  evidenceVersion: number;
  state: BulkCaseState;
  reason: string | null;
}

type Row = Record<string, unknown>;
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

const actionOf = (r: Row): BulkAction => ({
  bulkId: String(r.bulk_id),
  requestedBy: String(r.requested_by),
  requestId: String(r.request_id),
  fingerprint: String(r.fingerprint),
  action: String(r.action) as BulkAction['action'],
  selector: JSON.parse(String(r.selector)) as BulkSelector,
  explanation: JSON.parse(String(r.explanation)) as BulkAction['explanation'],
  policyHash: typeof r.policy_hash === 'string' ? r.policy_hash : null,
  status: String(r.status) as BulkStatus,
  total: Number(r.total),
  done: Number(r.done_count ?? 0),
  skipped: Number(r.skipped_count ?? 0),
  failed: Number(r.failed_count ?? 0),
  approvedBy: typeof r.approved_by === 'string' ? r.approved_by : null,
  createdAt: Number(r.created_at),
  approvedAt: num(r.approved_at),
  finishedAt: num(r.finished_at),
  cancelRequested: Number(r.cancel_requested) === 1,
});

const caseOf = (r: Row): BulkCase => ({
  seq: Number(r.seq),
  caseId: String(r.case_id),
  evidenceVersion: Number(r.evidence_version),
  state: String(r.state) as BulkCaseState,
  reason: typeof r.reason === 'string' ? r.reason : null,
});

/** Rows per multi-row insert: well under SQLite's and PostgreSQL's parameter limits. */
const INSERT_CHUNK = 200;
/** The action with its progress counted from its cases (one statement settles a case: no counter to drift). */
const WITH_COUNTS = `SELECT a.*,
  (SELECT COUNT(*) FROM bulk_action_cases c WHERE c.bulk_id = a.bulk_id AND c.state = 'DONE') AS done_count,
  (SELECT COUNT(*) FROM bulk_action_cases c WHERE c.bulk_id = a.bulk_id AND c.state = 'SKIPPED') AS skipped_count,
  (SELECT COUNT(*) FROM bulk_action_cases c WHERE c.bulk_id = a.bulk_id AND c.state = 'FAILED') AS failed_count
  FROM bulk_actions a`;

export class BulkActionStore {
  constructor(private readonly c: StoreContext) {}

  /** Intake: the rules that restricted this case, once per (case, rule); the case keeps its first opening time. */
  async indexCase(caseId: string, rules: readonly string[], policyVersion: string): Promise<void> {
    const { db, clock } = this.c;
    const [first] = await db.query<{ opened_at: number | null }>(
      'SELECT MIN(opened_at) AS opened_at FROM bulk_case_index WHERE case_id = ?',
      [caseId],
    );
    const openedAt = first?.opened_at ?? clock();
    for (const rule of new Set(rules))
      await db.run(
        insertIgnore(db, 'bulk_case_index', ['case_id', 'rule_id', 'policy_version', 'opened_at']),
        [caseId, rule, policyVersion, Number(openedAt)],
      );
  }

  /** Indexed cases by rule, policy version and opening window (any given), oldest first, at most `limit`. */
  async indexedCases(
    q: { rule?: string; policyVersion?: string; openedFrom?: number; openedTo?: number },
    limit: number,
  ): Promise<{ caseId: string; openedAt: number }[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    const add = (clause: string, value: string | number | undefined) => {
      if (value === undefined) return;
      where.push(clause);
      params.push(value);
    };
    add('rule_id = ?', q.rule);
    add('policy_version = ?', q.policyVersion);
    add('opened_at >= ?', q.openedFrom);
    add('opened_at < ?', q.openedTo);
    const rows = await this.c.db.query<{ case_id: string; opened_at: number }>(
      `SELECT case_id, MIN(opened_at) AS opened_at FROM bulk_case_index
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       GROUP BY case_id ORDER BY MIN(opened_at), case_id LIMIT ?`,
      [...params, limit],
    );
    return rows.map((r) => ({ caseId: String(r.case_id), openedAt: Number(r.opened_at) }));
  }

  /** The event IDs whose evidence was kept with this case (event_evidence, the case a RESCORE scores again). */
  async eventIdsOfCase(caseId: string): Promise<string[]> {
    const rows = await this.c.db.query<{ event_id: string }>(
      'SELECT event_id FROM event_evidence WHERE case_id = ? ORDER BY created_at, event_id',
      [caseId],
    );
    return rows.map((r) => String(r.event_id));
  }

  /** The bulk action a principal's requestId already made, if any. */
  async byRequest(requestedBy: string, requestId: string): Promise<BulkAction | null> {
    const [row] = await this.c.db.query(`${WITH_COUNTS} WHERE a.requested_by = ? AND a.request_id = ?`, [
      requestedBy,
      requestId,
    ]);
    return row ? actionOf(row) : null;
  }

  async find(bulkId: string): Promise<BulkAction | null> {
    const [row] = await this.c.db.query(`${WITH_COUNTS} WHERE a.bulk_id = ?`, [bulkId]);
    return row ? actionOf(row) : null;
  }

  async list(limit: number): Promise<BulkAction[]> {
    const rows = await this.c.db.query(`${WITH_COUNTS} ORDER BY a.created_at DESC, a.bulk_id LIMIT ?`, [
      limit,
    ]);
    return rows.map(actionOf);
  }

  /**
   * A dry run's record and its exact cases. The cases go in first, the action row last: a concurrent repeat of
   * the same requestId that loses the race on the unique (requested_by, request_id) leaves orphan case rows of
   * its own bulk ID only, which nothing reads. Answers false when the requestId was taken meanwhile.
   */
  async create(
    a: Omit<
      BulkAction,
      'done' | 'skipped' | 'failed' | 'approvedBy' | 'approvedAt' | 'finishedAt' | 'cancelRequested'
    >,
    cases: readonly { caseId: string; evidenceVersion: number }[],
  ): Promise<boolean> {
    const { db } = this.c;
    for (let i = 0; i < cases.length; i += INSERT_CHUNK) {
      const chunk = cases.slice(i, i + INSERT_CHUNK);
      await db.run(
        `INSERT INTO bulk_action_cases (bulk_id, seq, case_id, evidence_version, state)
         VALUES ${chunk.map(() => "(?, ?, ?, ?, 'PENDING')").join(', ')}`,
        chunk.flatMap((c, j) => [a.bulkId, i + j, c.caseId, c.evidenceVersion]),
      );
    }
    const written = await db.run(
      insertIgnore(db, 'bulk_actions', [
        'bulk_id',
        'requested_by',
        'request_id',
        'fingerprint',
        'action',
        'selector',
        'explanation',
        'policy_hash',
        'status',
        'total',
        'cancel_requested',
        'created_at',
      ]),
      [
        a.bulkId,
        a.requestedBy,
        a.requestId,
        a.fingerprint,
        a.action,
        JSON.stringify(a.selector),
        JSON.stringify(a.explanation),
        a.policyHash,
        a.status,
        a.total,
        0,
        a.createdAt,
      ],
    );
    return written > 0;
  }

  /** The approval: PENDING_APPROVAL → RUNNING once, whoever approves at the same time. */
  async approve(bulkId: string, by: string): Promise<boolean> {
    const changed = await this.c.db.run(
      `UPDATE bulk_actions SET status = 'RUNNING', approved_by = ?, approved_at = ?
       WHERE bulk_id = ? AND status = 'PENDING_APPROVAL'`,
      [by, this.c.clock(), bulkId],
    );
    return changed > 0;
  }

  /**
   * Cancel: a pending action ends at once; a running one is asked to stop (its workflow stops before its next
   * case). Answers whether anything changed.
   */
  async cancel(bulkId: string): Promise<boolean> {
    const { db, clock } = this.c;
    const pending = await db.run(
      `UPDATE bulk_actions SET status = 'CANCELLED', cancel_requested = 1, finished_at = ?
       WHERE bulk_id = ? AND status = 'PENDING_APPROVAL'`,
      [clock(), bulkId],
    );
    if (pending > 0) return true;
    const running = await db.run(
      `UPDATE bulk_actions SET cancel_requested = 1 WHERE bulk_id = ? AND status = 'RUNNING' AND cancel_requested = 0`,
      [bulkId],
    );
    return running > 0;
  }

  async caseAt(bulkId: string, seq: number): Promise<BulkCase | null> {
    const [row] = await this.c.db.query('SELECT * FROM bulk_action_cases WHERE bulk_id = ? AND seq = ?', [
      bulkId,
      seq,
    ]);
    return row ? caseOf(row) : null;
  }

  async cases(bulkId: string, state?: BulkCaseState): Promise<BulkCase[]> {
    const rows = await this.c.db.query(
      `SELECT * FROM bulk_action_cases WHERE bulk_id = ? ${state ? 'AND state = ?' : ''} ORDER BY seq`,
      state ? [bulkId, state] : [bulkId],
    );
    return rows.map(caseOf);
  }

  /** What became of one case, written once (PENDING → its state): a retried activity changes nothing more. */
  async settle(
    bulkId: string,
    seq: number,
    state: Exclude<BulkCaseState, 'PENDING'>,
    reason: string | null,
  ): Promise<void> {
    await this.c.db.run(
      `UPDATE bulk_action_cases SET state = ?, reason = ? WHERE bulk_id = ? AND seq = ? AND state = 'PENDING'`,
      [state, reason, bulkId, seq],
    );
  }

  /** The end of a running action (DONE, CANCELLED, POLICY_CHANGED): once. */
  async finish(bulkId: string, status: Exclude<BulkStatus, 'PENDING_APPROVAL' | 'RUNNING'>): Promise<void> {
    await this.c.db.run(
      `UPDATE bulk_actions SET status = ?, finished_at = ? WHERE bulk_id = ? AND status = 'RUNNING'`,
      [status, this.c.clock(), bulkId],
    );
  }
}
