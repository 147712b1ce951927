// `npm start`: a Temporal dev server (unless TEMPORAL_ADDRESS names a cluster), the worker and the API in one
// process, with readable logs. Ctrl-C stops the API, drains the worker, then stops the server.
import { join } from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { printTokens, startApi } from '../api/main';
import { parseConfig } from '../infra/config';
import { createLogger } from '../infra/logger';
import { connectionOptions } from '../infra/temporal';
import { createCaseWorker, installSdkLogger, workflowCacheSizeFromEnv } from '../worker/create';
import { startWorkerRuntime } from '../worker/deps';
import { assertPortFree, startDevServer, type DevServer } from './dev-server';
import { devMailDir } from '../api/dev-mail';
import { startMailCatcher, type MailCatcher } from './mail-catcher';
import { ensureTemporalCli } from './temporal-tools';

async function main(): Promise<void> {
  const logger = createLogger('cordon');
  let config = parseConfig();
  installSdkLogger(config.sdkMetricsAddress);
  await assertPortFree(config.port, 'API');

  let devServer: DevServer | undefined;
  // The API serves the payload codec there; the dev server's Web UI decodes what it shows through it.
  const codecEndpoint = `${config.publicUrl}/codec`;
  if (!config.temporal.address) {
    const cli = await ensureTemporalCli();
    const temporalLog = logger.child('temporal');
    devServer = await startDevServer({
      cli,
      port: config.temporal.devPort,
      uiPort: config.temporal.uiPort,
      dbFile: join(config.dataDir, 'temporal.sqlite'),
      namespace: config.temporal.namespace,
      codecEndpoint,
      onLog: (line) => temporalLog.info(line.slice(0, 500)),
      onNotice: (message, fields) => logger.warn(message, fields),
    });
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
  let catcher: MailCatcher | undefined;
  if (!config.mail.smtpUrl && config.mode === 'development') {
    catcher = await startMailCatcher({ dir: devMailDir(config.dataDir), logger: logger.child('mail') });
    config = { ...config, mail: { ...config.mail, smtpUrl: catcher.url } };
    logger.info('mail catcher ready', { smtp: catcher.url, mail: `${config.publicUrl}/dev/mail` });
  }

  const connection = await NativeConnection.connect(connectionOptions(config));
  const runtime = await startWorkerRuntime(config, logger.child('worker'));
  const worker = await createCaseWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.taskQueue,
    deps: runtime.deps,
    codec: runtime.codec,
    maxCachedWorkflows: workflowCacheSizeFromEnv(),
  });
  const workerDone = worker.run();
  // The API shares the worker's Temporal connection and Cordon's database.
  const api = await startApi(config, logger.child('api'), connection, runtime.store);
  logger.info('Cordon is up', {
    api: api.url,
    openapi: `${api.url}/openapi.json`,
    webUi: devServer?.uiUrl ?? 'n/a',
    mode: config.mode,
  });
  printTokens(config, logger);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    await api.close();
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await workerDone.catch((err) =>
      logger.error('worker ended with an error', { error: (err as Error).message }),
    );
    await runtime.close();
    await catcher?.close();
    await connection.close();
    await devServer?.stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  workerDone.then(
    () => void stop('worker stopped'),
    (err) => {
      logger.error('worker failed', { error: (err as Error).message });
      void stop('worker failed');
    },
  );
}

main().catch((err) => {
  process.stderr.write(`cordon failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
