// A human action sent to its case (a reviewer's claim or decision, the user's appeal reported by the backend):
// applied once per request identity, refused with the case machine's code, or found to name an ended case.
import { WorkflowNotFoundError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { caseWorkflowId, parseCaseId, type CaseAction, type CaseView } from '../core/contracts';
import { updateIdOf, type RequestIdentity } from '../core/idempotency';
import {
  CONFLICTS,
  keyReused,
  messageOf,
  refusalType,
  retryMomentary,
  type CaseCalls,
  type CaseServiceOptions,
} from './case-calls';
import type { CaseReads } from './case-reads';
import { Problem } from '../web/problems';

export class CaseActions {
  constructor(
    private readonly o: CaseServiceOptions,
    private readonly calls: CaseCalls,
    private readonly reads: CaseReads,
  ) {}

  /**
   * Sends a human action to the case. The workflow's validator refuses what the case's state does not allow
   * (409), and an action naming a case that is not the account's current one (CASE_NOT_FOUND): then the case
   * either ended (409) or never existed (404).
   */
  async act<A extends CaseAction>(
    caseId: string,
    update: UpdateDefinition<CaseView, [A]>,
    args: Omit<A, 'caseId'>,
    identity?: RequestIdentity,
  ): Promise<CaseView> {
    const metrics = this.o.metrics;
    try {
      const { view, repeat } = await this.applyAction(caseId, update, args, identity);
      if (!metrics) return view;
      metrics.actionAnswered(update.name, repeat ? 'repeat' : 'applied');
      if (update.name === 'decision' && !repeat)
        metrics.decisionApplied(String((args as { decision?: string }).decision));
      return view;
    } catch (err) {
      if (err instanceof Problem) metrics?.actionAnswered(update.name, err.extra.code ?? String(err.status));
      throw err;
    }
  }

  private async applyAction<A extends CaseAction>(
    caseId: string,
    update: UpdateDefinition<CaseView, [A]>,
    args: Omit<A, 'caseId'>,
    identity?: RequestIdentity,
  ): Promise<{ view: CaseView; repeat: boolean }> {
    const parsed = parseCaseId(caseId);
    if (!parsed) throw new Problem(404, 'Case not found', `no case ${caseId}`, { code: 'CASE_NOT_FOUND' });
    // A repeat of an answered request gets its first answer; the same key with another body is a conflict.
    const prior = identity ? await this.o.store.requests.find(identity.key) : null;
    if (prior) {
      if (prior.fingerprint !== identity!.fingerprint) throw keyReused();
      return { view: prior.response, repeat: true };
    }
    const handle = this.calls.client.workflow.getHandle(caseWorkflowId(parsed.accountId));
    let view: CaseView | undefined;
    try {
      view = await this.calls.caseCall(() =>
        retryMomentary(
          () =>
            handle.executeUpdate(update, {
              args: [{ ...args, caseId } as A],
              // Temporal answers a repeat of the same request on the same run with the first outcome.
              ...(identity ? { updateId: updateIdOf(identity.key + identity.fingerprint) } : {}),
            }),
          identity !== undefined,
        ),
      );
    } catch (err) {
      const type = refusalType(err);
      if (type && CONFLICTS.has(type))
        throw new Problem(409, 'Action not allowed', messageOf(err), { code: type });
      if (!(err instanceof WorkflowNotFoundError) && type !== 'CASE_NOT_FOUND') throw err;
    }
    if (view) {
      if (identity) await this.o.store.requests.record(identity.key, caseId, identity.fingerprint, view);
      return { view, repeat: false };
    }
    // The case is not the account's current one: it ended (perhaps by this very request) or never existed.
    const archived = await this.o.store.archive.find(caseId);
    const answered = identity && archived?.requests.find((r) => r.key === identity.key);
    if (answered) {
      if (answered.fingerprint !== identity.fingerprint) throw keyReused();
      return { view: archived!.view, repeat: true };
    }
    const found = archived ?? (await this.reads.findCase(caseId));
    if (!found) throw new Problem(404, 'Case not found', `no case ${caseId}`, { code: 'CASE_NOT_FOUND' });
    throw new Problem(409, 'Case closed', `the case has ended (${found.view.status})`, {
      code: 'CASE_CLOSED',
    });
  }
}
