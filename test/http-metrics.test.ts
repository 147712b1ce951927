// The API's HTTP request metrics over real HTTP (infra/metrics.ts, docs/operations.md _Metrics_): every answer is
// counted in cordon_http_requests_total{method,route,status} and timed in cordon_http_request_duration_seconds,
// under the route's template (a case's ID or an account's never becomes a label), a path no route matches under
// `unmatched`, and a 5xx under the route that answered it: the share CordonApiServerErrors pages on.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { riskEvent, uniqueAccount } from './helpers/events';
import { callApi, startApiHarness, type ApiHarness } from './helpers/harness';
import { withApiOnPostgres } from './helpers/api-on-postgres';
import { requires, requiresInTest } from './helpers/requirements';

/** The value of the sample `name{labels}` (the labels exactly, in any order), 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = m[2]!.split(',').sort();
    if (have.join(',') === wanted.join(',')) return Number(m[3]);
  }
  return 0;
}

const scrape = async (base: string) => {
  const res = await fetch(`${base}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
};

describe('HTTP request metrics at /metrics', function () {
  requires('temporal');
  this.timeout(120_000);
  let running: ApiHarness | undefined;

  before(async function () {
    this.timeout(300_000);
    running = await startApiHarness();
  });

  after(() => running?.close());

  it('counts each answer under its route template, method and status, never under its URL', async () => {
    const base = running!.api.url;
    const accountId = uniqueAccount('acct-http-metrics');
    const unknownCase = `${uniqueAccount('acct-no-case')}.${randomUUID().slice(-12)}`; // well-formed, unknown
    const noSuchPath = `/no/such/${randomUUID()}`;
    const before = await scrape(base);

    const opened = await callApi(
      base,
      'POST',
      '/v1/risk-events',
      'dev-backend',
      riskEvent(accountId, 'IDENTITY_CHECK', { matched: false, field: 'name' }),
    );
    assert.equal(opened.status, 200, JSON.stringify(opened.body));
    const caseId = opened.body.caseId as string;
    assert.equal((await callApi(base, 'GET', `/v1/cases/${caseId}`, 'dev-reviewer-1')).status, 200);
    assert.equal((await callApi(base, 'GET', `/v1/cases/${unknownCase}`, 'dev-reviewer-1')).status, 404);
    assert.equal((await fetch(`${base}${noSuchPath}`)).status, 404);
    assert.equal((await fetch(`${base}/v1/risk-events`, { method: 'DELETE' })).status, 405);

    // Each answer is counted once it is sent: before its caller has it, so this scrape sees them all.
    const after = await scrape(base);
    const delta = (labels: Record<string, string>) =>
      sample(after, 'cordon_http_requests_total', labels) -
      sample(before, 'cordon_http_requests_total', labels);
    assert.equal(delta({ method: 'POST', route: '/v1/risk-events', status: '200' }), 1);
    assert.equal(delta({ method: 'GET', route: '/v1/cases/:caseId', status: '200' }), 1);
    assert.equal(delta({ method: 'GET', route: '/v1/cases/:caseId', status: '404' }), 1);
    assert.equal(delta({ method: 'GET', route: 'unmatched', status: '404' }), 1);
    assert.equal(delta({ method: 'DELETE', route: '/v1/risk-events', status: '405' }), 1);
    const timed = (text: string) =>
      sample(text, 'cordon_http_request_duration_seconds_count', {
        method: 'GET',
        route: '/v1/cases/:caseId',
      });
    assert.equal(timed(after) - timed(before), 2, 'both answers timed, under the route');

    // No ID and no raw path in any label.
    for (const value of [caseId, unknownCase, accountId, noSuchPath])
      assert.ok(!after.includes(value), `${value} in /metrics`);
  });

  it('counts a 503 under the route that answered it (the database down)', async function () {
    requiresInTest(this, 'postgres');
    this.timeout(120_000);
    await withApiOnPostgres(async (own) => {
      const accountId = uniqueAccount('acct-http-503');
      const path = `/v1/accounts/${accountId}/restriction`;
      const labels = (status: string) => ({
        method: 'GET',
        route: '/v1/accounts/:accountId/restriction',
        status,
      });
      assert.equal((await callApi(own.url, 'GET', path, 'dev-backend')).status, 200);
      await own.stopDatabase();
      const down = await fetch(`${own.url}${path}`, {
        headers: { authorization: 'Bearer dev-backend' },
        signal: AbortSignal.timeout(30_000),
      });
      assert.equal(down.status, 503, await down.text());
      const text = await scrape(own.url);
      assert.equal(sample(text, 'cordon_http_requests_total', labels('200')), 1);
      assert.equal(sample(text, 'cordon_http_requests_total', labels('503')), 1);
      assert.ok(!text.includes(accountId), 'no account in any label');
    });
  });
});
