// StrykerJS test runner for `npm run mutation` (see docs/mutation-testing.md).
//
// Why our own: Stryker's mocha runner supports mocha 12 only from Stryker 10, and Stryker 10 needs Node 22;
// Cordon runs on Node 20. This runner does what that one does, for Stryker 9 and mocha 12: it loads the
// listed test files once, records which test reaches which mutant (per-test coverage), then runs only
// those tests with one mutant switched on at a time.
//
// Stryker loads it (and the test files) through tsx: `--import tsx` in the `mutation` script and in
// `testRunnerNodeArgs`.
import { createRequire } from 'node:module';
import { resolve, sep } from 'node:path';
import * as mochaModule from 'mocha';
import type { StrykerOptions } from '@stryker-mutator/api/core' with { 'resolution-mode': 'import' };
import type { Logger } from '@stryker-mutator/api/logging' with { 'resolution-mode': 'import' };
import type {
  DryRunOptions,
  DryRunResult,
  MutantRunOptions,
  MutantRunResult,
  TestResult,
  TestRunner,
  TestRunnerCapabilities,
} from '@stryker-mutator/api/test-runner' with { 'resolution-mode': 'import' };

// Stryker's api package is ESM; Node 20's require(esm) loads it from this CommonJS module.
const localRequire = createRequire(__filename);
const api = localRequire('@stryker-mutator/api/test-runner') as typeof import(
  '@stryker-mutator/api/test-runner',
  {
    with: { 'resolution-mode': 'import' },
  }
);

// mocha 12 is an ES module whose default export is the Mocha class.
const Mocha = ((mochaModule as { default?: typeof mochaModule.default }).default ??
  mochaModule) as unknown as typeof mochaModule.default;

/** What the instrumented code reads and writes (Stryker's INSTRUMENTER_CONSTANTS). */
interface InstrumenterContext {
  activeMutant?: string;
  currentTestId?: string;
  mutantCoverage?: unknown;
  hitCount?: number;
  hitLimit?: number;
}

interface CordonMochaOptions {
  /** Test files, relative to the project root (the sandbox, when Stryker runs). */
  spec: string[];
}

/** Mocha's base reporter keeps statistics and prints nothing; this runner reads the runner's events. */
class Silent extends Mocha.reporters.Base {}

export class CordonMochaRunner implements TestRunner {
  static readonly inject = ['logger', 'options'] as const;

  private mocha: InstanceType<typeof Mocha> | undefined;
  private readonly ctx: InstrumenterContext;
  private readonly spec: string[];
  private recordCoverage = false;
  private loadError: string | undefined;

  constructor(
    private readonly log: Logger,
    options: StrykerOptions,
  ) {
    const g = globalThis as { __stryker__?: InstrumenterContext };
    this.ctx = g.__stryker__ ??= {};
    this.spec = (options as StrykerOptions & { cordonMocha: CordonMochaOptions }).cordonMocha.spec;
  }

  capabilities(): TestRunnerCapabilities {
    // Test files and sources are CommonJS loaded through require: dropping them from the require cache
    // and loading them again is a reload, without a new process.
    return { reloadEnvironment: true };
  }

  async dryRun({ coverageAnalysis, disableBail }: DryRunOptions): Promise<DryRunResult> {
    this.load(undefined);
    this.recordCoverage = coverageAnalysis === 'perTest';
    try {
      const result = await this.run(undefined, !disableBail);
      if (result.status === api.DryRunStatus.Complete && coverageAnalysis !== 'off')
        result.mutantCoverage = this.ctx.mutantCoverage as typeof result.mutantCoverage;
      return result;
    } finally {
      this.recordCoverage = false;
    }
  }

  async mutantRun(options: MutantRunOptions): Promise<MutantRunResult> {
    const { activeMutant, testFilter, disableBail, hitLimit, mutantActivation, reloadEnvironment } = options;
    // A static mutant lives in module-level code: it must be on while the modules load.
    if (reloadEnvironment || !this.mocha)
      this.load(mutantActivation === 'static' ? activeMutant.id : undefined);
    this.ctx.hitLimit = hitLimit;
    this.ctx.hitCount = hitLimit === undefined ? undefined : 0;
    this.ctx.activeMutant = activeMutant.id;
    const only = testFilter
      ? new RegExp(testFilter.map((id) => `(^${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$)`).join('|'))
      : undefined;
    return api.toMutantRunResult(await this.run(only, !disableBail));
  }

  async dispose(): Promise<void> {
    this.unload();
  }

  /** Loads the test files (and, through them, the code under test) afresh. */
  private load(activeMutant: string | undefined): void {
    this.unload();
    const root = process.cwd() + sep;
    for (const key of Object.keys(localRequire.cache))
      if (key.startsWith(root) && !key.includes(`${sep}node_modules${sep}`)) delete localRequire.cache[key];
    this.ctx.activeMutant = activeMutant;
    const mocha = new Mocha({ reporter: Silent, timeout: 0 });
    mocha.cleanReferencesAfterRun(false);
    for (const file of this.spec) mocha.addFile(resolve(file));
    try {
      // Synchronous require (not loadFilesAsync's import), so that the require cache is what a reload clears.
      (mocha as unknown as { loadFiles(): void }).loadFiles();
    } catch (err) {
      // A mutant in module-level code that breaks loading fails the test run, as it would fail `npm test`.
      this.loadError = err instanceof Error ? err.message : String(err);
      mocha.dispose();
      return;
    }
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    mocha.suite.beforeEach(function () {
      if (self.recordCoverage) self.ctx.currentTestId = this.currentTest?.fullTitle();
    });
    this.mocha = mocha;
    this.log.debug(`loaded ${this.spec.length} test files`);
  }

  private unload(): void {
    try {
      this.mocha?.dispose();
    } catch (err) {
      // Stryker disposes a runner whose mutant timed out while its tests still run; the process ends anyway.
      if ((err as { code?: string }).code !== 'ERR_MOCHA_INSTANCE_ALREADY_RUNNING') throw err;
    }
    this.mocha = undefined;
    this.loadError = undefined;
  }

  private run(only: RegExp | undefined, bail: boolean): Promise<DryRunResult> {
    const mocha = this.mocha;
    if (!mocha) {
      const failureMessage = `the test files did not load: ${this.loadError}`;
      const name = 'loading the test files';
      return Promise.resolve({
        status: api.DryRunStatus.Complete,
        tests: [{ id: name, name, timeSpentMs: 0, status: api.TestStatus.Failed, failureMessage }],
      });
    }
    mocha.grep(only ?? /(?:)/);
    setBail(mocha.suite, bail);
    const tests: TestResult[] = [];
    return new Promise<DryRunResult>((done) => {
      try {
        const runner = mocha.run(() => {
          const timeout = api.determineHitLimitReached(this.ctx.hitCount, this.ctx.hitLimit);
          done(timeout ?? { status: api.DryRunStatus.Complete, tests });
        });
        const base = (t: Mocha.Runnable) => ({
          id: t.fullTitle(),
          name: t.fullTitle(),
          timeSpentMs: t.duration ?? 0,
          fileName: t.file,
        });
        runner.on('pass', (t) => tests.push({ ...base(t), status: api.TestStatus.Success }));
        runner.on('pending', (t) => tests.push({ ...base(t), status: api.TestStatus.Skipped }));
        // Also a failing hook: whatever fails under a mutant kills it.
        runner.on('fail', (t, err: unknown) =>
          tests.push({
            ...base(t),
            status: api.TestStatus.Failed,
            failureMessage: err instanceof Error ? err.message : String(err),
          }),
        );
      } catch (err) {
        done({ status: api.DryRunStatus.Error, errorMessage: String(err) });
      }
    });
  }
}

function setBail(suite: Mocha.Suite, bail: boolean): void {
  suite.bail(bail);
  for (const child of suite.suites) setBail(child, bail);
}

export const strykerPlugins = [
  { kind: 'TestRunner', name: 'cordon-mocha', injectableClass: CordonMochaRunner },
];

export const strykerValidationSchema = {
  $schema: 'http://json-schema.org/draft-07/schema',
  type: 'object',
  properties: {
    cordonMocha: {
      type: 'object',
      description: 'The test files the cordon-mocha runner loads.',
      properties: { spec: { type: 'array', items: { type: 'string' } } },
      required: ['spec'],
      additionalProperties: false,
    },
  },
};
