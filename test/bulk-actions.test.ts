// Issue 20, the reviewed bulk rollback, over real HTTP with workers on the Temporal dev server: a senior's dry
// run lists exactly the matching open cases and changes nothing; another senior's approval lifts them through
// each case's break-glass (skipping a case that ended and one whose evidence changed since the dry run); RESCORE
// lifts only the cases the running policy no longer restricts; a worker shut down in the middle acts on no case
// twice.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { scorerFromConfig } from '../activities/scorer';
import { parseConfig } from '../infra/config';
import { createCaseWorker } from '../worker/create';
import { requires, requiresInTest } from './helpers/requirements';
import { launchBrowser, openPage, signIn } from './helpers/browser';
import { quiet } from './helpers/deps';
import { riskEvent, uniqueAccount } from './helpers/events';
import { callApi, eventually, startApiHarness, type ApiHarness } from './helpers/harness';
import { sharedDevServer, testCodec, workflowBundle } from './helpers/servers';

const SENIOR_2 = 'senior-two-token-0001';
const DEFAULT_POLICY = JSON.parse(readFileSync(join(__dirname, '..', 'policy', 'default.json'), 'utf8'));

describe('reviewed bulk rollback (issue 20)', function () {
  requires('temporal');
  this.timeout(120_000);
  let env: ApiHarness;
  let policyFile: string;
  const call = (method: string, path: string, token: string, body?: unknown) =>
    callApi(env.api.url, method, path, token, body);

  before(async () => {
    policyFile = join(mkdtempSync(join(tmpdir(), 'cordon-bulk-')), 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ ...DEFAULT_POLICY, version: 'bulk-1' }));
    env = await startApiHarness(quiet, {
      CORDON_POLICY_FILE: policyFile,
      CORDON_BULK_RATE: '4',
      CORDON_TOKENS: `${SENIOR_2}=senior:senior-2`,
    });
    // The worker follows the same policy file, as a worker process does (CORDON_POLICY_FILE).
    env.h.deps.scorer = scorerFromConfig(parseConfig({ CORDON_POLICY_FILE: policyFile }), quiet);
  });
  after(async () => {
    env.h.deps.scorer.close?.();
    await env?.close().catch(() => undefined);
  });

  /** A restricted account: its case ID. */
  const restrict = async (
    account: string,
    type = 'IDENTITY_CHECK',
    attributes: object = { matched: false },
  ) => {
    const r = await call(
      'POST',
      '/v1/risk-events',
      'dev-backend',
      riskEvent(account, type as never, attributes as never),
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.notEqual(r.body.decision.tier, 'NONE');
    return r.body.caseId as string;
  };
  const dryRun = (body: object, token = 'dev-senior') =>
    call('POST', '/v1/bulk-actions', token, { requestId: `req-${randomUUID()}`, ...body });
  const restricted = async (account: string) =>
    (await call('GET', `/v1/accounts/${account}/restriction`, 'dev-backend')).body.restricted as boolean;
  const caseOf = async (caseId: string) => (await call('GET', `/v1/cases/${caseId}`, 'dev-senior')).body;
  const finished = (bulkId: string) =>
    eventually(
      async () => {
        const v = (await call('GET', `/v1/bulk-actions/${bulkId}`, 'dev-senior')).body;
        return v.status !== 'RUNNING' && v;
      },
      60_000,
      'the bulk action ends',
    );
  /** The cases' IDs a dry run by rule and opening window matches, within this test's own window. */
  const windowOf = (from: string) => ({
    openedFrom: from,
    openedTo: new Date(Date.now() + 60_000).toISOString(),
  });

  it('validates the selector with field paths; a dry run changes nothing and lists exactly the matching cases', async () => {
    const bad = await call('POST', '/v1/bulk-actions', 'dev-senior', {
      requestId: 'r-1',
      selector: { status: 'RESTORED' },
      action: 'UNDO',
      explanation: { text: ' ' },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('content-type')?.startsWith('application/problem+json'), true);
    const paths = (bad.body.errors as { path: string }[]).map((e) => e.path).sort();
    assert.ok(
      paths.some((p) => p.includes('selector')) && paths.some((p) => p.includes('action')),
      String(paths),
    );
    const empty = await dryRun({ selector: {}, action: 'LIFT', explanation: { text: 'x' } });
    assert.equal(empty.status, 400);
    // White space alone is blank, and the published document says so too (schemathesis sent a tab the
    // document allowed and the API refused).
    const tab = await dryRun({
      selector: { status: 'LIMITED' },
      action: 'LIFT',
      explanation: { text: '\t' },
    });
    assert.equal(tab.status, 400);
    assert.deepEqual(
      [...new Set((tab.body.errors as { path: string }[]).map((e) => e.path))],
      ['body.explanation.text'],
    );
    const doc = (await (await fetch(`${env.api.url}/openapi.json`)).json()) as {
      paths: Record<string, { post: { requestBody: { content: Record<string, { schema: unknown }> } } }>;
    };
    const textSchema = JSON.stringify(
      doc.paths['/v1/bulk-actions']!.post.requestBody.content['application/json']!.schema,
    ).match(/"text":\{[^}]*\}/)?.[0];
    const pattern = (JSON.parse(`{${textSchema}}`) as { text: { pattern?: string } }).text.pattern;
    assert.ok(pattern, `explanation.text in the document: ${textSchema}`);
    assert.equal(new RegExp(pattern).test('\t \n'), false, 'the document refuses white space alone');
    assert.equal(new RegExp(pattern).test(' undo '), true);

    const from = new Date().toISOString();
    const accounts = [uniqueAccount('bk'), uniqueAccount('bk')];
    const cases = [await restrict(accounts[0]!), await restrict(accounts[1]!)];
    // Restricted by another rule: not matched by the identity rule's selector.
    const other = uniqueAccount('bk');
    await restrict(other, 'FRAUD_REPORT', { source: 'card-network', confirmed: false });
    const r = await dryRun({
      selector: { rule: 'identity-mismatch', ...windowOf(from) },
      action: 'LIFT',
      explanation: { text: 'The identity source misfired.' },
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(r.body.status, 'PENDING_APPROVAL');
    assert.equal(r.body.matched, 2);
    assert.deepEqual([...r.body.sample].sort(), [...cases].sort());
    for (const a of [...accounts, other]) assert.equal(await restricted(a), true, 'nothing was lifted');
    const view = (await call('GET', `/v1/bulk-actions/${r.body.bulkId}`, 'dev-senior')).body;
    assert.equal(view.total, 2);
    assert.equal(view.done, 0);
  });

  it('the same requestId returns the same bulk action; another body is IDEMPOTENCY_KEY_REUSED', async () => {
    const body = {
      requestId: `req-${randomUUID()}`,
      selector: { rule: 'identity-mismatch', ...windowOf(new Date().toISOString()) },
      action: 'LIFT',
      explanation: { text: 'Same.' },
    };
    const first = await call('POST', '/v1/bulk-actions', 'dev-senior', body);
    const again = await call('POST', '/v1/bulk-actions', 'dev-senior', body);
    assert.equal(again.status, 202);
    assert.deepEqual(again.body, first.body);
    const other = await call('POST', '/v1/bulk-actions', 'dev-senior', { ...body, action: 'RESCORE' });
    assert.equal(other.status, 409);
    assert.equal(other.body.code, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('the requester cannot approve; a second senior lifts every case, skipping one that ended and one whose evidence changed', async () => {
    const from = new Date().toISOString();
    const accounts = [1, 2, 3, 4].map(() => uniqueAccount('bk'));
    const cases: string[] = [];
    for (const a of accounts) cases.push(await restrict(a));
    const r = await dryRun({
      selector: { rule: 'identity-mismatch', ...windowOf(from) },
      action: 'LIFT',
      explanation: { code: 'RESTRICTED_IN_ERROR', text: 'The identity source misfired.' },
    });
    assert.equal(r.body.matched, 4);
    const bulkId = r.body.bulkId as string;
    const same = await call('POST', `/v1/bulk-actions/${bulkId}/approval`, 'dev-senior');
    assert.equal(same.status, 409);
    assert.equal(same.body.code, 'SAME_REVIEWER');
    // After the dry run: case 3 ends (a senior's own break-glass), case 4 gains evidence (the user appeals).
    const ended = await call('POST', `/v1/cases/${cases[2]}/break-glass`, SENIOR_2, {
      action: 'LIFT',
      rationale: 'Checked in branch.',
      requestId: `b-${randomUUID()}`,
    });
    assert.equal(ended.status, 200, JSON.stringify(ended.body));
    const before = (await caseOf(cases[3]!)).evidenceVersion;
    const appeal = await call('POST', `/v1/cases/${cases[3]}/appeal`, 'dev-backend', {
      statement: 'It was me.',
      requestId: `a-${randomUUID()}`,
    });
    assert.equal(appeal.status, 200, JSON.stringify(appeal.body));
    assert.notEqual((await caseOf(cases[3]!)).evidenceVersion, before, 'the appeal is new evidence');

    const ok = await call('POST', `/v1/bulk-actions/${bulkId}/approval`, SENIOR_2);
    assert.equal(ok.status, 202, JSON.stringify(ok.body));
    const end = await finished(bulkId);
    assert.equal(end.status, 'DONE');
    assert.equal(end.done, 2);
    assert.deepEqual(
      [...end.skipped].sort((a: { caseId: string }, b: { caseId: string }) =>
        a.caseId.localeCompare(b.caseId),
      ),
      [
        { caseId: cases[2], reason: 'CASE_ENDED' },
        { caseId: cases[3], reason: 'EVIDENCE_CHANGED' },
      ].sort((a, b) => a.caseId!.localeCompare(b.caseId!)),
    );
    for (const i of [0, 1]) {
      assert.equal(await restricted(accounts[i]!), false);
      const c = await caseOf(cases[i]!);
      assert.equal(c.outcome, 'RESTORED');
      const glass = c.timeline.filter((e: { type: string }) => e.type === 'BREAK_GLASS');
      assert.equal(glass.length, 1);
      assert.match(glass[0].rationale, new RegExp(bulkId));
      assert.equal(glass[0].actor.id, 'senior-2');
      // The user's notice carries the explanation.
      await eventually(
        async () =>
          env.h.channel.sent.some(
            (s) =>
              s.notice.caseId === cases[i] &&
              s.notice.template === 'OUTCOME' &&
              JSON.stringify(s).includes('The identity source misfired.'),
          ),
        20_000,
        'the outcome notice',
      );
    }
    assert.equal(await restricted(accounts[3]!), true, 'the case whose evidence changed stays restricted');
  });

  it('RESCORE after a policy change lifts what the rule alone restricted; POLICY_CHANGED; cancel', async () => {
    const from = new Date().toISOString();
    const alone = [uniqueAccount('rs'), uniqueAccount('rs')];
    const both = uniqueAccount('rs');
    const aloneCases = [await restrict(alone[0]!), await restrict(alone[1]!)];
    const bothCase = await restrict(both);
    await restrict(both, 'FRAUD_REPORT', { source: 'card-network', confirmed: false });
    // The misfiring rule made harmless (a new policy version): both processes take the file.
    const fixed = JSON.parse(JSON.stringify(DEFAULT_POLICY));
    fixed.version = 'bulk-2';
    fixed.rules = fixed.rules.filter((x: { id: string }) => x.id !== 'identity-mismatch');
    writeFileSync(policyFile, JSON.stringify(fixed));
    await eventually(
      async () => env.h.deps.scorer.policy.policy.version === 'bulk-2',
      20_000,
      'the worker reloads',
    );
    const selector = { rule: 'identity-mismatch', ...windowOf(from) };
    const rescore = () =>
      dryRun({ selector, action: 'RESCORE', explanation: { text: 'The rule misfired.' } });
    const r = await eventually(
      async () => {
        const x = await rescore();
        const v = (await call('GET', `/v1/bulk-actions/${x.body.bulkId}`, 'dev-senior')).body;
        return v.policyHash === env.h.deps.scorer.policy.hash && x;
      },
      20_000,
      'the API reloads',
    );
    assert.equal(r.body.matched, 3);

    // Cancel a pending one; a RESCORE whose policy changed since its dry run is refused.
    const pending = await rescore();
    const cancelled = await call('POST', `/v1/bulk-actions/${pending.body.bulkId}/cancel`, 'dev-senior');
    assert.equal(cancelled.body.status, 'CANCELLED');
    const stale = await rescore();
    writeFileSync(policyFile, JSON.stringify({ ...fixed, version: 'bulk-3' }));
    await eventually(async () => env.h.deps.scorer.policy.policy.version === 'bulk-3', 20_000, 'reloaded');
    await eventually(
      async () => {
        const x = await call('POST', `/v1/bulk-actions/${stale.body.bulkId}/approval`, SENIOR_2);
        return x.status === 409 && x.body.code === 'POLICY_CHANGED';
      },
      20_000,
      'POLICY_CHANGED',
    );
    // Back to the policy of the first dry run: it may be approved.
    writeFileSync(policyFile, JSON.stringify(fixed));
    await eventually(
      async () =>
        env.h.deps.scorer.policy.hash ===
        (await call('GET', `/v1/bulk-actions/${r.body.bulkId}`, 'dev-senior')).body.policyHash,
      20_000,
      'reloaded',
    );
    const ok = await eventually(
      async () => {
        const x = await call('POST', `/v1/bulk-actions/${r.body.bulkId}/approval`, SENIOR_2);
        return x.status === 202 && x;
      },
      20_000,
      'approved',
    );
    assert.equal(ok.body.total, 3);
    const end = await finished(r.body.bulkId);
    assert.equal(end.status, 'DONE');
    assert.equal(end.done, 2);
    assert.deepEqual(end.skipped, [{ caseId: bothCase, reason: 'STILL_RESTRICTED' }]);
    for (const a of alone) assert.equal(await restricted(a), false);
    assert.equal(await restricted(both), true);
    for (const c of aloneCases) assert.equal((await caseOf(c)).outcome, 'RESTORED');
    // Put the policy back for the next test.
    writeFileSync(policyFile, JSON.stringify({ ...DEFAULT_POLICY, version: 'bulk-1' }));
    await eventually(async () => env.h.deps.scorer.policy.policy.version === 'bulk-1', 20_000, 'reloaded');
  });

  it('in the console (headless Chromium): the requester sees who approves; a second senior approves and watches it finish', async function () {
    requiresInTest(this, 'chromium');
    const from = new Date().toISOString();
    const accounts = [uniqueAccount('bkc'), uniqueAccount('bkc')];
    for (const a of accounts) await restrict(a);
    const r = await dryRun({
      selector: { rule: 'identity-mismatch', ...windowOf(from) },
      action: 'LIFT',
      explanation: { text: 'Lifted from the console.' },
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const bulkId = r.body.bulkId as string;
    const browser = await launchBrowser();
    try {
      const mine = await openPage(browser, env.api.url);
      await signIn(mine.page, 'dev-senior', `/console/bulk-actions/${bulkId}`);
      assert.match(await mine.page.locator('#bulk').innerText(), /Another senior or an admin approves it/);
      assert.equal(
        await mine.page.locator('form[action$="/approval"]').count(),
        0,
        'no approve button for the requester',
      );
      await mine.context.close();
      const other = await openPage(browser, env.api.url, 'zh-CN');
      await signIn(other.page, SENIOR_2, '/console/bulk-actions');
      await other.page.locator(`tr[data-bulk-id="${bulkId}"] a`).click();
      await Promise.all([
        other.page.waitForURL(new RegExp(`/console/bulk-actions/${bulkId}$`)),
        other.page.locator('form[action$="/approval"] button').click(),
      ]);
      // The page refreshes itself until the action has ended.
      await other.page.locator('#bulk[data-status="DONE"]').waitFor({ timeout: 60_000 });
      assert.match(await other.page.locator('#bulk').innerText(), /共 2 个，已完成 2 个/);
      assert.deepEqual(other.problems, []);
    } finally {
      await browser.close();
    }
    for (const a of accounts) assert.equal(await restricted(a), false);
  });

  it('through a worker shut down hard in the middle, no case is acted on twice and all are done', async () => {
    const from = new Date().toISOString();
    const accounts = [1, 2, 3, 4, 5, 6, 7, 8].map(() => uniqueAccount('wk'));
    const cases: string[] = [];
    for (const a of accounts) cases.push(await restrict(a));
    const r = await dryRun({
      selector: { rule: 'identity-mismatch', ...windowOf(from) },
      action: 'LIFT',
      explanation: { text: 'Misfired.' },
    });
    assert.equal(r.body.matched, 8);
    // A worker of its own connection (the SDK refuses a second worker of one task queue on one connection).
    const native = await NativeConnection.connect({ address: (await sharedDevServer()).address });
    const second: Worker = await createCaseWorker({
      connection: native,
      namespace: 'default',
      taskQueue: env.h.taskQueue,
      deps: env.h.deps,
      codec: testCodec,
      workflowBundle: await workflowBundle(),
    });
    const secondDone = second.run();
    try {
      assert.equal((await call('POST', `/v1/bulk-actions/${r.body.bulkId}/approval`, SENIOR_2)).status, 202);
      await eventually(
        async () => {
          const v = (await call('GET', `/v1/bulk-actions/${r.body.bulkId}`, 'dev-senior')).body;
          return v.done >= 2;
        },
        30_000,
        'two cases done',
      );
      env.h.worker.shutdown(); // no grace: its activities in flight are cancelled, its workflows evicted
      const end = await finished(r.body.bulkId);
      assert.equal(end.status, 'DONE');
      assert.equal(end.done, 8, JSON.stringify(end));
      for (const c of cases) {
        const view = await caseOf(c);
        assert.equal(view.timeline.filter((e: { type: string }) => e.type === 'BREAK_GLASS').length, 1);
      }
      for (const a of accounts) assert.equal(await restricted(a), false);
    } finally {
      second.shutdown();
      await secondDone;
      await native.close();
    }
  });
});
