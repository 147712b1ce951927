// Scoring at its edges: which FREEZE is a lockout, comparisons at their bounds, facts that are not there.
// Server-free; written against mutants the other tests let live (docs/mutation-testing.md).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { RiskEvent } from '../core/events';
import { conditionHolds, scoreEvent } from '../core/scoring';
import { parsePolicy } from '../infra/policy-loader';
import { defaultPolicy } from './helpers/deps';
import { riskEvent } from './helpers/events';

type RawRule = Record<string, unknown>;

/** The default policy's thresholds and terms with these rules only. */
function policyWith(...rules: RawRule[]) {
  const raw = JSON.parse(JSON.stringify(defaultPolicy().policy));
  raw.rules = rules;
  return parsePolicy(raw, 'scoring edges');
}

const failures = (n: number): RiskEvent => riskEvent('acct-s', 'LOGIN_FAILED', { consecutiveFailures: n });
const lockoutRule: RawRule = {
  id: 'lockout',
  eventType: 'LOGIN_FAILED',
  reason: 'CREDENTIAL_BRUTE_FORCE',
  when: [{ field: 'consecutiveFailures', op: 'gte', value: 6 }],
  weight: 40,
  minTier: 'FREEZE',
  lockout: true,
};

describe('scoring edges: which FREEZE is a lockout', () => {
  it('a FREEZE that a lockout rule alone forces is a lockout', () => {
    const d = scoreEvent(policyWith(lockoutRule), failures(6));
    assert.equal(d.tier, 'FREEZE');
    assert.equal(d.lockout, true);
  });

  it('a second, ordinary hard FREEZE rule matching too makes it a real freeze', () => {
    const takeover: RawRule = {
      id: 'takeover',
      eventType: 'LOGIN_FAILED',
      reason: 'ACCOUNT_TAKEOVER_SUSPECTED',
      when: [{ field: 'consecutiveFailures', op: 'gte', value: 20 }],
      weight: 0,
      minTier: 'FREEZE',
    };
    const policy = policyWith(lockoutRule, takeover);
    assert.equal(scoreEvent(policy, failures(6)).lockout, true, 'only the lockout rule matches');
    const both = scoreEvent(policy, failures(20));
    assert.equal(both.tier, 'FREEZE');
    assert.equal(both.lockout, false, 'one forcer is not a lockout rule');
  });

  it('a FREEZE the score reaches on its own is a real freeze, even with a lockout rule among the matches', () => {
    const heavy: RawRule = {
      id: 'heavy',
      eventType: 'LOGIN_FAILED',
      reason: 'ACCOUNT_TAKEOVER_SUSPECTED',
      when: [{ field: 'consecutiveFailures', op: 'gte', value: 10 }],
      weight: 40,
    };
    const d = scoreEvent(policyWith(lockoutRule, heavy), failures(10));
    assert.equal(d.score, 80, 'the FREEZE threshold');
    assert.equal(d.tier, 'FREEZE');
    assert.equal(d.lockout, false);
  });

  it('a lockout rule under a CLOSE is no lockout', () => {
    const close: RawRule = {
      id: 'close',
      eventType: 'LOGIN_FAILED',
      reason: 'EXTERNAL_FRAUD_REPORT',
      when: [{ field: 'consecutiveFailures', op: 'gte', value: 50 }],
      weight: 0,
      minTier: 'CLOSE',
    };
    const d = scoreEvent(policyWith(lockoutRule, close), failures(50));
    assert.equal(d.tier, 'CLOSE');
    assert.equal(d.lockout, false);
  });

  it('property: a lockout exactly when the tier is FREEZE, the ladder is below it and every forcer locks out', () => {
    // Rules with random weights, hard tiers and lockout flags; the definition checked against the decision.
    const ruleArb = fc.record({
      weight: fc.integer({ min: 0, max: 100 }),
      minTier: fc.constantFrom(undefined, 'STEP_UP', 'LIMIT', 'PROTECT', 'FREEZE', 'CLOSE'),
      lockout: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(ruleArb, { minLength: 1, maxLength: 5 }), (rules) => {
        const policy = policyWith(
          ...rules.map((r, i) => ({
            id: `r${i}`,
            eventType: 'LOGIN_FAILED',
            reason: 'CREDENTIAL_BRUTE_FORCE',
            weight: r.weight,
            ...(r.minTier ? { minTier: r.minTier } : {}),
            lockout: r.lockout,
          })),
        );
        const d = scoreEvent(policy, failures(1));
        const score = rules.reduce((sum, r) => sum + r.weight, 0);
        const forcers = rules.filter((r) => r.minTier === 'FREEZE');
        const ladderFreeze = score >= 80 && score < 150;
        assert.equal(d.score, score);
        assert.equal(
          d.lockout,
          d.tier === 'FREEZE' && !ladderFreeze && forcers.length > 0 && forcers.every((r) => r.lockout),
        );
      }),
      { numRuns: 200, seed: 20261206 },
    );
  });
});

describe('scoring edges: conditions at their bounds', () => {
  it('each comparison at, just below and just above its value', () => {
    const at = (op: 'gt' | 'gte' | 'lt' | 'lte', x: number) =>
      conditionHolds({ field: 'x', op, value: 5 }, { x });
    assert.deepEqual(
      [4, 5, 6].map((x) => [at('gt', x), at('gte', x), at('lt', x), at('lte', x)]),
      [
        [false, false, true, true],
        [false, true, false, true],
        [true, true, false, false],
      ],
    );
  });
});
