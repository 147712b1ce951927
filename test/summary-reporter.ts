// Mocha's spec reporter, closed by one plain line that CI reads as the run's result:
// "tests: N passed, N failed, N skipped". Mocha's own summary ("N passing") is not a form CI recognises.
// A suite or test skipped because the machine lacks something (test/helpers/requirements.ts) says why under
// its title, and the reasons are listed with their counts just before that last line.
//
// Run as one shard of `npm test` (scripts/test-run.ts passes `--reporter-option shard=1/2` and
// `--reporter-option results=<file>`), the line reads "shard 1/2 ended: 12 passing, 0 failing, 0 pending", so
// that only the runner's combined line has CI's form (CI reads closing lines in the words of many test runners; mocha's are not among them), and the counts, the skip reasons and each file's duration go to that file as JSON.
import { writeFileSync } from 'node:fs';
import Mocha from 'mocha';
import type { ShardResults } from '../scripts/test-run';
import { skipReason, suiteSkipReason } from './helpers/requirements';

const { EVENT_RUN_END, EVENT_SUITE_BEGIN, EVENT_SUITE_END, EVENT_TEST_FAIL, EVENT_TEST_PENDING } =
  Mocha.Runner.constants;

class SpecWithSummary extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const reporterOptions = (options as { reporterOption?: Record<string, string> } | undefined)
      ?.reporterOption;
    const shard = reporterOptions?.shard;
    const resultsFile = reporterOptions?.results;
    /** Tests skipped, by what the machine lacks. */
    const skipped = new Map<string, number>();
    const fileSeconds: Record<string, number> = {};
    const failures: ShardResults['failures'] = [];
    const began = new WeakMap<Mocha.Suite, number>();
    // Registered after the spec reporter's own handlers, so each line follows the one the spec reporter wrote.
    runner.on(EVENT_SUITE_BEGIN, (suite: Mocha.Suite) => {
      if (suite.parent?.root && suite.file) began.set(suite, Date.now());
      const reason = suiteSkipReason(suite);
      if (reason) process.stdout.write(`${'  '.repeat(depth(suite) + 1)}skipped: ${reason.text}\n`);
    });
    runner.on(EVENT_SUITE_END, (suite: Mocha.Suite) => {
      const start = began.get(suite);
      if (start === undefined || !suite.file) return;
      const file = relativeFile(suite.file);
      fileSeconds[file] = (fileSeconds[file] ?? 0) + (Date.now() - start) / 1000;
    });
    // Kept for the runner, which names every failure again just above its last line: CI shows only a run's tail.
    runner.on(EVENT_TEST_FAIL, (test: Mocha.Runnable, err: Error) => {
      failures.push({
        file: test.file ? relativeFile(test.file) : '',
        title: test.fullTitle(),
        message: firstLine(err?.message ?? String(err)),
      });
    });
    runner.on(EVENT_TEST_PENDING, (test: Mocha.Test) => {
      const reason = skipReason(test);
      if (!reason) return;
      for (const what of reason.missing) skipped.set(what, (skipped.get(what) ?? 0) + 1);
      if (!inSkippedSuite(test))
        process.stdout.write(`${'  '.repeat(depth(test.parent!) + 2)}skipped: ${reason.text}\n`);
    });
    runner.once(EVENT_RUN_END, () => {
      const s = this.stats;
      if (resultsFile) {
        const results: ShardResults = {
          passed: s.passes,
          failed: s.failures,
          skipped: s.pending,
          skippedFor: Object.fromEntries(skipped),
          fileSeconds,
          failures,
        };
        writeFileSync(resultsFile, `${JSON.stringify(results)}\n`);
      }
      if (skipped.size)
        process.stdout.write('skipped for what this machine lacks (each suite above says how to get it):\n');
      for (const [what, n] of skipped) process.stdout.write(`  ${n} ${n === 1 ? 'needs' : 'need'} ${what}\n`);
      process.stdout.write(
        shard
          ? `shard ${shard} ended: ${s.passes} passing, ${s.failures} failing, ${s.pending} pending\n`
          : `tests: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped\n`,
      );
    });
  }
}

/** A test file's path as the runner names it: relative to the working directory, with forward slashes. */
function relativeFile(file: string): string {
  const cwd = process.cwd().replace(/\\/g, '/');
  const path = file.replace(/\\/g, '/');
  return path.startsWith(`${cwd}/`) ? path.slice(cwd.length + 1) : path;
}

/** An error's message on one line, cut short: enough to find the test, not its whole diff. */
function firstLine(message: string): string {
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/** How deep a suite is (the root is 0, a file's describe 1), as the spec reporter indents it. */
function depth(suite: Mocha.Suite): number {
  let n = 0;
  for (let at = suite.parent; at; at = at.parent) n++;
  return n;
}

/** Whether an enclosing suite already said why (then the test's own line would repeat it). */
function inSkippedSuite(test: Mocha.Test): boolean {
  for (let at = test.parent; at; at = at.parent) if (suiteSkipReason(at)) return true;
  return false;
}

export = SpecWithSummary;
