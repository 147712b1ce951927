// `npm start`: a Temporal dev server (unless TEMPORAL_ADDRESS names a cluster), the worker and the API in one
// process, with readable logs. SIGINT (Ctrl-C) or SIGTERM, even during start-up: the API closes, the worker
// drains, the mail catcher and the dev server stop, then the process exits 0 (see docs/deploy.md).
import { join } from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { printTokens, startApi, API_STOP_MS } from '../api/main';
import { parseConfig } from '../infra/config';
import { createLogger } from '../infra/logger';
import { stopOnSignals } from '../infra/shutdown';
import { connectionOptions } from '../infra/temporal';
import {
  createCaseWorker,
  installSdkLogger,
  workflowCacheSizeFromEnv,
  WORKER_DRAIN,
  WORKER_STOP_MS,
} from '../worker/create';
import { startWorkerRuntime } from '../worker/deps';
import { assertPortFree, startDevServer } from './dev-server';
import { devMailDir } from '../api/dev-mail';
import { startMailCatcher } from './mail-catcher';
import { ensureTemporalCli } from './temporal-tools';

/** The dev server's own stop (SIGTERM, SIGKILL after 10 s: see dev-server.ts), after the API and the worker. */
const DEV_SERVER_STOP_MS = 11_000;

const logger = createLogger('cordon');
/** What is up, last started first: the stop closes them in this order (the API, the worker, ..., the server). */
const running: { name: string; close: () => Promise<void> }[] = [];
const stopper = stopOnSignals({
  logger,
  deadlineMs: () => API_STOP_MS + WORKER_STOP_MS + DEV_SERVER_STOP_MS,
  async stop() {
    await starting.catch(() => undefined); // start-up stops at its next step
    for (const part of running.splice(0)) {
      try {
        await part.close();
      } catch (err) {
        logger.error(`${part.name} did not close cleanly`, { error: (err as Error).message });
      }
    }
    logger.info('stopped');
  },
});
/** Registers what just started, unless a stop began meanwhile (then start-up goes no further). */
const started = (name: string, close: () => Promise<void>): boolean => {
  running.unshift({ name, close });
  return !stopper.stopping;
};

async function main(): Promise<void> {
  let config = parseConfig();
  installSdkLogger(config.sdkMetricsAddress, { ownSignals: true });
  await assertPortFree(config.port, 'API');

  // The API serves the payload codec there; the dev server's Web UI decodes what it shows through it.
  const codecEndpoint = `${config.publicUrl}/codec`;
  let webUi: string | undefined;
  if (!config.temporal.address) {
    const cli = await ensureTemporalCli();
    const temporalLog = logger.child('temporal');
    const devServer = await startDevServer({
      cli,
      port: config.temporal.devPort,
      uiPort: config.temporal.uiPort,
      dbFile: join(config.dataDir, 'temporal.sqlite'),
      namespace: config.temporal.namespace,
      codecEndpoint,
      onLog: (line) => temporalLog.info(line.slice(0, 500)),
      onNotice: (message, fields) => logger.warn(message, fields),
    });
    webUi = devServer.uiUrl;
    if (!started('the Temporal dev server', () => devServer.stop())) return;
    logger.info('Temporal dev server ready', {
      address: devServer.address,
      webUi: devServer.uiUrl,
      codecEndpoint,
      data: config.dataDir,
    });
  } else {
    logger.info('using Temporal cluster', {
      address: config.temporal.address,
      namespace: config.temporal.namespace,
    });
  }

  // Development without a mail server: a local catcher takes the mails, readable at /dev/mail.
  if (!config.mail.smtpUrl && config.mode === 'development') {
    const catcher = await startMailCatcher({ dir: devMailDir(config.dataDir), logger: logger.child('mail') });
    if (!started('the mail catcher', () => catcher.close())) return;
    config = { ...config, mail: { ...config.mail, smtpUrl: catcher.url } };
    logger.info('mail catcher ready', { smtp: catcher.url, mail: `${config.publicUrl}/dev/mail` });
  }

  const connection = await NativeConnection.connect(connectionOptions(config));
  if (!started('the Temporal connection', () => connection.close())) return;
  const runtime = await startWorkerRuntime(config, logger.child('worker'));
  if (!started('the dispatcher and the database', () => runtime.close())) return;
  const worker = await createCaseWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.taskQueue,
    deps: runtime.deps,
    codec: runtime.codec,
    maxCachedWorkflows: workflowCacheSizeFromEnv(),
    drain: WORKER_DRAIN,
  });
  const workerDone = worker.run();
  const drained = workerDone.catch((err: unknown) =>
    logger.error('worker ended with an error', { error: (err as Error).message }),
  );
  const workerClose = async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await drained;
  };
  if (!started('the worker', workerClose)) return;
  // The API shares the worker's Temporal connection and Cordon's database. Nothing balances load across
  // `npm start`, so its stop has no readiness delay.
  const api = await startApi(config, logger.child('api'), connection, runtime.store);
  if (!started('the API', () => api.close())) return;
  // The tokens first: whoever waits for "Cordon is up" (a person, a test) finds them already printed.
  printTokens(config, logger);
  logger.info('Cordon is up', {
    api: api.url,
    openapi: `${api.url}/openapi.json`,
    webUi: webUi ?? 'n/a',
    mode: config.mode,
  });
  // The worker ending by itself (not by the stop) stops everything else too.
  workerDone.then(
    () => !stopper.stopping && stopper.stop('worker stopped'),
    () => !stopper.stopping && stopper.stop('worker failed', 1),
  );
}

const starting = main();
starting.catch((err: unknown) => {
  if (stopper.stopping) return; // what failed was cut short by the stop
  process.stderr.write(`cordon failed to start: ${(err as Error).message}\n`);
  // What did start stops too (the dev server above all), then the process exits 1.
  stopper.stop('start-up failed', 1);
});
