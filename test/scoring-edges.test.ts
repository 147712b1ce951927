// Scoring at its edges: which FREEZE is a lockout, comparisons at their bounds, facts that are not there.
// Server-free; written against mutants the other tests let live (docs/mutation-testing.md).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { RiskEvent } from '../core/events';
import { conditionHolds, scoreEvent, type SourceResult } from '../core/scoring';
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

  it('an ordinary rule without a hard tier beside the lockout rule leaves it a lockout', () => {
    const plain: RawRule = {
      id: 'plain',
      eventType: 'LOGIN_FAILED',
      reason: 'ACCOUNT_TAKEOVER_SUSPECTED',
      weight: 10,
    };
    const d = scoreEvent(policyWith(lockoutRule, plain), failures(6));
    assert.equal(d.score, 50);
    assert.equal(d.tier, 'FREEZE');
    assert.equal(d.lockout, true);
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
      // Small weights, so that most sets stay below the FREEZE threshold and a hard rule decides.
      weight: fc.integer({ min: 0, max: 30 }),
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
      { numRuns: 500, seed: 20261206 },
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

describe('scoring edges: conditions on other fields, equality and facts that are not numbers', () => {
  const near = { field: 'amount', op: 'gte', ref: 'creditLimit', factor: 0.9 } as const;

  it('a field compared with another field times a factor holds only when both are numbers', () => {
    assert.equal(conditionHolds(near, { amount: 900, creditLimit: 1000 }), true);
    assert.equal(conditionHolds(near, { amount: 899, creditLimit: 1000 }), false);
    assert.equal(conditionHolds(near, { amount: '950', creditLimit: 1000 }), false, 'a text amount');
    assert.equal(conditionHolds(near, { amount: 950, creditLimit: '1000' }), false, 'a text limit');
    assert.equal(conditionHolds(near, { amount: 950 }), false, 'no limit');
    assert.equal(conditionHolds(near, { amount: 1, creditLimit: true }), false, 'a flag is no number');
  });

  it('eq and ne compare numbers, flags and text exactly', () => {
    assert.equal(conditionHolds({ field: 'x', op: 'eq', value: 'card' }, { x: 'card' }), true);
    assert.equal(conditionHolds({ field: 'x', op: 'eq', value: 1 }, { x: '1' }), false);
    assert.equal(conditionHolds({ field: 'x', op: 'ne', value: 'card' }, { x: 'bank' }), true);
    assert.equal(conditionHolds({ field: 'x', op: 'ne', value: 'card' }, { x: 'card' }), false);
    assert.equal(conditionHolds({ field: 'x', op: 'ne', value: false }, { x: true }), true);
  });

  it('an ordering on a fact that is not a number never holds, whatever JavaScript would coerce', () => {
    for (const x of ['6', true, 'six'])
      for (const op of ['gt', 'gte'] as const)
        assert.equal(conditionHolds({ field: 'x', op, value: 0 }, { x }), false, `${String(x)} ${op} 0`);
    assert.equal(conditionHolds({ field: 'x', op: 'lt', value: 5 }, { x: '4' }), false);
  });

  it('a field named like an Object method is a missing fact, not a match', () => {
    const policy = policyWith({
      id: 'proto',
      eventType: '*',
      reason: 'ACCOUNT_TAKEOVER_SUSPECTED',
      when: [{ field: 'constructor', op: 'ne', value: 'x' }],
      weight: 100,
    });
    assert.deepEqual(scoreEvent(policy, failures(1)).reasons, []);
  });
});

describe('scoring edges: hard rules, sources and verification', () => {
  it('a hard rule raises the tier to its minimum, never lowers one the score reached', () => {
    const rule = (id: string, weight: number, minTier?: string): RawRule => ({
      id,
      eventType: 'LOGIN_FAILED',
      reason: 'CREDENTIAL_BRUTE_FORCE',
      weight,
      ...(minTier ? { minTier } : {}),
    });
    assert.equal(scoreEvent(policyWith(rule('a', 0, 'LIMIT')), failures(1)).tier, 'LIMIT');
    const d = scoreEvent(policyWith(rule('heavy', 90), rule('mild', 0, 'STEP_UP')), failures(1));
    assert.equal(d.tier, 'FREEZE');
    assert.equal(d.score, 90);
  });

  it('verification can resolve the decision only if every matching rule allows it', () => {
    const rule = (id: string, verificationAllowed: boolean): RawRule => ({
      id,
      eventType: 'LOGIN_FAILED',
      reason: 'CREDENTIAL_BRUTE_FORCE',
      weight: 20,
      verificationAllowed,
    });
    assert.equal(
      scoreEvent(policyWith(rule('a', true), rule('b', true)), failures(1)).verificationAllowed,
      true,
    );
    assert.equal(
      scoreEvent(policyWith(rule('a', true), rule('b', false)), failures(1)).verificationAllowed,
      false,
    );
  });

  it('lists the sources that could not be consulted once each, and uses what the others said', () => {
    const policy = policyWith({
      id: 'listed',
      eventType: '*',
      reason: 'REGULATORY_HOLD',
      when: [{ field: 'source.watchlist.listed', op: 'eq', value: true }],
      weight: 0,
      minTier: 'FREEZE',
    });
    const sources: SourceResult[] = [
      { source: 'watchlist', available: true, signals: { listed: true } },
      { source: 'bureau', available: false, signals: {} },
    ];
    const d = scoreEvent(policy, failures(1), sources);
    assert.deepEqual(d.unavailableSources, ['bureau']);
    assert.equal(d.tier, 'FREEZE');
    const err = scoreEvent(
      policy,
      riskEvent('acct-s', 'DATA_SOURCE_ERROR', { source: 'bureau' }),
      sources.slice(1),
    );
    assert.deepEqual(err.unavailableSources, ['bureau'], 'the failing source named once');
    const other = scoreEvent(
      policy,
      riskEvent('acct-s', 'DATA_SOURCE_ERROR', { source: 'device' }),
      sources.slice(1),
    );
    assert.deepEqual(other.unavailableSources, ['bureau', 'device']);
  });
});

describe('scoring edges: a case opened by hand', () => {
  it('takes the tier and reason the staff member gave, with their rationale; no rule is consulted', () => {
    const policy = policyWith(lockoutRule);
    const staff = (tier: 'STEP_UP' | 'FREEZE'): RiskEvent => ({
      eventId: 'staff:r1:q1',
      accountId: 'acct-s',
      occurredAt: '2026-12-06T12:00:00Z',
      type: 'STAFF_REPORT',
      attributes: { tier, reason: 'EXTERNAL_FRAUD_REPORT', rationale: 'the bank called' },
    });
    assert.deepEqual(scoreEvent(policy, staff('FREEZE')), {
      tier: 'FREEZE',
      score: 0,
      reasons: [{ code: 'EXTERNAL_FRAUD_REPORT', contribution: 0, ruleId: 'staff-report' }],
      policyVersion: policy.policy.version,
      policyHash: policy.hash,
      lockout: false,
      verificationAllowed: false,
      unavailableSources: [],
      note: 'the bank called',
    });
    assert.equal(
      scoreEvent(policy, staff('STEP_UP')).verificationAllowed,
      true,
      'only a step-up can be verified',
    );
  });
});
