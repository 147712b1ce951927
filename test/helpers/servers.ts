// The real Temporal dev server for the tests, started once per run (tuned, in memory, on a free port).
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { freePort, startDevServer, type DevServer } from '../../scripts/dev-server';
import { ensureTemporalCli } from '../../scripts/temporal-tools';
import { WORKFLOWS_PATH } from '../../worker/create';

let devServer: Promise<DevServer> | undefined;
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

export function sharedDevServer(): Promise<DevServer> {
  devServer ??= (async () => startDevServer({ cli: await ensureTemporalCli(), port: await freePort() }))();
  return devServer;
}

/** The workflow bundle, built once for the whole run. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    ignoreModules: ['zod', 'express'],
    logger: quietLogger,
  });
  return bundle;
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };

export async function stopSharedServers(): Promise<void> {
  if (devServer) await (await devServer).stop();
  devServer = undefined;
}
