// `npm start` as a user runs it: its own dev server on a SQLite file, Web UI, worker and API; Ctrl-C stops
// everything; a second start finds the first one's cases; a busy port is a clear error. (How SIGINT and SIGTERM
// to npm's own PID stop it all: test/signals.test.ts.)
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../infra/config';
import { freePort } from '../scripts/dev-server';
import { startCordon, stopCordon, type Started } from './helpers/cordon-process';
import { riskEvent, uniqueAccount } from './helpers/events';
import { accepts, nonLoopbackAddress } from './helpers/network';
import { sharedDevServer } from './helpers/servers';
import { requires } from './helpers/requirements';

const start = startCordon;

async function waitFor(s: Started, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!s.output().includes(text)) {
    if (s.child.exitCode !== null) throw new Error(`exited early:\n${s.output()}`);
    if (Date.now() > deadline) throw new Error(`no "${text}" within ${timeoutMs} ms:\n${s.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const stop = stopCordon;

describe('npm start', function () {
  requires('temporal');
  this.timeout(180_000);
  let dataDir: string;
  before(() => (dataDir = mkdtempSync(join(tmpdir(), 'cordon-start-'))));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('runs a dev server on a SQLite file with the Web UI, the worker and the API; a restart keeps the cases', async () => {
    const ports = {
      PORT: String(await freePort()),
      TEMPORAL_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
      CORDON_SDK_METRICS_PORT: String(await freePort()),
    };
    const env = { ...ports, CORDON_DATA_DIR: dataDir };
    const api = `http://127.0.0.1:${ports.PORT}`;
    const account = uniqueAccount();

    const first = start(env);
    await waitFor(first, 'Cordon is up', 120_000);
    assert.match(first.output(), /development token token=dev-reviewer-1 role=reviewer id=reviewer-1/);
    // Those well-known tokens (and /dev/mail) stay on this machine: the API listens on loopback only.
    const outside = nonLoopbackAddress();
    if (outside) assert.equal(await accepts(outside, Number(ports.PORT)), false, `nothing on ${outside}`);
    assert.ok(
      existsSync(join(dataDir, 'temporal.sqlite')),
      'the dev server keeps its data in CORDON_DATA_DIR',
    );
    const ui = await fetch(`http://127.0.0.1:${ports.TEMPORAL_UI_PORT}/`);
    assert.equal(ui.status, 200, 'the Temporal Web UI answers');
    const reported = await fetch(`${api}/v1/risk-events`, {
      method: 'POST',
      headers: { authorization: 'Bearer dev-backend', 'content-type': 'application/json' },
      body: JSON.stringify(riskEvent(account, 'IDENTITY_CHECK', { matched: false })),
    });
    const { caseId } = (await reported.json()) as { caseId: string };
    assert.equal(reported.status, 200);
    // One /metrics: Cordon's figures and the Temporal SDK's own (its exporter, appended).
    const metrics = await (await fetch(`${api}/metrics`)).text();
    assert.match(metrics, /^cordon_risk_events_total\{tier="FREEZE",duplicate="false"\} 1$/m);
    assert.match(metrics, /^temporal_\w+/m, 'the SDK metrics are there');
    assert.equal(await stop(first), 0, first.output());
    assert.match(first.output(), /stopped/);

    const second = start(env);
    await waitFor(second, 'Cordon is up', 120_000);
    const found = await fetch(`${api}/v1/cases/${caseId}`, {
      headers: { authorization: 'Bearer dev-backend' },
    });
    assert.equal(found.status, 200);
    assert.equal(((await found.json()) as { status: string }).status, 'AWAITING_USER');
    assert.equal(await stop(second), 0, second.output());
  });

  it('with TEMPORAL_ADDRESS set, uses that cluster and starts no dev server', async () => {
    const cluster = await sharedDevServer();
    const port = await freePort();
    const s = start({
      PORT: String(port),
      TEMPORAL_ADDRESS: cluster.address,
      CORDON_TASK_QUEUE: `tq-start-${port}`,
    });
    await waitFor(s, 'Cordon is up', 120_000);
    assert.match(s.output(), /using Temporal cluster/);
    assert.doesNotMatch(s.output(), /Temporal dev server ready/);
    const reported = await fetch(`http://127.0.0.1:${port}/v1/risk-events`, {
      method: 'POST',
      headers: { authorization: 'Bearer dev-backend', 'content-type': 'application/json' },
      body: JSON.stringify(riskEvent(uniqueAccount(), 'FRAUD_REPORT', { source: 'x', confirmed: true })),
    });
    assert.equal(((await reported.json()) as { status: string }).status, 'AWAITING_USER');
    assert.equal(await stop(s), 0, s.output());
  });

  it('a port already in use is a clear error, not a hang', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      const s = start({
        PORT: String(port),
        TEMPORAL_PORT: String(await freePort()),
        CORDON_DATA_DIR: dataDir,
      });
      const code = await Promise.race([
        s.exited,
        new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000)),
      ]);
      if (code === 'hung') s.child.kill('SIGKILL');
      assert.equal(code, 1);
      assert.match(s.output(), new RegExp(`port ${port} \\(API\\) is already in use`));
    } finally {
      blocker.close();
    }
  });
});

describe('configuration', () => {
  it('production mode refuses to start without configured tokens, and uses only those', () => {
    assert.throws(() => parseConfig({ CORDON_MODE: 'production' }), /CORDON_TOKENS/);
    const production = {
      CORDON_MODE: 'production',
      CORDON_TOKENS: 'svc-token-0123456789abcdef=backend:payments-backend',
    };
    assert.throws(() => parseConfig(production), /CORDON_SESSION_SECRET/);
    const withSecret = { ...production, CORDON_SESSION_SECRET: 'a-session-secret-of-32-characters!' };
    // Payloads are encrypted: production brings its own keys (development makes one in the data folder).
    assert.throws(() => parseConfig(withSecret), /CORDON_CODEC_KEYS/);
    const withKeys = {
      ...withSecret,
      CORDON_CODEC_KEYS: `2026-01:${Buffer.alloc(32, 7).toString('base64')}`,
    };
    // Where it listens is said, never assumed (development: loopback).
    assert.throws(() => parseConfig(withKeys), /production mode needs CORDON_HOST/);
    const config = parseConfig({ ...withKeys, CORDON_HOST: '0.0.0.0' });
    assert.equal(config.host, '0.0.0.0');
    assert.deepEqual(
      config.tokens,
      new Map([['svc-token-0123456789abcdef', { role: 'backend', id: 'payments-backend' }]]),
    );
  });

  it('development mode has the five development tokens', () => {
    assert.deepEqual(
      [...parseConfig({}).tokens].map(([t, p]) => `${t}=${p.role}:${p.id}`),
      [
        'dev-backend=backend:backend',
        'dev-reviewer-1=reviewer:reviewer-1',
        'dev-reviewer-2=reviewer:reviewer-2',
        'dev-senior=senior:senior',
        'dev-analyst=analyst:analyst',
      ],
    );
  });

  it('CORDON_TRUST_PROXY: unset trusts no proxy; a hop count, addresses or a named range; anything else is refused', () => {
    assert.equal(parseConfig({}).trustProxy, undefined);
    assert.equal(parseConfig({ CORDON_TRUST_PROXY: '2' }).trustProxy, 2);
    assert.equal(parseConfig({ CORDON_TRUST_PROXY: 'loopback' }).trustProxy, 'loopback');
    assert.equal(
      parseConfig({ CORDON_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy,
      '10.0.0.0/8, 127.0.0.1',
    );
    assert.throws(() => parseConfig({ CORDON_TRUST_PROXY: 'everyone!' }), /CORDON_TRUST_PROXY/);
  });

  it('names the variable of every bad value', () => {
    assert.throws(() => parseConfig({ PORT: 'eighty' }), /PORT/);
    assert.throws(() => parseConfig({ CORDON_TOKENS: 'short=backend:x' }), /CORDON_TOKENS/);
    assert.throws(() => parseConfig({ CORDON_GATEWAY_URL: 'http://127.0.0.1:9/' }), /CORDON_GATEWAY_SECRET/);
    assert.throws(() => parseConfig({ CORDON_DATA_SOURCES: '[{"name":"x"}]' }), /CORDON_DATA_SOURCES/);
    assert.throws(() => parseConfig({ CORDON_CODEC_KEYS: 'k1:dG9vIHNob3J0' }), /CORDON_CODEC_KEYS entry 1/);
    assert.throws(() => parseConfig({ CORDON_CODEC_CORS_ORIGINS: 'not a url' }), /CORDON_CODEC_CORS_ORIGINS/);
  });

  it("CORDON_SHUTDOWN_DELAY_MS: the API's readiness delay on SIGTERM, 3 s in production, none in development", () => {
    const production = {
      CORDON_MODE: 'production',
      CORDON_TOKENS: 'svc-token-0123456789abcdef=backend:payments-backend',
      CORDON_SESSION_SECRET: 'a-session-secret-of-32-characters!',
      CORDON_CODEC_KEYS: `2026-01:${Buffer.alloc(32, 7).toString('base64')}`,
      CORDON_HOST: '127.0.0.1',
    };
    assert.equal(parseConfig(production).shutdownDelayMs, 3_000);
    assert.equal(parseConfig({}).shutdownDelayMs, 0);
    assert.equal(parseConfig({ CORDON_SHUTDOWN_DELAY_MS: '250' }).shutdownDelayMs, 250);
    assert.equal(parseConfig({ ...production, CORDON_SHUTDOWN_DELAY_MS: '0' }).shutdownDelayMs, 0);
    for (const bad of ['-1', 'soon', '60001'])
      assert.throws(() => parseConfig({ CORDON_SHUTDOWN_DELAY_MS: bad }), /CORDON_SHUTDOWN_DELAY_MS/);
  });

  it('points at an existing cluster by configuration only', () => {
    const c = parseConfig({
      TEMPORAL_ADDRESS: 'cluster.example:7233',
      TEMPORAL_NAMESPACE: 'cordon',
      TEMPORAL_API_KEY: 'k',
    });
    assert.equal(c.temporal.address, 'cluster.example:7233');
    assert.equal(c.temporal.namespace, 'cordon');
    assert.equal(c.temporal.tls, true, 'an API key implies TLS');
  });
});
