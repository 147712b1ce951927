// With Temporal down, over real HTTP: what needs no Temporal still answers (an ended case from Cordon's archive,
// /metrics), and what does answers 503 with Retry-After within a few seconds, on every surface: the API, the
// reviewer console and the user's page. "Down" is a dev server of this test's own that the API was connected
// to, then stopped; the cases were made on the shared dev server, in the database both APIs share.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, type RunningApi } from '../api/main';
import { SESSION_COOKIE, startSession } from '../web/session';
import type { CaseView } from '../core/contracts';
import { caseViewQuery } from '../workflows/definitions';
import { parseConfig, type Config } from '../infra/config';
import { linkKeysFromConfig, signLink } from '../infra/links';
import { ConsoleSessionStore } from '../infra/sessions';
import { freePort, startDevServer, type DevServer } from '../scripts/dev-server';
import { ensureTemporalCli } from '../scripts/temporal-tools';
import { quiet } from './helpers/deps';
import { riskEvent, uniqueAccount } from './helpers/events';
import { callApi, eventually, startApiHarness, type ApiHarness } from './helpers/harness';
import { TEST_CODEC_KEYS } from './helpers/servers';
import { requires } from './helpers/requirements';

/** "Within a few seconds": the API's read deadline is 3 s; the margin is for a loaded machine. */
const FEW_SECONDS_MS = 8_000;
/** Longer than any answer may take: a hang shows as a failed assertion, not as a stuck test. */
const GIVE_UP_MS = 30_000;

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  ms: number;
}

/** One GET with its duration; it gives up after GIVE_UP_MS (answered as status 0). */
async function timedGet(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  const started = performance.now();
  try {
    const res = await fetch(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(GIVE_UP_MS) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, ms: performance.now() - started };
  } catch {
    return { status: 0, headers: new Headers(), text: 'no answer', ms: performance.now() - started };
  }
}

function assertRetryLater(a: Answer, what: string): void {
  assert.equal(a.status, 503, `${what}: ${a.status} ${a.text.slice(0, 300)}`);
  assert.match(a.headers.get('retry-after') ?? '', /^[1-9]\d*$/, `${what}: Retry-After in seconds`);
  assert.ok(a.ms < FEW_SECONDS_MS, `${what} answered in ${Math.round(a.ms)} ms`);
}

/** The value of one sample (`name{labels}`) in the text format, or undefined when the line is absent. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('with Temporal down', function () {
  requires('temporal');
  this.timeout(120_000);
  let dataDir: string;
  let up: ApiHarness | undefined;
  let server: DevServer | undefined;
  let down: RunningApi | undefined;
  let config: Config;
  let ended: string;
  let endedAccount: string;
  let open: string;
  const sessionSecret = `temporal-down-${randomUUID()}`;

  before(async function () {
    this.timeout(300_000);
    dataDir = mkdtempSync(join(tmpdir(), 'cordon-temporal-down-'));
    const env = { CORDON_DATA_DIR: dataDir, CORDON_SESSION_SECRET: sessionSecret };
    up = await startApiHarness(quiet, env);
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await callApi(up!.api.url, method, path, 'dev-backend', body);
      assert.equal(r.status, 200, `${method} ${path}: ${JSON.stringify(r.body)}`);
      return r.body as Record<string, any>;
    };
    // An ended case (frozen, then lifted by the user's verification) in the archive, and an open one.
    endedAccount = uniqueAccount('down');
    ended = (
      await call('POST', '/v1/risk-events', riskEvent(endedAccount, 'IDENTITY_CHECK', { matched: false }))
    ).caseId;
    await call('POST', `/v1/cases/${ended}/verification`, {
      method: 'DOCUMENT',
      passed: true,
      requestId: `v-${randomUUID()}`,
    });
    open = (
      await call(
        'POST',
        '/v1/risk-events',
        riskEvent(uniqueAccount('down'), 'IDENTITY_CHECK', { matched: false }),
      )
    ).caseId;
    await eventually(async () => (await up!.h.store.archive.find(ended)) !== null, 30_000, 'archived');

    server = await startDevServer({ cli: await ensureTemporalCli(), port: await freePort() });
    config = parseConfig({
      PORT: '0',
      TEMPORAL_ADDRESS: server.address,
      CORDON_CODEC_KEYS: TEST_CODEC_KEYS,
      ...env,
    });
    down = await startApi(config, quiet, undefined, up.h.store);
    await server.stop();
  });

  after(async function () {
    this.timeout(60_000);
    await down?.close();
    await server?.stop();
    await up?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const bearer = { authorization: 'Bearer dev-backend' };

  describe('the API', () => {
    it('answers an ended case from the archive, as its workflow would', async () => {
      const a = await timedGet(`${down!.url}/v1/cases/${ended}`, bearer);
      assert.equal(a.status, 200, a.text.slice(0, 300));
      const body = JSON.parse(a.text) as Record<string, any>;
      assert.equal(body.caseId, ended);
      assert.equal(body.outcome, 'RESTORED');
      // The same answer as with Temporal up (both APIs share the database).
      const withTemporal = await callApi(up!.api.url, 'GET', `/v1/cases/${ended}`, 'dev-backend');
      assert.deepEqual(body, withTemporal.body);
      // And the same view as the finished workflow's own (what the API answered from Temporal before).
      const own = JSON.parse(
        JSON.stringify(await up!.h.handle(endedAccount).query(caseViewQuery)),
      ) as CaseView;
      // The API adds what Cordon's database holds: deliveries (below) and each reason's stored evidence.
      const { timeline, reasons, deliveries, evidence: _evidence, ...rest } = body;
      assert.deepEqual(rest, omit(own));
      assert.deepEqual(
        (reasons as Record<string, unknown>[]).map(({ explanation: _e, ...r }) => r),
        own.reasons,
      );
      // The API merges the outbox's deliveries into the timeline: the workflow's own entries stay, in order.
      const ownEntries = own.timeline.map((e) => JSON.stringify(e));
      const kept = (timeline as unknown[])
        .map((e) => JSON.stringify(e))
        .filter((e) => ownEntries.includes(e));
      assert.deepEqual(kept, ownEntries);
      assert.ok(Array.isArray(deliveries));
    });

    it('answers an open case 503 TEMPORAL_UNAVAILABLE with Retry-After, within a few seconds', async () => {
      const a = await timedGet(`${down!.url}/v1/cases/${open}`, bearer);
      assertRetryLater(a, 'GET /v1/cases/{open}');
      assert.match(a.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(JSON.parse(a.text).code, 'TEMPORAL_UNAVAILABLE');
    });
  });

  describe('the reviewer console (signed in)', () => {
    // A session in the database both APIs share (signing in needs no Temporal either, but no form is needed here).
    let session: string;
    before(async () => {
      const sessions = new ConsoleSessionStore(up!.h.store.db, config.sessions);
      const principal = { id: 'reviewer-1', role: 'reviewer' as const };
      session = (await startSession(Buffer.from(sessionSecret), sessions, principal)).value;
    });
    const cookie = () => ({ cookie: `${SESSION_COOKIE}=${session}` });

    it('shows an ended case from the archive', async () => {
      const a = await timedGet(`${down!.url}/console/cases/${encodeURIComponent(ended)}`, cookie());
      assert.equal(a.status, 200, a.text.slice(0, 300));
      assert.ok(a.text.includes(ended), 'the case page names the case');
    });

    it('answers an open case 503 with Retry-After, within a few seconds', async () => {
      const a = await timedGet(`${down!.url}/console/cases/${encodeURIComponent(open)}`, cookie());
      assertRetryLater(a, 'console case page');
      assert.match(a.text, /data-code="TEMPORAL_UNAVAILABLE"/);
    });
  });

  describe("the user's page", () => {
    const link = (caseId: string) =>
      signLink(linkKeysFromConfig(config), {
        caseId,
        purpose: 'case',
        expiresAt: Date.now() + 3_600_000,
      });

    it('shows an ended case from the archive', async () => {
      const a = await timedGet(`${down!.url}/u/${link(ended)}`);
      assert.equal(a.status, 200, a.text.slice(0, 300));
    });

    it('answers an open case 503 with Retry-After, within a few seconds', async () => {
      const a = await timedGet(`${down!.url}/u/${link(open)}`);
      assertRetryLater(a, "the user's page");
    });
  });

  describe('/metrics', () => {
    it('answers 200 within a second: the temporal source down, its gauges left out, the rest there', async () => {
      const a = await timedGet(`${down!.url}/metrics`);
      assert.equal(a.status, 200, a.text.slice(0, 300));
      assert.ok(a.ms < 1_000, `answered in ${Math.round(a.ms)} ms`);
      assert.equal(sample(a.text, 'cordon_source_up', 'source="temporal"'), 0);
      assert.equal(sample(a.text, 'cordon_source_up', 'source="database"'), 1);
      for (const gauge of ['cordon_open_cases', 'cordon_review_queue_depth', 'cordon_review_sla_breached'])
        assert.doesNotMatch(a.text, new RegExp(`^(# (HELP|TYPE) )?${gauge}\\b`, 'm'), `${gauge} left out`);
      // What the database and the process know is still there.
      assert.match(a.text, /^# TYPE cordon_messages gauge$/m);
      assert.match(a.text, /^# TYPE cordon_risk_events_total counter$/m);
    });
  });
});

/** A view without the fields the API adds to or merges into (reasons' explanations, deliveries in the timeline). */
function omit(view: CaseView): Record<string, unknown> {
  const { timeline: _t, reasons: _r, ...rest } = view;
  return rest;
}
