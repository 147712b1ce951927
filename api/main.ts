import type { Server, ServerResponse } from 'node:http';
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
import { auditKeysFromConfig } from '../infra/audit-keys';
import { entityHasherFromConfig } from '../infra/entity-key';
import { LiveFeatures } from './live-features';
import { Linker } from './linker';
import { RuleGuards } from './guards';
import { GuardNotes } from './guard-notes';
import { devMailDir } from './dev-mail';
import { codecDataConverter, codecFromConfig } from '../infra/codec';
import type { EvidenceStore } from '../infra/evidence-store';
import { evidenceStoreFromConfig } from '../infra/evidence/from-config';
import { referencesFromCases, startEvidenceSweeper, type EvidenceSweeper } from './evidence-sweep';
import { stopOnSignals } from '../infra/shutdown';
import { ConsoleSessionStore } from '../infra/sessions';
import { TemporalHistoryEraser } from '../infra/erasure-temporal';
import { ErasureService } from './erasure';
import { BulkActions } from './bulk-actions';
import { TASK_QUEUE } from '../core/contracts';
import { flushTracing, startTracing, tracingClientInterceptors } from '../infra/tracing';

/** Once the listener is closed, requests in flight get this long to be answered before their connections are cut. */
export const REQUEST_DRAIN_MS = 5_000;
/** Temporal calls that outlived their request (a query abandoned by Promise.all) get this long on a SIGTERM. */
const CALLS_DRAIN_MS = 1_000;
/** The bound of a stop after the readiness delay: requests drained, then connections and the database closed. */
export const API_STOP_MS = REQUEST_DRAIN_MS + 1_500;

export interface RunningApi {
  server: Server;
  url: string;
  /** Calls made to Temporal on the API's own connection (none counted when it shares one). */
  temporalCalls(): number;
  /** Where the user's page keeps evidence files and the console reads them. */
  evidence: EvidenceStore;
  /** Removes evidence files no case holds any more (hourly; `runOnce` for operators and tests). */
  evidenceSweeper: EvidenceSweeper;
  /**
   * What a SIGTERM does: GET /readyz answers 503 at once while everything else is still served for delayMs (load
   * balancers take the process out of rotation late), then close().
   */
  drainAndClose(delayMs: number): Promise<void>;
  /**
   * Stops: readiness fails, the listener closes (new connections are refused), requests in flight are answered
   * (for up to REQUEST_DRAIN_MS, each with Connection: close), then the Temporal connection and database close.
   * callsDrainMs: how long Temporal calls that outlived their request may take to end (15 s unless told).
   */
  close(o?: { callsDrainMs?: number }): Promise<void>;
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
  // Traces when OTEL_EXPORTER_OTLP_ENDPOINT is set: each request's, through its Temporal calls (infra/tracing.ts).
  startTracing('cordon-api');
  const store = sharedStore ?? (await openStore(config.database));
  const calls = callTracker();
  /** Set when the stop begins: /readyz fails and every answer closes its connection. */
  let stopping = false;
  const ownConnection = connection
    ? undefined
    : await Connection.connect({ ...connectionOptions(config), interceptors: calls.interceptors });
  const client = new Client({
    connection: connection ?? ownConnection,
    namespace: config.temporal.namespace,
    dataConverter: codecDataConverter(codec),
    interceptors: { workflow: tracingClientInterceptors() },
  });
  const scorer = scorerFromConfig(config, logger.child('policy'));
  const shadowPolicy = config.shadowPolicyFile
    ? reloadingScorer(
        config.shadowPolicyFile,
        logger.child('shadow-policy'),
        (p) => createScorer(p),
        1_000,
        config.database.eventIdWindowMs / 86_400_000,
      )
    : undefined;
  const features = new LiveFeatures(store);
  const shadow = shadowPolicy
    ? new ShadowScoring({
        candidate: () => shadowPolicy.policy,
        store,
        logger: logger.child('shadow'),
        features,
      })
    : undefined;
  const metrics = createMetrics(gaugeSourcesOf(client, store));
  const guards = new RuleGuards({ store, logger: logger.child('guards'), metrics });
  const cases = new CaseService({
    features,
    guards,
    client,
    scorer,
    logger,
    store,
    metrics,
    eventIdWindowMs: config.database.eventIdWindowMs,
    taskQueue: config.taskQueue,
    temporalCallMs: config.temporalCallMs,
    shadow,
  });
  // Evidence files: an object store, else PostgreSQL, else the data folder (sealed alike, codec-derived keys).
  const evidence = evidenceStoreFromConfig(config, store.db, logger.child('evidence'));
  const erasures = new ErasureService({
    store,
    evidence,
    histories: new TemporalHistoryEraser(client, { namespace: config.temporal.namespace }),
    logger: logger.child('erasure'),
    minHoldDays: config.erasure.minHoldDays,
    policyHoldDays: () => scorer.policy.policy.privacy?.legalHoldDays ?? 0,
  });
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
    sessions: new ConsoleSessionStore(store.db, config.sessions),
    store,
    linkKeys: linkKeysFromConfig(config),
    auditKeys: auditKeysFromConfig(config),
    entities: entityHasherFromConfig(config),
    features,
    guards,
    publicUrl: config.publicUrl,
    dataDir: config.dataDir,
    mode: config.mode,
    mailDir: config.mode === 'development' ? devMailDir(config.dataDir) : undefined,
    codec,
    codecCorsOrigins: config.codec.corsOrigins,
    eventMaxFutureMs: config.eventMaxFutureMs,
    erasures,
    // Reviewed bulk actions; with their limits (CORDON_BULK_MAX, CORDON_BULK_RATE).
    bulkActions: new BulkActions({
      store,
      client,
      taskQueue: config.taskQueue ?? TASK_QUEUE,
      policy: () => scorer.policy,
      logger: logger.child('bulk'),
      maxCases: config.bulk.maxCases,
      ratePerSecond: config.bulk.ratePerSecond,
    }),
    ready: () => !stopping,
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
    // CORDON_HOST: loopback unless configured (production must say; a container says 0.0.0.0).
    const s = app.listen(config.port, config.host);
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
  // Linked accounts: the jobs cases' ends leave in Cordon's database, worked by whichever API process claims them.
  const linker = new Linker({
    store,
    cases,
    policy: () => scorer.policy,
    logger: logger.child('linker'),
  });
  linker.start();
  // A rule guard's trip, noted in the cases its rule restricted (queued by the process that tripped it).
  const guardNotes = new GuardNotes({ store, cases, logger: logger.child('guards') });
  guardNotes.start();
  const evidenceSweeper = startEvidenceSweeper({
    evidence,
    referencesOf: referencesFromCases((caseId) => cases.getCase(caseId)),
    logger: logger.child('evidence'),
  });
  // Once stopping, every answer not yet begun closes its connection: keep-alive clients reconnect, elsewhere.
  const answering = new Set<ServerResponse>();
  server.prependListener('request', (_req, res: ServerResponse) => {
    if (stopping) return void res.setHeader('Connection', 'close');
    answering.add(res);
    res.once('close', () => answering.delete(res));
  });
  const beginStopping = () => {
    stopping = true;
    for (const res of answering) if (!res.headersSent) res.setHeader('Connection', 'close');
    server.closeIdleConnections();
  };
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  // Where this machine reaches it: loopback when it listens on every interface.
  const wildcard = config.host === '0.0.0.0' || config.host === '::';
  const host = wildcard ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  if (config.mode === 'development' && !isLoopback(config.host))
    logger.warn('development mode open to the network: its well-known tokens, /dev/mail', {
      host: config.host,
    });
  const running: RunningApi = {
    server,
    url,
    temporalCalls: () => calls.started(),
    evidence,
    evidenceSweeper,
    async drainAndClose(delayMs) {
      beginStopping();
      if (delayMs > 0) {
        logger.info('readiness failing; still serving until the listener closes', { delayMs });
        await new Promise((r) => setTimeout(r, delayMs));
      }
      await running.close({ callsDrainMs: CALLS_DRAIN_MS });
    },
    async close(o = {}) {
      beginStopping();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // A connection whose answer had begun before the stop goes idle after it: closed then, not at its timeout.
      const idle = setInterval(() => server.closeIdleConnections(), 100);
      const cut = setTimeout(() => server.closeAllConnections(), REQUEST_DRAIN_MS);
      await closed;
      clearInterval(idle);
      clearTimeout(cut);
      await evidenceSweeper.stop();
      await linker.stop();
      await guardNotes.stop();
      // An erasure still running is left IN_PROGRESS; its lease runs out and another approval resumes it.
      await erasures.settled(1_000);
      // Calls that outlived their request (a query abandoned by Promise.all) end before the channel closes.
      scorer.close?.();
      shadowPolicy?.close?.();
      await shadow?.settled();
      if (ownConnection) await calls.idle(o.callsDrainMs ?? 15_000);
      await ownConnection?.close();
      if (!sharedStore) await store.db.close();
      await flushTracing();
    },
  };
  return running;
}

function isLoopback(host: string): boolean {
  return host === '::1' || host.startsWith('127.');
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
  // SIGTERM (an orchestrator): readiness fails for the configured delay, then the stop. SIGINT (a person's
  // Ctrl-C): the stop at once. Either way exit 0 once requests in flight are answered and connections closed.
  const delayOf = (signal: string) => (signal === 'SIGTERM' ? config.shutdownDelayMs : 0);
  const starting = startApi(config, logger);
  const stopper = stopOnSignals({
    logger,
    deadlineMs: (signal) => delayOf(signal) + API_STOP_MS,
    async stop(signal) {
      const api = await starting.catch(() => undefined); // a signal during start-up stops once it is up
      await api?.drainAndClose(delayOf(signal));
      logger.info('API stopped');
    },
  });
  starting.then(
    (api) => {
      if (stopper.stopping) return;
      printTokens(config, logger);
      logger.info('API listening', { url: api.url, mode: config.mode });
    },
    (err: unknown) => {
      process.stderr.write(`API failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
