// Child processes of the chaos run (the worker and the API, each `node --import tsx <script>`), restarted at
// once when they die, and killed with the run however it ends: a watchdog shell per child kills it when the
// pipe from this process closes (even if this process is SIGKILLed), unless told the child already exited.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { ROOT } from '../temporal-tools';

const WATCHDOG = ['read -r line', '[ "$line" = released ] && exit 0', 'kill -KILL "$1" 2>/dev/null'].join(
  '\n',
);

export interface SupervisedOptions {
  name: string;
  /** The entry point, relative to the repository. */
  script: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** A line the process prints once it serves. */
  readyLine: RegExp;
}

export class Supervised {
  /** Processes started, the first one included. */
  starts = 0;
  /** Exits nobody asked for (e.g. the worker giving up while the dev server was down): restarted too. */
  crashes = 0;
  /** From spawn to the ready line, per start. */
  readonly readyTimesMs: number[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private ready = false;
  private intentional = false;
  private stopped = false;
  private failuresInARow = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly log: WriteStream;

  constructor(private readonly o: SupervisedOptions) {
    this.log = createWriteStream(o.logFile, { flags: 'a' });
  }

  get isReady(): boolean {
    return this.ready;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.stopped || this.child) return;
    this.restartTimer = undefined;
    const startedAt = Date.now();
    this.starts += 1;
    this.ready = false;
    this.log.write(`--- [chaos] starting ${this.o.name} at ${new Date(startedAt).toISOString()}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', this.o.script], {
      cwd: ROOT,
      env: this.o.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const watchdog =
      child.pid !== undefined
        ? spawn('/bin/sh', ['-c', WATCHDOG, `cordon-chaos-watchdog-${this.o.name}`, String(child.pid)], {
            stdio: ['pipe', 'ignore', 'ignore'],
            detached: true,
          })
        : undefined;
    watchdog?.once('error', () => undefined);
    watchdog?.stdin?.on('error', () => undefined);
    watchdog?.unref();
    let tail = '';
    const onData = (chunk: Buffer) => {
      this.log.write(chunk);
      if (this.ready || this.child !== child) return;
      tail = (tail + chunk.toString()).slice(-4_000);
      if (this.o.readyLine.test(tail)) {
        this.ready = true;
        this.failuresInARow = 0;
        this.readyTimesMs.push(Date.now() - startedAt);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (err) => this.log.write(`--- [chaos] ${this.o.name}: ${err.message}\n`));
    this.exited = new Promise<void>((resolve) =>
      child.once('exit', (code, signal) => {
        if (watchdog?.stdin?.writable) watchdog.stdin.end('released\n');
        this.log.write(
          `--- [chaos] ${this.o.name} exited (${signal ?? code}) at ${new Date().toISOString()}\n`,
        );
        if (this.child === child) {
          this.child = undefined;
          this.ready = false;
        }
        resolve();
        if (!this.intentional && !this.stopped) {
          this.crashes += 1;
          this.failuresInARow += 1;
          const wait = Math.min(2_000, 100 * 2 ** this.failuresInARow);
          this.restartTimer = setTimeout(() => this.start(), wait);
        }
      }),
    );
  }

  /** Kills the process with the signal (SIGKILL after graceMs if it is still there), then starts it again. */
  async restart(signal: NodeJS.Signals, graceMs = 5_000): Promise<void> {
    if (this.stopped) return;
    this.intentional = true;
    try {
      clearTimeout(this.restartTimer);
      await this.kill(signal, graceMs);
    } finally {
      this.intentional = false;
    }
    this.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    await this.kill('SIGKILL', 0);
    await new Promise<void>((resolve) => this.log.end(resolve));
  }

  private async kill(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    const force = signal === 'SIGKILL' ? undefined : setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(force);
  }

  async whenReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ready) {
      if (Date.now() > deadline)
        throw new Error(`${this.o.name} not ready within ${timeoutMs} ms (see ${this.o.logFile})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
