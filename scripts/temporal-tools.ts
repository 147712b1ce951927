// Finds or provisions the Temporal CLI (dev server + Web UI), cached under the git-ignored .tools/ folder:
// $TEMPORAL_CLI, then `temporal` on PATH, then .tools/bin/temporal, then
// `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` (later tags have a replace directive that
// `go install` rejects).
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..');
export const TOOLS_DIR = join(ROOT, '.tools');
const CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

export function say(message: string): void {
  process.stderr.write(`[provision] ${message}\n`);
}

/** The first file called name in a PATH folder. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

export function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env });
    child.once('error', (err) => reject(new Error(`${command} could not run: ${err.message}`)));
    child.once('exit', (code) =>
      code === 0 ? resolvePromise() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`)),
    );
  });
}

/** The path of a Temporal CLI binary, building one with `go install` when none is found. */
export async function ensureTemporalCli(): Promise<string> {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`TEMPORAL_CLI=${fromEnv} does not exist`);
    return fromEnv;
  }
  const found = onPath('temporal');
  if (found) return found;
  const cached = join(TOOLS_DIR, 'bin', 'temporal');
  if (existsSync(cached)) return cached;
  if (!onPath('go'))
    throw new Error('no Temporal CLI found and no Go toolchain to build one: install Go or set TEMPORAL_CLI');
  await goInstall(CLI_MODULE, join(TOOLS_DIR, 'bin'), 'the Temporal CLI', 'about 4 minutes');
  return cached;
}

/**
 * `go install module@version` into gobin (through the Go module proxy, GOPROXY as configured), with a progress
 * line every 30 s: the Temporal builds take minutes on a cold machine.
 */
export async function goInstall(module: string, gobin: string, what: string, about: string): Promise<void> {
  if (!onPath('go')) throw new Error(`no Go toolchain to build ${what} (go install ${module}): install Go`);
  say(`building ${what}: go install ${module} (${about}, once; cached in ${gobin})`);
  const started = Date.now();
  const timer = setInterval(
    () => say(`still building ${what}... ${Math.round((Date.now() - started) / 1000)} s`),
    30_000,
  );
  try {
    await run('go', ['install', module], { ...process.env, GOBIN: gobin, GOFLAGS: '-mod=mod' });
  } finally {
    clearInterval(timer);
  }
  say(`${what} ready in ${Math.round((Date.now() - started) / 1000)} s`);
}

if (require.main === module) {
  ensureTemporalCli().then(
    (cli) => say(`Temporal CLI: ${cli}`),
    (err: Error) => {
      say(`failed: ${err.message}`);
      process.exit(1);
    },
  );
}
