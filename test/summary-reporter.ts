// Mocha's spec reporter, closed by one plain line that CI reads as the run's result:
// "tests: N passed, N failed, N skipped". Mocha's own summary ("N passing") is not a form CI recognises.
import Mocha from 'mocha';

class SpecWithSummary extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    // Registered after the spec reporter's own end handler, so this line comes last.
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const s = this.stats;
      process.stdout.write(`tests: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped\n`);
    });
  }
}

export = SpecWithSummary;
