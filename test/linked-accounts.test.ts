// Issue 19, linked accounts, end to end over real HTTP with a worker on the Temporal dev server: a case closed for
// fraud signals the accounts that shared a device or a payee with it (LINKED_ACCOUNT_RISK, scored by the policy's
// rule: they are asked to verify), not an account on a crowded device, not an account linked only through another,
// never naming the closed account; the backend can neither send nor withdraw such a signal; a second review that
// restores the closed account withdraws the signals from the linked accounts' cases.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { linkedEventId } from '../api/linker';
import { quiet } from './helpers/deps';
import { callApi, eventually, recordHistory, startApiHarness, type ApiHarness } from './helpers/harness';
import { uniqueAccount } from './helpers/events';
import { requires } from './helpers/requirements';

const POLICY = resolve(__dirname, '..', 'policy', 'examples', 'detection.json');
const BACKEND = 'dev-backend';
const REVIEWER_1 = 'dev-reviewer-1';
const SENIOR = 'dev-senior';
const SENIOR_2 = 'linked-senior-token-0002';
const SENIOR_3 = 'linked-senior-token-0003';

const harmlessLogin = (accountId: string, device: string) => ({
  eventId: `evt-${randomUUID()}`,
  accountId,
  type: 'LOGIN',
  occurredAt: new Date().toISOString(),
  attributes: { newDevice: false, geoDistanceKm: 1, minutesSinceLastLogin: 600 },
  entities: { device },
});
const smallTransfer = (accountId: string, payee: string) => ({
  eventId: `evt-${randomUUID()}`,
  accountId,
  type: 'TRANSFER_ATTEMPT',
  occurredAt: new Date().toISOString(),
  attributes: { toNewPayee: false, amount: 20 },
  entities: { payee },
});

describe('linked accounts (issue 19)', function () {
  requires('temporal');
  this.timeout(240_000);
  let env: ApiHarness;
  const call = (method: string, path: string, token: string, body?: unknown) =>
    callApi(env.api.url, method, path, token, body);
  const post = async (event: unknown) => {
    const r = await call('POST', '/v1/risk-events', BACKEND, event);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };

  before(async () => {
    env = await startApiHarness(quiet, {
      CORDON_POLICY_FILE: POLICY,
      CORDON_TOKENS: `${SENIOR_2}=senior:senior-2,${SENIOR_3}=senior:senior-3`,
    });
  });
  after(() => env?.close());

  it('the backend can neither send the signal nor withdraw one', async () => {
    const account = uniqueAccount('forge');
    const forged = await call('POST', '/v1/risk-events', BACKEND, {
      eventId: `evt-${randomUUID()}`,
      accountId: account,
      type: 'LINKED_ACCOUNT_RISK',
      occurredAt: new Date().toISOString(),
      attributes: { entityKind: 'device' },
    });
    assert.equal(forged.status, 400, JSON.stringify(forged.body));
    const reserved = await call('POST', '/v1/risk-events', BACKEND, {
      ...harmlessLogin(account, 'd'),
      eventId: 'linked:abc',
    });
    assert.equal(reserved.status, 400);
    assert.equal(reserved.body.code, 'RESERVED_EVENT_ID');
  });

  it('a closure for fraud signals who shared a device or payee; a second review that restores withdraws the signals (histories-)', async () => {
    const [src, viaDevice, viaPayee, onCrowd, secondHop] = ['src', 'dev', 'pay', 'crowd', 'hop'].map((p) =>
      uniqueAccount(`link-${p}`),
    );
    const device = `dev-${randomUUID()}`;
    const crowded = `crowd-${randomUUID()}`;
    const hopDevice = `hop-${randomUUID()}`;
    const payee = `payee-${randomUUID()}`;
    await post(harmlessLogin(src!, device));
    await post(harmlessLogin(viaDevice!, device));
    await post(smallTransfer(src!, payee));
    await post(smallTransfer(viaPayee!, payee));
    // A device six accounts used (more than maxAccountsPerEntity: 5) links none of them.
    await post(harmlessLogin(src!, crowded));
    await post(harmlessLogin(onCrowd!, crowded));
    for (let i = 0; i < 4; i++) await post(harmlessLogin(uniqueAccount('crowd-extra'), crowded));
    // Linked to viaDevice only: never signalled (no transitive links).
    await post(harmlessLogin(viaDevice!, hopDevice));
    await post(harmlessLogin(secondHop!, hopDevice));

    // The source account: a confirmed fraud report, appealed, closed by a reviewer and a senior.
    const opened = await post({
      eventId: `evt-${randomUUID()}`,
      accountId: src,
      type: 'FRAUD_REPORT',
      occurredAt: new Date().toISOString(),
      attributes: { source: 'card-network', confirmed: true },
    });
    const caseId = opened.caseId as string;
    assert.equal(opened.decision.tier, 'CLOSE');
    const appeal = await call('POST', `/v1/cases/${caseId}/appeal`, BACKEND, {
      statement: 'This was not me',
      evidence: [],
      requestId: 'appeal-1',
    });
    assert.equal(appeal.status, 200, JSON.stringify(appeal.body));
    assert.equal((await call('POST', `/v1/cases/${caseId}/claim`, REVIEWER_1)).status, 200);
    const decided = await call('POST', `/v1/cases/${caseId}/decision`, REVIEWER_1, {
      decision: 'CLOSE',
      rationale: 'the network confirmed the fraud',
      requestId: 'close-1',
    });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    if (decided.body.status === 'PENDING_APPROVAL') {
      const approved = await call('POST', `/v1/cases/${caseId}/approval`, SENIOR, {
        approve: true,
        rationale: 'agreed',
      });
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
    }

    // The linker (in the API) sends the signals once the worker has archived the closed case.
    const store = env.h.store;
    const signals = await eventually(async () => {
      const rows = await store.links.signalsOf(caseId);
      const outcome = await store.links.jobOutcome(caseId, 'LINK');
      return outcome ? rows : false;
    }, 60_000);
    assert.deepEqual(
      signals.map((s) => [s.accountId, s.entityKind]),
      [
        [viaDevice, 'device'],
        [viaPayee, 'payee'],
      ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
    );
    for (const [account, kind] of [
      [viaDevice!, 'device'],
      [viaPayee!, 'payee'],
    ] as const) {
      const answer = await store.events.find(account, linkedEventId(caseId, account), 86_400_000);
      assert.ok(answer, `${account} received the signal`);
      assert.equal(answer.decision.tier, 'STEP_UP', 'the policy asks them to verify');
      assert.deepEqual(
        answer.decision.reasons.map((r) => r.code),
        ['LINKED_ACCOUNT'],
      );
      const view = await call('GET', `/v1/cases/${answer.caseId}`, REVIEWER_1);
      assert.equal(view.status, 200);
      const text = JSON.stringify(view.body);
      assert.ok(!text.includes(src!) && !text.includes(caseId), 'the closed account is never named');
      const evidence = view.body.evidence.LINKED_ACCOUNT[0];
      assert.equal(evidence.attributes.entityKind, kind);
    }
    for (const account of [onCrowd!, secondHop!])
      assert.equal(
        await store.events.find(account, linkedEventId(caseId, account), 86_400_000),
        null,
        `${account} is not linked`,
      );
    // The backend cannot withdraw Cordon's signal.
    const withdrawByBackend = await call(
      'POST',
      `/v1/risk-events/${encodeURIComponent(linkedEventId(caseId, viaDevice!))}/retraction`,
      BACKEND,
      { accountId: viaDevice, reason: 'not ours', requestId: 'r-1' },
    );
    assert.equal(withdrawByBackend.status, 409, JSON.stringify(withdrawByBackend.body));
    assert.equal(withdrawByBackend.body.code, 'NOT_RETRACTABLE');

    // A second review restores the source account: the signals are withdrawn from both linked cases.
    const second = await call('POST', `/v1/cases/${caseId}/second-review`, BACKEND, {
      statement: 'The card network withdrew its report',
      evidence: [],
      requestId: 'second-1',
    });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    const secondId = second.body.caseId as string;
    assert.equal((await call('POST', `/v1/cases/${secondId}/claim`, SENIOR_2)).status, 200);
    const unlock = await call('POST', `/v1/cases/${secondId}/decision`, SENIOR_2, {
      decision: 'UNLOCK',
      rationale: 'the report was withdrawn',
      requestId: 'unlock-1',
    });
    assert.equal(unlock.status, 200, JSON.stringify(unlock.body));
    if (unlock.body.status === 'PENDING_APPROVAL') {
      const approved = await call('POST', `/v1/cases/${secondId}/approval`, SENIOR_3, {
        approve: true,
        rationale: 'agreed',
      });
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
    }
    await eventually(async () => {
      const rows = await store.links.signalsOf(caseId);
      return rows.length === 2 && rows.every((r) => r.withdrawnAt !== null) ? rows : false;
    }, 60_000);
    for (const account of [viaDevice!, viaPayee!]) {
      const answer = await store.events.find(account, linkedEventId(caseId, account), 86_400_000);
      const view = await call('GET', `/v1/cases/${answer!.caseId}`, REVIEWER_1);
      assert.ok(
        (view.body.retractedEvents as string[]).includes(linkedEventId(caseId, account)),
        JSON.stringify(view.body.retractedEvents),
      );
    }
    // A linked account's case, signalled then withdrawn: kept for the replay test of every release.
    await recordHistory('linked-account-withdrawn', env.h.handle(viaDevice!));
  });
});
