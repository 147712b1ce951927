// Mocha's spec reporter, closed by one plain line that CI reads as the run's result:
// "tests: N passed, N failed, N skipped". Mocha's own summary ("N passing") is not a form CI recognises.
// A suite or test skipped because the machine lacks something (test/helpers/requirements.ts) says why under
// its title, and the reasons are listed with their counts just before that last line.
import Mocha from 'mocha';
import { skipReason, suiteSkipReason } from './helpers/requirements';

const { EVENT_RUN_END, EVENT_SUITE_BEGIN, EVENT_TEST_PENDING } = Mocha.Runner.constants;

class SpecWithSummary extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    /** Tests skipped, by what the machine lacks. */
    const skipped = new Map<string, number>();
    // Registered after the spec reporter's own handlers, so each line follows the one the spec reporter wrote.
    runner.on(EVENT_SUITE_BEGIN, (suite: Mocha.Suite) => {
      const reason = suiteSkipReason(suite);
      if (reason) process.stdout.write(`${'  '.repeat(depth(suite) + 1)}skipped: ${reason.text}\n`);
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
      if (skipped.size)
        process.stdout.write('skipped for what this machine lacks (each suite above says how to get it):\n');
      for (const [what, n] of skipped) process.stdout.write(`  ${n} ${n === 1 ? 'needs' : 'need'} ${what}\n`);
      process.stdout.write(`tests: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped\n`);
    });
  }
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
