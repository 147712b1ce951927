import { NativeConnection } from '@temporalio/worker';
import { parseConfig } from '../infra/config';
import { createLogger } from '../infra/logger';
import { connectionOptions } from '../infra/temporal';
import {
  createCaseWorker,
  installSdkLogger,
  workflowBundleFromEnv,
  workflowCacheSizeFromEnv,
} from './create';
import { startWorkerRuntime } from './deps';

/** Runs a case worker until SIGINT/SIGTERM; the worker drains in-flight tasks before it exits. */
export async function runWorker(): Promise<void> {
  const logger = createLogger('worker');
  const config = parseConfig();
  const workflowBundle = workflowBundleFromEnv();
  installSdkLogger(config.sdkMetricsAddress);
  const connection = await NativeConnection.connect(connectionOptions(config));
  const runtime = await startWorkerRuntime(config, logger);
  try {
    const worker = await createCaseWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.taskQueue,
      deps: runtime.deps,
      codec: runtime.codec,
      workflowBundle,
      maxCachedWorkflows: workflowCacheSizeFromEnv(),
    });
    logger.info('worker started', {
      taskQueue: worker.options.taskQueue,
      namespace: config.temporal.namespace,
      prebuiltBundle: workflowBundle !== undefined,
    });
    await worker.run(); // the SDK shuts the worker down gracefully on SIGINT/SIGTERM
    logger.info('worker stopped');
  } finally {
    await runtime.close();
    await connection.close();
  }
}

if (require.main === module) {
  runWorker().catch((err) => {
    process.stderr.write(`worker failed: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
