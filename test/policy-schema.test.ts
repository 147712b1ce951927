// What a policy file may say and what a case takes from it (core/policy.ts, core/durations.ts): every condition
// form, the defaults of what a policy may leave out, the refusals and their words, and the terms a case fixes.
// Server-free.
import assert from 'node:assert/strict';
import { parseDuration } from '../core/durations';
import { caseTermsOf, PolicySchema, type LoadedPolicy } from '../core/policy';
import { parsePolicy } from '../infra/policy-loader';
import { defaultPolicy } from './helpers/deps';

type Raw = Record<string, any>;

/** A copy of the default policy as the file says it. */
const raw = (): Raw => JSON.parse(JSON.stringify(defaultPolicy().policy));

/** The problems zod finds, as "path: message". */
function problems(policy: Raw): string[] {
  const r = PolicySchema.safeParse(policy);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

function withRule(rule: Raw): Raw {
  const p = raw();
  p.rules.push({ id: 'extra', eventType: 'LOGIN', reason: 'IDENTITY_MISMATCH', weight: 1, ...rule });
  return p;
}

describe('policy: durations', () => {
  it('a number (decimals allowed) and a unit, with surrounding space ignored; nothing else', () => {
    assert.equal(parseDuration(' 15m '), 900_000);
    assert.equal(parseDuration('1.25h'), 4_500_000);
    for (const bad of ['x15m', '15m30s', '15mx', '1.h', '.5h', '15', 'm', '-1m', '15 m'])
      assert.equal(parseDuration(bad), undefined, bad);
  });

  it('refuses a malformed duration in a policy with the words that say what one looks like', () => {
    const p = raw();
    p.tiers.LIMIT.reviewSla = 'three days';
    assert.deepEqual(problems(p), ['tiers.LIMIT.reviewSla: a duration such as "30s", "15m", "72h" or "7d"']);
  });
});

describe('policy: rules', () => {
  it('takes every condition form: equality on any value, an ordering on a number, a comparison with another field', () => {
    const when = [
      { field: 'a', op: 'eq', value: 'x' },
      { field: 'a', op: 'ne', value: true },
      ...['gt', 'gte', 'lt', 'lte'].map((op) => ({ field: 'b', op, value: 1 })),
      ...['gt', 'gte', 'lt', 'lte'].map((op) => ({ field: 'b', op, ref: 'c' })),
    ];
    const parsed = PolicySchema.parse(withRule({ when }));
    const extra = parsed.rules.at(-1)!;
    assert.equal(extra.when.length, when.length);
    assert.deepEqual(
      extra.when.at(-1),
      { field: 'b', op: 'lte', ref: 'c', factor: 1 },
      'the factor defaults to 1',
    );
    assert.notDeepEqual(problems(withRule({ when: [{ field: 'b', op: 'gt', value: 'x' }] })), []);
    assert.notDeepEqual(problems(withRule({ when: [{ field: 'b', op: 'like', value: 'x' }] })), []);
  });

  it('what a rule may leave out: no conditions, no hard tier, no lockout, verification allowed', () => {
    const extra = PolicySchema.parse(withRule({})).rules.at(-1)!;
    assert.deepEqual(extra.when, []);
    assert.equal(extra.minTier, undefined);
    assert.equal(extra.lockout, false);
    assert.equal(extra.verificationAllowed, true);
  });

  it('a hard rule names a restrictive tier; an ID is lower-case letters, digits and dashes', () => {
    assert.deepEqual(problems(withRule({ minTier: 'CLOSE' })), []);
    assert.notDeepEqual(problems(withRule({ minTier: 'NONE' })), []);
    for (const id of ['Extra', 'extra!', 'x y', '', 'x'.repeat(65)])
      assert.notDeepEqual(problems(withRule({ id })), [], id);
    assert.deepEqual(problems(withRule({ id: 'x'.repeat(64) })), []);
  });

  it('refuses two rules with one ID, and thresholds that do not increase, in words', () => {
    const twice = raw();
    twice.rules.push({ ...twice.rules[0] });
    assert.deepEqual(problems(twice), ['rules: rule ids must be unique']);
    for (const [a, b] of [
      ['STEP_UP', 'LIMIT'],
      ['LIMIT', 'FREEZE'],
      ['FREEZE', 'CLOSE'],
    ] as const) {
      const p = raw();
      p.thresholds[b] = p.thresholds[a];
      assert.deepEqual(
        problems(p),
        ['thresholds: thresholds must increase: STEP_UP < LIMIT < FREEZE < CLOSE'],
        `${a} = ${b}`,
      );
    }
  });
});

describe('policy: what a policy may leave out', () => {
  it('the review, user-action and tier defaults', () => {
    const p = raw();
    delete p.review;
    delete p.userActions;
    delete p.tiers.LIMIT.remindBefore;
    const parsed = PolicySchema.parse(p);
    assert.deepEqual(parsed.review, {
      claimIdle: '60m',
      approvalSla: '24h',
      failedVerificationWeight: 30,
      retractionRestores: false,
    });
    assert.deepEqual(parsed.userActions, {
      window: '1h',
      perCase: 20,
      perAccount: 40,
      perIp: 100,
      linkOpensPerIp: 300,
    });
    assert.deepEqual(parsed.tiers.LIMIT.remindBefore, []);
  });

  it('a legal hold of 0 to 36,500 days, whole days only', () => {
    for (const legalHoldDays of [0, 36_500]) {
      const p = raw();
      p.privacy = { legalHoldDays };
      assert.deepEqual(problems(p), [], String(legalHoldDays));
    }
    for (const legalHoldDays of [-1, 36_501, 1.5]) {
      const p = raw();
      p.privacy = { legalHoldDays };
      assert.notDeepEqual(problems(p), [], String(legalHoldDays));
    }
  });
});

describe('policy: the terms a case fixes when it opens', () => {
  it('reminders latest-first whatever order the file lists them in', () => {
    const p = raw();
    p.tiers.FREEZE.remindBefore = ['6h', '72h', '48h'];
    const terms = caseTermsOf(parsePolicy(p));
    assert.deepEqual(
      terms.tiers.FREEZE.remindBeforeMs,
      [72, 48, 6].map((h) => h * 3_600_000),
    );
  });

  it('an unlock approval limit only when the policy sets one', () => {
    const p = raw();
    delete p.review.unlockApprovalAboveScore;
    assert.equal('unlockApprovalAboveScore' in caseTermsOf(parsePolicy(p)), false);
    p.review.unlockApprovalAboveScore = 120;
    assert.equal(caseTermsOf(parsePolicy(p)).unlockApprovalAboveScore, 120);
  });

  it('the review terms: claim idle time, approval SLA, failed-verification weight, retraction', () => {
    const p = raw();
    p.review = { claimIdle: '2h', approvalSla: '12h', failedVerificationWeight: 7, retractionRestores: true };
    const terms = caseTermsOf(parsePolicy(p));
    assert.equal(terms.claimIdleMs, 2 * 3_600_000);
    assert.equal(terms.approvalSlaMs, 12 * 3_600_000);
    assert.equal(terms.failedVerificationWeight, 7);
    assert.equal(terms.retractionRestores, true);
  });

  it('a policy that skipped validation is refused, not turned into deadlines that are not numbers', () => {
    const loaded = defaultPolicy();
    const broken: LoadedPolicy = {
      ...loaded,
      policy: { ...loaded.policy, lockout: { ...loaded.policy.lockout, memory: 'a while' } },
    };
    assert.throws(() => caseTermsOf(broken), /invalid duration a while/);
  });
});
