import assert from 'node:assert/strict';
import { createScorer, type DataSource } from '../activities/scorer';
import { RiskEventSchema } from '../core/events';
import { caseTermsOf } from '../core/policy';
import { conditionHolds, scoreEvent, tierForScore } from '../core/scoring';
import { parseDuration } from '../core/durations';
import { parsePolicy } from '../infra/policy-loader';
import { defaultPolicy } from './helpers/deps';
import { EXAMPLES, riskEvent } from './helpers/events';

describe('scoring with the default policy', () => {
  const policy = defaultPolicy();

  for (const [name, [type, attributes, tier]] of Object.entries(EXAMPLES)) {
    it(`${name}: ${type} decides ${tier}`, () => {
      const event = RiskEventSchema.parse(riskEvent('acct-1', type, attributes as never));
      assert.equal(scoreEvent(policy, event).tier, tier);
    });
  }

  it('six failed logins is a lockout that lifts itself, an identity mismatch is a real freeze', () => {
    const lockout = scoreEvent(policy, riskEvent('a', 'LOGIN_FAILED', { consecutiveFailures: 6 }));
    assert.equal(lockout.lockout, true);
    const freeze = scoreEvent(policy, riskEvent('a', 'IDENTITY_CHECK', { matched: false }));
    assert.equal(freeze.lockout, false);
  });

  it('a confirmed fraud report cannot be resolved by verification', () => {
    const d = scoreEvent(policy, riskEvent('a', 'FRAUD_REPORT', { source: 'x', confirmed: true }));
    assert.equal(d.verificationAllowed, false);
    assert.deepEqual(
      d.reasons.map((r) => r.code),
      ['EXTERNAL_FRAUD_REPORT'],
    );
  });

  it('keeps each rule contribution and the policy version and hash on the decision', () => {
    const d = scoreEvent(
      policy,
      riskEvent('a', 'LOGIN', { newDevice: true, geoDistanceKm: 2000, minutesSinceLastLogin: 30 }),
    );
    assert.deepEqual(
      d.reasons.map((r) => [r.ruleId, r.contribution]),
      [
        ['login-new-device', 10],
        ['login-impossible-travel', 30],
      ],
    );
    assert.equal(d.score, 40);
    assert.equal(d.policyVersion, policy.policy.version);
    assert.match(d.policyHash, /^[0-9a-f]{16}$/);
  });

  it('a data-source error records the source and is never evidence of risk', () => {
    const d = scoreEvent(policy, riskEvent('a', 'DATA_SOURCE_ERROR', { source: 'credit-bureau' }));
    assert.equal(d.tier, 'NONE');
    assert.equal(d.score, 0);
    assert.deepEqual(d.unavailableSources, ['credit-bureau']);
  });

  it('a transfer to a new payee that is large but not a scam pattern is not a protective hold', () => {
    const d = scoreEvent(policy, riskEvent('a', 'TRANSFER_ATTEMPT', { toNewPayee: true, amount: 9000 }));
    assert.equal(d.tier, 'STEP_UP');
    const scam = scoreEvent(
      policy,
      riskEvent('a', 'TRANSFER_ATTEMPT', {
        toNewPayee: true,
        amount: 9000,
        duringCall: true,
        justBorrowed: true,
      }),
    );
    assert.equal(scam.tier, 'PROTECT', 'a large scam transfer is still a protective hold, not a freeze');
  });

  it('compares a field with another field times a factor', () => {
    const near = scoreEvent(
      policy,
      riskEvent('a', 'BORROW_REQUEST', { amount: 950, requestsLast24h: 1, creditLimit: 1000 }),
    );
    assert.deepEqual(
      near.reasons.map((r) => r.ruleId),
      ['borrow-near-limit'],
    );
    const far = scoreEvent(
      policy,
      riskEvent('a', 'BORROW_REQUEST', { amount: 100, requestsLast24h: 1, creditLimit: 1000 }),
    );
    assert.deepEqual(far.reasons, []);
  });

  it('accumulates weights up the ladder', () => {
    const d = scoreEvent(
      policy,
      riskEvent('a', 'CREDIT_REPORT', { lendersLast30d: 9, scoreDelta: -120, overdueDays: 120 }),
    );
    // 55 + 30 + 30 + 30 = 145: FREEZE on the ladder, below CLOSE.
    assert.equal(d.score, 145);
    assert.equal(d.tier, 'FREEZE');
  });
});

describe('policy rules', () => {
  it('maps scores to tiers at the thresholds', () => {
    const t = { STEP_UP: 30, LIMIT: 50, FREEZE: 80, CLOSE: 150 };
    assert.deepEqual(
      [0, 29, 30, 49, 50, 79, 80, 149, 150, 1000].map((s) => tierForScore(t, s)),
      ['NONE', 'NONE', 'STEP_UP', 'STEP_UP', 'LIMIT', 'LIMIT', 'FREEZE', 'FREEZE', 'CLOSE', 'CLOSE'],
    );
  });

  it('a condition on a missing field does not hold', () => {
    assert.equal(conditionHolds({ field: 'geoDistanceKm', op: 'gte', value: 1 }, {}), false);
    assert.equal(conditionHolds({ field: 'x', op: 'ne', value: 1 }, {}), false);
    assert.equal(conditionHolds({ field: 'x', op: 'lt', value: 5 }, { x: 4 }), true);
    assert.equal(conditionHolds({ field: 'x', op: 'gt', value: 5 }, { x: 'six' }), false);
  });

  it('parses durations', () => {
    assert.deepEqual(['500ms', '30s', '15m', '72h', '7d', '1.5h', '7 d', 'x'].map(parseDuration), [
      500,
      30_000,
      900_000,
      259_200_000,
      604_800_000,
      5_400_000,
      undefined,
      undefined,
    ]);
  });

  it('fixes the tier durations of the policy into case terms', () => {
    const terms = caseTermsOf(defaultPolicy());
    assert.equal(terms.tiers.FREEZE.userDeadlineMs, 7 * 86_400_000);
    assert.deepEqual(terms.tiers.FREEZE.remindBeforeMs, [48 * 3_600_000, 6 * 3_600_000]);
    assert.deepEqual(terms.lockout.waitsMs, [900_000, 3_600_000, 86_400_000]);
    assert.equal(terms.tiers.CLOSE.fourEyesClose, true);
  });

  it('refuses an invalid policy with the paths of every problem', () => {
    const raw = JSON.parse(JSON.stringify(defaultPolicy().policy));
    raw.thresholds.LIMIT = 10;
    raw.rules[0].reason = 'NOT_A_REASON';
    raw.tiers.FREEZE.userDeadline = 'soon';
    assert.throws(
      () => parsePolicy(raw),
      (err: Error) =>
        /thresholds/.test(err.message) &&
        /rules\.0\.reason/.test(err.message) &&
        /tiers\.FREEZE\.userDeadline/.test(err.message),
    );
  });

  it('hashes the content, so a changed weight changes the hash', () => {
    const a = defaultPolicy();
    const raw = JSON.parse(JSON.stringify(a.policy));
    raw.rules[0].weight += 1;
    assert.notEqual(parsePolicy(raw).hash, a.hash);
    assert.equal(parsePolicy(JSON.parse(JSON.stringify(a.policy))).hash, a.hash);
  });
});

describe('scorer with data sources', () => {
  const policy = defaultPolicy();
  const failing: DataSource = { name: 'bureau', lookup: async () => Promise.reject(new Error('down')) };
  const slow: DataSource = {
    name: 'device',
    lookup: (_e, signal) =>
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('timeout')))),
  };
  const watchlist: DataSource = { name: 'watchlist', lookup: async () => ({ listed: true }) };

  it('records failing and slow sources as unavailable and does not count them as risk', async () => {
    const scorer = createScorer(policy, [failing, slow], 50);
    const started = Date.now();
    const { decision } = await scorer.score(riskEvent('a', 'LOGIN', { newDevice: false }));
    assert.ok(Date.now() - started < 2_000, 'the slow source was cut off by its timeout');
    assert.equal(decision.tier, 'NONE');
    assert.deepEqual(decision.unavailableSources.sort(), ['bureau', 'device']);
  });

  it('lets a policy rule use a source signal, and lets a policy ask for step-up when a source is missing', async () => {
    const raw = JSON.parse(JSON.stringify(policy.policy));
    raw.rules.push(
      {
        id: 'watchlisted',
        eventType: '*',
        reason: 'REGULATORY_HOLD',
        when: [{ field: 'source.watchlist.listed', op: 'eq', value: true }],
        weight: 0,
        minTier: 'FREEZE',
      },
      {
        id: 'bureau-missing',
        eventType: 'LOGIN',
        reason: 'ACCOUNT_TAKEOVER_SUSPECTED',
        when: [{ field: 'source.bureau.available', op: 'eq', value: false }],
        weight: 30,
      },
    );
    const custom = parsePolicy(raw);
    assert.equal(
      (await createScorer(custom, [watchlist]).score(riskEvent('a', 'LOGIN', { newDevice: false }))).decision
        .tier,
      'FREEZE',
    );
    assert.equal(
      (await createScorer(custom, [failing]).score(riskEvent('a', 'LOGIN', { newDevice: false }))).decision
        .tier,
      'STEP_UP',
    );
  });
});

describe('risk event schema', () => {
  it('accepts every example and refuses wrong attributes with their paths', () => {
    for (const [type, attributes] of Object.values(EXAMPLES))
      assert.ok(RiskEventSchema.safeParse(riskEvent('a', type, attributes as never)).success);
    const bad = RiskEventSchema.safeParse({
      ...riskEvent('a', 'LOGIN_FAILED', { consecutiveFailures: 6 }),
      attributes: { consecutiveFailures: -1, extra: 1 },
    });
    assert.equal(bad.success, false);
    const paths = bad.error.issues.map((i) => i.path.join('.'));
    assert.ok(paths.includes('attributes.consecutiveFailures'), paths.join());
    assert.ok(paths.includes('attributes'), 'unknown attribute keys are refused');
  });

  it('refuses an unknown type and a malformed account ID', () => {
    assert.equal(
      RiskEventSchema.safeParse({ ...riskEvent('a', 'LOGIN', { newDevice: true }), type: 'NOPE' }).success,
      false,
    );
    assert.equal(RiskEventSchema.safeParse(riskEvent('a.b', 'LOGIN', { newDevice: true })).success, false);
  });
});
