// `npm run chaos`: drives cases through their whole lifecycle (freeze → appeal → claim → decide, step-up →
// verify, temporary lockout → lifts itself, CLOSE with four eyes, several cases in a row on one account) over
// HTTP, while the worker is SIGKILLed again and again, the API restarted, the messaging receiver taken down
// for a while and the dev server restarted on its SQLite file. Then it checks that every case reached its
// outcome, that each restriction command and message arrived exactly once (a second idempotency key for the
// same effect is a duplicate; the same key resent is expected and deduplicated by the receivers), and that
// every history replays against the workflow bundle. Localhost only; stops by itself (--minutes); exits 1 on
// any loss, duplicate or replay failure. See scripts/chaos/options.ts for the options.
import { randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { installSdkLogger, writeWorkflowBundle } from '../worker/create';
import { openStore, type Store } from '../infra/store';
import { freePort, startDevServer, type DevServer, type DevServerOptions } from './dev-server';
import { ensureTemporalCli } from './temporal-tools';
import { Driver, type DriverStats } from './chaos/driver';
import { Monkey } from './chaos/monkey';
import { parseOptions, seededRandom, USAGE, type ChaosOptions } from './chaos/options';
import { chaosPolicy, makePlan } from './chaos/plan';
import { Supervised } from './chaos/processes';
import { Receiver } from './chaos/receivers';
import { CpuLoad } from './chaos/cpu-load';
import { replayAll, settle, tally, type EffectTally, type ReplayTally, type Tally } from './chaos/verify';

export interface ChaosReport {
  ok: boolean;
  /** Why the run failed, in a few words each. */
  failures: string[];
  wallMs: number;
  cores: number;
  options: ChaosOptions;
  cases: { expected: number; reached: number; lost: number };
  /** Lost cases, effects of reached cases never received, and outbox messages failed or never received. */
  lost: number;
  duplicates: { restrictionCommands: number; notifications: number };
  restrictionCommands: EffectTally;
  userNotices: EffectTally;
  backendEvents: EffectTally;
  outbox: Tally['outbox'];
  settled: boolean;
  replay: ReplayTally;
  chaos: {
    workerKills: number;
    /** Worker exits nobody asked for (e.g. while the dev server was down): restarted at once too. */
    workerCrashes: number;
    workerBackMs: { avg: number; max: number };
    apiRestarts: number;
    apiCrashes: number;
    messagingOutagesMs: number[];
    serverRestartsMs: number[];
  };
  driver: Omit<DriverStats, 'resendMismatches'> & { resendMismatches: number };
  problems: string[];
  /** Kept after a failed run (or with --keep): Temporal's and Cordon's SQLite files and the process logs. */
  dataDir?: string;
}

const SETTLE_MIN_MS = 90_000;
const TEARDOWN_MS = 15_000;

/** Fetching and replaying the histories: about 70 ms a case on 2 busy cores. */
function replayBudgetMs(cases: number): number {
  return 30_000 + 60 * cases;
}

/** Runs the whole chaos run; `log` gets progress lines. Always tears down what it started. */
export async function runChaos(o: ChaosOptions, log: (line: string) => void): Promise<ChaosReport> {
  const t0 = Date.now();
  const hardStop = t0 + o.minutes * 60_000;
  const elapsed = () => {
    const s = Math.round((Date.now() - t0) / 1000);
    return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  };
  const say = (line: string) => log(`[chaos ${elapsed()}] ${line}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'cordon-chaos-'));
  const secrets = { webhook: randomBytes(24).toString('hex'), gateway: randomBytes(24).toString('hex') };
  const receivers = {
    gateway: new Receiver('gateway', secrets.gateway, o.flakyRate),
    messaging: new Receiver('messaging', secrets.webhook, o.flakyRate),
    webhook: new Receiver('webhook', secrets.webhook, o.flakyRate),
  };
  let server: DevServer | undefined;
  let monkey: Monkey | undefined;
  let worker: Supervised | undefined;
  let api: Supervised | undefined;
  let store: Store | undefined;
  let serverLog: WriteStream | undefined;
  let cpuLoad: CpuLoad | undefined;
  let ok = false;
  try {
    // Everything the worker and the API need, all in the data folder and on 127.0.0.1.
    const policyFile = join(dataDir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify(chaosPolicy().policy, null, 2));
    const bundlePath = await writeWorkflowBundle(join(dataDir, 'workflow-bundle.js'), o.workflowsPath);
    await Promise.all(Object.values(receivers).map((r) => r.start()));
    const temporalLog = (serverLog = createWriteStream(join(dataDir, 'temporal.log'), { flags: 'a' }));
    const serverOptions: DevServerOptions = {
      cli: await ensureTemporalCli(),
      port: await freePort(),
      dbFile: join(dataDir, 'temporal.sqlite'),
      onLog: (line) => temporalLog.write(`${line}\n`),
    };
    server = await startDevServer(serverOptions);
    const apiPort = await freePort();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(CORDON_|TEMPORAL_(?!CLI$)|PORT$|LOG_)/.test(k)),
    );
    const env: NodeJS.ProcessEnv = {
      ...inherited,
      CORDON_MODE: 'development',
      CORDON_DATA_DIR: dataDir,
      CORDON_POLICY_FILE: policyFile,
      TEMPORAL_ADDRESS: server.address,
      CORDON_GATEWAY_URL: receivers.gateway.url,
      CORDON_GATEWAY_SECRET: secrets.gateway,
      CORDON_WEBHOOK_URL: `${receivers.webhook.url}/events`,
      CORDON_WEBHOOK_SECRET: secrets.webhook,
      CORDON_MESSAGING_URL: `${receivers.messaging.url}/messages`,
      LOG_LEVEL: 'info',
      SDK_LOG_LEVEL: 'WARN',
    };
    worker = new Supervised({
      name: 'worker',
      script: 'worker/main.ts',
      env: { ...env, CORDON_WORKFLOW_BUNDLE: bundlePath },
      logFile: join(dataDir, 'worker.log'),
      readyLine: /worker started/,
    });
    api = new Supervised({
      name: 'api',
      script: 'api/main.ts',
      env: { ...env, PORT: String(apiPort) },
      logFile: join(dataDir, 'api.log'),
      readyLine: /API listening/,
    });
    worker.start();
    await worker.whenReady(120_000); // the worker creates Cordon's database; the API then finds it ready
    api.start();
    await api.whenReady(120_000);
    store = await openStore({ sqliteFile: join(dataDir, 'cordon.sqlite') });
    say(`up: dev server ${server.address}, API ${apiUrl}, data ${dataDir}`);

    const plans = makePlan(o.cases, seededRandom(o.seed), randomUUID().slice(0, 6));
    const replayBudget = replayBudgetMs(o.cases);
    const driveDeadline = hardStop - SETTLE_MIN_MS - replayBudget - TEARDOWN_MS;
    if (driveDeadline < Date.now() + 30_000)
      throw new Error(`--minutes ${o.minutes} leaves no time to drive the cases`);
    monkey = new Monkey({
      worker,
      api,
      messaging: receivers.messaging,
      server,
      serverOptions,
      killEveryMs: o.killEveryMs,
      apiRestartEveryMs: o.apiRestartEveryMs,
      messagingDownMs: o.messagingDownMs,
      serverRestarts: o.serverRestarts,
      log: say,
    });
    let done = 0;
    let lostSoFar = 0;
    const driver: Driver = new Driver(
      {
        apiUrl,
        concurrency: o.concurrency,
        resendRate: o.resendRate,
        deadline: driveDeadline,
        onCaseDone: (r) => {
          done += 1;
          if (r.outcome !== r.expectedOutcome) {
            lostSoFar += 1;
            if (lostSoFar <= 10)
              say(`case not reached: ${r.accountId}#${r.index} (${r.flow}) ${r.caseId ?? ''}: ${r.error}`);
          }
          monkey!.progress(done / o.cases);
        },
      },
      plans,
    );
    const progress = setInterval(() => {
      const d = driver.stats;
      say(
        `${done}/${o.cases} cases done (${lostSoFar} not reached), ${driver.inFlight} in flight | worker kills ` +
          `${monkey!.done.workerKills}, API restarts ${monkey!.done.apiRestarts}, server restarts ` +
          `${monkey!.done.serverRestartsMs.length}, messaging ${receivers.messaging.isUp ? 'up' : 'DOWN'} | ` +
          `${d.requests} requests, ${d.retried} retried`,
      );
    }, 15_000);
    // The load runs until the histories are replayed: the whole run happens on a busy machine.
    if (o.cpuLoad) cpuLoad = new CpuLoad(o.cpuLoad, hardStop - TEARDOWN_MS);
    say(
      `driving ${o.cases} cases on ${plans.length} accounts, ${o.concurrency} at a time` +
        (o.cpuLoad ? `, with ${o.cpuLoad} busy processes beside them` : ''),
    );
    monkey.start();
    try {
      await driver.run();
    } finally {
      clearInterval(progress);
    }
    say(`driven: ${done - lostSoFar}/${o.cases} reached their outcome; chaos stops, waiting for the outbox`);
    await monkey.stop();
    server = monkey.server;

    const settled = await settle(store, driver.records, hardStop - replayBudget - TEARDOWN_MS);
    const t = await tally(store, driver.records, receivers);
    say(`settled ${settled ? '' : '(NOT: time ran out) '}- replaying the histories`);
    const replay = await replayAll(server.address, bundlePath, hardStop - TEARDOWN_MS);
    await cpuLoad?.stop();

    const report = buildReport(o, t0, t, settled, replay, driver, monkey, worker, api);
    ok = report.ok;
    if (!ok || o.keep) report.dataDir = dataDir;
    return report;
  } finally {
    await cpuLoad?.stop();
    await monkey?.stop().catch(() => undefined);
    await Promise.all([worker?.stop(), api?.stop()]);
    await (monkey?.server ?? server)?.stop().catch(() => undefined);
    await Promise.all(Object.values(receivers).map((r) => r.close()));
    await store?.db.close();
    serverLog?.end();
    if (ok && !o.keep) rmSync(dataDir, { recursive: true, force: true });
  }
}

function buildReport(
  o: ChaosOptions,
  t0: number,
  t: Tally,
  settled: boolean,
  replay: ReplayTally,
  driver: Driver,
  monkey: Monkey,
  worker: Supervised,
  api: Supervised,
): ChaosReport {
  const lost =
    t.lostCases +
    t.gateway.missing +
    t.messaging.missing +
    t.webhook.missing +
    t.outbox.failed +
    t.outbox.notAtReceiver;
  const duplicates = {
    restrictionCommands: t.gateway.duplicates,
    notifications: t.messaging.duplicates + t.webhook.duplicates,
  };
  const back = worker.readyTimesMs.slice(1);
  const failures: string[] = [];
  if (lost) failures.push(`${lost} lost`);
  if (duplicates.restrictionCommands)
    failures.push(`${duplicates.restrictionCommands} duplicate restriction commands`);
  if (duplicates.notifications) failures.push(`${duplicates.notifications} duplicate notifications`);
  if (replay.failed) failures.push(`${replay.failed} histories failed to replay`);
  if (replay.unfinished || replay.histories < t.expected - t.lostCases)
    failures.push(`only ${replay.histories} histories replayed (${replay.runs} runs)`);
  if (!settled) failures.push('the outbox did not drain in time');
  const conflicts = t.gateway.conflicts + t.messaging.conflicts + t.webhook.conflicts;
  if (conflicts) failures.push(`${conflicts} idempotency keys reused for another body`);
  if (t.timelineMismatches) failures.push(`${t.timelineMismatches} timelines disagree with their lifecycle`);
  if (t.refusedByReceivers) failures.push(`${t.refusedByReceivers} requests refused by the receivers`);
  if (t.extraCases) failures.push(`${t.extraCases} cases opened a second time by the same risk event`);
  // Overload may make Cordon slow, never make it fail: a transient failure is a 503 with Retry-After.
  const serverErrors = driver.stats.retriesBy['500'] ?? 0;
  if (serverErrors) failures.push(`${serverErrors} answers 500 from the API`);
  if (driver.stats.resendMismatches.length)
    failures.push(`${driver.stats.resendMismatches.length} resends answered otherwise than the first time`);
  return {
    ok: failures.length === 0,
    failures,
    wallMs: Date.now() - t0,
    cores: availableParallelism(),
    options: o,
    cases: { expected: t.expected, reached: t.reached, lost: t.lostCases },
    lost,
    duplicates,
    restrictionCommands: t.gateway,
    userNotices: t.messaging,
    backendEvents: t.webhook,
    outbox: t.outbox,
    settled,
    replay,
    chaos: {
      workerKills: monkey.done.workerKills,
      workerCrashes: worker.crashes,
      workerBackMs: {
        avg: back.length ? Math.round(back.reduce((a, b) => a + b, 0) / back.length) : 0,
        max: back.length ? Math.max(...back) : 0,
      },
      apiRestarts: monkey.done.apiRestarts,
      apiCrashes: api.crashes,
      messagingOutagesMs: monkey.done.messagingOutagesMs,
      serverRestartsMs: monkey.done.serverRestartsMs,
    },
    driver: { ...driver.stats, resendMismatches: driver.stats.resendMismatches.length },
    problems: [...t.problems, ...driver.stats.resendMismatches.slice(0, 10), ...replay.failures],
  };
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** The table the run ends with. */
export function formatReport(r: ChaosReport): string {
  const rows: [string, string | number, string?][] = [
    ['cases expected', r.cases.expected],
    ['cases reached their outcome', r.cases.reached],
    [
      'lost',
      r.lost,
      `cases ${r.cases.lost}, effects never received ${r.restrictionCommands.missing + r.userNotices.missing + r.backendEvents.missing}, outbox failed ${r.outbox.failed}`,
    ],
    [
      'duplicate restriction commands (gateway)',
      r.duplicates.restrictionCommands,
      `${r.restrictionCommands.received} keys for ${r.restrictionCommands.expected} commands; ${r.restrictionCommands.resentSameKey} resent with the same key, deduplicated`,
    ],
    [
      'duplicate notifications',
      r.duplicates.notifications,
      `user notices ${r.userNotices.received} keys for ${r.userNotices.expected}, backend events ${r.backendEvents.received} for ${r.backendEvents.expected}; ${r.userNotices.resentSameKey + r.backendEvents.resentSameKey} resent with the same key, deduplicated`,
    ],
    [
      'outbox drained',
      r.settled && r.outbox.pending === 0 ? 'yes' : 'NO',
      `${r.outbox.messages} messages, ${r.outbox.pending} pending, ${r.outbox.failed} failed`,
    ],
    [
      'histories replayed clean',
      `${r.replay.clean}/${r.replay.histories}`,
      `${r.replay.failed} failed, ${r.replay.runs} workflow runs`,
    ],
    [
      'worker SIGKILLs',
      r.chaos.workerKills,
      `back in ${(r.chaos.workerBackMs.avg / 1000).toFixed(1)} s on average (max ${(r.chaos.workerBackMs.max / 1000).toFixed(1)} s); ${r.chaos.workerCrashes} exits of its own`,
    ],
    [
      'API restarts',
      r.chaos.apiRestarts,
      `SIGTERM and SIGKILL in turn; ${r.chaos.apiCrashes} exits of its own`,
    ],
    [
      'messaging receiver outages',
      r.chaos.messagingOutagesMs.length,
      r.chaos.messagingOutagesMs.map((ms) => `${(ms / 1000).toFixed(0)} s (503, then refused)`).join(', '),
    ],
    [
      'dev server restarts (same SQLite file)',
      r.chaos.serverRestartsMs.length,
      r.chaos.serverRestartsMs.map((ms) => `back in ${(ms / 1000).toFixed(1)} s`).join(', '),
    ],
    [
      'HTTP requests (driver)',
      r.driver.requests,
      `${r.driver.retried} retried with the same eventId/requestId (${Object.entries(r.driver.retriesBy)
        .map(([k, v]) => `${k} ${v}`)
        .join(
          ', ',
        )}); ${r.driver.resends} deliberate resends; ${r.driver.conflictsAfterRetry} 409s after a retry`,
    ],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const valueWidth = Math.max(...rows.map(([, v]) => String(v).length));
  const lines = [
    `Cordon chaos run: ${r.cases.expected} cases, ${r.cores} cores${r.options.cpuLoad ? ` with ${r.options.cpuLoad} busy processes beside it` : ''}, wall ${duration(r.wallMs)} (hard stop ${r.options.minutes} min), worker killed every ${r.options.killEveryMs.join('-')} ms`,
    ...rows.map(
      ([k, v, note]) => `  ${k.padEnd(width)}  ${String(v).padStart(valueWidth)}${note ? `   ${note}` : ''}`,
    ),
    `  result: ${r.ok ? 'PASS' : `FAIL (${r.failures.join('; ')})`}`,
  ];
  if (r.problems.length) lines.push('  problems found:', ...r.problems.map((p) => `    - ${p}`));
  if (r.dataDir) lines.push(`  data and logs kept in ${r.dataDir}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  let options: ChaosOptions | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const o = options;
  installSdkLogger();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  // The last resort: whatever happens, the run ends by the hard stop (children die with it: see processes.ts).
  const hardStop = setTimeout(
    () => {
      log(`chaos: hard stop after ${o.minutes} minutes`);
      process.exit(1);
    },
    o.minutes * 60_000 + 5_000,
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      log(`chaos: ${signal}, stopping`);
      process.exit(1);
    });
  const report = await runChaos(o, log);
  clearTimeout(hardStop);
  const table = formatReport(report);
  if (o.json) {
    process.stderr.write(`${table}\n`);
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else process.stdout.write(`${table}\n`);
  process.exit(report.ok ? 0 : 1);
}

if (require.main === module)
  main().catch((err) => {
    process.stderr.write(`chaos failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
