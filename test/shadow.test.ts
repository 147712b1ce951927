// Shadow mode over real HTTP against a real worker: a candidate policy scores every live event after its answer,
// changes nothing, and its disagreements are served by GET /v1/reports/shadow.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, type RunningApi } from '../api/main';
import { disagreement } from '../api/shadow';
import { parseConfig } from '../infra/config';
import { quiet } from './helpers/deps';
import { riskEvent, uniqueAccount } from './helpers/events';
import { callApi, newHarness, type Harness } from './helpers/harness';
import { sharedDevServer, TEST_CODEC_KEYS } from './helpers/servers';
import { requires } from './helpers/requirements';

const DEFAULT_POLICY = join(__dirname, '..', 'policy', 'default.json');

describe('shadow mode', function () {
  requires('temporal');
  this.timeout(120_000);
  let h: Harness;
  let api: RunningApi;
  let workerDone: Promise<void>;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cordon-shadow-'));
    // The candidate: an identity mismatch weighs nothing, so it would restrict nobody for it.
    const candidate = JSON.parse(readFileSync(DEFAULT_POLICY, 'utf8'));
    candidate.version = 'candidate-1';
    candidate.rules = candidate.rules.filter((r: { id: string }) => r.id !== 'identity-mismatch');
    writeFileSync(join(dir, 'candidate.json'), JSON.stringify(candidate));
    h = await newHarness();
    workerDone = h.worker.run();
    api = await startApi(
      parseConfig({
        PORT: '0',
        TEMPORAL_ADDRESS: (await sharedDevServer()).address,
        CORDON_TASK_QUEUE: h.taskQueue,
        CORDON_CODEC_KEYS: TEST_CODEC_KEYS,
        CORDON_DATA_DIR: dir,
        CORDON_SHADOW_POLICY: join(dir, 'candidate.json'),
      }),
      quiet,
      undefined,
      h.store,
    );
  });

  after(async () => {
    await api?.close();
    h?.worker.shutdown();
    await workerDone;
    rmSync(dir, { recursive: true, force: true });
  });

  const call = (method: string, path: string, token: string, body?: unknown) =>
    callApi(api.url, method, path, token, body);

  it('records where the candidate disagrees, with no effect on the live answer or the case', async () => {
    const from = new Date(Date.now() - 1_000).toISOString();
    const frozen = uniqueAccount('shadow-frozen');
    const calm = uniqueAccount('shadow-calm');
    const live = await call(
      'POST',
      '/v1/risk-events',
      'dev-backend',
      riskEvent(frozen, 'IDENTITY_CHECK', { matched: false }),
    );
    assert.equal(live.status, 200);
    assert.equal(live.body.decision.tier, 'FREEZE', 'the live policy decides, whatever the candidate says');
    const agreed = await call(
      'POST',
      '/v1/risk-events',
      'dev-backend',
      riskEvent(calm, 'LOGIN', { newDevice: false, geoDistanceKm: 3, minutesSinceLastLogin: 600 }),
    );
    assert.equal(agreed.status, 200);
    // A repeat is answered from the first answer and scored in shadow only once.
    const again = await call('POST', '/v1/risk-events', 'dev-backend', {
      ...riskEvent(frozen, 'IDENTITY_CHECK', { matched: false }),
      eventId: live.body.eventId,
    });
    assert.equal(again.body.duplicate, true);

    let report: Record<string, any> = {};
    for (let i = 0; i < 50; i++) {
      report = (await call('GET', `/v1/reports/shadow?from=${encodeURIComponent(from)}`, 'dev-analyst')).body;
      if (report.scored >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(report.candidatePolicyVersion, 'candidate-1');
    assert.equal(report.scored, 2, JSON.stringify(report));
    assert.equal(report.disagreements, 1);
    assert.equal(report.disagreementRate, 0.5);
    assert.deepEqual(report.transitions, [{ liveTier: 'FREEZE', candidateTier: 'NONE', count: 1 }]);
    const [d] = report.latest;
    assert.equal(d.eventId, live.body.eventId);
    assert.equal(d.accountId, frozen);
    assert.deepEqual(d.liveReasons, ['IDENTITY_MISMATCH']);
    assert.deepEqual(d.candidateReasons, []);
    assert.equal(d.liveVersion, live.body.decision.policyVersion);

    // Nothing changed because of the candidate: the account is frozen, the calm one is not.
    const restriction = await call('GET', `/v1/accounts/${frozen}/restriction`, 'dev-backend');
    assert.equal(restriction.body.tier, 'FREEZE');
    assert.equal(
      (await call('GET', `/v1/accounts/${calm}/restriction`, 'dev-backend')).body.restricted,
      false,
    );
  });

  it('a window is checked: from after to is a 400 naming the field; reviewers may not read it', async () => {
    const bad = await call(
      'GET',
      '/v1/reports/shadow?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z',
      'dev-analyst',
    );
    assert.equal(bad.status, 400);
    assert.ok(JSON.stringify(bad.body).includes('from'), JSON.stringify(bad.body));
    assert.equal((await call('GET', '/v1/reports/shadow', 'dev-reviewer-1')).status, 403);
    const empty = await call(
      'GET',
      '/v1/reports/shadow?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z',
      'dev-analyst',
    );
    assert.equal(empty.status, 200);
    assert.equal(empty.body.scored, 0);
    assert.equal(empty.body.disagreementRate, null);
  });

  it('two decisions disagree on the tier or on the reason codes, never on the score alone', () => {
    const event = riskEvent('acct-1', 'IDENTITY_CHECK', { matched: false });
    const decision = (tier: string, score: number, codes: string[]) =>
      ({
        tier,
        score,
        reasons: codes.map((code) => ({ code, contribution: 1, ruleId: 'r' })),
        policyVersion: 'v',
        policyHash: 'h',
        lockout: false,
        verificationAllowed: true,
        unavailableSources: [],
      }) as unknown as Parameters<typeof disagreement>[1];
    assert.equal(disagreement(event, decision('FREEZE', 50, ['A']), decision('FREEZE', 70, ['A'])), null);
    assert.equal(
      disagreement(event, decision('FREEZE', 50, ['A', 'B']), decision('FREEZE', 50, ['B', 'A', 'A'])),
      null,
    );
    assert.equal(
      disagreement(event, decision('FREEZE', 50, ['A']), decision('LIMIT', 50, ['A']))?.candidateTier,
      'LIMIT',
    );
    assert.deepEqual(
      disagreement(event, decision('FREEZE', 50, ['A']), decision('FREEZE', 50, ['B']))?.candidateReasons,
      ['B'],
    );
  });
});
