// Rule guards, the pure part (core/guards.ts and the cap in core/scoring.ts): when a guard trips, what policy
// validate refuses, and what a capped rule adds to a decision. Server-free: part of the mutation run. The store
// and the live path are test/guards.test.ts.
import assert from 'node:assert/strict';
import {
  BASELINE_MIN_PER_HOUR,
  baselinePerHour,
  cappedWeight,
  GuardSchema,
  guardProblems,
  tripCause,
} from '../core/guards';
import { PolicySchema } from '../core/policy';
import { scoreEvent } from '../core/scoring';
import { riskEvent } from './helpers/events';
import { guardedPolicy } from './helpers/guarded-policy';

describe('rule guards: the pure part (issue 20)', () => {
  it('trips past the hourly cap or the baseline multiple; the baseline has a floor while there is no history', () => {
    assert.equal(baselinePerHour(0), BASELINE_MIN_PER_HOUR);
    assert.equal(baselinePerHour(168 * 40), 40);
    const g = { maxPerHour: 200, maxTimesBaseline: 5, onTrip: 'alert' as const };
    assert.equal(tripCause(g, 200, 100), null, 'at the cap: not past it');
    assert.equal(tripCause(g, 201, 100), 'MAX_PER_HOUR');
    assert.equal(tripCause(g, 51, 10), 'TIMES_BASELINE');
    assert.equal(tripCause(g, 50, 10), null);
    assert.equal(tripCause({ maxTimesBaseline: 5, onTrip: 'alert' }, 10_000, 10_000 / 5), null);
  });

  it('policy validate refuses capAtStepUp on a regulatory hold, a CLOSE rule, where verification is not allowed', () => {
    const problems = (raw: unknown) =>
      PolicySchema.safeParse(raw).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    const raw = guardedPolicy();
    assert.deepEqual(problems(raw), []);
    const at = (id: string) => raw.rules.findIndex((r: { id: string }) => r.id === id);
    raw.rules[at('fraud-report-confirmed')].guard.onTrip = 'capAtStepUp';
    assert.deepEqual(problems(raw), [
      `rules.${at('fraud-report-confirmed')}.guard.onTrip: capAtStepUp is refused on a rule whose tier is CLOSE`,
    ]);
    assert.equal(
      guardProblems(
        [{ id: 'r', reason: 'REGULATORY_HOLD', guard: { maxPerHour: 1, onTrip: 'capAtStepUp' } }],
        true,
      )[0]?.message,
      'capAtStepUp is refused on a regulatory hold: no verification lifts it',
    );
    assert.match(
      guardProblems(
        [
          {
            id: 'r',
            reason: 'IDENTITY_MISMATCH',
            verificationAllowed: false,
            guard: { maxPerHour: 1, onTrip: 'capAtStepUp' },
          },
        ],
        true,
      )[0]!.message,
      /verification is not allowed/,
    );
    assert.match(
      guardProblems(
        [{ id: 'r', reason: 'IDENTITY_MISMATCH', guard: { maxPerHour: 1, onTrip: 'capAtStepUp' } }],
        false,
      )[0]!.message,
      /verificationRestores/,
    );
    raw.rules[at('fraud-report-confirmed')].guard = { onTrip: 'alert' };
    assert.ok(problems(raw).some((p) => p.includes('a guard needs maxPerHour, maxTimesBaseline or both')));
  });

  it('a capped rule alone never goes past STEP_UP; the other rules still count; the decision names it', () => {
    const loaded = { policy: PolicySchema.parse(guardedPolicy()), hash: 'h' };
    const mismatch = riskEvent('a', 'IDENTITY_CHECK', { matched: false });
    assert.equal(scoreEvent(loaded, mismatch).tier, 'FREEZE');
    const capped = scoreEvent(loaded, mismatch, [], undefined, new Set(['identity-mismatch']));
    assert.equal(capped.tier, 'STEP_UP');
    assert.equal(capped.score, loaded.policy.thresholds.STEP_UP);
    assert.deepEqual(capped.guardedRules, ['identity-mismatch']);
    assert.equal(scoreEvent(loaded, mismatch).guardedRules, undefined, 'absent when nothing is capped');
    // A guarded rule that did not fire is not named.
    const login = riskEvent('a', 'LOGIN', {
      newDevice: true,
      geoDistanceKm: 2000,
      minutesSinceLastLogin: 30,
    });
    assert.equal(
      scoreEvent(loaded, login, [], undefined, new Set(['identity-mismatch'])).guardedRules,
      undefined,
    );
  });

  it('guard-refusals: each refusal names its rule by path, in the order the checks run; alert guards and unguarded rules pass', () => {
    const cap = { maxPerHour: 1, onTrip: 'capAtStepUp' as const };
    const rules = [
      { id: 'a', reason: 'IDENTITY_MISMATCH', guard: { maxPerHour: 1, onTrip: 'alert' as const } },
      { id: 'b', reason: 'REGULATORY_HOLD', minTier: 'CLOSE', verificationAllowed: false, guard: cap },
      { id: 'c', reason: 'IDENTITY_MISMATCH', minTier: 'CLOSE', verificationAllowed: false, guard: cap },
      { id: 'd', reason: 'IDENTITY_MISMATCH', minTier: 'FREEZE', verificationAllowed: false, guard: cap },
      { id: 'e', reason: 'IDENTITY_MISMATCH', minTier: 'FREEZE', verificationAllowed: true, guard: cap },
      { id: 'f', reason: 'IDENTITY_MISMATCH' },
    ];
    const restores = guardProblems(rules, true);
    assert.deepEqual(restores, [
      {
        path: ['rules', 1, 'guard', 'onTrip'],
        message: 'capAtStepUp is refused on a regulatory hold: no verification lifts it',
      },
      {
        path: ['rules', 2, 'guard', 'onTrip'],
        message: 'capAtStepUp is refused on a rule whose tier is CLOSE',
      },
      {
        path: ['rules', 3, 'guard', 'onTrip'],
        message: 'capAtStepUp is refused where verification is not allowed',
      },
    ]);
    // A STEP_UP tier that does not restore on verification refuses the one rule left, and only it.
    assert.deepEqual(guardProblems(rules, false).slice(3), [
      {
        path: ['rules', 4, 'guard', 'onTrip'],
        message:
          'capAtStepUp needs tiers.STEP_UP.verificationRestores: the user could not verify their way out',
      },
    ]);
    assert.deepEqual(guardProblems([rules[0]!, rules[5]!], false), []);
  });

  it('guard-bounds: a capped weight is the lesser of the two; a trip needs strictly more than the cap or the multiple', () => {
    assert.equal(cappedWeight(70, 40), 40);
    assert.equal(cappedWeight(25, 40), 25);
    assert.equal(cappedWeight(40, 40), 40);
    const both = { maxPerHour: 100, maxTimesBaseline: 2, onTrip: 'alert' as const };
    // Both past: the hourly cap is named first.
    assert.equal(tripCause(both, 101, 10), 'MAX_PER_HOUR');
    assert.equal(tripCause({ maxTimesBaseline: 2, onTrip: 'alert' }, 21, 10), 'TIMES_BASELINE');
    assert.equal(
      tripCause({ maxTimesBaseline: 2, onTrip: 'alert' }, 20, 10),
      null,
      'at the multiple: not past it',
    );
    assert.equal(tripCause({ maxPerHour: 5, onTrip: 'alert' }, 6, 1_000), 'MAX_PER_HOUR');
    assert.equal(tripCause({ maxPerHour: 5, onTrip: 'alert' }, 5, 0), null);
    // The baseline is the trailing week's hourly mean once it is above the floor.
    assert.equal(baselinePerHour(168 * BASELINE_MIN_PER_HOUR), BASELINE_MIN_PER_HOUR);
    assert.equal(baselinePerHour(168 * BASELINE_MIN_PER_HOUR + 168), BASELINE_MIN_PER_HOUR + 1);
    assert.equal(baselinePerHour(168 * BASELINE_MIN_PER_HOUR - 168), BASELINE_MIN_PER_HOUR);
  });

  it('guard-schema: either limit alone, or both; a multiple above 1 and at most 1,000; a trip alerts unless told otherwise', () => {
    const parse = (g: unknown) => GuardSchema.safeParse(g);
    assert.deepEqual(parse({ maxTimesBaseline: 5 }).data, { maxTimesBaseline: 5, onTrip: 'alert' });
    assert.deepEqual(parse({ maxPerHour: 1 }).data, { maxPerHour: 1, onTrip: 'alert' });
    assert.deepEqual(parse({ maxPerHour: 1_000_000, maxTimesBaseline: 1_000, onTrip: 'capAtStepUp' }).data, {
      maxPerHour: 1_000_000,
      maxTimesBaseline: 1_000,
      onTrip: 'capAtStepUp',
    });
    for (const bad of [
      {},
      { onTrip: 'alert' },
      { maxTimesBaseline: 1 },
      { maxTimesBaseline: 1_000.5 },
      { maxPerHour: 0 },
      { maxPerHour: 1.5 },
      { maxPerHour: 1_000_001 },
      { maxPerHour: 1, onTrip: 'off' },
      { maxPerHour: 1, extra: true },
    ])
      assert.equal(parse(bad).success, false, JSON.stringify(bad));
  });
});
