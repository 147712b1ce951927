import type { Server } from 'node:http';
import { Client, Connection, type ConnectionLike } from '@temporalio/client';
import { createScorer, reloadingScorer, scorerFromConfig } from '../activities/scorer';
import { ShadowScoring } from './shadow';
import { parseConfig, type Config } from '../infra/config';
import { createLogger, type Logger } from '../infra/logger';
import { openStore, type Store } from '../infra/store';
import { callTracker, connectionOptions } from '../infra/temporal';
import { buildApp } from './app';
import { CaseService, gaugeSourcesOf } from './case-service';
import { createMetrics } from '../infra/metrics';
import { devSecret } from '../infra/dev-secrets';
import { linkKeysFromConfig } from '../infra/links';
import { devMailDir } from './dev-mail';
import { codecDataConverter, codecFromConfig } from '../infra/codec';
import { evidenceKeysFrom, FileEvidenceStore, type EvidenceStore } from '../infra/evidence-store';
import { referencesFromCases, startEvidenceSweeper, type EvidenceSweeper } from './evidence-sweep';

export interface RunningApi {
  server: Server;
  url: string;
  /** Calls made to Temporal on the API's own connection (none counted when it shares one). */
  temporalCalls(): number;
  /** Where the user's page keeps evidence files and the console reads them. */
  evidence: EvidenceStore;
  /** Removes evidence files no case holds any more (hourly; `runOnce` for operators and tests). */
  evidenceSweeper: EvidenceSweeper;
  close(): Promise<void>;
}

/** Starts the API on config.port (0: any free port), over an existing Temporal connection or a new one. */
export async function startApi(
  config: Config,
  logger: Logger,
  connection?: ConnectionLike,
  sharedStore?: Store,
): Promise<RunningApi> {
  // Everything the API sends to or reads from Temporal goes through the payload codec; /codec serves the same one.
  const codec = codecFromConfig(config);
  const store = sharedStore ?? (await openStore(config.database));
  const calls = callTracker();
  const ownConnection = connection
    ? undefined
    : await Connection.connect({ ...connectionOptions(config), interceptors: calls.interceptors });
  const client = new Client({
    connection: connection ?? ownConnection,
    namespace: config.temporal.namespace,
    dataConverter: codecDataConverter(codec),
  });
  const scorer = scorerFromConfig(config, logger.child('policy'));
  const shadowPolicy = config.shadowPolicyFile
    ? reloadingScorer(config.shadowPolicyFile, logger.child('shadow-policy'), (p) => createScorer(p))
    : undefined;
  const shadow = shadowPolicy
    ? new ShadowScoring({ candidate: () => shadowPolicy.policy, store, logger: logger.child('shadow') })
    : undefined;
  const metrics = createMetrics(gaugeSourcesOf(client, store));
  const cases = new CaseService({
    client,
    scorer,
    logger,
    store,
    metrics,
    eventIdWindowMs: config.database.eventIdWindowMs,
    taskQueue: config.taskQueue,
    shadow,
  });
  // Evidence files are sealed with keys derived from the payload codec's (same IDs, same rotation).
  const evidence = new FileEvidenceStore(
    config.dataDir,
    evidenceKeysFrom(config.codec.keys ?? [{ id: 'dev', key: devSecret(config.dataDir, 'codec-key', 32) }]),
  );
  const app = buildApp({
    cases,
    scorer,
    shadow,
    trustProxy: config.trustProxy,
    tokens: config.tokens,
    logger,
    metrics,
    sdkMetricsAddress: config.sdkMetricsAddress,
    sessionSecret: config.sessionSecret
      ? Buffer.from(config.sessionSecret)
      : devSecret(config.dataDir, 'console-session-secret'),
    store,
    linkKeys: linkKeysFromConfig(config),
    publicUrl: config.publicUrl,
    dataDir: config.dataDir,
    mode: config.mode,
    mailDir: config.mode === 'development' ? devMailDir(config.dataDir) : undefined,
    codec,
    codecCorsOrigins: config.codec.corsOrigins,
    portal: {
      verification: {
        url: config.verification.url,
        secret: config.verification.secret
          ? Buffer.from(config.verification.secret)
          : config.mode === 'development'
            ? devSecret(config.dataDir, 'verification-secret')
            : undefined,
      },
      evidence,
    },
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, '0.0.0.0');
    s.once('listening', () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `port ${config.port} (API) is already in use: set PORT to another port`
            : err.message,
        ),
      ),
    );
  });
  const evidenceSweeper = startEvidenceSweeper({
    evidence,
    referencesOf: referencesFromCases((caseId) => cases.getCase(caseId)),
    logger: logger.child('evidence'),
  });
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : config.port}`;
  return {
    server,
    url,
    temporalCalls: () => calls.started(),
    evidence,
    evidenceSweeper,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await evidenceSweeper.stop();
      server.closeAllConnections();
      // Calls that outlived their request (a query abandoned by Promise.all) end before the channel closes.
      scorer.close?.();
      shadowPolicy?.close?.();
      await shadow?.settled();
      if (ownConnection) await calls.idle(15_000);
      await ownConnection?.close();
      if (!sharedStore) await store.db.close();
    },
  };
}

export function printTokens(config: Config, logger: Logger): void {
  if (config.mode !== 'development') return;
  for (const [token, p] of config.tokens) logger.info('development token', { token, role: p.role, id: p.id });
}

if (require.main === module) {
  const logger = createLogger('api');
  let config: Config;
  try {
    config = parseConfig();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
  startApi(config, logger)
    .then((api) => {
      logger.info('API listening', { url: api.url, mode: config.mode });
      printTokens(config, logger);
      const stop = () => {
        logger.info('API stopping');
        void api.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    })
    .catch((err) => {
      process.stderr.write(`API failed: ${(err as Error).message}\n`);
      process.exit(1);
    });
}
