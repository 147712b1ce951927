// Erasure's part in Temporal: every closed run of the account's case workflow is deleted, history and visibility
// record alike (DeleteWorkflowExecution), and is then looked up until the server no longer knows it. Payloads there
// are encrypted with the codec's keys, not the account's data key, so deleting them is the only way to erase them.
// Only closed runs: an account being erased has no open case, and a run still finishing its last steps is waited
// for (briefly) instead of cut short. Each call is idempotent: a run already deleted counts as deleted.
//
// The server deletes in the background, and not before its queues have acknowledged the run's closing tasks,
// which they record every `history.transferProcessorUpdateAckInterval` (30 s by default): a run that closed a
// moment ago stays readable for up to about that long after the delete. The step waits for it.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { caseWorkflowId } from '../core/contracts';
import { SA } from '../workflows/definitions';
import { ErasureStepError } from './erasure-record';

export interface HistoryEraser {
  /** Deletes the account's closed runs; answers how many runs it found (and deleted, or found gone). */
  eraseRuns(accountId: string): Promise<number>;
}

/** gRPC NOT_FOUND: the run is already gone. */
const NOT_FOUND = 5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class TemporalHistoryEraser implements HistoryEraser {
  constructor(
    private readonly client: Client,
    private readonly o: { namespace: string; closeWaitMs?: number; deleteWaitMs?: number } = {
      namespace: 'default',
    },
  ) {}

  async eraseRuns(accountId: string): Promise<number> {
    // By workflow ID, and by the account's search attribute (a run of another ID that named the account).
    const query = `WorkflowId = "${caseWorkflowId(accountId)}" OR ${SA.accountId.name} = "${accountId}"`;
    const runs: { workflowId: string; runId: string }[] = [];
    for await (const wf of this.client.workflow.list({ query }))
      runs.push({ workflowId: wf.workflowId, runId: wf.runId });
    for (const run of runs) await this.whenClosed(run, this.o.closeWaitMs ?? 30_000);
    for (const run of runs) {
      try {
        await this.client.workflowService.deleteWorkflowExecution({
          namespace: this.o.namespace,
          workflowExecution: run,
        });
      } catch (err) {
        if ((err as { code?: number }).code !== NOT_FOUND) throw err;
      }
    }
    // The server deletes in the background: the step is done when no run can be read any more.
    const deadline = Date.now() + (this.o.deleteWaitMs ?? 120_000);
    for (const run of runs) {
      while (await this.exists(run)) {
        if (Date.now() > deadline)
          throw new ErasureStepError(
            'HISTORY_DELETE_PENDING',
            'Temporal has not yet deleted every run of the account: approve again later to finish',
          );
        await sleep(500);
      }
    }
    return runs.length;
  }

  /** Waits for a run that is still finishing (its case ended, its last messages being handed over). */
  private async whenClosed(run: { workflowId: string; runId: string }, waitMs: number): Promise<void> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      let running: boolean;
      try {
        running =
          (await this.client.workflow.getHandle(run.workflowId, run.runId).describe()).status.name ===
          'RUNNING';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return;
        throw err;
      }
      if (!running) return;
      if (Date.now() > deadline)
        throw new ErasureStepError(
          'CASE_OPEN',
          'a workflow run of the account is still running: approve again once its case has ended',
        );
      await sleep(250);
    }
  }

  private async exists(run: { workflowId: string; runId: string }): Promise<boolean> {
    try {
      await this.client.workflow.getHandle(run.workflowId, run.runId).describe();
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }
}
