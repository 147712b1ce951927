// Issue 20, "done when": a misfiring rule trips its guard, and a reviewed bulk RESCORE restores the accounts it
// wrongly froze while leaving the rightly frozen ones, through a worker process killed with SIGKILL mid-run. Two
// worker processes (as deployed: `node worker/main.ts`, a SQLite file shared with the API in this process) on
// the Temporal dev server; the policy file is corrected while everything runs, as an operator would.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, type RunningApi } from '../api/main';
import { parseConfig } from '../infra/config';
import { freePort } from '../scripts/dev-server';
import { killAll, processTree, spawnCommand, waitForOutput, type Started } from './helpers/cordon-process';
import { quiet } from './helpers/deps';
import { riskEvent, uniqueAccount } from './helpers/events';
import { callApi, eventually } from './helpers/harness';
import { requires } from './helpers/requirements';
import { sharedDevServer, TEST_CODEC_KEYS, workflowBundle } from './helpers/servers';

const SENIOR_2 = 'misfire-senior-token-0002';
const DEFAULT_POLICY = JSON.parse(readFileSync(join(__dirname, '..', 'policy', 'default.json'), 'utf8'));

describe('a misfiring rule: its guard trips, and a bulk RESCORE undoes it through a worker killed mid-run (issue 20)', function () {
  requires('temporal');
  this.timeout(300_000);
  let api: RunningApi | undefined;
  const workers: Started[] = [];
  let policyFile: string;
  let env: Record<string, string>;
  const call = (method: string, path: string, token: string, body?: unknown) =>
    callApi(api!.url, method, path, token, body);
  const worker = async () => {
    const w = spawnCommand(process.execPath, ['--import', 'tsx', 'worker/main.ts'], env);
    workers.push(w);
    await waitForOutput(w, 'worker started', 90_000);
    return w;
  };

  before(async function () {
    this.timeout(180_000);
    const dataDir = mkdtempSync(join(tmpdir(), 'cordon-misfire-'));
    policyFile = join(dataDir, 'policy.json');
    const policy = JSON.parse(JSON.stringify(DEFAULT_POLICY));
    policy.version = 'misfire-1';
    policy.rules.find((r: { id: string }) => r.id === 'identity-mismatch').guard = { maxPerHour: 3 };
    writeFileSync(policyFile, JSON.stringify(policy));
    const bundle = join(dataDir, 'workflow-bundle.js');
    writeFileSync(bundle, (await workflowBundle()).code);
    env = {
      TEMPORAL_ADDRESS: (await sharedDevServer()).address,
      CORDON_TASK_QUEUE: `tq-misfire-${randomUUID()}`,
      CORDON_DATA_DIR: dataDir,
      CORDON_CODEC_KEYS: TEST_CODEC_KEYS,
      CORDON_WORKFLOW_BUNDLE: bundle,
      CORDON_POLICY_FILE: policyFile,
      CORDON_BULK_RATE: '2',
      CORDON_TOKENS: `${SENIOR_2}=senior:senior-2`,
    };
    await worker();
    await worker();
    api = await startApi(parseConfig({ ...env, PORT: String(await freePort()) }), quiet);
  });
  after(async () => {
    await api?.close();
    killAll(workers.flatMap((w) => (w.child.pid ? processTree(w.child.pid) : [])));
  });

  it('trips, is fixed, and is rolled back: the wrongly frozen restored, the rightly frozen kept, each case once', async () => {
    const from = new Date(Date.now() - 1_000).toISOString();
    const post = async (event: unknown) => {
      const r = await call('POST', '/v1/risk-events', 'dev-backend', event);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body;
    };
    // The identity source misfires: six accounts frozen for a mismatch alone (the guard trips past three)...
    const wrongly = Array.from({ length: 6 }, () => uniqueAccount('misfired'));
    const caseOf = new Map<string, string>();
    for (const a of wrongly) {
      const answer = await post(riskEvent(a, 'IDENTITY_CHECK', { matched: false }));
      assert.equal(answer.decision.tier, 'FREEZE');
      caseOf.set(a, answer.caseId as string);
    }
    // ...and two that a fraud report restricts too: rightly restricted whatever the identity source says.
    const rightly = [uniqueAccount('rightly'), uniqueAccount('rightly')];
    for (const a of rightly) {
      await post(riskEvent(a, 'IDENTITY_CHECK', { matched: false }));
      await post(riskEvent(a, 'FRAUD_REPORT', { source: 'card-network', confirmed: false }));
    }
    const guards = await call('GET', '/v1/guards', 'dev-senior');
    const trip = guards.body.guards.find((g: { ruleId: string }) => g.ruleId === 'identity-mismatch').trip;
    assert.ok(trip, JSON.stringify(guards.body));
    assert.equal(trip.onTrip, 'alert', 'it alerts; the rule kept restricting');

    // The operator corrects the policy: the API and both workers take the file.
    const fixed = JSON.parse(readFileSync(policyFile, 'utf8'));
    fixed.version = 'misfire-2';
    fixed.rules = fixed.rules.filter((r: { id: string }) => r.id !== 'identity-mismatch');
    writeFileSync(policyFile, JSON.stringify(fixed));
    await eventually(
      async () => (await call('GET', '/healthz', 'dev-senior')).body.policyVersion === 'misfire-2',
      30_000,
    );
    for (const w of workers) await waitForOutput(w, 'policy reloaded', 30_000);

    // A senior's dry run by the rule and the misfire's window; another senior approves.
    const dry = await call('POST', '/v1/bulk-actions', 'dev-senior', {
      requestId: `misfire-${randomUUID()}`,
      selector: { rule: 'identity-mismatch', openedFrom: from },
      action: 'RESCORE',
      explanation: { text: 'The identity source misfired; your account is restored.' },
    });
    assert.equal(dry.status, 202, JSON.stringify(dry.body));
    assert.equal(dry.body.matched, wrongly.length + rightly.length);
    const bulkId = dry.body.bulkId as string;
    assert.equal((await call('POST', `/v1/bulk-actions/${bulkId}/approval`, SENIOR_2)).status, 202);

    // Mid-run, one worker process is killed outright; the other goes on (a third joins, as an orchestrator would).
    await eventually(async () => {
      const v = (await call('GET', `/v1/bulk-actions/${bulkId}`, 'dev-senior')).body;
      return v.done + v.skipped.length >= 2 || false;
    }, 60_000);
    const victim = workers[0]!;
    killAll(processTree(victim.child.pid!));
    await worker();
    const ended = await eventually(
      async () => {
        const v = (await call('GET', `/v1/bulk-actions/${bulkId}`, 'dev-senior')).body;
        return v.status === 'DONE' ? v : false;
      },
      180_000,
      'the bulk action ends',
    );
    assert.equal(ended.done, wrongly.length, JSON.stringify(ended));
    assert.deepEqual(
      (ended.skipped as { reason: string }[]).map((s) => s.reason),
      ['STILL_RESTRICTED', 'STILL_RESTRICTED'],
    );
    assert.equal(ended.failed, 0);
    for (const a of wrongly) {
      const r = await call('GET', `/v1/accounts/${a}/restriction`, 'dev-backend');
      assert.equal(r.body.restricted, false, `${a} restored`);
      const view = await eventually(async () => {
        const got = await call('GET', `/v1/cases/${caseOf.get(a)}`, 'dev-senior');
        return got.status === 200 ? got : false;
      });
      const lifts = (view.body.timeline as { type: string; rationale?: string }[]).filter(
        (e) => e.type === 'BREAK_GLASS' && String(e.rationale).includes(bulkId),
      );
      assert.equal(lifts.length, 1, `${a}: acted on once`);
      assert.equal(view.body.outcome, 'RESTORED');
    }
    for (const a of rightly)
      assert.equal((await call('GET', `/v1/accounts/${a}/restriction`, 'dev-backend')).body.restricted, true);
  });
});
