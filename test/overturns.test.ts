// Overturn rates over real HTTP against a real worker: cases restricted by a rule, then lifted by a reviewer,
// by the user's verification, or upheld, end in Cordon's archive; GET /v1/reports/overturns counts them.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { riskEvent, uniqueAccount } from './helpers/events';
import { callApi, eventually, startApiHarness, type ApiHarness } from './helpers/harness';
import { requires } from './helpers/requirements';

describe('overturn report', function () {
  requires('temporal');
  this.timeout(180_000);
  let running: ApiHarness;
  before(async () => (running = await startApiHarness()));
  after(async () => running?.close());

  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await callApi(running.api.url, method, path, token, body);
    assert.ok(res.status < 300, `${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as Record<string, any>;
  };
  const freeze = async () =>
    (
      await call(
        'POST',
        '/v1/risk-events',
        'dev-backend',
        riskEvent(uniqueAccount('overturn'), 'IDENTITY_CHECK', { matched: false }),
      )
    ).caseId as string;
  const review = async (caseId: string, decision: 'UNLOCK' | 'UPHOLD') => {
    await call('POST', `/v1/cases/${caseId}/appeal`, 'dev-backend', {
      statement: 'It was me.',
      requestId: `a-${randomUUID()}`,
    });
    await call('POST', `/v1/cases/${caseId}/claim`, 'dev-reviewer-1');
    await call('POST', `/v1/cases/${caseId}/decision`, 'dev-reviewer-1', {
      decision,
      rationale: 'Checked against the documents.',
      requestId: `d-${randomUUID()}`,
    });
  };
  const archived = (caseId: string) =>
    eventually(
      async () => (await running.h.store.archive.find(caseId)) !== null,
      60_000,
      `${caseId} archived`,
    );

  it('counts restrictions lifted by reviewers and by verification against those upheld, per rule and reason', async () => {
    const from = new Date(Date.now() - 1_000).toISOString();
    const unlocked = await freeze();
    await review(unlocked, 'UNLOCK');
    const upheld = await freeze();
    await review(upheld, 'UPHOLD');
    const verified = await freeze();
    await call('POST', `/v1/cases/${verified}/verification`, 'dev-backend', {
      method: 'DOCUMENT',
      passed: true,
      requestId: `v-${randomUUID()}`,
    });
    await Promise.all([unlocked, upheld, verified].map(archived));

    const to = new Date(Date.now() + 1_000).toISOString();
    const report = await call(
      'GET',
      `/v1/reports/overturns?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
      'dev-analyst',
    );
    // Other tests' cases may share the window and the database: this test's three are at least there.
    const rule = (report.rules as Record<string, any>[]).find((r) => r.key === 'identity-mismatch')!;
    const reason = (report.reasons as Record<string, any>[]).find((r) => r.key === 'IDENTITY_MISMATCH')!;
    for (const row of [rule, reason]) {
      assert.ok(row, JSON.stringify(report));
      assert.ok(row.liftedByReviewer >= 1, JSON.stringify(row));
      assert.ok(row.liftedByVerification >= 1, JSON.stringify(row));
      assert.ok(row.upheld >= 1, JSON.stringify(row));
      assert.equal(row.overturned, row.liftedByReviewer + row.liftedByVerification);
      assert.equal(row.rate, row.overturned / row.decided);
      assert.ok(row.interval.low <= row.rate && row.rate <= row.interval.high, JSON.stringify(row.interval));
    }

    // A window before these cases opened has none of them.
    const before = await call(
      'GET',
      `/v1/reports/overturns?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z`,
      'dev-analyst',
    );
    assert.equal(before.cases, 0);
    assert.deepEqual(before.rules, []);
  });
});
