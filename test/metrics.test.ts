// Prometheus metrics over real HTTP: counters move with what the API answered, gauges read visibility and
// Cordon's database at scrape time, and `cordon_source_up` says which of the two answered.
import assert from 'node:assert/strict';
import { type RunningApi } from '../api/main';
import { riskEvent, uniqueAccount } from './helpers/events';
import { callApi, eventually, startApiHarness, type ApiHarness } from './helpers/harness';
import { withApiOnPostgres } from './helpers/api-on-postgres';
import { requires, requiresInTest } from './helpers/requirements';

/** The metric families in the order served, leaving out the process's own (cordon_process_*). */
const families = (text: string) =>
  [...text.matchAll(/^# TYPE (cordon_\w+) /gm)]
    .map((m) => m[1]!)
    .filter((n) => !n.startsWith('cordon_process_'));

/** The value of one sample (`name{labels}`), 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(',').filter(Boolean);
    if (wanted.every((w) => have.includes(w)) && have.length === wanted.length) return Number(m[3]);
  }
  return 0;
}

describe('metrics at /metrics', function () {
  requires('temporal');
  this.timeout(60_000);
  let api: RunningApi;
  let running: ApiHarness | undefined;

  before(async function () {
    this.timeout(300_000);
    running = await startApiHarness();
    ({ api } = running);
  });

  after(() => running?.close());

  const scrape = async () => {
    const res = await fetch(`${api.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    return res.text();
  };
  const call = (method: string, path: string, token: string, body?: unknown) =>
    callApi(api.url, method, path, token, body);

  it('counts events by tier, time to restrict, actions by result and decisions; gauges read the truth', async () => {
    const before = await scrape();
    const account = uniqueAccount();
    const freeze = riskEvent(account, 'IDENTITY_CHECK', { matched: false, field: 'name' });
    const opened = await call('POST', '/v1/risk-events', 'dev-backend', freeze);
    assert.equal(opened.status, 200);
    await call('POST', '/v1/risk-events', 'dev-backend', freeze);
    await call(
      'POST',
      '/v1/risk-events',
      'dev-backend',
      riskEvent(uniqueAccount(), 'LOGIN', { newDevice: false }),
    );
    const caseId = opened.body.caseId as string;
    assert.equal(
      (await call('POST', `/v1/cases/${caseId}/appeal`, 'dev-backend', { statement: 'me', requestId: 'a' }))
        .status,
      200,
    );
    await call('POST', `/v1/cases/${caseId}/appeal`, 'dev-backend', { statement: 'me', requestId: 'a' });
    assert.equal((await call('POST', `/v1/cases/${caseId}/claim`, 'dev-reviewer-1')).status, 200);
    assert.equal((await call('POST', `/v1/cases/${caseId}/claim`, 'dev-reviewer-2')).status, 409);

    const inReview = await eventually(
      async () => {
        const t = await scrape();
        return sample(t, 'cordon_open_cases', { status: 'IN_REVIEW' }) >= 1 && t;
      },
      15_000,
      'the open case in the gauge',
    );
    assert.ok(sample(inReview, 'cordon_review_queue_depth') >= 1);

    const decided = await call('POST', `/v1/cases/${caseId}/decision`, 'dev-reviewer-1', {
      decision: 'UNLOCK',
      rationale: 'fine',
      requestId: 'd',
    });
    assert.equal(decided.status, 200);

    const after = await eventually(
      async () => {
        const t = await scrape();
        return sample(t, 'cordon_messages', { kind: 'NOTIFY_USER', status: 'DELIVERED' }) >= 3 && t;
      },
      15_000,
      'delivered messages in the gauge',
    );
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sample(after, name, labels) - sample(before, name, labels);
    assert.equal(delta('cordon_risk_events_total', { tier: 'FREEZE', duplicate: 'false' }), 1);
    assert.equal(delta('cordon_risk_events_total', { tier: 'FREEZE', duplicate: 'true' }), 1);
    assert.equal(delta('cordon_risk_events_total', { tier: 'NONE', duplicate: 'false' }), 1);
    assert.equal(delta('cordon_time_to_restrict_seconds_count'), 1);
    assert.equal(delta('cordon_actions_total', { action: 'appeal', result: 'applied' }), 1);
    assert.equal(delta('cordon_actions_total', { action: 'appeal', result: 'repeat' }), 1);
    assert.equal(delta('cordon_actions_total', { action: 'claim', result: 'CLAIMED_BY_OTHER' }), 1);
    assert.equal(delta('cordon_decisions_total', { decision: 'UNLOCK' }), 1);
    assert.equal(sample(after, 'cordon_messages', { kind: 'NOTIFY_USER', status: 'FAILED' }), 0);
    assert.doesNotMatch(after, new RegExp(account), 'no account in any label');
  });

  it('says both sources answered, and serves the same families as before with cordon_source_up last', async () => {
    const text = await scrape();
    assert.equal(sample(text, 'cordon_source_up', { source: 'temporal' }), 1);
    assert.equal(sample(text, 'cordon_source_up', { source: 'database' }), 1);
    assert.deepEqual(families(text), [
      'cordon_risk_events_total',
      'cordon_time_to_restrict_seconds',
      'cordon_actions_total',
      'cordon_decisions_total',
      'cordon_guard_trips_total',
      'cordon_http_requests_total',
      'cordon_http_request_duration_seconds',
      'cordon_open_cases',
      'cordon_review_queue_depth',
      'cordon_review_sla_breached',
      'cordon_messages',
      'cordon_guard_tripped',
      'cordon_source_up',
    ]);
  });

  it('with the database down, answers 200 within a second without the message gauge', async function () {
    requiresInTest(this, 'postgres');
    this.timeout(120_000);
    await withApiOnPostgres(async (own) => {
      const get = async () => {
        const started = performance.now();
        const res = await fetch(`${own.url}/metrics`, { signal: AbortSignal.timeout(30_000) });
        return { status: res.status, text: await res.text(), ms: performance.now() - started };
      };
      const before = await get();
      assert.equal(before.status, 200);
      assert.equal(sample(before.text, 'cordon_source_up', { source: 'database' }), 1);
      assert.match(before.text, /^# TYPE cordon_messages gauge$/m);

      await own.stopDatabase();
      const after = await get();
      assert.equal(after.status, 200, after.text);
      assert.ok(after.ms < 1_000, `answered in ${Math.round(after.ms)} ms`);
      assert.match(after.text, /^cordon_source_up\{source="database"\} 0$/m);
      assert.match(after.text, /^cordon_source_up\{source="temporal"\} 1$/m);
      assert.doesNotMatch(after.text, /cordon_messages/, 'the message gauge is left out');
      assert.match(after.text, /^# TYPE cordon_open_cases gauge$/m, 'the gauges Temporal answered are there');
    });
  });
});
