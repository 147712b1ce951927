// Starts a Temporal dev server tuned for latency, with Cordon's search attributes registered.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_FLAGS } from '../core/contracts';

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
  /** Web UI port; omitted: headless. */
  uiPort?: number;
  /** SQLite file; omitted: in memory. */
  dbFile?: string;
  namespace?: string;
  onLog?: (line: string) => void;
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

export async function startDevServer(o: DevServerOptions): Promise<DevServer> {
  await assertPortFree(o.port, 'Temporal frontend');
  if (o.uiPort !== undefined) await assertPortFree(o.uiPort, 'Temporal Web UI');
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
  if (o.uiPort !== undefined) args.push('--ui-port', String(o.uiPort));
  else args.push('--headless');
  if (o.dbFile) {
    mkdirSync(dirname(o.dbFile), { recursive: true });
    args.push('--db-filename', o.dbFile);
  }
  // Its own process group: Ctrl-C reaches Cordon, which stops the server last, after the worker has drained.
  const child = spawn(o.cli, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const killOnExit = () => child.kill('SIGKILL');
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
