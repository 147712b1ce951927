// A reviewed bulk action once approved (api/bulk-actions.ts): the dry run's exact cases, one activity per case
// (activities/bulk.ts), at most `ratePerSecond` of them a second. What became of each case is written to Cordon's
// database by the activity itself, once; the activity acts on a case under the request ID
// `bulk:<bulkId>:<caseId>`, so a retry after a worker's crash is answered from the case's own request memory and
// no case is acted on twice. Cancelling is a flag in the database the activity reads before each case.
import { ActivityFailure, continueAsNew, proxyActivities, sleep } from '@temporalio/workflow';

export const BULK_WORKFLOW_TYPE = 'bulkActionWorkflow';

export interface BulkActionInput {
  bulkId: string;
  ratePerSecond: number;
  /** The first case (its position in the dry run's list) this run takes: set when it continues as new. */
  from?: number;
}

/** What one step did: a case settled, the action stopped, or no case left. */
export type BulkStep = 'DONE' | 'SKIPPED' | 'FAILED' | 'CANCELLED' | 'POLICY_CHANGED' | 'END';
export type BulkEnd = 'DONE' | 'CANCELLED' | 'POLICY_CHANGED';

/** The activities this workflow calls, as activities/bulk.ts implements them. */
export interface BulkActivities {
  bulkActOnCase(bulkId: string, seq: number): Promise<BulkStep>;
  /** A case whose activity gave up: FAILED with why, so the action goes on with the next one. */
  bulkCaseFailed(bulkId: string, seq: number, reason: string): Promise<void>;
  bulkFinish(bulkId: string, status: BulkEnd): Promise<void>;
}

const acts = proxyActivities<BulkActivities>({
  // A case's step reads its view, may rescore its events and sends one update: well under a minute.
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8 },
});
const records = proxyActivities<BulkActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

/** Cases per run before it continues as new: each case is a few events, and histories stay short. */
export const BULK_CASES_PER_RUN = 500;

export async function bulkActionWorkflow(input: BulkActionInput): Promise<BulkEnd> {
  const gapMs = Math.ceil(1_000 / Math.max(1, input.ratePerSecond));
  let seq = input.from ?? 0;
  for (let inRun = 0; ; inRun++, seq++) {
    if (inRun >= BULK_CASES_PER_RUN) return continueAsNew<typeof bulkActionWorkflow>({ ...input, from: seq });
    let step: BulkStep;
    try {
      step = await acts.bulkActOnCase(input.bulkId, seq);
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      await records.bulkCaseFailed(input.bulkId, seq, err.cause?.message ?? err.message);
      step = 'FAILED';
    }
    if (step === 'END') {
      await records.bulkFinish(input.bulkId, 'DONE');
      return 'DONE';
    }
    if (step === 'CANCELLED' || step === 'POLICY_CHANGED') {
      await records.bulkFinish(input.bulkId, step);
      return step;
    }
    await sleep(gapMs);
  }
}
