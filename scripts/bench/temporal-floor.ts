// The floor of the restricting path: an update-with-start whose handler runs one activity and answers
// (scripts/bench/floor-workflow.ts), on the same Temporal server, through the same payload codec as Cordon.
import { randomUUID } from 'node:crypto';
import type { PayloadCodec } from '@temporalio/common';
import { Client, WithStartWorkflowOperation } from '@temporalio/client';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { codecDataConverter } from '../../infra/codec';
import { touchUpdate } from './floor-workflow';

export interface TemporalFloor {
  worker: Worker;
  /** One update-with-start of a fresh workflow, answered once its activity has run. */
  op: (i: number) => Promise<unknown>;
}

export async function startTemporalFloor(o: {
  connection: NativeConnection;
  client: Client;
  namespace: string;
  codec: PayloadCodec;
  run: string;
}): Promise<TemporalFloor> {
  const taskQueue = `floor-${o.run}`;
  const worker = await Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue,
    workflowsPath: require.resolve('./floor-workflow'),
    activities: { touch: async (id: string) => id },
    dataConverter: codecDataConverter(o.codec),
  });
  return {
    worker,
    op: (i) =>
      o.client.workflow.executeUpdateWithStart(touchUpdate, {
        args: [`x${i}`],
        startWorkflowOperation: new WithStartWorkflowOperation('floorWorkflow', {
          taskQueue,
          workflowId: `floor-${o.run}-${i}-${randomUUID()}`,
          workflowIdConflictPolicy: 'USE_EXISTING',
        }),
      }),
  };
}
