// `npm run cluster`: Cordon scaled out the way Temporal scales, on one machine. Builds (once, `go install`) and
// runs the Temporal server v1.29.1 on PostgreSQL 15 (persistence and visibility, 4 history shards, schemas set up
// by temporal-sql-tool, the dev server's latency tuning), its Web UI server, then two Cordon workers and two
// Cordon APIs as separate processes configured by environment only, sharing one PostgreSQL database for Cordon's
// records and evidence files; like pods, each has a data folder of its own and its secrets from configuration.
// Ctrl-C stops the APIs, drains the workers, then stops the UI, the server and PostgreSQL.
// `npm run cluster -- --help` lists the options; scripts/cluster/* holds the parts.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Client as PgClient } from 'pg';
import { printTokens } from '../api/main';
import { devMailDir } from '../api/dev-mail';
import { TASK_QUEUE } from '../core/contracts';
import { parseConfig } from '../infra/config';
import { createLogger } from '../infra/logger';
import { writeWorkflowBundle } from '../worker/create';
import { parseClusterOptions, USAGE, type ClusterOptions } from './cluster/options';
import { Managed, startWatchdog, type Watchdog } from './cluster/processes';
import { clusterSecrets, processDataDir } from './cluster/secrets';
import {
  prepareNamespace,
  serverPortList,
  serverPorts,
  setupSchemas,
  startTemporalServer,
  startUiServer,
  writeServerConfig,
  type ClusterInfo,
  type PostgresAccess,
} from './cluster/temporal';
import { ensureClusterTools, SERVER_VERSION } from './cluster/tools';
import { assertPortFree } from './dev-server';
import { startMailCatcher, type MailCatcher } from './mail-catcher';
import { startPostgresServer, stopPostgresIfRunning, type PostgresServer } from './postgres';
import { ROOT } from './temporal-tools';

const logger = createLogger('cluster');

/** What is running, written to <dir>/cluster.json as it starts: for people, tests, and the next start. */
interface ClusterState {
  scriptPid: number;
  startedAt: string;
  up: boolean;
  dir: string;
  temporal?: { address: string; metrics: string; shards: number; persistence?: string; version?: string };
  ui?: string;
  postgres?: { port: number; url: string; cordonUrl: string; dataDir: string };
  apis: Array<{ name: string; url: string; pid?: number; dataDir: string }>;
  workers: Array<{ name: string; pid?: number; dataDir: string }>;
  processes: Array<{ name: string; pid: number; cmdline: string[] }>;
  mail?: string;
  timings?: Record<string, number>;
}

class Stopped extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return undefined;
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Processes an earlier run on this folder left running (it was SIGKILLed and its watchdogs were killed too):
 * stopped, each only if its pid still runs the same command line. A cluster script still running on the
 * folder is an error.
 */
async function stopLeftovers(stateFile: string): Promise<void> {
  let state: ClusterState | undefined;
  try {
    state = JSON.parse(readFileSync(stateFile, 'utf8')) as ClusterState;
  } catch {
    return;
  }
  if (state.scriptPid !== process.pid && running(state.scriptPid)) {
    const line = commandLine(state.scriptPid)?.join(' ') ?? '';
    if (line.includes('cluster'))
      throw new Error(
        `a cluster is already running on ${state.dir} (process ${state.scriptPid}): stop it first (Ctrl-C there)`,
      );
  }
  for (const p of state.processes ?? []) {
    const line = running(p.pid) ? commandLine(p.pid) : undefined;
    if (!line || line.join('\0') !== p.cmdline.join('\0')) continue;
    process.kill(p.pid, 'SIGTERM');
    for (let i = 0; i < 100 && running(p.pid); i++) await sleep(100);
    if (running(p.pid)) process.kill(p.pid, 'SIGKILL');
    logger.warn('stopped a process left running by an earlier cluster', { name: p.name, pid: p.pid });
  }
}

/** Roles and Cordon's database; Temporal's databases are created by its SQL tool. Idempotent. */
async function prepareDatabases(superuserUrl: string): Promise<void> {
  const admin = new PgClient({ connectionString: superuserUrl });
  await admin.connect();
  try {
    const roles = new Set(
      (await admin.query<{ rolname: string }>('SELECT rolname FROM pg_roles')).rows.map((r) => r.rolname),
    );
    if (!roles.has('temporal')) await admin.query(`CREATE ROLE temporal LOGIN CREATEDB PASSWORD 'temporal'`);
    if (!roles.has('cordon')) await admin.query(`CREATE ROLE cordon LOGIN PASSWORD 'cordon'`);
    const dbs = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', ['cordon']);
    if (dbs.rowCount === 0) await admin.query('CREATE DATABASE cordon OWNER cordon');
  } finally {
    await admin.end();
  }
}

async function main(): Promise<void> {
  let o: ClusterOptions;
  try {
    o = parseClusterOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  if (o.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  let mark = Date.now();
  const lap = (name: string) => {
    timings[name] = Math.round((Date.now() - mark) / 100) / 10;
    mark = Date.now();
  };
  const dirs = {
    logs: join(o.dir, 'logs'),
    postgres: join(o.dir, 'postgres'),
    temporal: join(o.dir, 'temporal'),
    ui: join(o.dir, 'ui'),
    cordon: join(o.dir, 'cordon'),
  };
  const stateFile = join(o.dir, 'cluster.json');
  const temporalAddress = `127.0.0.1:${o.temporalPort}`;
  const apiUrls = Array.from({ length: o.apis }, (_, i) => `http://127.0.0.1:${o.apiPort + i}`);
  const state: ClusterState = {
    scriptPid: process.pid,
    startedAt: new Date().toISOString(),
    up: false,
    dir: o.dir,
    apis: [],
    workers: [],
    processes: [],
  };
  const saveState = () => {
    writeFileSync(`${stateFile}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(`${stateFile}.tmp`, stateFile);
  };

  // What is running, stopped in the reverse order of its start.
  let pg: PostgresServer | undefined;
  let pgWatchdog: Watchdog | undefined;
  let server: Managed | undefined;
  let ui: Managed | undefined;
  let catcher: MailCatcher | undefined;
  const workers: Managed[] = [];
  const apis: Managed[] = [];
  let stopping: Promise<void> | undefined;
  const check = () => {
    if (stopping) throw new Stopped('stopped');
  };

  const teardown = async (): Promise<void> => {
    const quietly = async (what: string, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (err) {
        logger.error(`stopping ${what} failed`, { error: (err as Error).message });
      }
    };
    // The APIs first (no new work), then the workers drain (the SDK finishes the tasks in hand).
    await Promise.all(apis.map((a) => quietly(a.name, () => a.stop('SIGTERM', 20_000))));
    await Promise.all(workers.map((w) => quietly(w.name, () => w.stop('SIGTERM', 30_000))));
    if (apis.length || workers.length) logger.info('Cordon processes stopped');
    if (catcher) await quietly('the mail catcher', () => catcher!.close());
    if (ui) await quietly('the Web UI', () => ui!.stop('SIGTERM', 5_000));
    if (server) {
      await quietly('the Temporal server', () => server!.stop('SIGTERM', 15_000));
      logger.info('Temporal server stopped');
    }
    if (pg) {
      await quietly('PostgreSQL', () => pg!.stop());
      pgWatchdog?.release();
      logger.info('PostgreSQL stopped');
    }
    // Only this run's: a start refused because a cluster runs on the folder leaves that one's file alone.
    try {
      const onDisk = JSON.parse(readFileSync(stateFile, 'utf8')) as ClusterState;
      if (onDisk.scriptPid === process.pid) rmSync(stateFile, { force: true });
    } catch {
      // no file
    }
  };
  // A signal during start-up lets the step in hand finish (each step checks for it), so that everything
  // started is known to the teardown; a minute at most (a `go install` in hand gets the terminal's Ctrl-C too).
  let settle: () => void = () => undefined;
  const startupSettled = new Promise<void>((r) => (settle = r));
  const shutdown = (reason: string, code: number) => {
    stopping ??= (async () => {
      logger.info('stopping', { reason });
      await Promise.race([startupSettled, sleep(60_000)]);
      await teardown();
      logger.info('stopped');
      process.exit(code);
    })();
    return stopping;
  };
  // A second Ctrl-C (a second after the first: npm and tsx may relay the first one again) stops at once.
  let firstSignalAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstSignalAt === undefined) {
      firstSignalAt = Date.now();
      void shutdown(signal, 0);
    } else if (Date.now() - firstSignalAt > 1_000) {
      logger.warn('stopping at once (second signal): SIGKILL to Cordon processes and the Web UI');
      for (const p of [...apis, ...workers, ...(ui ? [ui] : [])]) p.child.kill('SIGKILL');
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const track = (m: Managed) => {
    if (m.pid !== undefined)
      state.processes.push({ name: m.name, pid: m.pid, cmdline: commandLine(m.pid) ?? [] });
    saveState();
  };

  let failed: Error | undefined;
  try {
    mkdirSync(o.dir, { recursive: true });
    await stopLeftovers(stateFile);
    if (o.fresh) {
      if (await stopPostgresIfRunning(dirs.postgres)) logger.warn('stopped a PostgreSQL server left running');
      logger.info('--fresh: wiping the cluster data', { dir: o.dir });
      rmSync(o.dir, { recursive: true, force: true });
    }
    for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
    saveState();

    // The shard count is fixed when a cluster is first started: a different one needs --fresh.
    const shardsFile = join(dirs.temporal, 'shards');
    const shardsBefore = existsSync(shardsFile) ? Number(readFileSync(shardsFile, 'utf8')) : undefined;
    if (shardsBefore !== undefined && shardsBefore !== o.shards)
      throw new Error(
        `this cluster was created with ${shardsBefore} history shards; --shards ${o.shards} needs a new one (--fresh)`,
      );

    // Every port first: better to stop now than after minutes of building.
    const ports: Array<[number, string]> = [
      ...apiUrls.map((_, i): [number, string] => [o.apiPort + i, `API ${i + 1}`]),
      ...serverPortList(o.temporalPort),
      ...(o.ui ? [[o.uiPort, 'Temporal Web UI'] as [number, string]] : []),
    ];
    // A PostgreSQL of this folder left running holds its port: it is stopped when PostgreSQL starts.
    if (!existsSync(join(dirs.postgres, 'db', 'postmaster.pid'))) ports.push([o.pgPort, 'PostgreSQL']);
    for (const [port, what] of ports) await assertPortFree(port, what);

    logger.info('finding or building the Temporal server, SQL tool and Web UI server');
    const tools = await ensureClusterTools((line) => logger.info(line));
    lap('tools');
    check();

    logger.info('starting PostgreSQL', {
      port: o.pgPort,
      data: relative(ROOT, dirs.postgres) || dirs.postgres,
    });
    pg = await startPostgresServer({
      dir: dirs.postgres,
      port: o.pgPort,
      // Temporal's four services each keep pools to both databases; Cordon's processes keep theirs.
      maxConnections: 300,
      onNotice: (message) => logger.warn(message),
    });
    pgWatchdog = startWatchdog(
      ['/bin/sh', '-c', 'sleep 3; exec "$@"', 'stop-postgres', ...pg.stopCommand],
      'postgres',
    );
    await prepareDatabases(pg.url);
    const temporalDb: PostgresAccess = {
      host: '127.0.0.1',
      port: o.pgPort,
      user: 'temporal',
      password: 'temporal',
    };
    const cordonUrl = `postgres://cordon:cordon@127.0.0.1:${o.pgPort}/cordon`;
    state.postgres = { port: o.pgPort, url: pg.url, cordonUrl, dataDir: pg.dataDir };
    saveState();
    lap('postgres');
    check();

    logger.info('setting up the temporal and temporal_visibility schemas (temporal-sql-tool)');
    await setupSchemas(tools.sqlTool, temporalDb);
    lap('schemas');
    check();

    const env = writeServerConfig({
      root: dirs.temporal,
      frontendPort: o.temporalPort,
      shards: o.shards,
      postgres: temporalDb,
    });
    writeFileSync(shardsFile, `${o.shards}\n`);
    logger.info(`starting the Temporal server ${SERVER_VERSION}`, {
      address: temporalAddress,
      shards: o.shards,
    });
    server = await startTemporalServer({
      binary: tools.server,
      root: dirs.temporal,
      env,
      frontendPort: o.temporalPort,
      logFile: join(dirs.logs, 'temporal-server.log'),
    });
    track(server);
    lap('server');
    check();
    const info: ClusterInfo = await prepareNamespace(temporalAddress, 'default');
    state.temporal = {
      address: temporalAddress,
      metrics: `http://127.0.0.1:${serverPorts(o.temporalPort).metrics}/metrics`,
      shards: info.historyShardCount,
      persistence: info.persistenceStore,
      version: info.serverVersion,
    };
    saveState();
    logger.info('Temporal server ready: namespace default and Cordon search attributes registered', {
      version: info.serverVersion,
      persistence: info.persistenceStore,
      visibility: info.visibilityStore,
      historyShards: info.historyShardCount,
    });
    lap('namespace');
    check();

    if (o.ui) {
      ui = await startUiServer({
        binary: tools.uiServer,
        root: dirs.ui,
        port: o.uiPort,
        temporalAddress,
        codecEndpoint: `${apiUrls[0]}/codec`,
        logFile: join(dirs.logs, 'temporal-ui.log'),
      });
      track(ui);
      state.ui = `http://127.0.0.1:${o.uiPort}`;
      saveState();
      lap('ui');
      check();
    }

    // One mail catcher for every process: the workers send there, every API shows the mails at /dev/mail.
    catcher = await startMailCatcher({ dir: devMailDir(dirs.cordon), logger: logger.child('mail') });
    state.mail = catcher.url;
    // One bundle for every worker (the same code, so their histories replay alike), built once here.
    logger.info('bundling the workflow code for the workers');
    const bundle = await writeWorkflowBundle(join(o.dir, 'workflow-bundle.js'));
    lap('bundle');
    check();

    // Cordon by configuration only: the same variables a deployment sets (see deploy/k8s).
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) =>
          !/^(TEMPORAL_(?!CLI$)|PORT$|CORDON_(DATA_DIR|DATABASE_URL|SMTP_URL|PUBLIC_URL|WORKFLOW_BUNDLE)$)/.test(
            k,
          ),
      ),
    );
    const cordonEnv: NodeJS.ProcessEnv = {
      ...inherited,
      CORDON_MODE: process.env.CORDON_MODE ?? 'development',
      // The keys every process must share, as configuration: each process's own folder shares nothing.
      ...clusterSecrets(o.dir, dirs.cordon),
      CORDON_DATABASE_URL: cordonUrl, // evidence files too, unless CORDON_EVIDENCE_URL names an object store
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_UI_PORT: String(o.uiPort),
      CORDON_SMTP_URL: catcher.url,
      // Links in notices lead to the first API, as they would to a load balancer.
      CORDON_PUBLIC_URL: apiUrls[0],
    };
    // Each process's lines with its name (the tokens each API prints are printed once below instead).
    const echo = (name: string) => (line: string) => {
      if (!/ development token /.test(line)) process.stdout.write(`[${name}] ${line}\n`);
    };
    const dataDirOf = (name: string) => processDataDir(dirs.cordon, name, devMailDir(dirs.cordon));
    const spawnCordon = (name: string, script: string, extra: NodeJS.ProcessEnv) =>
      new Managed({
        name,
        command: process.execPath,
        args: ['--import', 'tsx', script],
        cwd: ROOT,
        env: { ...cordonEnv, CORDON_DATA_DIR: dataDirOf(name), ...extra },
        logFile: join(dirs.logs, `${name}.log`),
        onLine: echo(name),
        watchdogGraceSeconds: 20,
      });
    const whenLine = async (m: Managed, pattern: RegExp, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(m.lastLines(40))) {
        check();
        if (m.exitStatus !== undefined)
          throw new Error(`${m.name} exited (${m.exitStatus}) while starting:\n${m.lastLines()}`);
        if (Date.now() > deadline) throw new Error(`${m.name} did not start within ${timeoutMs / 1000} s`);
        await sleep(100);
      }
    };
    const watchExit = (m: Managed, group: Managed[], what: string) =>
      void m.exited.then((status) => {
        if (stopping || m.isStopping) return;
        const left = group.filter((g) => g.exitStatus === undefined).length;
        logger.warn(`${m.name} exited (${status}): ${left} of ${group.length} ${what} still running`, {
          pid: m.pid,
        });
        if (left === 0 && what === 'workers')
          logger.error('no worker left: cases wait (nothing is lost) until a worker runs again');
      });

    logger.info(`starting ${o.workers} Cordon workers`, { taskQueue: TASK_QUEUE });
    for (let i = 1; i <= o.workers; i++) {
      const w = spawnCordon(`worker-${i}`, 'worker/main.ts', { CORDON_WORKFLOW_BUNDLE: bundle });
      workers.push(w);
      track(w);
      state.workers.push({ name: w.name, pid: w.pid, dataDir: dataDirOf(w.name) });
    }
    await Promise.all(workers.map((w) => whenLine(w, /worker started/, 180_000)));
    workers.forEach((w) => watchExit(w, workers, 'workers'));
    lap('workers');

    logger.info(`starting ${o.apis} Cordon APIs`);
    for (let i = 1; i <= o.apis; i++) {
      const a = spawnCordon(`api-${i}`, 'api/main.ts', { PORT: String(o.apiPort + i - 1) });
      apis.push(a);
      track(a);
      state.apis.push({ name: a.name, url: apiUrls[i - 1]!, pid: a.pid, dataDir: dataDirOf(a.name) });
    }
    await Promise.all(apis.map((a) => whenLine(a, /API listening/, 120_000)));
    for (const url of apiUrls) {
      const res = await fetch(`${url}/healthz`);
      if (!res.ok) throw new Error(`${url}/healthz answered ${res.status}`);
    }
    apis.forEach((a) => watchExit(a, apis, 'APIs'));
    lap('apis');

    state.up = true;
    state.timings = { ...timings, total: Math.round((Date.now() - t0) / 100) / 10 };
    saveState();
    const lines = [
      '',
      `Cordon cluster is up in ${state.timings.total} s (${Object.entries(timings)
        .map(([k, v]) => `${k} ${v} s`)
        .join(', ')})`,
      `  Temporal server ${info.serverVersion}  ${temporalAddress}  persistence ${info.persistenceStore}, ` +
        `visibility ${info.visibilityStore}, ${info.historyShardCount} history shards`,
      `  Temporal metrics        ${state.temporal.metrics}`,
      ...(state.ui
        ? [`  Temporal Web UI         ${state.ui}  (decodes payloads via ${apiUrls[0]}/codec)`]
        : []),
      `  PostgreSQL              127.0.0.1:${o.pgPort}  databases temporal, temporal_visibility, cordon`,
      ...apis.map(
        (a, i) =>
          `  ${`API ${i + 1} (pid ${a.pid})`.padEnd(22)}  ${apiUrls[i]}  /console /openapi.json /dev/mail`,
      ),
      ...workers.map((w, i) => `  ${`worker ${i + 1} (pid ${w.pid})`.padEnd(22)}  task queue ${TASK_QUEUE}`),
      `  data folders            ${relative(ROOT, dirs.cordon) || dirs.cordon}/<process> (one each, none shared)`,
      `  logs                    ${relative(ROOT, dirs.logs) || dirs.logs}/`,
      `  state                   ${relative(ROOT, stateFile) || stateFile}`,
      `Ctrl-C stops it all.`,
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    printTokens(parseConfig(cordonEnv), logger);
  } catch (err) {
    if (err instanceof Stopped) return;
    failed = err as Error;
  } finally {
    settle();
  }
  if (failed) {
    process.stderr.write(`the cluster could not start: ${failed.message}\n`);
    await shutdown('start-up failed', 1);
  }
}

void main();
