// The erasure routes' service: an admin requests an account's erasure, another admin approves it, and the
// approving request runs it (infra/erasure.ts) in this process, answering DONE if it finishes within a few
// seconds, else IN_PROGRESS (GET /v1/erasures/{id} then says how it ended). The checks (no open case, no
// restriction in force, the legal hold over) are made when it is requested and again when it is approved. Both
// requests are idempotent by requestId per principal: a repeat gets the first answer, another body a 409.
import { randomBytes } from 'node:crypto';
import { fingerprint } from '../core/idempotency';
import { erasability } from '../infra/erasure-hold';
import {
  ErasureRecords,
  type ErasureReason,
  type ErasureRecord,
  type ErasureStatus,
} from '../infra/erasure-record';
import { runErasure } from '../infra/erasure';
import type { HistoryEraser } from '../infra/erasure-temporal';
import type { EvidenceStore } from '../infra/evidence/types';
import type { Logger } from '../infra/logger';
import type { Store } from '../infra/store';
import { Problem } from '../web/problems';

export interface ErasureServiceOptions {
  store: Store;
  evidence: EvidenceStore;
  histories: HistoryEraser;
  logger: Logger;
  /** CORDON_ERASURE_MIN_HOLD_DAYS. */
  minHoldDays: number;
  /** The current policy's privacy.legalHoldDays (it is reloaded while the API runs). */
  policyHoldDays: () => number;
  /** How long an approval waits for its run before answering IN_PROGRESS (default 10 s). */
  answerWithinMs?: number;
  /** How long a run holds its erasure without finishing a step before another may take it (default 10 min). */
  leaseMs?: number;
}

export interface ErasureAnswer {
  erasureId: string;
  status: ErasureStatus;
  failure?: { code: string; message: string };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const keyReused = () =>
  new Problem(409, 'Idempotency key reused', 'this requestId was already used for a different request', {
    code: 'IDEMPOTENCY_KEY_REUSED',
  });

const notFound = (id: string) =>
  new Problem(404, 'Erasure not found', `no erasure ${id}`, { code: 'ERASURE_NOT_FOUND' });

export class ErasureService {
  readonly records: ErasureRecords;
  private readonly running = new Set<Promise<void>>();
  private readonly leaseMs: number;

  constructor(private readonly o: ErasureServiceOptions) {
    this.records = new ErasureRecords(o.store.db);
    this.leaseMs = o.leaseMs ?? 10 * 60_000;
  }

  /** Refuses (409) an account that may not be erased now, saying why. */
  private async check(accountId: string): Promise<void> {
    const verdict = await erasability(this.o.store, accountId, {
      minHoldDays: this.o.minHoldDays,
      policyHoldDays: this.o.policyHoldDays(),
      now: Date.now(),
    });
    if (verdict.ok) return;
    if (verdict.code === 'CASE_OPEN')
      throw new Problem(409, 'Case open', 'the account has an open case: erase it once the case has ended', {
        code: 'CASE_OPEN',
      });
    if (verdict.code === 'RESTRICTION_IN_FORCE')
      throw new Problem(
        409,
        'Restriction in force',
        'the account is restricted by the outcome of its last case: erase it once the restriction is lifted',
        { code: 'RESTRICTION_IN_FORCE' },
      );
    const holdUntil = new Date(verdict.holdUntil).toISOString();
    throw new Problem(
      409,
      'Legal hold',
      `the account's data must be kept until ${holdUntil} (${verdict.holdDays} days after its last case ended)`,
      { code: 'LEGAL_HOLD', members: { holdUntil, holdDays: verdict.holdDays } },
    );
  }

  async request(
    accountId: string,
    body: { requestId: string; reason: ErasureReason },
    principalId: string,
  ): Promise<ErasureAnswer> {
    const requestKey = JSON.stringify(['erasure', principalId, body.requestId]);
    const requestFingerprint = fingerprint({ accountId, reason: body.reason });
    const repeat = (prior: ErasureRecord): ErasureAnswer => {
      if (prior.requestFingerprint !== requestFingerprint) throw keyReused();
      return { erasureId: prior.id, status: 'PENDING_APPROVAL' };
    };
    const prior = await this.records.byRequestKey(requestKey);
    if (prior) return repeat(prior);
    await this.check(accountId);
    const erasureId = `er_${randomBytes(16).toString('base64url')}`;
    const created = await this.records.create({
      id: erasureId,
      accountId,
      reason: body.reason,
      requestedBy: principalId,
      requestKey,
      requestFingerprint,
    });
    if (!created) {
      // A repeat that arrived meanwhile, or another erasure of the account not finished yet.
      const raced = await this.records.byRequestKey(requestKey);
      if (raced) return repeat(raced);
      const open = await this.records.unfinishedOf(accountId);
      throw new Problem(
        409,
        'Erasure exists',
        `the account has an erasure that is not done (${open?.status ?? 'unknown'}): approve that one`,
        { code: 'ERASURE_EXISTS', members: open ? { erasureId: open.id } : {} },
      );
    }
    this.o.logger.info('erasure requested', { erasureId, accountId, by: principalId, reason: body.reason });
    return { erasureId, status: 'PENDING_APPROVAL' };
  }

  async approve(erasureId: string, body: { requestId: string }, principalId: string): Promise<ErasureAnswer> {
    const at = Date.now();
    const key = JSON.stringify(['erasure-approval', principalId, body.requestId]);
    const print = fingerprint({ erasureId });
    const prior = await this.records.findApproval(key);
    if (prior) {
      if (prior.fingerprint !== print) throw keyReused();
      return prior.answer as ErasureAnswer;
    }
    const record = await this.records.get(erasureId);
    if (!record) throw notFound(erasureId);
    if (record.requestedBy === principalId)
      throw new Problem(
        409,
        'Same reviewer',
        'the approval must come from an admin other than the one who requested the erasure',
        { code: 'SAME_REVIEWER' },
      );
    const answer = await this.startOrJoin(record, principalId);
    await this.records.recordApproval({ key, erasureId, principalId, fingerprint: print, answer, at });
    return answer;
  }

  /** Runs the erasure here unless it is done or running elsewhere; answers its status after a short wait. */
  private async startOrJoin(record: ErasureRecord, principalId: string): Promise<ErasureAnswer> {
    if (record.status === 'DONE' || (record.status === 'IN_PROGRESS' && !this.interrupted(record)))
      return { erasureId: record.id, status: record.status };
    // The account may have changed since the request (a new case, a restriction).
    await this.check(record.accountId);
    if (await this.records.claim(record.id, principalId, this.leaseMs)) {
      this.o.logger.info('erasure approved', { erasureId: record.id, by: principalId });
      const claimed = (await this.records.get(record.id))!;
      const run = runErasure({ ...this.o, records: this.records, leaseMs: this.leaseMs }, claimed).catch(
        (err: unknown) =>
          // Its record stays IN_PROGRESS until the lease ends; then it reads as interrupted and can be resumed.
          this.o.logger.error('erasure run stopped', { erasureId: record.id, error: (err as Error).name }),
      );
      this.running.add(run);
      void run.finally(() => this.running.delete(run));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        run,
        new Promise<void>((resolve) => (timer = setTimeout(resolve, this.o.answerWithinMs ?? 10_000))),
      ]);
      clearTimeout(timer);
    }
    const now = (await this.records.get(record.id))!;
    return {
      erasureId: now.id,
      status: now.status,
      ...(now.status === 'FAILED' && now.failure ? { failure: now.failure } : {}),
    };
  }

  /** A run whose process stopped before it ended: its lease has run out. */
  private interrupted(r: ErasureRecord): boolean {
    return r.status === 'IN_PROGRESS' && r.leaseUntil !== null && r.leaseUntil < Date.now();
  }

  /** The audit record: codes, times and principal IDs. */
  async get(erasureId: string) {
    const r = await this.records.get(erasureId);
    if (!r) throw notFound(erasureId);
    const interrupted = this.interrupted(r);
    return {
      erasureId: r.id,
      accountId: r.accountId,
      // A run whose process died reads as FAILED: another approval resumes it after its last step.
      status: interrupted ? ('FAILED' as const) : r.status,
      reason: r.reason,
      requestedBy: r.requestedBy,
      requestedAt: iso(r.requestedAt),
      approvedBy: r.approvedBy,
      approvedAt: iso(r.approvedAt),
      approvals: (await this.records.approvals(r.id)).map((a) => ({ by: a.by, at: iso(a.at) })),
      startedAt: iso(r.startedAt),
      completedAt: iso(r.completedAt),
      failedAt: interrupted ? iso(r.leaseUntil) : iso(r.failedAt),
      failure: interrupted
        ? { code: 'INTERRUPTED', message: 'the process running it stopped: approve again to resume' }
        : r.failure,
      lastStep: r.step,
      attempts: r.attempts,
      counts: r.counts,
    };
  }

  /** Waits (at most maxMs) for runs in flight, before the process closes its database. */
  async settled(maxMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.running),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, maxMs))),
    ]);
    clearTimeout(timer);
  }
}
