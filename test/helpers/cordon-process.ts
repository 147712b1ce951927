// `npm start` as a child process for end-to-end tests: scripts/start.ts in one Node process (no npm or tsx
// wrapper in between), so a signal sent to it reaches Cordon itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT } from '../../scripts/temporal-tools';

export interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export function startCordon(env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, LOG_FORMAT: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => output, exited };
}

/** Ctrl-C, as a person stops it; SIGKILL if it has not stopped in 30 s. Answers its exit code. */
export async function stopCordon(s: Started): Promise<number | null> {
  s.child.kill('SIGINT');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 30_000);
  const code = await s.exited;
  clearTimeout(timer);
  return code;
}
