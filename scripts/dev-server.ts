// Starts a Temporal dev server tuned for latency, with Cordon's search attributes registered.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_FLAGS } from '../core/contracts';
import { startWebUiProxy, type WebUiProxy } from './webui-proxy';

/**
 * The dev server runs one history shard whose internal queues are read at most 20 times a second by default,
 * which adds up to 50 ms to every task under load. These raise those limits, let the SDK's eager activity
 * dispatch work, and keep one task-queue partition (with four, rare 2 s stalls were seen).
 */
export const TUNING_FLAGS = [
  ...[
    'history.transferProcessorMaxPollRPS=1000',
    'history.timerProcessorMaxPollRPS=1000',
    'history.visibilityProcessorMaxPollRPS=1000',
    'history.outboundProcessorMaxPollRPS=1000',
    'system.enableActivityEagerExecution=true',
    'matching.numTaskqueueReadPartitions=1',
    'matching.numTaskqueueWritePartitions=1',
  ].flatMap((v) => ['--dynamic-config-value', v]),
  '--sqlite-pragma',
  'journal_mode=wal',
  '--sqlite-pragma',
  'synchronous=normal',
];

export interface DevServerOptions {
  cli: string;
  port: number;
  /** Where the Web UI is opened (http://127.0.0.1:<uiPort>); omitted: headless. */
  uiPort?: number;
  /**
   * SQLite file; omitted: in memory. With a file, a pid file lies next to it while the server runs, and a
   * server of the same file left running by a process that died hard is stopped before this one starts.
   */
  dbFile?: string;
  namespace?: string;
  /**
   * Cordon's codec endpoint (e.g. http://127.0.0.1:8080/codec), which the Web UI decodes what it shows through.
   * With a uiPort, the UI is served through Cordon's proxy (scripts/webui-proxy.ts) on that port: the UI server
   * listens on a free port behind it and calls `http://127.0.0.1:<uiPort>/codec`, which the proxy forwards here.
   * Same-origin, the UI's calls carry the browser's console session (the dev server cannot be told to send
   * credentials cross-origin).
   */
  codecEndpoint?: string;
  onLog?: (line: string) => void;
  /** What Cordon itself did about the server (e.g. stopped a leftover one). */
  onNotice?: (message: string, fields: Record<string, unknown>) => void;
}

/** The pid file's content. */
export interface DevServerRecord {
  pid: number;
  /** The process that started the server, and the one that stops it when that process dies. */
  ownerPid: number;
  watchdogPid?: number;
  port: number;
  uiPort?: number;
  dbFile: string;
  namespace: string;
  startedAt: string;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function assertPortFree(port: number, what: string): Promise<void> {
  await new Promise<void>((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `port ${port} (${what}) is already in use: stop whatever listens there or choose another port`
            : `cannot use port ${port} (${what}): ${err.message}`,
        ),
      ),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePromise()));
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePromise(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** `<dir>/temporal.sqlite` → `<dir>/temporal.pid`. */
export function pidFileFor(dbFile: string): string {
  return join(dirname(dbFile), `${basename(dbFile, extname(dbFile))}.pid`);
}

const LINUX = process.platform === 'linux';

/** Running (a zombie is not: it holds no ports and no files). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !LINUX || !/^[ZX]/.test(procStat(pid)?.state ?? 'X');
}

function procStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: state ?? '', ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

/** Arguments of a process; elsewhere than Linux, `ps` gives one string with the arguments joined. */
function commandLine(pid: number): string[] | undefined {
  try {
    if (LINUX) return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
    const line = execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    return line ? [line] : undefined;
  } catch {
    return undefined;
  }
}

function parentPid(pid: number): number | undefined {
  if (LINUX) return procStat(pid)?.ppid;
  try {
    return (
      Number(execFileSync('ps', ['-o', 'ppid=', '-p', String(pid)], { encoding: 'utf8' }).trim()) || undefined
    );
  } catch {
    return undefined;
  }
}

/** Whether pid is a `temporal server start-dev` on dbFile: never kill a recycled pid of something else. */
function isDevServerOf(pid: number, dbFile: string): boolean {
  const args = commandLine(pid);
  if (!args) return false;
  if (!LINUX) {
    const line = ` ${args.join(' ')} `;
    return line.includes(' start-dev ') && line.includes(` --db-filename ${dbFile} `);
  }
  const at = args.indexOf('--db-filename');
  return args.includes('start-dev') && at >= 0 && args[at + 1] === dbFile;
}

/** Dev servers on dbFile, pid file or not (one left by an older Cordon has none). Linux only. */
function devServersOf(dbFile: string): number[] {
  if (!LINUX) return [];
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => pid !== process.pid && isDevServerOf(pid, dbFile) && isRunning(pid));
}

function readRecord(pidFile: string): DevServerRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(pidFile, 'utf8')) as Partial<DevServerRecord>;
    return Number.isInteger(record.pid) && Number(record.pid) > 0 ? (record as DevServerRecord) : undefined;
  } catch {
    return undefined;
  }
}

function removePidFile(pidFile: string, pid: number | undefined): void {
  if (readRecord(pidFile)?.pid === pid) rmSync(pidFile, { force: true });
}

async function waitUntil(ms: number, done: () => boolean): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

async function terminate(pid: number, dbFile: string): Promise<void> {
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(pid, s);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return;
      throw new Error(
        `a Temporal dev server on ${dbFile} is still running (pid ${pid}) and cannot be stopped: ${(err as Error).message}`,
      );
    }
  };
  signal('SIGTERM');
  if (await waitUntil(10_000, () => !isRunning(pid))) return;
  signal('SIGKILL');
  if (!(await waitUntil(5_000, () => !isRunning(pid))))
    throw new Error(`a Temporal dev server on ${dbFile} (pid ${pid}) did not stop after SIGKILL`);
}

async function portFree(port: number): Promise<boolean> {
  return assertPortFree(port, '').then(
    () => true,
    () => false,
  );
}

/**
 * Stops what an earlier start on dbFile left running when it died without stopping its server (SIGKILL,
 * OOM, power to the terminal cut): found through the pid file and, on Linux, /proc. A server whose parent is
 * still the Cordon that started it is in use: that is an error, not something to kill.
 */
async function stopLeftovers(o: DevServerOptions & { dbFile: string }): Promise<void> {
  const pidFile = pidFileFor(o.dbFile);
  const record = readRecord(pidFile);
  const pids = new Set(devServersOf(o.dbFile));
  if (record && isRunning(record.pid) && isDevServerOf(record.pid, o.dbFile)) pids.add(record.pid);
  for (const pid of pids) {
    const parent = parentPid(pid);
    const owner = parent && parent > 1 ? commandLine(parent) : undefined;
    if (owner && (parent === record?.ownerPid || /node/.test(basename(owner[0]!.split(' ')[0]!))))
      throw new Error(
        `a Temporal dev server on ${o.dbFile} is already running (pid ${pid}), started by process ${parent}: ` +
          'stop that one first, or choose another data folder',
      );
    await terminate(pid, o.dbFile);
    o.onNotice?.('stopped a Temporal dev server left running by an earlier start', {
      pid,
      dbFile: o.dbFile,
      ...(record?.pid === pid ? { startedAt: record.startedAt, ports: [record.port, record.uiPort] } : {}),
    });
  }
  rmSync(pidFile, { force: true }); // stale, or of a server just stopped
  // Its sockets close as it exits; give the kernel a moment before the port checks speak of "in use".
  const deadline = Date.now() + (pids.size ? 5_000 : 0);
  for (const port of [o.port, o.uiPort])
    while (port !== undefined && !(await portFree(port)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
}

/**
 * When Cordon dies without stopping the server (SIGKILL), this stops it: a shell that waits for the end of
 * the pipe from Cordon, which the kernel closes however Cordon ends. Cordon writes "released" into it once
 * the server has exited, so it never signals a pid that may have been reused.
 */
const WATCHDOG = [
  'read -r line',
  '[ "$line" = released ] && exit 0',
  'kill -TERM "$1" 2>/dev/null || exit 0',
  'i=0',
  'while [ "$i" -lt 10 ]; do sleep 1; kill -0 "$1" 2>/dev/null || exit 0; i=$((i + 1)); done',
  'kill -KILL "$1" 2>/dev/null',
].join('\n');

function startWatchdog(pid: number): ChildProcess | undefined {
  if (process.platform === 'win32') return undefined;
  const watchdog = spawn('/bin/sh', ['-c', WATCHDOG, 'cordon-dev-server-watchdog', String(pid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true, // out of reach of the terminal's Ctrl-C, like the server
  });
  watchdog.once('error', () => undefined); // no /bin/sh: no watchdog, the pid file still does its part
  watchdog.stdin?.on('error', () => undefined); // it died first
  watchdog.unref();
  return watchdog;
}

export async function startDevServer(o: DevServerOptions): Promise<DevServer> {
  const dbFile = o.dbFile ? resolve(o.dbFile) : undefined;
  if (dbFile) {
    mkdirSync(dirname(dbFile), { recursive: true });
    await stopLeftovers({ ...o, dbFile });
  }
  await assertPortFree(o.port, 'Temporal frontend');
  if (o.uiPort !== undefined) await assertPortFree(o.uiPort, 'Temporal Web UI');
  // The port taken first, so a clash stops the start before the server runs.
  const proxy: WebUiProxy | undefined =
    o.uiPort !== undefined && o.codecEndpoint
      ? await startWebUiProxy({
          port: o.uiPort,
          uiServer: `http://127.0.0.1:${await freePort()}`,
          codecEndpoint: o.codecEndpoint,
        })
      : undefined;
  try {
    return await startServer(o, dbFile, proxy);
  } catch (err) {
    await proxy?.close();
    throw err;
  }
}

async function startServer(
  o: DevServerOptions,
  dbFile: string | undefined,
  proxy: WebUiProxy | undefined,
): Promise<DevServer> {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(o.port),
    '--namespace',
    o.namespace ?? 'default',
  ];
  args.push('--log-level', 'warn', ...TUNING_FLAGS);
  for (const sa of SEARCH_ATTRIBUTE_FLAGS) args.push('--search-attribute', sa);
  if (proxy) {
    args.push('--ui-port', new URL(proxy.uiServer).port, '--ui-codec-endpoint', proxy.codecEndpoint);
  } else if (o.uiPort !== undefined) args.push('--ui-port', String(o.uiPort));
  else args.push('--headless');
  if (dbFile) args.push('--db-filename', dbFile);
  // Its own process group: Ctrl-C reaches Cordon, which stops the server last, after the worker has drained.
  const child = spawn(o.cli, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const watchdog = child.pid !== undefined ? startWatchdog(child.pid) : undefined;
  const pidFile = dbFile ? pidFileFor(dbFile) : undefined;
  if (pidFile && dbFile && child.pid !== undefined) {
    const record: DevServerRecord = {
      pid: child.pid,
      ownerPid: process.pid,
      watchdogPid: watchdog?.pid,
      port: o.port,
      uiPort: o.uiPort,
      dbFile,
      namespace: o.namespace ?? 'default',
      startedAt: new Date().toISOString(),
    };
    writeFileSync(`${pidFile}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(`${pidFile}.tmp`, pidFile);
  }
  const released = () => {
    if (watchdog?.stdin?.writable) watchdog.stdin.end('released\n');
    if (pidFile) removePidFile(pidFile, child.pid);
  };
  child.once('exit', released);
  const killOnExit = () => {
    child.kill('SIGKILL');
    watchdog?.kill('SIGKILL');
    if (pidFile) removePidFile(pidFile, child.pid);
  };
  process.once('exit', killOnExit);
  const output: string[] = [];
  let stopping = false;
  const onData = (chunk: Buffer) => {
    if (stopping) return; // its own shutdown chatter is not news
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      output.push(line);
      if (output.length > 50) output.shift();
      o.onLog?.(line);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let exited: number | null | undefined;
  const exit = new Promise<void>((r) => child.once('exit', (code) => ((exited = code), r())));
  child.once('error', (err) => {
    output.push(`cannot run ${o.cli}: ${err.message}`);
    exited = null;
  });

  const address = `127.0.0.1:${o.port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined)
      throw new Error(`Temporal dev server exited with ${exited}:\n${output.join('\n')}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: o.namespace ?? 'default' });
        break;
      } finally {
        await connection.close();
      }
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`Temporal dev server did not become ready within 60 s:\n${output.join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    address,
    uiUrl: o.uiPort !== undefined ? `http://127.0.0.1:${o.uiPort}` : undefined,
    process: child,
    async stop() {
      await proxy?.close();
      if (exited !== undefined) return;
      stopping = true;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(killer);
      process.removeListener('exit', killOnExit);
    },
  };
}
