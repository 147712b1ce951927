// What a suite needs from the machine, declared as the first line of its describe:
//
//   describe('reviewer console', function () {
//     requires('temporal');
//
// The checks are scripts/preflight.ts's, run again here (so `npx mocha test/x.test.ts` skips the same way
// `npm test` does). When something is missing outside CI, the suite is skipped before any of its hooks is even
// registered (no server is started, no after hook runs on what was never set up), and the reason is printed
// with it and counted in the run's summary (test/summary-reporter.ts). In CI (CI set, as .ci/run does) the
// suite fails with the same reason instead. A single test that needs more than its suite calls
// requiresInTest(this, ...) first.
import { check, describeMissing, inCI, type Requirement } from '../../scripts/preflight';

export type { Requirement };

/** Why a suite or a test is skipped: the sentence it prints, and what is missing (for the run's summary). */
export interface SkipReason {
  text: string;
  missing: string[];
}

const reasons = new WeakMap<Mocha.Runnable | Mocha.Suite, SkipReason>();

function missingReason(needs: Requirement[]): SkipReason | undefined {
  const missing = needs.map((n) => check(n, 'tests')).filter((f) => !f.ok);
  if (!missing.length) return undefined;
  return {
    text: `needs ${missing.map(describeMissing).join('; and ')}`,
    missing: missing.map((f) => f.what),
  };
}

const failure = (reason: string) =>
  new Error(`${reason} (CI is set: a missing requirement fails the run; elsewhere the suite is skipped)`);

/** Skips the describe this is called in when the machine lacks one of needs (fails it in CI). Call it first. */
export function requires(...needs: Requirement[]): void {
  const reason = missingReason(needs);
  if (!reason) return;
  // Mocha's before() answers the hook it registered in the suite being declared, or that suite itself when it
  // is skipped already (Suite#beforeAll; the typings say void).
  const made = before(function requirements() {
    if (inCI()) throw failure(reason.text);
  }) as unknown as Mocha.Hook | Mocha.Suite | undefined;
  const suite = made && ('suites' in made ? made : made.parent);
  // At a file's top level it would skip every file's tests (the root suite).
  if (!suite || suite.root) throw new Error('requires() is for the body of a describe, run by mocha');
  if (suite.isPending() || inCI()) return; // skipped for another reason already; or CI: the hook fails it
  reasons.set(suite, reason);
  // A pending suite registers no further hooks (Suite#beforeAll and the others return early), and mocha
  // reports each of its tests as skipped.
  suite.pending = true;
}

/** For the start of a test (a `function () {...}` one) that needs more than its suite: skips it (fails in CI). */
export function requiresInTest(ctx: Mocha.Context, ...needs: Requirement[]): void {
  const reason = missingReason(needs);
  if (!reason) return;
  if (inCI()) throw failure(reason.text);
  if (ctx.test) reasons.set(ctx.test, reason);
  ctx.skip();
}

/** The reason a skipped test was skipped for a missing requirement (its own, or its nearest suite's). */
export function skipReason(test: Mocha.Runnable): SkipReason | undefined {
  for (let at: Mocha.Runnable | Mocha.Suite | undefined = test; at; at = at.parent) {
    const reason = reasons.get(at);
    if (reason) return reason;
  }
  return undefined;
}

/** The reason a suite itself was skipped for, to print under its title. */
export const suiteSkipReason = (suite: Mocha.Suite): SkipReason | undefined => reasons.get(suite);
