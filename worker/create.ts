import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { TASK_QUEUE } from '../core/contracts';

export const WORKFLOWS_PATH = require.resolve('../workflows');

export interface CaseWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue?: string;
  deps: ActivityDeps;
  /** A prebuilt bundle (tests build it once); otherwise the workflows are bundled at start-up. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export function createCaseWorker(o: CaseWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: o.taskQueue ?? TASK_QUEUE,
    activities: createActivities(o.deps),
    ...(o.workflowBundle
      ? { workflowBundle: o.workflowBundle }
      : // Keep zod and express out of the workflow sandbox even if an import slips in: nothing there needs them.
        { workflowsPath: WORKFLOWS_PATH, bundlerOptions: { ignoreModules: ['zod', 'express'] } }),
  });
}

/** The SDK's INFO lines (webpack's bundle report among them) drown Cordon's own; keep its warnings. */
export function installSdkLogger(): void {
  Runtime.install({ logger: new DefaultLogger((process.env.SDK_LOG_LEVEL as 'INFO' | undefined) ?? 'WARN') });
}
