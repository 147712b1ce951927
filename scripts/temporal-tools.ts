// Finds or provisions the Temporal binaries Cordon needs, cached under the git-ignored .tools/ folder:
// - the Temporal CLI (dev server + Web UI): $TEMPORAL_CLI, then `temporal` on PATH, then .tools/bin/temporal,
//   then `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` (later tags do not `go install`);
// - the time-skipping test server: the jars of io.temporal:temporal-test-server from Maven Central.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..');
export const TOOLS_DIR = join(ROOT, '.tools');
const CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';
const TEST_SERVER_POM = join(ROOT, 'tools', 'test-server', 'pom.xml');
const TEST_SERVER_LIB = join(TOOLS_DIR, 'test-server', 'lib');

function say(message: string): void {
  process.stderr.write(`[provision] ${message}\n`);
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env });
  if (result.error) throw new Error(`${command} could not run: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status}`);
}

/** The path of a Temporal CLI binary, building one with `go install` when none is found. */
export function ensureTemporalCli(): string {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`TEMPORAL_CLI=${fromEnv} does not exist`);
    return fromEnv;
  }
  const found = onPath('temporal');
  if (found) return found;
  const cached = join(TOOLS_DIR, 'bin', 'temporal');
  if (existsSync(cached)) return cached;
  if (!onPath('go')) throw new Error('no Temporal CLI found and no Go toolchain to build one: install Go or set TEMPORAL_CLI');
  say(`building the Temporal CLI: go install ${CLI_MODULE} (about 4 minutes, once; cached in .tools/bin)`);
  const started = Date.now();
  const timer = setInterval(() => say(`still building... ${Math.round((Date.now() - started) / 1000)} s`), 30_000);
  try {
    run('go', ['install', CLI_MODULE], { ...process.env, GOBIN: join(TOOLS_DIR, 'bin'), GOFLAGS: '-mod=mod' });
  } finally {
    clearInterval(timer);
  }
  say(`Temporal CLI ready in ${Math.round((Date.now() - started) / 1000)} s: ${cached}`);
  return cached;
}

/**
 * An executable that runs the time-skipping test server as `<path> PORT [--enable-time-skipping]`, which is how
 * @temporalio/testing starts an `existing-path` server. Fetches the jars with Maven when missing.
 */
export function ensureTestServer(): string {
  const lib = ensureTestServerJars();
  const launcher = join(TOOLS_DIR, 'test-server', 'temporal-test-server');
  writeFileSync(launcher, `#!/bin/sh\nexec java -cp '${lib}/*' io.temporal.testserver.TestServer "$@"\n`);
  chmodSync(launcher, 0o755);
  return launcher;
}

function ensureTestServerJars(): string {
  const jarCount = () => (existsSync(TEST_SERVER_LIB) ? readdirSync(TEST_SERVER_LIB).filter((f) => f.endsWith('.jar')).length : 0);
  if (jarCount() > 0) return TEST_SERVER_LIB;
  if (!onPath('mvn')) throw new Error('the time-skipping test server needs Maven (mvn) to fetch io.temporal:temporal-test-server');
  if (!onPath('java')) throw new Error('the time-skipping test server needs Java 17+');
  say('fetching io.temporal:temporal-test-server from Maven Central (about 30 s, once; cached in .tools/test-server)');
  run('mvn', ['-q', '-B', '-f', TEST_SERVER_POM, 'dependency:copy-dependencies', `-DoutputDirectory=${TEST_SERVER_LIB}`]);
  say(`test server ready: ${jarCount()} jars`);
  return TEST_SERVER_LIB;
}

if (require.main === module) {
  const args = new Set(process.argv.slice(2));
  const all = args.has('--all') || args.size === 0;
  try {
    if (all || args.has('--cli')) say(`Temporal CLI: ${ensureTemporalCli()}`);
    if (all || args.has('--test-server')) say(`test server: ${ensureTestServer()}`);
  } catch (err) {
    say(`failed: ${(err as Error).message}`);
    process.exit(1);
  }
}
