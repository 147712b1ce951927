// Everything the API asks of Temporal, in one place. It speaks only the contract (core/contracts), never the
// workflow implementation.
import {
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import type { Scorer } from '../activities/scorer';
import { REFUSAL_CODES } from '../core/case-machine';
import {
  CASE_WORKFLOW_TYPE,
  caseViewQuery,
  caseWorkflowId,
  parseCaseId,
  riskEventUpdate,
  SA,
  TASK_QUEUE,
  type CaseAction,
  type CaseView,
  type CaseWorkflowInput,
  type RiskEventResult,
} from '../core/contracts';
import type { RiskEvent } from '../core/events';
import { REVIEW_STATUSES, type Actor } from '../core/model';
import type { Logger } from '../infra/logger';
import { Problem } from './problems';

/** Every refusal of the case machine means "this case cannot do that now": a 409. */
const CONFLICTS = new Set<string>(REFUSAL_CODES);

export interface ReviewQueueItem {
  caseId: string;
  accountId: string;
  tier: string;
  status: string;
  reviewDueAt: string | null;
  assignee: string | null;
}

export interface Restriction {
  accountId: string;
  restricted: boolean;
  tier: string;
  status: string | null;
  caseId: string | null;
}

export interface CaseServiceOptions {
  client: Client;
  scorer: Scorer;
  logger: Logger;
  taskQueue?: string;
}

export class CaseService {
  private readonly client: Client;
  private readonly taskQueue: string;

  constructor(private readonly o: CaseServiceOptions) {
    this.client = o.client;
    this.taskQueue = o.taskQueue ?? TASK_QUEUE;
  }

  /**
   * Scores the event here first. A NONE for an account with no open case is answered at once and writes
   * nothing to Temporal; anything else goes to the account's case workflow, whose decision is returned.
   */
  async reportEvent(event: RiskEvent, actor: Actor): Promise<RiskEventResult> {
    const { decision } = await this.o.scorer.score(event);
    const workflowId = caseWorkflowId(event.accountId);
    // No update ID: the workflow remembers event IDs itself (across continue-as-new) and flags repeats.
    const updateOptions = { args: [{ event, actor }] as [{ event: RiskEvent; actor: Actor }] };
    let result: RiskEventResult | undefined;
    if (decision.tier === 'NONE') {
      try {
        result = await this.client.workflow
          .getHandle(workflowId)
          .executeUpdate(riskEventUpdate, updateOptions);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError) && refusalType(err) !== 'CASE_CLOSED') throw err;
      }
    } else {
      result = await this.withStart(workflowId, event.accountId, updateOptions);
    }
    result ??= {
      eventId: event.eventId,
      accountId: event.accountId,
      caseId: null,
      status: 'NO_ACTION',
      decision,
      duplicate: false,
    };
    this.o.logger.info('decision', {
      eventId: event.eventId,
      accountId: event.accountId,
      type: event.type,
      tier: result.decision.tier,
      score: result.decision.score,
      reasons: result.decision.reasons.map((r) => r.code),
      policyVersion: result.decision.policyVersion,
      policyHash: result.decision.policyHash,
      unavailableSources: result.decision.unavailableSources,
      caseId: result.caseId,
      status: result.status,
      duplicate: result.duplicate,
    });
    return result;
  }

  private async withStart(
    workflowId: string,
    accountId: string,
    updateOptions: { args: [{ event: RiskEvent; actor: Actor }] },
  ): Promise<RiskEventResult> {
    // A case that has reached its outcome refuses new events while it finishes; the next event starts a new case.
    for (let attempt = 0; ; attempt++) {
      const startWorkflowOperation = new WithStartWorkflowOperation(CASE_WORKFLOW_TYPE, {
        workflowId,
        taskQueue: this.taskQueue,
        args: [{ accountId } satisfies CaseWorkflowInput],
        workflowIdConflictPolicy: 'USE_EXISTING',
        typedSearchAttributes: [{ key: SA.accountId, value: accountId }],
      });
      try {
        return await this.client.workflow.executeUpdateWithStart(riskEventUpdate, {
          ...updateOptions,
          startWorkflowOperation,
        });
      } catch (err) {
        if (refusalType(err) !== 'CASE_CLOSED' || attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** The view of one case: the account's current run if it is that case, else an earlier run found by its ID. */
  async getCase(caseId: string): Promise<CaseView> {
    const found = await this.findCase(caseId);
    if (!found) throw new Problem(404, 'Case not found', `no case ${caseId}`, { code: 'CASE_NOT_FOUND' });
    return found.view;
  }

  private async findCase(caseId: string): Promise<{ view: CaseView; current: boolean } | null> {
    const parsed = parseCaseId(caseId);
    if (!parsed) return null;
    const latest = await this.queryView(this.client.workflow.getHandle(caseWorkflowId(parsed.accountId)));
    if (latest?.caseId === caseId) return { view: latest, current: true };
    // An earlier case of the account: visibility knows its run by the CordonCaseId search attribute.
    for await (const wf of this.client.workflow.list({ query: `CordonCaseId = "${caseId}"` })) {
      const view = await this.queryView(this.client.workflow.getHandle(wf.workflowId, wf.runId));
      if (view?.caseId === caseId) return { view, current: false };
    }
    return null;
  }

  private async queryView(handle: WorkflowHandle): Promise<CaseView | null> {
    try {
      return await handle.query(caseViewQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }

  /**
   * Sends a human action to the case. The workflow's validator refuses what the case's state does not allow
   * (409), and an action naming a case that is not the account's current one (CASE_NOT_FOUND): then the case
   * either ended (409) or never existed (404).
   */
  async act<A extends CaseAction>(
    caseId: string,
    update: UpdateDefinition<CaseView, [A]>,
    args: Omit<A, 'caseId'>,
    updateId?: string,
  ): Promise<CaseView> {
    const parsed = parseCaseId(caseId);
    if (!parsed) throw new Problem(404, 'Case not found', `no case ${caseId}`, { code: 'CASE_NOT_FOUND' });
    const handle = this.client.workflow.getHandle(caseWorkflowId(parsed.accountId));
    try {
      return await handle.executeUpdate(update, {
        args: [{ ...args, caseId } as A],
        ...(updateId ? { updateId } : {}),
      });
    } catch (err) {
      const type = refusalType(err);
      if (type && CONFLICTS.has(type))
        throw new Problem(409, 'Action not allowed', messageOf(err), { code: type });
      if (!(err instanceof WorkflowNotFoundError) && type !== 'CASE_NOT_FOUND') throw err;
    }
    const found = await this.findCase(caseId);
    if (!found) throw new Problem(404, 'Case not found', `no case ${caseId}`, { code: 'CASE_NOT_FOUND' });
    throw new Problem(409, 'Case closed', `the case has ended (${found.view.status})`, {
      code: 'CASE_CLOSED',
    });
  }

  async restriction(accountId: string): Promise<Restriction> {
    const view = await this.queryView(this.client.workflow.getHandle(caseWorkflowId(accountId)));
    if (!view) return { accountId, restricted: false, tier: 'NONE', status: null, caseId: null };
    return {
      accountId,
      restricted: view.restricted,
      tier: view.restricted ? view.tier : 'NONE',
      status: view.status,
      caseId: view.caseId,
    };
  }

  /** Open cases waiting for reviewers, soonest review deadline first (from visibility: eventually consistent). */
  async reviewQueue(status: string | undefined, limit: number): Promise<ReviewQueueItem[]> {
    const statuses = status ? [status] : REVIEW_STATUSES;
    const query = `WorkflowType = "${CASE_WORKFLOW_TYPE}" AND ExecutionStatus = "Running" AND CordonStatus IN (${statuses
      .map((s) => `"${s}"`)
      .join(', ')})`;
    const items: ReviewQueueItem[] = [];
    for await (const wf of this.client.workflow.list({ query })) {
      const sa = wf.typedSearchAttributes;
      const due = sa.get(SA.reviewDueAt);
      items.push({
        caseId: sa.get(SA.caseId) ?? '',
        accountId: sa.get(SA.accountId) ?? '',
        tier: sa.get(SA.tier) ?? '',
        status: sa.get(SA.status) ?? '',
        reviewDueAt: due ? due.toISOString() : null,
        assignee: sa.get(SA.assignee) ?? null,
      });
      if (items.length >= 5_000) break;
    }
    items.sort((a, b) => (a.reviewDueAt ?? '9999').localeCompare(b.reviewDueAt ?? '9999'));
    return items.slice(0, limit);
  }
}

function refusalType(err: unknown): string | undefined {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure)
    return err.cause.type ?? undefined;
  return undefined;
}

function messageOf(err: unknown): string {
  if (err instanceof WorkflowUpdateFailedError && err.cause) return err.cause.message;
  return (err as Error).message;
}
