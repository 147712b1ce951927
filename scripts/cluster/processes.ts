// The processes of `npm run cluster`: each in its own process group (a Ctrl-C in the terminal reaches only the
// cluster script, which stops them in order), its output in a log file of its own and, for Cordon's processes,
// echoed with its name. A watchdog shell per process stops it if the cluster script dies without doing so
// (SIGKILL, a closed terminal): it waits for the end of a pipe from the script, which the kernel closes however
// the script ends, unless the script wrote "released" into it first (the process already exited).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

const WATCHDOG = ['read -r line', '[ "$line" = released ] && exit 0', 'exec "$@"'].join('\n');

/** argv for a watchdog: SIGTERM to pid, SIGKILL if it is still there after graceSeconds. */
export function killCommand(pid: number, graceSeconds = 10): string[] {
  return [
    '/bin/sh',
    '-c',
    [
      'kill -TERM "$1" 2>/dev/null || exit 0',
      'i=0',
      `while [ "$i" -lt ${graceSeconds} ]; do sleep 1; kill -0 "$1" 2>/dev/null || exit 0; i=$((i + 1)); done`,
      'kill -KILL "$1" 2>/dev/null',
    ].join('\n'),
    'cordon-cluster-stop',
    String(pid),
  ];
}

export interface Watchdog {
  /** The guarded thing has been dealt with: the watchdog exits without running its command. */
  release(): void;
}

/** Runs argv when this process dies without calling release(). */
export function startWatchdog(argv: string[], name: string): Watchdog {
  const child = spawn('/bin/sh', ['-c', WATCHDOG, `cordon-cluster-watchdog-${name}`, ...argv], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  child.once('error', () => undefined); // no /bin/sh: no watchdog
  child.stdin?.on('error', () => undefined);
  child.unref();
  return {
    release() {
      if (child.stdin?.writable) child.stdin.end('released\n');
    },
  };
}

export interface ManagedOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  logFile: string;
  /** Each output line, as it comes (e.g. echoed to the terminal with the name). */
  onLine?: (line: string) => void;
  /** Seconds between the watchdog's SIGTERM and SIGKILL. */
  watchdogGraceSeconds?: number;
}

/** One child process, started at once. */
export class Managed {
  readonly child: ChildProcess;
  readonly startedAt = Date.now();
  /** Resolves with the exit code, or the signal's name, once the process has exited. */
  readonly exited: Promise<number | string>;
  private exit: number | string | undefined;
  private readonly log: WriteStream;
  private tail: string[] = [];
  private stopping = false;

  constructor(readonly o: ManagedOptions) {
    this.log = createWriteStream(o.logFile, { flags: 'a' });
    this.log.write(
      `--- ${o.name} starting at ${new Date().toISOString()}: ${o.command} ${o.args.join(' ')}\n`,
    );
    this.child = spawn(o.command, o.args, {
      cwd: o.cwd,
      env: o.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const watchdog =
      this.child.pid !== undefined
        ? startWatchdog(killCommand(this.child.pid, o.watchdogGraceSeconds), o.name)
        : undefined;
    let partial = '';
    const onData = (chunk: Buffer) => {
      this.log.write(chunk);
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line) continue;
        this.tail.push(line);
        if (this.tail.length > 40) this.tail.shift();
        o.onLine?.(line);
      }
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.exited = new Promise((resolvePromise) => {
      this.child.once('error', (err) => {
        this.tail.push(`cannot run ${o.command}: ${err.message}`);
        this.exit ??= 'error';
        watchdog?.release();
        resolvePromise(this.exit);
      });
      this.child.once('exit', (code, signal) => {
        this.exit = signal ?? code ?? 'unknown';
        watchdog?.release();
        this.log.write(`--- ${o.name} exited (${this.exit}) at ${new Date().toISOString()}\n`);
        this.log.end();
        resolvePromise(this.exit);
      });
    });
  }

  get name(): string {
    return this.o.name;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** undefined while it runs. */
  get exitStatus(): number | string | undefined {
    return this.exit;
  }

  /** Whether stop() was called (an exit after that was asked for). */
  get isStopping(): boolean {
    return this.stopping;
  }

  /** Its last output lines, for an error message. */
  lastLines(n = 20): string {
    return this.tail.slice(-n).join('\n');
  }

  /** signal, then SIGKILL if it has not exited after graceMs. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
    this.stopping = true;
    if (this.exit !== undefined) return;
    this.child.kill(signal);
    const force = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(force);
  }
}
