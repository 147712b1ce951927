// Capabilities (core/capabilities.ts): what an account holder can still do under each tier, the single source
// the gateway receives with every restriction read and the user's pages and mails repeat. The catalogue and the
// policy's overrides are test/catalogues.test.ts (server-free); here, over real HTTP, GET
// /v1/accounts/{id}/restriction and POST /v1/accounts/restrictions answering `allowed` and `blocked` from the
// running policy, a reload included.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CAPABILITIES } from '../core/capabilities';
import { eventually } from './helpers/harness';
import { apiOf } from './helpers/outcome-cases';
import { portalPolicy, startPortalEnv, type PortalEnv } from './helpers/portal-env';
import { requires } from './helpers/requirements';

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
