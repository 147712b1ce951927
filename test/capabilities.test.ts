// Capabilities (core/capabilities.ts): what an account holder can still do under each tier, the single source
// the gateway receives with every restriction read and the user's pages and mails repeat. The catalogue in en and
// zh-CN; the policy's overrides (`tiers.<TIER>.capabilities`) and complaints channels, validated, and leaving the
// hash of a policy that sets neither as it was; and over real HTTP, GET /v1/accounts/{id}/restriction and POST
// /v1/accounts/restrictions answering `allowed` and `blocked` from the running policy, a reload included.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CAPABILITIES, CAPABILITY_TEXTS, capabilitiesOf, DEFAULT_ALLOWED } from '../core/capabilities';
import { LOCALES, TIERS } from '../core/model';
import { PolicySchema } from '../core/policy';
import { parsePolicy } from '../infra/policy-loader';
import { defaultPolicy } from './helpers/deps';
import { eventually } from './helpers/harness';
import { apiOf } from './helpers/outcome-cases';
import { portalPolicy, startPortalEnv, type PortalEnv } from './helpers/portal-env';
import { requires } from './helpers/requirements';

const HAN = /\p{Script=Han}/u;
const raw = (): Record<string, any> => JSON.parse(JSON.stringify(defaultPolicy().policy));
const problems = (policy: unknown) => {
  const r = PolicySchema.safeParse(policy);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('capabilities: the catalogue and the policy', () => {
  it('capability-catalogue: every capability has words in every locale, each in its own language; repaying works under every tier', () => {
    for (const c of CAPABILITIES)
      for (const l of LOCALES) assert.equal(HAN.test(CAPABILITY_TEXTS[c][l]), l === 'zh-CN', `${c} ${l}`);
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

describe('capabilities over HTTP: what the gateway receives (Temporal, API)', function () {
  requires('temporal');
  this.timeout(120_000);
  let env: PortalEnv;
  let a: ReturnType<typeof apiOf>;
  const FREEZE_ALLOWED = ['SIGN_IN', 'VIEW_STATEMENTS', 'REPAY'];

  before(async function () {
    this.timeout(300_000);
    env = await startPortalEnv({}, (p) => (p.tiers.FREEZE.capabilities = FREEZE_ALLOWED));
    a = apiOf(env);
  });
  after(async function () {
    this.timeout(60_000);
    await env?.close();
  });

  it('restriction-capabilities: one account or many, an unknown one allowed everything, the policy’s list for its tier, and the reloaded policy’s at once', async () => {
    const { accountId } = await a.open('en', 'IDENTITY_CHECK', { matched: false });
    const one = (await a.api(`/v1/accounts/${accountId}/restriction`)).json;
    assert.equal(one.tier, 'FREEZE');
    assert.deepEqual(one.allowed, FREEZE_ALLOWED);
    assert.deepEqual(one.blocked, ['DEPOSIT', 'CHANGE_DETAILS', 'TRANSFER_OUT', 'WITHDRAW', 'BORROW']);
    const many = await a.post('/v1/accounts/restrictions', { accountIds: ['nobody-here', accountId] });
    assert.equal(many.status, 200, JSON.stringify(many.json));
    assert.deepEqual(
      many.json.items.map((i: { allowed: string[]; blocked: string[] }) => [i.allowed.length, i.blocked]),
      [
        [CAPABILITIES.length, []],
        [FREEZE_ALLOWED.length, one.blocked],
      ],
    );

    // The operator edits the policy: the next read says what the gateway must now enforce.
    const next = portalPolicy({}, (p) => {
      p.version = 'test-capabilities-2';
      p.tiers.FREEZE.capabilities = ['REPAY'];
    });
    writeFileSync(join(env.dataDir, 'policy.json'), JSON.stringify(next.policy));
    await eventually(
      async () => (await a.api(`/v1/accounts/${accountId}/restriction`)).json.allowed.join() === 'REPAY',
      20_000,
      'the reloaded policy’s capabilities',
    );
  });
});
