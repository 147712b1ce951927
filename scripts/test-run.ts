// `npm test`'s runner (after scripts/preflight.ts): mocha over the test files in CORDON_TEST_JOBS processes at
// once (3 by default; 1: a single mocha with its output as it comes, as before). The tests mostly wait (Temporal
// timers, servers starting, HTTP: outside the chaos run a single mocha keeps about half a core busy), so more
// processes than cores pay: on the 2-core machine, loaded, the shards took 10m12s with 2 processes and 7m31s
// with 3, where one mocha took about 17 minutes.
//
// Each process ("shard") is a plain mocha with the project's .mocharc.json and its own servers (a dev server, a
// PostgreSQL, … started on free ports by test/helpers/), given a fixed share of the files: longest first onto the
// least loaded shard, by the durations measured in scripts/test-durations.json (a file not listed there counts
// as its defaultSeconds). The shards run their files longest first and longest last in turn, so that the
// slowest (the image's npm ci, the API's properties, the cluster) do not all run at once. The table's `alone`
// files run after the shards, each by itself: the chaos run keeps both cores busy with processes of its own and
// restarts its worker every 8-12 s, so beside a shard its worker spends its time starting (seen: 136 of 300
// cases in 12 min); schemathesis has 45 s a role to reach every operation, and beside the shards it reached 7
// of 37 (alone, on the same loaded machine, all of them).
//
// Not mocha's --parallel: it runs root hooks once per file, so test/setup.ts would stop and start the dev server,
// PostgreSQL and the workflow bundle around each of ~90 files, and its reporter gets copies of the suites,
// without the skip reasons test/helpers/requirements.ts keeps on them.
//
// Each shard's output is kept and printed whole when it ends, so the log reads file by file; then one line sums
// the shards, `tests: N passed, N failed, N skipped`, the only line of that form (a shard's own says
// "shard 1/5 ended: 12 passing, …", in mocha's words). A shard that exits without its results (a crash), or
// fails with no failed test counted, counts as one failed test: a run is never "0 failed" by losing a shard.
// SIGINT and SIGTERM stop the shards. `--record` writes this run's durations into the table (run it as CI
// does, with CI's switches).
//
//   tsx scripts/test-run.ts [--record] [files or globs…] [mocha options…]
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { envValue } from '../infra/config-schema';
import { ensureMoto } from './moto';
import { ensureSchemathesis } from './schemathesis';

/** What a shard's reporter (test/summary-reporter.ts) writes when it ends. */
export interface ShardResults {
  passed: number;
  failed: number;
  skipped: number;
  /** Tests skipped, by what the machine lacks. */
  skippedFor: Record<string, number>;
  /** Seconds spent in each file's top-level suites, by path relative to the working directory. */
  fileSeconds: Record<string, number>;
  /** Each failed test (or hook): its file, full title and the error's first line. */
  failures: { file: string; title: string; message: string }[];
}

interface DurationTable {
  note: string;
  defaultSeconds: number;
  /** Files that run by themselves after the shards, with why. */
  alone: Record<string, string>;
  seconds: Record<string, number>;
}

export const DURATIONS_FILE = join(__dirname, 'test-durations.json');
const MOCHA_BIN = require.resolve('mocha/bin/mocha.js');
const DEFAULT_SPEC = 'test/**/*.test.ts';
const PROGRESS_EVERY_MS = 60_000;
/**
 * Stopping a mocha takes the signal twice: the first only asks the Temporal workers to shut down (the SDK's
 * Runtime catches SIGINT and SIGTERM once), the second ends the process. Then, if it still runs, SIGKILL.
 */
const STOP_AGAIN_MS = 2_000;
const STOP_KILL_MS = 15_000;

/**
 * Tools a test installs into .tools/ the first time it needs them: when files that need one run in two shards,
 * it is installed before they start, never by two shards into the same folder at once. A failure is left to
 * the tests, which report it as before (a skip outside CI). CI installs both before `npm test`.
 */
const FIRST_USE_INSTALLS = [
  { what: "moto's server", usedBy: /helpers\/s3'/, ensure: ensureMoto },
  { what: 'schemathesis', usedBy: /scripts\/schemathesis'/, ensure: ensureSchemathesis },
];

const say = (line: string) => process.stdout.write(`[test-run] ${line}\n`);

const minutes = (seconds: number) => {
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
};

/** Files under dir (recursively, skipping node_modules and dot folders) whose path matches the glob. */
function expandGlob(glob: string): string[] {
  const pattern = new RegExp(
    `^${glob
      .split(/(\*\*\/|\*)/)
      .map((part) =>
        part === '**/' ? '(?:.*/)?' : part === '*' ? '[^/]*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'),
      )
      .join('')}$`,
  );
  const base = glob.slice(0, glob.indexOf('*')).replace(/[^/]*$/, '') || '.';
  const walk = (dir: string): string[] =>
    existsSync(dir)
      ? readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
          const path = dir === '.' ? e.name : `${dir}/${e.name}`;
          if (e.isDirectory()) return e.name === 'node_modules' || e.name.startsWith('.') ? [] : walk(path);
          return pattern.test(path) ? [path] : [];
        })
      : [];
  return walk(base.replace(/\/$/, '') || '.');
}

/** The runner's own flags, the test files (args naming .ts/.js files or globs) and what goes on to mocha. */
export function parseArgs(argv: string[]): { record: boolean; files: string[]; mochaArgs: string[] } {
  const specs: string[] = [];
  const mochaArgs: string[] = [];
  let record = false;
  for (const arg of argv) {
    if (arg === '--record') record = true;
    else if (!arg.startsWith('-') && (/\.[cm]?[jt]s$/.test(arg) || arg.includes('*'))) specs.push(arg);
    else mochaArgs.push(arg);
  }
  const files = (specs.length ? specs : [DEFAULT_SPEC]).flatMap((spec) =>
    spec.includes('*') ? expandGlob(spec) : [relative(process.cwd(), spec).replace(/\\/g, '/')],
  );
  return { record, files: [...new Set(files)].sort(), mochaArgs };
}

export function readDurations(file = DURATIONS_FILE): DurationTable {
  return JSON.parse(readFileSync(file, 'utf8')) as DurationTable;
}

/**
 * Longest first onto the least loaded shard (of equals, the one with fewer files, then the first); then the first
 * shard runs its files longest first, the second longest last, and so on in turn (equals in name order). Never an
 * empty shard: mocha given no file would run its default spec, every test.
 */
export function planShards(
  files: string[],
  jobs: number,
  table: Pick<DurationTable, 'defaultSeconds' | 'seconds'>,
): { files: string[]; seconds: number }[] {
  const cost = (f: string) => table.seconds[f] ?? table.defaultSeconds;
  const shards = Array.from({ length: Math.min(jobs, files.length) }, () => ({
    files: [] as string[],
    seconds: 0,
  }));
  for (const file of [...files].sort((a, b) => cost(b) - cost(a) || a.localeCompare(b))) {
    const lightest = shards.reduce((min, s) =>
      s.seconds < min.seconds || (s.seconds === min.seconds && s.files.length < min.files.length) ? s : min,
    );
    lightest.files.push(file);
    lightest.seconds += cost(file);
  }
  const byCost = (a: string, b: string) => cost(b) - cost(a) || a.localeCompare(b);
  shards.forEach((s, i) => s.files.sort((a, b) => (i % 2 === 0 ? byCost(a, b) : byCost(b, a))));
  return shards.filter((s) => s.files.length > 0);
}

interface Shard {
  label: string;
  files: string[];
  resultsFile: string;
  child: ChildProcess;
  startedAt: number;
  output: Buffer[];
  /** Tests reported so far (spec reporter lines), for the progress line. */
  done: number;
  exit?: { code: number | null; signal: NodeJS.Signals | null; seconds: number };
  results?: ShardResults;
}

function startShard(label: string, files: string[], mochaArgs: string[], dir: string): Shard {
  if (!files.length) throw new Error(`shard ${label} has no file (mocha would run every test)`);
  const resultsFile = join(dir, `shard-${label.replace('/', '-of-')}.json`);
  const args = [MOCHA_BIN, ...mochaArgs, '--reporter-option', `shard=${label}`];
  args.push('--reporter-option', `results=${resultsFile}`, ...(process.stdout.isTTY ? ['--color'] : []));
  // Its own process group, as a terminal's Ctrl-C reaches a single mocha and what it started (stop() below).
  const child = spawn(process.execPath, [...args, ...files], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const shard: Shard = { label, files, resultsFile, child, startedAt: Date.now(), output: [], done: 0 };
  const keep = (chunk: Buffer) => {
    shard.output.push(chunk);
    // A passed, failed or pending test's line, in colour or not.
    shard.done += (stripVTControlCharacters(chunk.toString()).match(/^ +(?:✔|✓|\d+\)|-) /gm) ?? []).length;
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return shard;
}

function finished(shard: Shard): Promise<void> {
  return new Promise((resolvePromise) => {
    const settle = (code: number | null, signal: NodeJS.Signals | null) => {
      if (shard.exit) return;
      shard.exit = { code, signal, seconds: (Date.now() - shard.startedAt) / 1000 };
      try {
        shard.results = JSON.parse(readFileSync(shard.resultsFile, 'utf8')) as ShardResults;
      } catch {
        shard.results = undefined; // no results: it crashed before its run ended
      }
      resolvePromise();
    };
    shard.child.once('error', (err) => {
      shard.output.push(Buffer.from(`could not start mocha: ${err.message}\n`));
      settle(null, null);
    });
    shard.child.once('close', settle);
  });
}

/** Sends signal twice, then SIGKILL, to a mocha (and, for a shard, its process group) until it has ended. */
function stop(child: ChildProcess, signal: NodeJS.Signals, group: boolean): void {
  const send = (sig: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    try {
      process.kill(group ? -child.pid : child.pid, sig);
    } catch {
      // already gone
    }
  };
  send(signal);
  setTimeout(() => send(signal), STOP_AGAIN_MS).unref();
  setTimeout(() => send('SIGKILL'), STOP_KILL_MS).unref();
}

const fileCount = (n: number) => `${n} ${n === 1 ? 'file' : 'files'}`;

const ending = (s: Shard) => (s.exit?.signal ? `killed by ${s.exit.signal}` : `exit code ${s.exit?.code}`);

/** The shard's output as it wrote it, under a line that says which shard and how it ended. */
function printShard(shard: Shard): void {
  const e = shard.exit!;
  process.stdout.write(
    `\n── shard ${shard.label}: ${fileCount(shard.files.length)}, ${minutes(e.seconds)}, ${ending(shard)} ──\n`,
  );
  const text = Buffer.concat(shard.output).toString();
  process.stdout.write(text.endsWith('\n') || !text ? text : `${text}\n`);
}

/** The shards' counts summed; a shard that crashed or failed with no failed test counted adds one failure. */
export function combine(
  shards: { label: string; exitCode: number | null; how: string; results?: ShardResults }[],
): {
  passed: number;
  failed: number;
  skipped: number;
  skippedFor: Map<string, number>;
  problems: string[];
} {
  const total = {
    passed: 0,
    failed: 0,
    skipped: 0,
    skippedFor: new Map<string, number>(),
    problems: [] as string[],
  };
  for (const s of shards) {
    const r = s.results;
    if (!r) {
      total.failed += 1;
      total.problems.push(`shard ${s.label} ended (${s.how}) without its results: counted as 1 failed`);
      continue;
    }
    total.passed += r.passed;
    total.failed += r.failed;
    total.skipped += r.skipped;
    for (const [what, n] of Object.entries(r.skippedFor))
      total.skippedFor.set(what, (total.skippedFor.get(what) ?? 0) + n);
    if (s.exitCode !== 0 && r.failed === 0) {
      total.failed += 1;
      total.problems.push(
        `shard ${s.label} ended (${s.how}) with no failed test counted: counted as 1 failed`,
      );
    }
  }
  return total;
}

function recordDurations(shards: Shard[]): void {
  const table = readDurations();
  for (const s of shards) Object.assign(table.seconds, s.results?.fileSeconds ?? {});
  const seconds = Object.fromEntries(
    Object.entries(table.seconds)
      .filter(([file]) => existsSync(file))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([file, s]) => [file, Math.round(s * 10) / 10]),
  );
  writeFileSync(DURATIONS_FILE, `${JSON.stringify({ ...table, seconds }, null, 2)}\n`);
  say(
    `durations of ${Object.keys(seconds).length} files written to ${relative(process.cwd(), DURATIONS_FILE)}`,
  );
}

/** One mocha, its output straight through: CORDON_TEST_JOBS=1, or a single file. */
function runSingle(files: string[], mochaArgs: string[], record: boolean): void {
  const dir = record ? mkdtempSync(join(tmpdir(), 'cordon-test-run-')) : undefined;
  const resultsFile = dir ? join(dir, 'results.json') : undefined;
  const args = [
    MOCHA_BIN,
    ...mochaArgs,
    ...(resultsFile ? ['--reporter-option', `results=${resultsFile}`] : []),
  ];
  const child = spawn(process.execPath, [...args, ...files], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop(child, signal, false));
  child.once('close', (code, signal) => {
    if (resultsFile && existsSync(resultsFile)) {
      const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as ShardResults;
      recordDurations([{ results } as Shard]);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0));
  });
}

async function main(): Promise<void> {
  const { record, files, mochaArgs } = parseArgs(process.argv.slice(2));
  const jobs = envValue('CORDON_TEST_JOBS');
  if (!files.length) throw new Error('no test files match');
  if (jobs === 1 || files.length === 1) return runSingle(files, mochaArgs, record);
  // The shards' counts come from test/summary-reporter.ts: another reporter would leave each without results.
  if (mochaArgs.some((a) => /^(-R|--reporter)(=|$)/.test(a)))
    throw new Error('another reporter runs in a single mocha: CORDON_TEST_JOBS=1 npm test -- --reporter …');

  const table = readDurations();
  const alone = files.filter((f) => table.alone[f]);
  const plan = planShards(
    files.filter((f) => !table.alone[f]),
    jobs,
    table,
  );
  // Stages one after the other: the shards at once, then each file that runs alone.
  const stages = [plan.map((p) => p.files), ...alone.map((f) => [[f]])].filter((stage) => stage.length);
  const count = stages.flat().length;
  let n = 0;
  const labelled = stages.map((stage) =>
    stage.map((shardFiles) => ({ label: `${++n}/${count}`, files: shardFiles })),
  );
  say(
    `${files.length} files in ${plan.length} mocha processes at once (CORDON_TEST_JOBS=${jobs}), each printed ` +
      `whole when it ends: ${plan.map((p, i) => `shard ${i + 1}: ${fileCount(p.files.length)}, ~${minutes(p.seconds)}`).join('; ')}` +
      alone.map((f, i) => `; then shard ${plan.length + i + 1}, alone: ${f} (${table.alone[f]})`).join(''),
  );
  for (const tool of FIRST_USE_INSTALLS) {
    const users = labelled
      .flat()
      .filter((p) => p.files.some((f) => tool.usedBy.test(readFileSync(f, 'utf8'))));
    if (users.length > 1)
      await tool
        .ensure()
        .catch((err: Error) => say(`${tool.what} is not available (its tests say so): ${err.message}`));
  }

  const dir = mkdtempSync(join(tmpdir(), 'cordon-test-run-'));
  const startedAt = Date.now();
  const shards: Shard[] = [];
  let stopping: NodeJS.Signals | undefined;
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      if (stopping) return;
      stopping = signal;
      say(`${signal}: stopping the shards`);
      for (const s of shards) stop(s.child, signal, true);
    });
  const progress = setInterval(() => {
    const states = shards.filter((s) => !s.exit).map((s) => `shard ${s.label}: ${s.done} finished`);
    say(`${minutes((Date.now() - startedAt) / 1000)}: ${states.join(', ')}`);
  }, PROGRESS_EVERY_MS);
  for (const stage of labelled) {
    if (stopping) break;
    const running = stage.map((p) => startShard(p.label, p.files, mochaArgs, dir));
    shards.push(...running);
    await Promise.all(running.map((s) => finished(s).then(() => printShard(s))));
  }
  clearInterval(progress);
  rmSync(dir, { recursive: true, force: true });

  // A shard never started (stopped before its stage) counts as ended without results.
  const total = combine([
    ...shards.map((s) => ({ label: s.label, how: ending(s), exitCode: s.exit!.code, results: s.results })),
    ...labelled
      .flat()
      .slice(shards.length)
      .map((p) => ({ label: p.label, how: 'not started', exitCode: null })),
  ]);
  process.stdout.write('\n');
  for (const problem of total.problems) say(problem);
  const slowest = shards
    .flatMap((s) => Object.entries(s.results?.fileSeconds ?? {}))
    .sort(([, a], [, b]) => b - a)
    .slice(0, 6);
  if (slowest.length) say(`slowest files: ${slowest.map(([f, s]) => `${f} ${minutes(s)}`).join(', ')}`);
  say(
    `${minutes((Date.now() - startedAt) / 1000)} in all; ` +
      shards.map((s) => `shard ${s.label} ${minutes(s.exit!.seconds)}`).join(', '),
  );
  if (record) recordDurations(shards);
  const failures = shards.flatMap((s) => s.results?.failures ?? []);
  if (failures.length) say(`${failures.length} failed (each shown in full in its shard's output above):`);
  for (const f of failures) say(`  ${f.file}: ${f.title}: ${f.message}`);
  if (total.skippedFor.size)
    process.stdout.write('skipped for what this machine lacks (each suite above says how to get it):\n');
  for (const [what, k] of total.skippedFor)
    process.stdout.write(`  ${k} ${k === 1 ? 'needs' : 'need'} ${what}\n`);
  process.stdout.write(`tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
  process.exit(stopping ? 128 + constants.signals[stopping] : total.failed > 0 ? 1 : 0);
}

if (require.main === module)
  main().catch((err: Error) => {
    say(`failed: ${err.message}`);
    process.exit(1);
  });
