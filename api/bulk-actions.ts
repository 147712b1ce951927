// Reviewed bulk actions (issue 20): a senior's dry run lists exactly the open cases a selector matches (from
// Temporal's visibility and the intake's rule index, never a scan of every case) and changes nothing but its own
// record; another senior's approval starts the bulk action's workflow (workflows/bulk-action.ts), which acts on
// exactly those cases; its progress is read back from Cordon's database.
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { CASE_WORKFLOW_TYPE, caseWorkflowId, parseCaseId, type CaseView } from '../core/contracts';
import { fingerprint } from '../core/idempotency';
import type { LoadedPolicy } from '../core/policy';
import type { Principal } from '../infra/config';
import type { Logger } from '../infra/logger';
import type { Store } from '../infra/store';
import type { BulkAction, BulkSelector } from '../infra/stores/bulk-actions';
import { caseViewQuery, SA } from '../workflows/definitions';
import { temporalRead, TEMPORAL_READ_MS } from './errors';
import { Problem } from '../web/problems';

/** Case IDs shown with a dry run's answer. */
export const SAMPLE_SIZE = 20;
/** Case IDs per visibility query (an IN list) and views read at once. */
const VISIBILITY_CHUNK = 100;
const VIEW_READS_AT_ONCE = 8;
/** The bulk action's workflow type (workflows/bulk-action.ts), started by name: the API imports no workflow code. */
const BULK_WORKFLOW_TYPE = 'bulkActionWorkflow';
export const bulkWorkflowId = (bulkId: string) => `cordon-bulk-${bulkId}`;

export interface BulkRequest {
  requestId: string;
  selector: BulkSelector;
  action: 'LIFT' | 'RESCORE';
  explanation: { code?: string; text: string };
}

export interface BulkDryRunAnswer {
  bulkId: string;
  status: BulkAction['status'];
  action: BulkAction['action'];
  matched: number;
  /** More open cases matched than CORDON_BULK_MAX: the oldest that many were taken. */
  capped: boolean;
  sample: string[];
}

export interface BulkView {
  bulkId: string;
  status: BulkAction['status'];
  action: BulkAction['action'];
  selector: BulkSelector;
  explanation: BulkAction['explanation'];
  requestedBy: string;
  approvedBy: string | null;
  policyHash: string | null;
  total: number;
  done: number;
  pending: number;
  skipped: { caseId: string; reason: string }[];
  failed: number;
  failures: { caseId: string; reason: string }[];
  cancelRequested: boolean;
  createdAt: string;
  approvedAt: string | null;
  finishedAt: string | null;
}

export type BulkSummary = Omit<BulkView, 'skipped' | 'failures'> & { skippedCount: number };

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const notFound = () =>
  new Problem(404, 'Bulk action not found', 'no bulk action by this ID', { code: 'BULK_NOT_FOUND' });

function summaryOf(b: BulkAction): BulkSummary {
  return {
    bulkId: b.bulkId,
    status: b.status,
    action: b.action,
    selector: b.selector,
    explanation: b.explanation,
    requestedBy: b.requestedBy,
    approvedBy: b.approvedBy,
    policyHash: b.policyHash,
    total: b.total,
    done: b.done,
    pending: b.total - b.done - b.skipped - b.failed,
    skippedCount: b.skipped,
    failed: b.failed,
    cancelRequested: b.cancelRequested,
    createdAt: new Date(b.createdAt).toISOString(),
    approvedAt: iso(b.approvedAt),
    finishedAt: iso(b.finishedAt),
  };
}

export class BulkActions {
  constructor(
    private readonly o: {
      store: Store;
      client: Client;
      taskQueue: string;
      /** The running policy (it reloads): RESCORE captures its hash. */
      policy: () => LoadedPolicy;
      logger: Logger;
      /** CORDON_BULK_MAX and CORDON_BULK_RATE. */
      maxCases: number;
      ratePerSecond: number;
      clock?: () => number;
    },
  ) {}

  private now(): number {
    return (this.o.clock ?? Date.now)();
  }

  /** The dry run: the exact matching open cases, each with its evidence version, recorded as PENDING_APPROVAL. */
  async dryRun(principal: Principal, body: BulkRequest): Promise<BulkDryRunAnswer> {
    const { requestId, ...request } = body;
    const print = fingerprint(request);
    const prior = await this.o.store.bulkActions.byRequest(principal.id, requestId);
    if (prior) return this.repeat(prior, print);
    const { cases, capped } = await this.matchingCases(body.selector);
    const bulkId = `bk-${randomUUID()}`;
    const created = await this.o.store.bulkActions.create(
      {
        bulkId,
        requestedBy: principal.id,
        requestId,
        fingerprint: print,
        action: body.action,
        selector: body.selector,
        explanation: body.explanation,
        policyHash: body.action === 'RESCORE' ? this.o.policy().hash : null,
        status: 'PENDING_APPROVAL',
        total: cases.length,
        createdAt: this.now(),
      },
      cases,
    );
    if (!created) {
      // The same requestId from the same principal was recorded meanwhile (another process): its answer.
      const raced = await this.o.store.bulkActions.byRequest(principal.id, requestId);
      if (raced) return this.repeat(raced, print);
    }
    this.o.logger.info('bulk action dry run', {
      bulkId,
      action: body.action,
      by: principal.id,
      matched: cases.length,
      capped,
    });
    return this.answerOf((await this.o.store.bulkActions.find(bulkId))!, capped);
  }

  private async repeat(prior: BulkAction, print: string): Promise<BulkDryRunAnswer> {
    if (prior.fingerprint !== print)
      throw new Problem(
        409,
        'Idempotency key reused',
        'this requestId was already used for a different request',
        {
          code: 'IDEMPOTENCY_KEY_REUSED',
        },
      );
    return this.answerOf(prior, null);
  }

  private async answerOf(b: BulkAction, capped: boolean | null): Promise<BulkDryRunAnswer> {
    const sample = (await this.o.store.bulkActions.cases(b.bulkId))
      .slice(0, SAMPLE_SIZE)
      .map((c) => c.caseId);
    return {
      bulkId: b.bulkId,
      status: b.status,
      action: b.action,
      matched: b.total,
      // A repeat answers as the dry run did: capped exactly when it took CORDON_BULK_MAX cases.
      capped: capped ?? b.total >= this.o.maxCases,
      sample,
    };
  }

  /**
   * The open cases a selector names, oldest first: by the intake's index when it names a rule, a policy version
   * or an opening window (then visibility says which are open and filters by status and reason code), else from
   * visibility alone. At most CORDON_BULK_MAX; each case's view read for its evidence version.
   */
  private async matchingCases(
    s: BulkSelector,
  ): Promise<{ cases: { caseId: string; evidenceVersion: number }[]; capped: boolean }> {
    const max = this.o.maxCases;
    const filters = [
      `WorkflowType = "${CASE_WORKFLOW_TYPE}"`,
      'ExecutionStatus = "Running"',
      // Both values are checked by the route's schema (an open status, a reason code of the catalogue).
      ...(s.status ? [`CordonStatus = "${s.status}"`] : []),
      ...(s.reasonCode ? [`CordonReasonCodes = "${s.reasonCode}"`] : []),
    ];
    const ids: string[] = [];
    let capped = false;
    if (s.rule !== undefined || s.policyVersion !== undefined || s.openedFrom || s.openedTo) {
      // The index holds ended cases too: page through it until max open ones are found.
      const indexed = await this.o.store.bulkActions.indexedCases(
        {
          rule: s.rule,
          policyVersion: s.policyVersion,
          openedFrom: s.openedFrom ? Date.parse(s.openedFrom) : undefined,
          openedTo: s.openedTo ? Date.parse(s.openedTo) : undefined,
        },
        Number.MAX_SAFE_INTEGER,
      );
      for (let i = 0; i < indexed.length && !capped; i += VISIBILITY_CHUNK) {
        const chunk = indexed.slice(i, i + VISIBILITY_CHUNK).filter((c) => parseCaseId(c.caseId));
        if (chunk.length === 0) continue;
        const open = await this.openCaseIds([
          ...filters,
          `CordonCaseId IN (${chunk.map((c) => `"${c.caseId}"`).join(', ')})`,
        ]);
        for (const c of chunk) {
          if (!open.has(c.caseId)) continue;
          if (ids.length === max) {
            capped = true;
            break;
          }
          ids.push(c.caseId);
        }
      }
    } else {
      const open = await this.openCaseIds(filters, max + 1);
      ids.push(...[...open].slice(0, max));
      capped = open.size > max;
    }
    const cases: { caseId: string; evidenceVersion: number }[] = [];
    for (let i = 0; i < ids.length; i += VIEW_READS_AT_ONCE) {
      const views = await Promise.all(ids.slice(i, i + VIEW_READS_AT_ONCE).map((id) => this.openView(id)));
      for (const v of views) if (v) cases.push({ caseId: v.caseId, evidenceVersion: v.evidenceVersion });
    }
    return { cases, capped };
  }

  /** Case IDs of the running case workflows a visibility query finds (oldest first when asked for all). */
  private openCaseIds(filters: string[], limit = Number.MAX_SAFE_INTEGER): Promise<Set<string>> {
    const query = filters.join(' AND ');
    return temporalRead(this.o.client, TEMPORAL_READ_MS * 4, async () => {
      const found = new Set<string>();
      for await (const wf of this.o.client.workflow.list({ query })) {
        const caseId = wf.typedSearchAttributes.get(SA.caseId);
        if (caseId) found.add(caseId);
        if (found.size >= limit) break;
      }
      return found;
    });
  }

  /** The case's current view while it is open; null when it has ended (or is ending) meanwhile. */
  private async openView(caseId: string): Promise<CaseView | null> {
    const parsed = parseCaseId(caseId);
    if (!parsed) return null;
    return temporalRead(this.o.client, TEMPORAL_READ_MS, async () => {
      try {
        const view = await this.o.client.workflow
          .getHandle(caseWorkflowId(parsed.accountId))
          .query(caseViewQuery);
        return view?.caseId === caseId && view.outcome === null ? view : null;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return null;
        throw err;
      }
    });
  }

  /** Another senior or admin approves: the action's workflow starts. A repeat by the approver answers it again. */
  async approve(bulkId: string, principal: Principal): Promise<BulkView> {
    const bulk = await this.o.store.bulkActions.find(bulkId);
    if (!bulk) throw notFound();
    if (bulk.requestedBy === principal.id)
      throw new Problem(409, 'Same reviewer', 'the bulk action must be approved by another senior or admin', {
        code: 'SAME_REVIEWER',
      });
    if (bulk.status === 'PENDING_APPROVAL') {
      if (bulk.action === 'RESCORE' && this.o.policy().hash !== bulk.policyHash)
        throw new Problem(
          409,
          'Policy changed',
          'the running policy is not the one the dry run scored with: make a new dry run',
          { code: 'POLICY_CHANGED' },
        );
      if (await this.o.store.bulkActions.approve(bulkId, principal.id))
        this.o.logger.info('bulk action approved', { bulkId, by: principal.id, total: bulk.total });
    }
    const now = (await this.o.store.bulkActions.find(bulkId))!;
    if (now.approvedBy !== principal.id)
      throw new Problem(409, 'Not pending approval', `the bulk action is ${now.status}`, {
        code: 'BULK_NOT_PENDING',
      });
    // Started here, and again by a repeat of the approval (after a start Temporal did not answer): once by its ID.
    if (now.status === 'RUNNING') await this.start(bulkId);
    return this.view(bulkId);
  }

  private async start(bulkId: string): Promise<void> {
    try {
      await this.o.client.workflow.start(BULK_WORKFLOW_TYPE, {
        workflowId: bulkWorkflowId(bulkId),
        taskQueue: this.o.taskQueue,
        args: [{ bulkId, ratePerSecond: this.o.ratePerSecond }],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  /** Stops a running action before its next case (a pending one at once). */
  async cancel(bulkId: string, principal: Principal): Promise<BulkView> {
    const bulk = await this.o.store.bulkActions.find(bulkId);
    if (!bulk) throw notFound();
    const changed = await this.o.store.bulkActions.cancel(bulkId);
    if (!changed && !bulk.cancelRequested)
      throw new Problem(409, 'Bulk action ended', `the bulk action is ${bulk.status}`, {
        code: 'BULK_ENDED',
      });
    if (changed) this.o.logger.info('bulk action cancelled', { bulkId, by: principal.id });
    return this.view(bulkId);
  }

  async view(bulkId: string): Promise<BulkView> {
    const bulk = await this.o.store.bulkActions.find(bulkId);
    if (!bulk) throw notFound();
    const settled = await this.o.store.bulkActions.cases(bulkId);
    const { skippedCount: _skipped, ...summary } = summaryOf(bulk);
    return {
      ...summary,
      skipped: settled
        .filter((c) => c.state === 'SKIPPED')
        .map((c) => ({ caseId: c.caseId, reason: c.reason ?? '' })),
      failures: settled
        .filter((c) => c.state === 'FAILED')
        .map((c) => ({ caseId: c.caseId, reason: c.reason ?? '' })),
    };
  }

  async list(limit: number): Promise<{ items: BulkSummary[] }> {
    return { items: (await this.o.store.bulkActions.list(limit)).map(summaryOf) };
  }
}
