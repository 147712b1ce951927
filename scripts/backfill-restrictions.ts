// `npm run backfill-restrictions`: once, after deploying 0.3, writes a restriction record for every case
// opened before 0.3 that is still open (those runs write records only when their restriction changes, a
// message goes out, or they end). A record already there is left alone: the case's own writes are newer.
import { Client, Connection } from '@temporalio/client';
import { CASE_WORKFLOW_TYPE, type CaseView } from '../core/contracts';
import { caseViewQuery } from '../workflows/definitions';
import type { AccountRestriction } from '../core/activity-contract';
import { parseConfig } from '../infra/config';
import { openStore, type Store } from '../infra/store';
import { connectionOptions } from '../infra/temporal';
import { codecDataConverter, codecFromConfig } from '../infra/codec';

/** The record a case's view implies, with the lowest version of its case, so any write of the case wins. */
export function recordOfView(view: CaseView): AccountRestriction | null {
  if (view.tier === 'NONE') return null;
  return {
    accountId: view.accountId,
    caseId: view.caseId,
    status: view.status,
    tier: view.tier,
    restricted: view.restricted,
    open: view.outcome === null,
    version: `${String(Date.parse(view.openedAt)).padStart(15, '0')}:${'0'.repeat(15)}:${'0'.repeat(8)}`,
  };
}

/**
 * Writes the missing records of running cases (narrowed by an extra visibility filter if given). A case that
 * cannot be asked (no worker answering) is counted and left for the next run of the backfill.
 */
export async function backfillRestrictions(
  client: Client,
  store: Store,
  filter?: string,
): Promise<{ written: number; unanswered: number }> {
  let written = 0;
  let unanswered = 0;
  const running = client.workflow.list({
    query: `WorkflowType = "${CASE_WORKFLOW_TYPE}" AND ExecutionStatus = "Running"${filter ? ` AND ${filter}` : ''}`,
  });
  for await (const wf of running) {
    let view: CaseView | null;
    try {
      view = await client.workflow.getHandle(wf.workflowId, wf.runId).query(caseViewQuery);
    } catch {
      unanswered += 1;
      continue;
    }
    const record = view && recordOfView(view);
    if (!record) continue;
    await store.restrictions.record(record, true);
    written += 1;
  }
  return { written, unanswered };
}

if (require.main === module) {
  (async () => {
    const config = parseConfig();
    const connection = await Connection.connect(connectionOptions(config));
    const store = await openStore(config.database);
    try {
      const client = new Client({
        connection,
        namespace: config.temporal.namespace,
        dataConverter: codecDataConverter(codecFromConfig(config)),
      });
      const { written, unanswered } = await backfillRestrictions(client, store);
      process.stdout.write(`restriction records checked for ${written} open case(s)\n`);
      if (unanswered) {
        process.stderr.write(`${unanswered} case(s) did not answer (is a worker running?): run it again\n`);
        process.exitCode = 1;
      }
    } finally {
      await store.db.close();
      await connection.close();
    }
  })().catch((err: unknown) => {
    process.stderr.write(`backfill failed: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
