// Erasure's refusals and its legal hold (issue 16), over real HTTP with a real worker on the Temporal dev server:
// an open case (when requested, and again when approved), a restriction in force, the requesting admin approving,
// requests repeated or reused; the hold counted from the last case's end, lengthened by the policy and never
// shortened by it; the longest hold of an account closed for fraud or under a regulatory hold; a run that stops
// midway (Temporal out of reach, a process that died) and its resumption by another approval.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErasureService } from '../api/erasure';
import { startApi, type RunningApi } from '../api/main';
import type { CaseView } from '../core/contracts';
import { parseCodecKeys } from '../infra/codec';
import { parseConfig } from '../infra/config';
import { holdDaysOf, LONGEST_HOLD_DAYS, needsLongestHold } from '../infra/erasure-hold';
import { TemporalHistoryEraser } from '../infra/erasure-temporal';
import { openStore } from '../infra/store';
import { quiet } from './helpers/deps';
import { ADMIN_ONE, ADMIN_TWO, approve, requestErasure, TOKENS } from './helpers/erasure-env';
import { riskEvent } from './helpers/events';
import { eventually } from './helpers/harness';
import { BACKEND, call, REVIEWER, startOn, type Running } from './helpers/personal-case';
import { sharedDevServer, TEST_CODEC_KEYS } from './helpers/servers';
import { requires } from './helpers/requirements';

const DAY_MS = 86_400_000;
const SENIOR = { authorization: 'Bearer dev-senior' };
const codecKeys = parseCodecKeys(TEST_CODEC_KEYS);

describe('erasure: refusals, the legal hold, resuming', function () {
  requires('temporal');
  this.timeout(180_000);
  let r: Running;
  let dataDir: string;
  const extraApis: RunningApi[] = [];

  before(async function () {
    this.timeout(120_000);
    dataDir = mkdtempSync(join(tmpdir(), 'cordon-erase-refusals-'));
    const store = await openStore({ sqliteFile: join(dataDir, 'cordon.sqlite'), codecKeys });
    r = await startOn(store, dataDir, {
      env: { CORDON_TOKENS: TOKENS, CORDON_ERASURE_MIN_HOLD_DAYS: '0' },
    });
  });
  after(async () => {
    for (const api of extraApis) await api.close();
    await r?.close();
    await r?.store.db.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** Another API on the same worker and database, with other settings (a hold, a policy). */
  async function apiWith(env: Record<string, string>): Promise<string> {
    const config = parseConfig({
      PORT: '0',
      TEMPORAL_ADDRESS: (await sharedDevServer()).address,
      CORDON_TASK_QUEUE: r.h.taskQueue,
      CORDON_CODEC_KEYS: TEST_CODEC_KEYS,
      CORDON_DATA_DIR: dataDir,
      CORDON_TOKENS: TOKENS,
      ...env,
    });
    const api = await startApi(config, quiet, undefined, r.store);
    extraApis.push(api);
    return api.url;
  }

  /** The default policy with privacy.legalHoldDays set, in a file of the test's own. */
  function policyWithHold(days: number): string {
    const policy = JSON.parse(readFileSync(join(__dirname, '..', 'policy', 'default.json'), 'utf8'));
    policy.privacy = { legalHoldDays: days };
    const file = join(dataDir, `policy-hold-${days}.json`);
    writeFileSync(file, JSON.stringify(policy));
    return file;
  }

  const holdUntil = (endedAt: number, days: number) => new Date(endedAt + days * DAY_MS).toISOString();

  /** Opens a case for a new account with an event; answers its ID and account. */
  async function open(type: Parameters<typeof riskEvent>[1], attributes: object) {
    const accountId = `acct-erase-${randomUUID().slice(0, 8)}`;
    const opened = await call(
      r.api.url,
      'POST',
      '/v1/risk-events',
      BACKEND,
      riskEvent(accountId, type, attributes as never),
    );
    assert.equal(opened.status, 200, opened.text);
    return { accountId, caseId: opened.json.caseId as string };
  }

  /** Waits until the case has ended: archived, its record no longer open. */
  async function ended(accountId: string, caseId: string): Promise<number> {
    await eventually(async () => (await r.store.archive.find(caseId)) !== null, 30_000, 'archived');
    await eventually(async () => (await r.store.restrictions.of([accountId]))[0]?.open === false);
    const [a] = await r.store.db.query<{ ended_at: number }>(
      'SELECT ended_at FROM case_archive WHERE case_id = ?',
      [caseId],
    );
    const [b] = await r.store.db.query<{ updated_at: number }>(
      'SELECT updated_at FROM account_restrictions WHERE account_id = ?',
      [accountId],
    );
    return Math.max(Number(a!.ended_at), Number(b!.updated_at));
  }

  /** A case restored by the user's verification: no restriction, ended now. */
  async function restored(): Promise<{ accountId: string; endedAt: number }> {
    const { accountId, caseId } = await open('IDENTITY_CHECK', { matched: false, field: 'name' });
    const verified = await call(r.api.url, 'POST', `/v1/cases/${caseId}/verification`, BACKEND, {
      method: 'OTP',
      passed: true,
      requestId: `v-${randomUUID()}`,
    });
    assert.equal(verified.status, 200, verified.text);
    return { accountId, endedAt: await ended(accountId, caseId) };
  }

  it('an open case: CASE_OPEN, when requested and again when approved', async () => {
    const { accountId } = await open('IDENTITY_CHECK', { matched: false, field: 'name' });
    const refused = await requestErasure(r.api.url, accountId);
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.json.code, 'CASE_OPEN');
    // Requested while the account had nothing; a case opens before the approval.
    const later = `acct-erase-${randomUUID().slice(0, 8)}`;
    const requested = await requestErasure(r.api.url, later);
    assert.equal(requested.status, 202, requested.text);
    const opened = await call(
      r.api.url,
      'POST',
      '/v1/risk-events',
      BACKEND,
      riskEvent(later, 'IDENTITY_CHECK', { matched: false, field: 'name' }),
    );
    assert.equal(opened.status, 200);
    const approval = await approve(r.api.url, requested.json.erasureId);
    assert.equal(approval.status, 409, approval.text);
    assert.equal(approval.json.code, 'CASE_OPEN');
    const record = await call(r.api.url, 'GET', `/v1/erasures/${requested.json.erasureId}`, ADMIN_TWO);
    assert.equal(record.json.status, 'PENDING_APPROVAL', 'nothing was erased');
    assert.ok(
      (await r.store.db.query('SELECT 1 FROM account_keys WHERE account_id = ?', [later])).length === 1,
    );
  });

  it('a restriction in force (an upheld restriction): RESTRICTION_IN_FORCE', async () => {
    const { accountId, caseId } = await open('IDENTITY_CHECK', { matched: false, field: 'name' });
    const base = r.api.url;
    assert.equal(
      (
        await call(base, 'POST', `/v1/cases/${caseId}/appeal`, BACKEND, {
          statement: 'It is me.',
          requestId: `a-${randomUUID()}`,
        })
      ).status,
      200,
    );
    assert.equal((await call(base, 'POST', `/v1/cases/${caseId}/claim`, REVIEWER)).status, 200);
    const upheld = await call(base, 'POST', `/v1/cases/${caseId}/decision`, REVIEWER, {
      decision: 'UPHOLD',
      rationale: 'Documents do not match.',
      requestId: `u-${randomUUID()}`,
    });
    assert.equal(upheld.status, 200, upheld.text);
    await ended(accountId, caseId);
    const refused = await requestErasure(base, accountId);
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.json.code, 'RESTRICTION_IN_FORCE');
  });

  it('the requesting admin cannot approve (SAME_REVIEWER); requests are idempotent by requestId', async () => {
    const accountId = `acct-erase-${randomUUID().slice(0, 8)}`;
    const requestId = `er-${randomUUID()}`;
    const first = await requestErasure(r.api.url, accountId, requestId);
    assert.equal(first.status, 202, first.text);
    const again = await requestErasure(r.api.url, accountId, requestId);
    assert.deepEqual([again.status, again.json], [202, first.json], 'a repeat gets the first answer');
    const reused = await call(r.api.url, 'POST', `/v1/accounts/${accountId}/erasure`, ADMIN_ONE, {
      requestId,
      reason: 'CONSENT_WITHDRAWN',
    });
    assert.deepEqual([reused.status, reused.json.code], [409, 'IDEMPOTENCY_KEY_REUSED']);
    const second = await requestErasure(r.api.url, accountId);
    assert.deepEqual(
      [second.status, second.json.code, second.json.erasureId],
      [409, 'ERASURE_EXISTS', first.json.erasureId],
    );
    const self = await approve(r.api.url, first.json.erasureId, ADMIN_ONE);
    assert.deepEqual([self.status, self.json.code], [409, 'SAME_REVIEWER'], self.text);
    const approvalId = `ap-${randomUUID()}`;
    const approved = await approve(r.api.url, first.json.erasureId, ADMIN_TWO, approvalId);
    assert.equal(approved.status, 202, approved.text);
    const repeat = await approve(r.api.url, first.json.erasureId, ADMIN_TWO, approvalId);
    assert.deepEqual([repeat.status, repeat.json], [202, approved.json]);
    const unknown = await approve(r.api.url, 'er_0000000000000000000000');
    assert.deepEqual([unknown.status, unknown.json.code], [404, 'ERASURE_NOT_FOUND']);
  });

  it("the legal hold counts from the last case's end; the policy's legalHoldDays lengthens it, never shortens it", async () => {
    const { accountId, endedAt } = await restored();
    const expect = async (base: string, days: number) => {
      const refused = await requestErasure(base, accountId);
      assert.equal(refused.status, 409, refused.text);
      assert.equal(refused.json.code, 'LEGAL_HOLD');
      assert.equal(refused.json.holdUntil, holdUntil(endedAt, days));
      assert.equal(refused.json.holdDays, days);
    };
    await expect(await apiWith({ CORDON_ERASURE_MIN_HOLD_DAYS: '30' }), 30);
    const longer = policyWithHold(45);
    await expect(await apiWith({ CORDON_ERASURE_MIN_HOLD_DAYS: '30', CORDON_POLICY_FILE: longer }), 45);
    await expect(await apiWith({ CORDON_ERASURE_MIN_HOLD_DAYS: '0', CORDON_POLICY_FILE: longer }), 45);
    const shorter = policyWithHold(10);
    await expect(await apiWith({ CORDON_ERASURE_MIN_HOLD_DAYS: '30', CORDON_POLICY_FILE: shorter }), 30);
    // Without a hold (development, tests): accepted.
    const accepted = await requestErasure(r.api.url, accountId);
    assert.equal(accepted.status, 202, accepted.text);
  });

  it('an account closed for fraud, or ever under a regulatory hold, keeps the longest hold', async () => {
    const base = r.api.url;
    const breakGlass = (caseId: string, action: 'LIFT' | 'CLOSE') =>
      call(base, 'POST', `/v1/cases/${caseId}/break-glass`, SENIOR, {
        action,
        rationale: 'Decided in the fraud committee.',
        requestId: `bg-${randomUUID()}`,
      });
    const fraud = await open('FRAUD_REPORT', { source: 'card-network', confirmed: true });
    assert.equal((await breakGlass(fraud.caseId, 'CLOSE')).status, 200);
    const fraudEnded = await ended(fraud.accountId, fraud.caseId);
    const regulatory = await open('REGULATORY_HOLD', { reference: 'PBOC-2026-0042' });
    assert.equal((await breakGlass(regulatory.caseId, 'LIFT')).status, 200);
    const regulatoryEnded = await ended(regulatory.accountId, regulatory.caseId);
    // The same closure without a fraud code: a closed account is no restriction in force, and has no longer hold.
    const plain = await open('IDENTITY_CHECK', { matched: false, field: 'name' });
    assert.equal((await breakGlass(plain.caseId, 'CLOSE')).status, 200);
    await ended(plain.accountId, plain.caseId);

    for (const [accountId, endedAt] of [
      [fraud.accountId, fraudEnded],
      [regulatory.accountId, regulatoryEnded],
    ] as const) {
      const refused = await requestErasure(base, accountId);
      assert.equal(refused.status, 409, refused.text);
      assert.equal(refused.json.code, 'LEGAL_HOLD');
      assert.equal(refused.json.holdUntil, holdUntil(endedAt, LONGEST_HOLD_DAYS));
    }
    const accepted = await requestErasure(base, plain.accountId);
    assert.equal(accepted.status, 202, accepted.text);
    // Configuration and policy may lengthen it further, never shorten it.
    assert.equal(holdDaysOf({ minHoldDays: 0, policyHoldDays: 0, longestHold: true }), LONGEST_HOLD_DAYS);
    assert.equal(holdDaysOf({ minHoldDays: 5_000, policyHoldDays: 0, longestHold: true }), 5_000);
    assert.equal(holdDaysOf({ minHoldDays: 0, policyHoldDays: 6_000, longestHold: true }), 6_000);
    const view = { outcome: 'RESTORED', reasons: [{ code: 'EXTERNAL_FRAUD_REPORT' }], explanation: null };
    assert.equal(
      needsLongestHold(view as unknown as CaseView),
      false,
      'a fraud report that was not a closure',
    );
  });

  it('a run that stops midway reads FAILED with its reason; approving again resumes after its last step', async () => {
    const { accountId } = await restored();
    // Temporal out of reach for the first run's deletion: the outside world failing, the real eraser after.
    const real = new TemporalHistoryEraser(r.h.client);
    let outage = true;
    const service = new ErasureService({
      store: r.store,
      evidence: r.api.evidence,
      histories: {
        eraseRuns: (account) => {
          if (!outage) return real.eraseRuns(account);
          outage = false;
          return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 14 }));
        },
      },
      logger: quiet,
      minHoldDays: 0,
      policyHoldDays: () => 0,
    });
    const { erasureId } = await service.request(
      accountId,
      { requestId: 'r1', reason: 'RETENTION_ENDED' },
      'admin-one',
    );
    const failed = await service.approve(erasureId, { requestId: 'a1' }, 'admin-two');
    assert.equal(failed.status, 'FAILED');
    assert.equal(failed.failure?.code, 'TEMPORAL_UNAVAILABLE');
    const stopped = await service.get(erasureId);
    assert.deepEqual(
      [stopped.status, stopped.lastStep, stopped.failure?.code],
      ['FAILED', 'CASES', 'TEMPORAL_UNAVAILABLE'],
    );
    assert.equal(
      (await r.store.db.query('SELECT 1 FROM account_keys WHERE account_id = ?', [accountId])).length,
      1,
      'the key is not destroyed before the histories are gone',
    );
    assert.deepEqual(await service.approve(erasureId, { requestId: 'a1' }, 'admin-two'), failed, 'a repeat');
    // Another approval resumes it, from the histories on.
    const resumed = await service.approve(erasureId, { requestId: 'a2' }, 'admin-two');
    assert.ok(['IN_PROGRESS', 'DONE'].includes(resumed.status), JSON.stringify(resumed));
    const done = await eventually(
      async () => {
        const got = await service.get(erasureId);
        return got.status === 'DONE' && got;
      },
      150_000,
      'resumed to the end',
    );
    assert.equal(done.attempts, 2);
    assert.equal(done.failure, null);
    assert.deepEqual(
      done.approvals.map((a) => a.by),
      ['admin-two', 'admin-two'],
    );
    assert.ok(done.counts.notices! >= 1 && done.counts.workflowRuns! >= 1 && done.counts.dataKey === 1);

    // A process that took a run and died: once its lease ends the run reads as interrupted, and is resumed.
    const other = `acct-erase-${randomUUID().slice(0, 8)}`;
    const second = await service.request(other, { requestId: 'r2', reason: 'RETENTION_ENDED' }, 'admin-one');
    assert.ok(await service.records.claim(second.erasureId, 'admin-two', 1));
    await eventually(async () => (await service.get(second.erasureId)).failure?.code === 'INTERRUPTED');
    assert.equal((await service.get(second.erasureId)).status, 'FAILED');
    const finished = await service.approve(second.erasureId, { requestId: 'a3' }, 'admin-two');
    assert.equal(finished.status, 'DONE', JSON.stringify(finished));
  });
});
