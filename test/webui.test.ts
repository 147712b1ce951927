// The Temporal Web UI of `npm start`, as an operator uses it, in a real headless Chromium: sign in at /console,
// open a case's workflow in the Web UI at the address `npm start` prints, and read its payloads decoded, with no
// setting changed. A browser that has not signed in sees ciphertext (the codec's encoding marker) instead. And
// the proxy that makes it work, on its own: what goes where, and an upstream that is not answering.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { freePort } from '../scripts/dev-server';
import { startWebUiProxy } from '../scripts/webui-proxy';
import { launchBrowser } from './helpers/browser';
import { startCordon, stopCordon, waitForOutput, type Started } from './helpers/cordon-process';
import { riskEvent, uniqueAccount } from './helpers/events';
import { CIPHERTEXT_MARKERS, decodedTexts, readCaseInWebUi } from './helpers/webui';
import { requires } from './helpers/requirements';

describe('the Web UI of npm start (headless Chromium)', function () {
  requires('temporal', 'chromium');
  this.timeout(240_000);
  let dataDir: string;
  let cordon: Started | undefined;
  let browser: Browser | undefined;
  let api: string;
  let webUi: string;
  let account: string;

  before(async function () {
    this.timeout(240_000);
    dataDir = mkdtempSync(join(tmpdir(), 'cordon-webui-'));
    const ports = {
      PORT: String(await freePort()),
      TEMPORAL_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
    };
    api = `http://127.0.0.1:${ports.PORT}`;
    cordon = startCordon({ ...ports, CORDON_DATA_DIR: dataDir });
    await waitForOutput(cordon, 'Cordon is up', 180_000);
    webUi = /webUi=(\S+)/.exec(cordon.output())?.[1] ?? '';
    assert.equal(webUi, `http://127.0.0.1:${ports.TEMPORAL_UI_PORT}`, 'the Web UI where npm start says');
    account = uniqueAccount();
    const opened = await fetch(`${api}/v1/risk-events`, {
      method: 'POST',
      headers: { authorization: 'Bearer dev-backend', 'content-type': 'application/json' },
      body: JSON.stringify(riskEvent(account, 'IDENTITY_CHECK', { matched: false, field: 'name' })),
    });
    assert.equal(opened.status, 200, await opened.text());
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    if (cordon) assert.equal(await stopCordon(cordon), 0, cordon.output());
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('after signing in at /console, a case opened in the Web UI shows its payloads decoded, no setting changed', async () => {
    const { text, decodes } = await readCaseInWebUi(browser!, {
      webUi,
      account,
      signInAt: api,
      token: 'dev-reviewer-1',
    });
    for (const w of decodedTexts(account))
      assert.ok(text.includes(w), `decoded: ${w}\n${text.slice(0, 2_000)}`);
    for (const m of CIPHERTEXT_MARKERS) assert.ok(!text.includes(m), `no ciphertext shown (${m})`);
    assert.ok(decodes.length > 0 && decodes.every((s) => s === 200), `decode answers: ${decodes.join()}`);
  });

  it('a browser that has not signed in sees ciphertext only, and /codec refuses its calls', async () => {
    const { text, decodes } = await readCaseInWebUi(browser!, { webUi, account });
    assert.ok(
      CIPHERTEXT_MARKERS.some((m) => text.includes(m)),
      'the input is shown as ciphertext',
    );
    for (const w of decodedTexts(account)) assert.ok(!text.includes(w), `not decoded: ${w}`);
    assert.ok(decodes.length > 0 && decodes.every((s) => s === 401), `decode answers: ${decodes.join()}`);
  });
});

describe('the Web UI proxy (scripts/webui-proxy.ts)', () => {
  it('forwards /codec/* to the codec endpoint and the rest to the UI server; an upstream that is down is a 503/502 with Retry-After', async () => {
    const seen: string[] = [];
    const upstream = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url} cookie=${req.headers.cookie ?? ''}`);
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`answered ${req.url}`);
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const at = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const down = `http://127.0.0.1:${await freePort()}`;
    const proxy = await startWebUiProxy({
      port: await freePort(),
      uiServer: at,
      codecEndpoint: `${at}/api-codec`,
    });
    const broken = await startWebUiProxy({
      port: await freePort(),
      uiServer: down,
      codecEndpoint: `${down}/codec`,
    });
    try {
      const cookie = 'cordon_console_session=s1; _csrf=c1';
      const codec = await fetch(`${proxy.codecEndpoint}/decode?x=1`, {
        method: 'POST',
        headers: { cookie },
        body: '{}',
      });
      assert.equal(await codec.text(), 'answered /api-codec/decode?x=1');
      const page = await fetch(`${proxy.url}/namespaces/default/workflows`, { headers: { cookie } });
      assert.equal(await page.text(), 'answered /namespaces/default/workflows');
      // The session goes to /codec, and stays away from the UI server.
      assert.deepEqual(seen, [
        `POST /api-codec/decode?x=1 cookie=${cookie}`,
        'GET /namespaces/default/workflows cookie=_csrf=c1',
      ]);

      const unavailable = await fetch(`${broken.codecEndpoint}/decode`, { method: 'POST', body: '{}' });
      assert.equal(unavailable.status, 503);
      assert.match(unavailable.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(unavailable.headers.get('retry-after'), '1');
      assert.equal(((await unavailable.json()) as { code: string }).code, 'CODEC_UNAVAILABLE');
      const noUi = await fetch(`${broken.url}/`);
      assert.equal(noUi.status, 502);
      assert.equal(noUi.headers.get('retry-after'), '1');
    } finally {
      await proxy.close();
      await broken.close();
      upstream.close();
    }
  });
});
