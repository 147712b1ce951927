// Cordon's commands as child processes for end-to-end tests: `npm start` as one Node process (startCordon), or
// any command as a user runs it (spawnCommand: `npm run api`, `node dist/api/main.js`...), and what is left of
// a process tree after it stopped (Linux: /proc).
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { ROOT } from '../../scripts/temporal-tools';
import { assertPortFree } from '../../scripts/dev-server';

export interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** command in cwd with env added to this process's; detached: its own process group (a terminal's job). */
export function spawnCommand(
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
  o: { cwd?: string; detached?: boolean } = {},
): Started {
  const child = spawn(command, args, {
    cwd: o.cwd ?? ROOT,
    env: { ...process.env, ...env, LOG_FORMAT: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: o.detached ?? false,
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => output, exited };
}

/** `npm start` as scripts/start.ts in one Node process, so a signal sent to it reaches Cordon itself. */
export function startCordon(env: Record<string, string>): Started {
  return spawnCommand(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], env);
}

/** Ctrl-C, as a person stops it; SIGKILL if it has not stopped in 30 s. Answers its exit code. */
export async function stopCordon(s: Started): Promise<number | null> {
  s.child.kill('SIGINT');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 30_000);
  const code = await s.exited;
  clearTimeout(timer);
  return code;
}

/** Waits until the output holds text; fails early if the process exits. */
export async function waitForOutput(s: Started, text: string | RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const seen = () => (typeof text === 'string' ? s.output().includes(text) : text.test(s.output()));
  while (!seen()) {
    if (s.child.exitCode !== null || s.child.signalCode !== null)
      throw new Error(`exited (${s.child.exitCode ?? s.child.signalCode}) before "${text}":\n${s.output()}`);
    if (Date.now() > deadline) throw new Error(`no "${text}" within ${timeoutMs} ms:\n${s.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The exit code, or 'timeout' if the process has not exited within ms. */
export function exitWithin(s: Started, ms: number): Promise<number | null | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    s.exited,
    new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms))),
  ]).finally(() => clearTimeout(timer));
}

export interface Proc {
  pid: number;
  ppid: number;
  state: string;
  /** When it started (clock ticks since boot): with the pid, which process this is (pids are reused). */
  startedAt: string;
  args: string[];
}

function processes(): Proc[] {
  const found: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').slice(0, -1);
      found.push({
        pid: Number(entry),
        ppid: Number(fields[1]),
        state: fields[0]!,
        startedAt: fields[19]!,
        args,
      });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** pid and every process below it (detached ones included: they keep their parent). */
export function processTree(pid: number): Proc[] {
  const all = processes();
  const tree = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all)
      if (!tree.has(p.pid) && tree.has(p.ppid)) {
        tree.add(p.pid);
        grew = true;
      }
  }
  return all.filter((p) => tree.has(p.pid));
}

/** Those of procs still running (a zombie holds no port and no file). */
export function stillRunning(procs: Proc[]): Proc[] {
  const now = new Map(processes().map((p) => [p.pid, p]));
  return procs.filter((p) => {
    const q = now.get(p.pid);
    return q !== undefined && q.state !== 'Z' && q.startedAt === p.startedAt;
  });
}

export const describeProcs = (procs: Proc[]) =>
  procs.map((p) => `${p.pid} ${p.args.join(' ').slice(0, 100)}`).join('\n');

export async function portFree(port: number): Promise<boolean> {
  return assertPortFree(port, '').then(
    () => true,
    () => false,
  );
}

/** Polls probe every 50 ms until it answers true; false if it has not within ms. */
export async function within(ms: number, probe: () => boolean | Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Test clean-up: SIGKILLs whatever of a tree still runs, and what those started since (after a failure). */
export function killAll(procs: Proc[]): void {
  for (const p of stillRunning(procs).flatMap((q) => processTree(q.pid)))
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
}
