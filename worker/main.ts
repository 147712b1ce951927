import { NativeConnection, type Worker } from '@temporalio/worker';
import { parseConfig } from '../infra/config';
import { createLogger, type Logger } from '../infra/logger';
import { stopOnSignals } from '../infra/shutdown';
import { connectionOptions } from '../infra/temporal';
import {
  createCaseWorker,
  installSdkLogger,
  workflowBundleFromEnv,
  workflowCacheSizeFromEnv,
  WORKER_DRAIN,
  WORKER_STOP_MS,
} from './create';
import { startWorkerRuntime } from './deps';

export interface RunningWorker {
  worker: Worker;
  /** Settles once the worker has drained and the dispatcher, the database and the connection are closed. */
  done: Promise<void>;
}

/** Starts a case worker with its outbox dispatcher; `worker.shutdown()` drains it (see WORKER_DRAIN). */
export async function startWorker(logger: Logger): Promise<RunningWorker> {
  const config = parseConfig();
  const workflowBundle = workflowBundleFromEnv();
  installSdkLogger(config.sdkMetricsAddress, { ownSignals: true });
  const connection = await NativeConnection.connect(connectionOptions(config));
  const runtime = await startWorkerRuntime(config, logger);
  let worker: Worker;
  try {
    worker = await createCaseWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.taskQueue,
      deps: runtime.deps,
      codec: runtime.codec,
      workflowBundle,
      maxCachedWorkflows: workflowCacheSizeFromEnv(),
      drain: WORKER_DRAIN,
    });
  } catch (err) {
    await runtime.close();
    await connection.close();
    throw err;
  }
  logger.info('worker started', {
    taskQueue: worker.options.taskQueue,
    namespace: config.temporal.namespace,
    prebuiltBundle: workflowBundle !== undefined,
  });
  const done = worker.run().finally(async () => {
    // Activities in flight have finished (or were cancelled past the grace time): the dispatcher's round ends,
    // then the database and the connection close.
    await runtime.close();
    await connection.close();
  });
  return { worker, done };
}

// SIGINT or SIGTERM: the worker stops polling, lets the activities in flight finish, stops the dispatcher and
// exits 0, within WORKER_STOP_MS. The SDK's own signal handling is off (installSdkLogger): one order, ours.
if (require.main === module) {
  const logger = createLogger('worker');
  const starting = startWorker(logger);
  const stopper = stopOnSignals({
    logger,
    deadlineMs: () => WORKER_STOP_MS,
    async stop() {
      const running = await starting.catch(() => undefined); // a signal during start-up stops once it is up
      if (!running) return;
      if (running.worker.getState() === 'RUNNING') running.worker.shutdown();
      await running.done;
      logger.info('worker stopped');
    },
  });
  starting.then(
    (running) =>
      running.done.then(
        () => {
          if (!stopper.stopping) stopper.stop('worker ended');
        },
        (err: unknown) => {
          if (stopper.stopping) return; // the stop reports it
          logger.error('worker failed', { error: (err as Error).message });
          stopper.stop('worker failed', 1);
        },
      ),
    (err: unknown) => {
      process.stderr.write(`worker failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
