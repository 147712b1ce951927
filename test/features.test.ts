// Policy features: the declaration (schema and `policy validate`, every refusal by its path), entities on the
// event envelope (a card number is refused), window semantics on hand-made cases, and scoring with
// `feature.<name>` (the values recorded on the decision; a policy without features decides as before).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EVENT_ID_DAYS_DEFAULT, FeaturesSchema } from '../core/features';
import { FeatureWindows } from '../core/feature-windows';
import { decideWithFeatures } from '../core/feature-decide';
import { looksLikeCardNumber, RiskEventSchema, type RiskEvent } from '../core/events';
import type { Policy } from '../core/policy';
import { scoreEvent } from '../core/scoring';
import { envDefault } from '../infra/config-schema';
import { parsePolicy } from '../infra/policy-loader';
import { checkEvent } from '../lab/event-validator';
import { policyProblems } from '../lab/policy-tools';

const DEFAULT_FILE = resolve(__dirname, '..', 'policy', 'default.json');
const raw = () => JSON.parse(readFileSync(DEFAULT_FILE, 'utf8')) as Policy & Record<string, unknown>;

/** The four features of issue 19. */
export const ISSUE_FEATURES = {
  failedLogins10m: { aggregate: 'count', eventTypes: ['LOGIN_FAILED'], by: 'account', window: '10m' },
  transfers24h: {
    aggregate: 'sum',
    eventTypes: ['TRANSFER_ATTEMPT'],
    field: 'amount',
    by: 'account',
    window: '24h',
  },
  payees7d: {
    aggregate: 'distinct',
    eventTypes: ['TRANSFER_ATTEMPT'],
    field: 'entity:payee',
    by: 'account',
    window: '7d',
  },
  accountsPerDevice30d: { aggregate: 'distinct', field: 'account', by: 'entity:device', window: '30d' },
};

const withFeatures = (features: unknown, rules: unknown[] = []) => {
  const p = raw();
  p.features = features as Policy['features'];
  p.rules = [...p.rules, ...(rules as Policy['rules'])];
  return p;
};
const problemsOf = (p: unknown) => policyProblems(p).map((x) => `${x.path}: ${x.message}`);

describe('features: the declaration', () => {
  it('features-schema: the issue example validates; a policy without features reads and hashes as before', () => {
    const p = withFeatures(ISSUE_FEATURES, [
      {
        id: 'login-velocity',
        eventType: 'LOGIN_FAILED',
        reason: 'CREDENTIAL_BRUTE_FORCE',
        when: [{ field: 'feature.failedLogins10m', op: 'gte', value: 5 }],
        weight: 40,
      },
    ]);
    assert.deepEqual(problemsOf(p), []);
    assert.deepEqual(parsePolicy(p).policy.features, ISSUE_FEATURES);
    const plain = parsePolicy(raw());
    assert.equal('features' in plain.policy, false);
    // The default policy's hash as it was before features existed.
    assert.equal(plain.hash, 'd707580ebfd5a2f8');
  });

  it('features-refusals: every wrong declaration is refused with its path', () => {
    const one = (spec: unknown) => problemsOf(withFeatures({ f: spec }));
    const base = { aggregate: 'count', by: 'account', window: '10m' };
    assert.match(one({ ...base, eventTypes: ['LOGIN_FAILD'] })[0]!, /^features\.f\.eventTypes\.0: /);
    assert.match(one({ ...base, by: 'entity:email' })[0]!, /^features\.f\.by: .*entity:<kind>/);
    assert.match(one({ ...base, window: '10 minutes' })[0]!, /^features\.f\.window: /);
    assert.deepEqual(one({ ...base, field: 'amount' }), [
      'features.f.field: count takes no field (it counts events)',
    ]);
    assert.deepEqual(one({ ...base, aggregate: 'sum', eventTypes: ['TRANSFER_ATTEMPT'], field: 'amout' }), [
      'features.f.field: TRANSFER_ATTEMPT events have no attribute "amout"',
    ]);
    assert.deepEqual(
      one({ ...base, aggregate: 'sum', eventTypes: ['TRANSFER_ATTEMPT'], field: 'toNewPayee' }),
      ['features.f.field: sum needs a numeric attribute: "toNewPayee" is not a number in TRANSFER_ATTEMPT'],
    );
    assert.deepEqual(one({ ...base, aggregate: 'distinct', field: 'entity:email' }), [
      'features.f.field: unknown entity kind "email" (kinds: device, ip, payee, lender, card, phone)',
    ]);
    assert.deepEqual(one({ ...base, aggregate: 'distinct', field: 'nothing' }), [
      'features.f.field: no event type has an attribute "nothing"',
    ]);
    // Longer than the event-ID window: 30 days unless the deployment says otherwise.
    assert.deepEqual(one({ ...base, window: '31d' }), [
      'features.f.window: longer than the event-ID window (CORDON_EVENT_ID_DAYS: 30 days): retries would count twice',
    ]);
    assert.deepEqual(one({ ...base, window: '30d' }), []);
    assert.equal(
      policyProblems(withFeatures({ f: { ...base, window: '31d' } }), { eventIdDays: 60 }).length,
      0,
    );
    assert.equal(EVENT_ID_DAYS_DEFAULT, envDefault('CORDON_EVENT_ID_DAYS'));
    // A rule naming an undeclared feature: refused by the schema (so the API will not load it) and by validate.
    const rule = {
      id: 'typo',
      eventType: '*',
      reason: 'CREDENTIAL_BRUTE_FORCE',
      when: [{ field: 'feature.failedLogin10m', op: 'gte', value: 5 }],
      weight: 10,
    };
    const typo = withFeatures(ISSUE_FEATURES, [rule]);
    const at = `rules.${typo.rules.length - 1}.when.0.field`;
    assert.deepEqual(problemsOf(typo), [
      `${at}: "feature.failedLogin10m" is not declared in the policy's features`,
    ]);
    assert.throws(() => parsePolicy(typo), /is not declared/);
    // Even while another part of the policy is wrong (zod then skips the policy-wide check).
    const both = withFeatures(ISSUE_FEATURES, [rule]);
    (both.thresholds as Record<string, unknown>).STEP_UP = 'x';
    assert.ok(
      problemsOf(both).some((p) => p.startsWith(`${at}: `)),
      problemsOf(both).join('\n'),
    );
  });
});

describe('features: entities on the envelope', () => {
  const event = (entities: unknown) => ({
    eventId: 'e-1',
    accountId: 'acct-1',
    type: 'TRANSFER_ATTEMPT',
    occurredAt: '2026-10-01T10:00:00Z',
    attributes: { toNewPayee: true, amount: 10 },
    entities,
  });
  it('entities: kinds are checked, a card number is refused without echoing it, a token passes', () => {
    assert.equal(
      RiskEventSchema.safeParse(event({ device: 'd-1', payee: 'p-9', card: 'tok_abc' })).success,
      true,
    );
    for (const pan of ['4111111111111111', '4111 1111 1111 1111', '5500-0000-0000-0004', '378282246310005']) {
      assert.equal(looksLikeCardNumber(pan), true, pan);
      const parsed = RiskEventSchema.safeParse(event({ card: pan }));
      assert.equal(parsed.success, false, pan);
      const text = JSON.stringify(parsed.error.issues);
      assert.match(text, /looks like a card number/);
      assert.doesNotMatch(text, /4111|5500|3782/);
      assert.deepEqual(
        checkEvent(event({ card: pan })).ok
          ? []
          : (checkEvent(event({ card: pan })) as { problems: { path: unknown[] }[] }).problems.map((p) =>
              p.path.join('.'),
            ),
        ['entities.card'],
      );
    }
    // 16 digits failing Luhn: a token shaped like digits is allowed.
    assert.equal(looksLikeCardNumber('4111111111111112'), false);
    assert.equal(RiskEventSchema.safeParse(event({ card: '4111111111111112' })).success, true);
    assert.equal(RiskEventSchema.safeParse(event({ email: 'x' })).success, false);
    assert.equal(RiskEventSchema.safeParse(event({ device: '' })).success, false);
    assert.equal(RiskEventSchema.safeParse(event({ device: 'x'.repeat(129) })).success, false);
    assert.equal(checkEvent(event({ email: 'x' })).ok, false);
  });
});

const at = (s: number) => new Date(Date.parse('2026-10-01T10:00:00Z') + s * 1000).toISOString();
const failed = (id: string, s: number, account = 'acct-1', device?: string): RiskEvent => ({
  eventId: id,
  accountId: account,
  type: 'LOGIN_FAILED',
  occurredAt: at(s),
  attributes: { consecutiveFailures: 1 },
  ...(device ? { entities: { device } } : {}),
});

describe('features: window semantics and scoring', () => {
  it('features-window: (t − window, t], the event included; a retry counts once; a late event lands where it belongs', () => {
    const w = new FeatureWindows(
      FeaturesSchema.parse({
        n: { aggregate: 'count', eventTypes: ['LOGIN_FAILED'], by: 'account', window: '10m' },
        accounts: { aggregate: 'distinct', field: 'account', by: 'entity:device', window: '10m' },
      }),
    );
    const seen = (e: RiskEvent) => (w.record(e), w.valuesFor(e));
    assert.deepEqual(seen(failed('a', 0, 'acct-1', 'd')), { n: 1, accounts: 1 });
    assert.deepEqual(seen(failed('a', 0, 'acct-1', 'd')), { n: 1, accounts: 1 }); // a retry
    assert.deepEqual(seen(failed('b', 300, 'acct-2', 'd')), { n: 1, accounts: 2 });
    assert.deepEqual(seen(failed('c', 600, 'acct-1')), { n: 1 }); // 10 min after "a": "a" is out; no device
    // Late (after c): its own window (-1 s, 599 s] holds a and itself, not c (after it), and b is another account.
    assert.deepEqual(seen(failed('d', 599, 'acct-1', 'd')), { n: 2, accounts: 2 });
    assert.deepEqual(w.valuesFor(failed('c', 600, 'acct-1')), { n: 2 }); // now d counts for c too: d and c
    assert.equal(w.record(failed('old', -10_000)), 'TOO_LATE');
  });

  it('features-scoring: a rule on feature.X scores with it and the decision records the values; without features nothing changes', () => {
    const loaded = parsePolicy(
      withFeatures({ failedLogins10m: ISSUE_FEATURES.failedLogins10m }, [
        {
          id: 'login-velocity',
          eventType: 'LOGIN_FAILED',
          reason: 'CREDENTIAL_BRUTE_FORCE',
          when: [{ field: 'feature.failedLogins10m', op: 'gte', value: 5 }],
          weight: 35,
        },
      ]),
    );
    const store = new FeatureWindows(loaded.policy.features);
    const decisions = [0, 30, 60, 90, 120].map((s, i) =>
      decideWithFeatures(loaded, store, failed(`e${i}`, s)),
    );
    assert.deepEqual(
      decisions.map((d) => d.features),
      [1, 2, 3, 4, 5].map((n) => ({ failedLogins10m: n })),
    );
    assert.deepEqual(
      decisions.map((d) => d.reasons.some((r) => r.ruleId === 'login-velocity')),
      [false, false, false, false, true],
    );
    assert.equal(decisions[4]!.tier, 'STEP_UP');
    assert.throws(() => decideWithFeatures(loaded, null, failed('x', 0)), /needs a feature store/);
    // The default policy: the same decision as the scorer alone, with no `features` key.
    const plain = parsePolicy(raw());
    const e = failed('z', 0);
    const d = decideWithFeatures(plain, null, e);
    assert.deepEqual(d, scoreEvent(plain, e));
    assert.equal('features' in d, false);
  });
});
