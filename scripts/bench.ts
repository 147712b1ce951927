// `npm run bench`: Cordon's hot paths against a real Temporal server (a tuned dev server of its own, or
// TEMPORAL_ADDRESS / --address), next to floors measured in the same run: the bare Temporal floor (an
// update-with-start whose handler runs one activity) for the restricting path, and a bare node:http server
// (bearer token checked, JSON body parsed, JSON answered) for the hot paths. The speed figures are taken with
// the default policy (CORDON_POLICY_FILE) and with it plus four features (scripts/bench/policy-features.json),
// two APIs in this process. Prints every target of issues 9 and 19 as a ratio with pass/fail (`--json` for
// machines); it measures, it asserts nothing, and its exit code is 0 whatever the figures.
//
//   npm run bench                       the speed figures
//   npm run bench -- --open [N]         N open cases (10,000 by default): memory, evicted cases, SQLite per case
//   npm run bench -- --json             the same as one JSON document on stdout (progress stays on stderr)
//   npm run bench -- --rounds N         the speed series in N alternating rounds (2 by default)
//   BENCH_N=200 npm run bench           more samples per figure (default 100; --n)
//   BENCH_CONCURRENCY=20                requests in flight under load (--concurrency)
//
// The pieces: scripts/bench/options.ts (command line), speed.ts and open-cases.ts (the figures), cordon.ts (the
// API as the backend calls it), temporal-floor.ts and bare-server.ts (the floors), load.ts (the load),
// features-policy.ts (the policy with features), report.ts (figures, table, progress).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { startApi, type RunningApi } from '../api/main';
import { codecDataConverter, codecFromConfig } from '../infra/codec';
import { parseConfig } from '../infra/config';
import { createLogger } from '../infra/logger';
import { loadPolicy } from '../infra/policy-loader';
import { createCaseWorker, workflowCacheSizeFromEnv } from '../worker/create';
import { startWorkerRuntime } from '../worker/deps';
import { startBareServer, type BareServer } from './bench/bare-server';
import { CordonClient } from './bench/cordon';
import { writeFeaturesPolicy } from './bench/features-policy';
import { openCaseFigures } from './bench/open-cases';
import { parseOptions } from './bench/options';
import { Progress, rssMb, table, type Figure } from './bench/report';
import { speedFigures } from './bench/speed';
import { startTemporalFloor } from './bench/temporal-floor';
import { freePort, startDevServer, type DevServer } from './dev-server';
import { ensureTemporalCli } from './temporal-tools';

const DAY_MS = 86_400_000;

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  // The SDK core's warnings (a slow workflow task on a loaded machine) through the logger to stderr: printed by
  // the core itself they would land on stdout, inside the JSON document.
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: { logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } } },
  });
  const progress = new Progress();
  const quiet = createLogger('bench', { level: 'error' });
  const run = randomUUID().slice(0, 8);
  // What else the machine was doing: figures taken on a loaded machine say less.
  const load = () => Number(loadavg()[0]!.toFixed(2));
  const loadAverage = { start: load(), end: NaN, cores: availableParallelism() };
  // Its own data folder: Cordon's database, the development codec key, the policy with features, and the dev
  // server's SQLite file.
  const benchDir = mkdtempSync(join(tmpdir(), 'cordon-bench-'));
  const dbFile = join(benchDir, 'temporal.sqlite');
  let server: DevServer | undefined;
  const address = o.address ?? process.env.TEMPORAL_ADDRESS;
  const closers: (() => Promise<unknown>)[] = [];
  let output: { figures: Figure[]; notes: string[]; featuresLive?: boolean; series?: unknown } | undefined;
  let where = address ?? '';
  let cacheSize = 0;
  try {
    if (!address) {
      progress.phase('starting a tuned Temporal dev server');
      server = await startDevServer({
        cli: await ensureTemporalCli(),
        port: await freePort(),
        ...(o.open ? { dbFile } : {}),
      });
      closers.unshift(() => server!.stop());
      where = `a tuned Temporal dev server of its own (${server.address})`;
    }
    const temporalAddress = address ?? server!.address;
    const connection = await NativeConnection.connect({ address: temporalAddress });
    closers.unshift(() => connection.close());
    const config = parseConfig({
      ...process.env,
      PORT: '0',
      TEMPORAL_ADDRESS: temporalAddress,
      CORDON_TASK_QUEUE: `cordon-${run}`,
      CORDON_DATA_DIR: benchDir,
    });
    // The floor pays for the same payload encryption as Cordon, so the ratio compares like with like.
    const codec = codecFromConfig(config);
    const client = new Client({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: codecDataConverter(codec),
    });
    cacheSize = workflowCacheSizeFromEnv();
    const rssIdleBefore = rssMb();
    const runtime = await startWorkerRuntime(
      { ...config, database: { ...config.database, sqliteFile: join(benchDir, 'cordon.sqlite') } },
      quiet,
    );
    closers.unshift(() => runtime.close());
    const caseWorker = await createCaseWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.taskQueue,
      deps: runtime.deps,
      codec: runtime.codec,
      maxCachedWorkflows: cacheSize,
    });
    // Each API on its own client connection, as in production, so its calls to Temporal can be counted.
    const startedApi = async (policyFile: string): Promise<RunningApi> => {
      const api = await startApi({ ...config, policyFile }, quiet, undefined, runtime.store);
      closers.unshift(() => api.close());
      return api;
    };
    const api = await startedApi(config.policyFile);
    const base = new CordonClient(api.url, run, 'd');
    const floor = await startTemporalFloor({
      connection,
      client,
      namespace: config.temporal.namespace,
      codec,
      run,
    });
    // The speed figures only: the same API with the policy plus features, and the bare node:http floor.
    let speedPeers: { featuresApi: RunningApi; featuresPolicy: string; bare: BareServer } | undefined;
    if (!o.open) {
      const withFeatures = writeFeaturesPolicy(
        config.policyFile,
        benchDir,
        config.database.eventIdWindowMs / DAY_MS,
      );
      const bare = await startBareServer('dev-backend');
      closers.unshift(() => bare.close());
      const features = withFeatures.loaded.policy.features ?? {};
      speedPeers = {
        featuresApi: await startedApi(withFeatures.path),
        featuresPolicy: `${withFeatures.loaded.policy.version} (${Object.keys(features).length} features: ${Object.keys(features).join(', ')})`,
        bare,
      };
    }
    await Promise.all([
      floor.worker.run(),
      caseWorker.run(),
      (async () => {
        try {
          output = speedPeers
            ? await speedFigures({
                o,
                progress,
                run,
                floorOp: floor.op,
                temporal: client,
                bare: speedPeers.bare,
                base: {
                  client: base,
                  api,
                  policy: `${loadPolicy(config.policyFile).policy.version} (${config.policyFile})`,
                },
                features: {
                  client: new CordonClient(speedPeers.featuresApi.url, run, 'f'),
                  api: speedPeers.featuresApi,
                  policy: speedPeers.featuresPolicy,
                },
              })
            : await openCaseFigures(o, progress, base, client, `cordon-${run}`, {
                cacheSize,
                rssIdleBefore,
                dbFile: server ? dbFile : undefined,
              });
        } finally {
          progress.end();
          floor.worker.shutdown();
          caseWorker.shutdown();
        }
      })(),
    ]);
  } finally {
    for (const close of closers) await close();
    rmSync(benchDir, { recursive: true, force: true });
  }
  if (!output) return;
  loadAverage.end = load();
  if (o.json) {
    process.stdout.write(
      `${JSON.stringify({ temporal: where, options: o, workflowCacheSize: cacheSize, loadAverage, ...output }, null, 2)}\n`,
    );
    return;
  }
  process.stdout.write(
    `Temporal: ${where}; ${o.n} sequential samples, concurrency ${o.concurrency}, workflow cache ${cacheSize}; ` +
      `load average ${loadAverage.start} at the start, ${loadAverage.end} at the end (${loadAverage.cores} cores)\n\n`,
  );
  process.stdout.write(`${table(output.figures)}\n\n${output.notes.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
