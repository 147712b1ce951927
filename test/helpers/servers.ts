// The real Temporal dev server for the tests, started once per run (tuned, in memory, on a free port), and the
// payload codec every test runs with: the test key committed beside the recorded histories.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import {
  codecDataConverter,
  EncryptionCodec,
  FAILURE_CONVERTER_PATH,
  parseCodecKeys,
} from '../../infra/codec';
import { freePort, startDevServer, type DevServer } from '../../scripts/dev-server';
import { ensureTemporalCli } from '../../scripts/temporal-tools';
import { WORKFLOW_BUNDLER_OPTIONS, WORKFLOW_INTERCEPTOR_MODULES, WORKFLOWS_PATH } from '../../worker/create';

let devServer: Promise<DevServer> | undefined;
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

export function sharedDevServer(): Promise<DevServer> {
  devServer ??= (async () => startDevServer({ cli: await ensureTemporalCli(), port: await freePort() }))();
  return devServer;
}

/** The file of the tests' codec keys: committed, so CI replays the encrypted histories the tests recorded. */
export const TEST_CODEC_KEYS_FILE = join(__dirname, '..', 'histories', 'codec-test-keys.txt');

/** The tests' keys as CORDON_CODEC_KEYS takes them, for an API or a `npm start` the tests configure. */
export const TEST_CODEC_KEYS: string = readFileSync(TEST_CODEC_KEYS_FILE, 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'))
  .join(',');

export const testCodec = new EncryptionCodec(parseCodecKeys(TEST_CODEC_KEYS, TEST_CODEC_KEYS_FILE));

/** For a Client, a Worker or a replayer of the tests: the test key, and failure messages through it. */
export const testDataConverter: DataConverter = codecDataConverter(testCodec);

/**
 * The workflow bundle, built once for the whole run, as production builds it: with the failure converter that
 * encodes messages and tracing's workflow interceptors.
 */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    ...WORKFLOW_BUNDLER_OPTIONS,
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
