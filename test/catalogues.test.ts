// The catalogues a user reads (core/capabilities.ts, core/outcomes.ts): what each capability and outcome code says
// in en and zh-CN, which outcomes a code fits and what the API's schemas take for them, the policy's overrides of
// a tier's capabilities, and the erasure hold a fraud closure keeps. Server-free: part of the mutation run. Over
// HTTP and in Chromium: test/capabilities.test.ts and test/outcome-codes.test.ts.
import assert from 'node:assert/strict';
import { BreakGlassBody, DecisionBody } from '../api/schemas';
import { CAPABILITIES, CAPABILITY_TEXTS, capabilitiesOf, DEFAULT_ALLOWED } from '../core/capabilities';
import type { CaseView } from '../core/contracts';
import { LOCALES, OUTCOMES, REASON_CODES, TIERS } from '../core/model';
import { OUTCOME_CODES, OUTCOME_TEXTS, outcomeCodesFor } from '../core/outcomes';
import { PolicySchema } from '../core/policy';
import { needsLongestHold } from '../infra/erasure-hold';
import { parsePolicy } from '../infra/policy-loader';
import { defaultPolicy } from './helpers/deps';

const HAN = /\p{Script=Han}/u;
const raw = (): Record<string, any> => JSON.parse(JSON.stringify(defaultPolicy().policy));
const problems = (policy: unknown) => {
  const r = PolicySchema.safeParse(policy);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('capabilities: the catalogue and the policy', () => {
  it('capability-catalogue: every capability has words in every locale, each in its own language; repaying works under every tier', () => {
    for (const c of CAPABILITIES)
      for (const l of LOCALES) {
        const text = CAPABILITY_TEXTS[c][l];
        assert.ok(text.trim().length > 1, `${c} ${l}`);
        assert.equal(HAN.test(text), l === 'zh-CN', `${c} ${l}`);
      }
    for (const l of LOCALES)
      assert.equal(new Set(CAPABILITIES.map((c) => CAPABILITY_TEXTS[c][l])).size, CAPABILITIES.length, l);
    // Each tier's defaults, as docs/api.md's table lists them.
    assert.deepEqual(DEFAULT_ALLOWED, {
      STEP_UP: ['SIGN_IN', 'VIEW_STATEMENTS', 'REPAY', 'DEPOSIT', 'BORROW'],
      LIMIT: ['SIGN_IN', 'VIEW_STATEMENTS', 'REPAY', 'DEPOSIT', 'CHANGE_DETAILS', 'TRANSFER_OUT', 'WITHDRAW'],
      PROTECT: ['SIGN_IN', 'VIEW_STATEMENTS', 'REPAY', 'DEPOSIT'],
      FREEZE: ['REPAY'],
      CLOSE: ['SIGN_IN', 'VIEW_STATEMENTS', 'REPAY'],
    });
    for (const tier of TIERS.filter((t) => t !== 'NONE'))
      assert.ok(DEFAULT_ALLOWED[tier].includes('REPAY'), tier);
    assert.deepEqual(capabilitiesOf({ restricted: false, tier: 'FREEZE', status: 'RESTORED' }), {
      allowed: [...CAPABILITIES],
      blocked: [],
    });
    // A closed account has the CLOSE tier's, whatever tier its case had.
    assert.deepEqual(capabilitiesOf({ restricted: true, tier: 'FREEZE', status: 'CLOSED' }).allowed, [
      'SIGN_IN',
      'VIEW_STATEMENTS',
      'REPAY',
    ]);
  });

  it('capability-policy: a tier may list what it allows and the policy its complaints channels; anything else is refused by its path; a policy with neither reads (and hashes) as before', () => {
    const p = raw();
    p.tiers.FREEZE.capabilities = ['REPAY', 'VIEW_STATEMENTS'];
    p.complaints = [{ en: 'Ombudsman', 'zh-CN': '调解机构' }];
    const parsed = parsePolicy(p).policy;
    assert.deepEqual(capabilitiesOf({ restricted: true, tier: 'FREEZE' }, parsed.tiers).allowed, [
      'VIEW_STATEMENTS',
      'REPAY',
    ]);
    assert.deepEqual(parsed.complaints, p.complaints);
    const bad = (edit: (p: Record<string, any>) => void) => {
      const q = raw();
      edit(q);
      return problems(q);
    };
    assert.deepEqual(
      bad((q) => (q.tiers.LIMIT.capabilities = ['REPAY', 'REPAY'])),
      ['tiers.LIMIT.capabilities: each capability once'],
    );
    assert.match(bad((q) => (q.tiers.LIMIT.capabilities = ['FLY']))[0]!, /^tiers\.LIMIT\.capabilities\.0: /);
    assert.match(bad((q) => (q.complaints = [{ en: 'only English' }]))[0]!, /^complaints\.0\.zh-CN: /);
    assert.match(bad((q) => (q.complaints = []))[0]!, /^complaints: /);

    // A policy that sets neither gains no field when read: its hash is what it was before either existed.
    delete p.complaints;
    delete p.tiers.FREEZE.capabilities;
    const plain = parsePolicy(p).policy;
    assert.equal('complaints' in plain, false);
    for (const [tier, terms] of Object.entries(plain.tiers))
      assert.equal('capabilities' in terms, false, tier);
  });
});

describe('outcome codes: the catalogue', () => {
  it('outcome-catalogue: every code has words for the user and a label for the reviewer in every locale, each in its own language', () => {
    for (const code of OUTCOME_CODES)
      for (const locale of LOCALES) {
        const { user, label } = OUTCOME_TEXTS[code];
        for (const text of [user[locale], label[locale]]) {
          assert.ok(text.trim().length > 0, `${code} ${locale}`);
          assert.equal(HAN.test(text), locale === 'zh-CN', `${code} ${locale}: ${text}`);
        }
      }
    assert.equal(new Set(OUTCOME_CODES.map((c) => OUTCOME_TEXTS[c].user.en)).size, OUTCOME_CODES.length);
    assert.equal(
      OUTCOME_CODES.filter((c) => (REASON_CODES as readonly string[]).includes(c)).length,
      0,
      'no outcome code is also a reason code',
    );
  });

  it('outcome-fits: every outcome has codes; a code that explains a restore explains nothing else, and its words are positive', () => {
    for (const outcome of OUTCOMES) assert.ok(outcomeCodesFor(outcome).length >= 3, outcome);
    for (const code of OUTCOME_CODES) {
      const { fits, user } = OUTCOME_TEXTS[code];
      assert.ok(fits.length > 0, code);
      if (!fits.includes('RESTORED')) continue;
      assert.deepEqual(fits, ['RESTORED'], `${code}: an unlock code explains no closure`);
      assert.doesNotMatch(user.en, /\b(not|no|cannot|could|unable|fail\w*|risk)\b/i, `${code}: ${user.en}`);
      assert.doesNotMatch(user['zh-CN'], /[未不无没]|风险/, `${code}: ${user['zh-CN']}`);
    }
  });

  it('outcome-schema: a decision and a break-glass take the codes that fit their outcome, and (deprecated) any reason code', () => {
    const decisionOutcome = { UNLOCK: 'RESTORED', UPHOLD: 'UPHELD', CLOSE: 'CLOSED' } as const;
    for (const [decision, outcome] of Object.entries(decisionOutcome))
      for (const code of [...OUTCOME_CODES, ...REASON_CODES]) {
        const body = { decision, rationale: 'r', requestId: 'q', explanation: { code, text: 't' } };
        const parsed = DecisionBody.safeParse(body);
        const fits =
          (REASON_CODES as readonly string[]).includes(code) ||
          outcomeCodesFor(outcome).includes(code as never);
        assert.equal(parsed.success, fits, `${decision} with ${code}`);
        if (!parsed.success) {
          assert.deepEqual(
            parsed.error.issues.map((i) => i.path.join('.')),
            ['explanation.code'],
          );
          assert.match(parsed.error.issues[0]!.message, new RegExp(`fits ${decision}`));
        }
      }
    for (const [action, outcome] of [
      ['LIFT', 'RESTORED'],
      ['CLOSE', 'CLOSED'],
    ] as const)
      for (const code of OUTCOME_CODES) {
        const parsed = BreakGlassBody.safeParse({
          action,
          rationale: 'r',
          requestId: 'q',
          explanation: { code, text: 't' },
        });
        assert.equal(parsed.success, outcomeCodesFor(outcome).includes(code), `${action} with ${code}`);
      }
  });

  it('erasure-hold-codes: a closure explained as fraud, and a legal requirement, keep the longest hold', () => {
    const view = (outcome: 'CLOSED' | 'UPHELD', code: string) =>
      ({ outcome, reasons: [], explanation: { code, text: 't' } }) as unknown as CaseView;
    assert.equal(needsLongestHold(view('CLOSED', 'FRAUD_CONFIRMED')), true);
    assert.equal(needsLongestHold(view('UPHELD', 'LEGAL_REQUIREMENT')), true);
    assert.equal(needsLongestHold(view('CLOSED', 'RISK_CONFIRMED')), false);
    assert.equal(
      needsLongestHold(view('UPHELD', 'FRAUD_CONFIRMED')),
      false,
      'fraud holds longest on a closure',
    );
  });
});
