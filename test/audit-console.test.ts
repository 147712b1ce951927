// The audit trail in the reviewer console, in a real headless Chromium against the real API, a real worker and
// the Temporal dev server: the case page links to the export and to a printable page, in English and Chinese;
// the page lists every entry with its time, actor, type and hash, and the signed head, as the API exports them;
// on paper only the trail is printed; the downloaded file is what `cordon audit verify` finds intact.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import type { AuditExport } from '../api/audit-export';
import { launchBrowser, openPage, signIn, type ReviewerPage } from './helpers/browser';
import { riskEvent, uniqueAccount } from './helpers/events';
import { callApi, eventually, startApiHarness, type ApiHarness } from './helpers/harness';
import { quiet } from './helpers/deps';
import { requires } from './helpers/requirements';

const ROOT = resolve(__dirname, '..');

function verify(file: string, keys: string): Promise<{ code: number; stdout: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [join(ROOT, 'cli', 'cordon'), 'audit', 'verify', file, '--keys', keys],
      { cwd: ROOT, encoding: 'utf8' },
      (err, stdout, stderr) =>
        done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: stdout + stderr }),
    );
  });
}

describe('reviewer console: the audit trail', function () {
  requires('temporal', 'chromium');
  this.timeout(120_000);
  let running: ApiHarness | undefined;
  let url: string;
  let dataDir: string;
  let files: string;
  let browser: Browser | undefined;
  const pages: ReviewerPage[] = [];
  let caseId: string;
  let statement: string;
  let exported: AuditExport;

  const open = async (locale: string) => {
    const p = await openPage(browser!, url, locale);
    p.page.setDefaultTimeout(10_000);
    pages.push(p);
    await signIn(p.page, 'dev-reviewer-1');
    return p;
  };
  const casePath = (id: string) => `/console/cases/${encodeURIComponent(id)}`;

  before(async function () {
    this.timeout(300_000);
    dataDir = mkdtempSync(join(tmpdir(), 'cordon-audit-console-'));
    files = mkdtempSync(join(tmpdir(), 'cordon-audit-console-files-'));
    running = await startApiHarness(quiet, { CORDON_DATA_DIR: dataDir });
    url = running.api.url;
    browser = await launchBrowser();
    const accountId = uniqueAccount('audit-console');
    const reported = await callApi(
      url,
      'POST',
      '/v1/risk-events',
      'dev-backend',
      riskEvent(accountId, 'IDENTITY_CHECK', { matched: false, field: 'name' }),
    );
    assert.equal(reported.status, 200, JSON.stringify(reported.body));
    caseId = reported.body.caseId as string;
    statement = `My <b>passport</b> was renewed ${randomUUID()}`;
    const appealed = await callApi(url, 'POST', `/v1/cases/${caseId}/appeal`, 'dev-backend', {
      statement,
      requestId: `appeal-${randomUUID()}`,
    });
    assert.equal(appealed.status, 200, JSON.stringify(appealed.body));
    // Every entry the case will write before the tests read it: the restriction carried out, the appeal's review.
    exported = await eventually(async () => {
      const got = await callApi(url, 'GET', `/v1/cases/${caseId}/audit`, 'dev-reviewer-1');
      const types = (got.body as AuditExport).entries.map((e) => e.entry.type);
      return (
        types.includes('RESTRICTION_APPLIED') && types.includes('REVIEW_STARTED') && (got.body as AuditExport)
      );
    });
  });

  afterEach(async function () {
    for (const p of pages.splice(0)) {
      // Closed before the next test (and before the browser): a close left running rejects once it is gone.
      await p.context.close();
      if (this.currentTest?.state === 'passed') assert.deepEqual(p.problems, [], 'no page or CSP errors');
    }
  });

  after(async () => {
    await browser?.close();
    await running?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (files) rmSync(files, { recursive: true, force: true });
  });

  it('the case page links to the export and the printable trail, in English and Chinese', async () => {
    const words = {
      en: ['Export audit trail', 'Audit trail (printable)', `Audit trail of case ${caseId}`],
      'zh-CN': ['导出审计记录', '审计记录（可打印）', `案件 ${caseId} 的审计记录`],
    };
    for (const [locale, [download, view, title]] of Object.entries(words)) {
      const r = await open(locale);
      await r.page.goto(casePath(caseId));
      assert.equal((await r.page.locator('#audit-download').innerText()).trim(), download, locale);
      assert.equal(
        await r.page.locator('#audit-download').getAttribute('href'),
        `${casePath(caseId)}/audit.json`,
      );
      assert.equal((await r.page.locator('#audit-view').innerText()).trim(), view, locale);
      // The case's own timeline shows no hashes: they are the trail's.
      assert.doesNotMatch(await r.page.locator('#timeline').innerText(), /digests|hash/, locale);
      await Promise.all([
        r.page.waitForURL(`**${casePath(caseId)}/audit`),
        r.page.locator('#audit-view').click(),
      ]);
      assert.equal((await r.page.locator('h1').innerText()).trim(), title, locale);
    }
  });

  it('lists every entry with its time, actor, type and hash, and the signed head, as the API exports them', async () => {
    for (const [locale, digestWord] of [
      ['en', 'digest of statement'],
      ['zh-CN', 'statement 的摘要'],
    ] as const) {
      const r = await open(locale);
      await r.page.goto(`${casePath(caseId)}/audit`);
      const rows = r.page.locator('#audit-entries tbody tr');
      assert.equal(await rows.count(), exported.entries.length, locale);
      for (const [i, { entry, hash }] of exported.entries.entries()) {
        const cells = await rows.nth(i).locator('td').allInnerTexts();
        assert.equal(cells[0], String(i));
        assert.equal(cells[1], `${entry.at.slice(0, 16).replace('T', ' ')} UTC`, `${locale} entry ${i} time`);
        assert.equal(cells[2], `${entry.actor.kind}:${entry.actor.id}`);
        assert.equal(cells[3], entry.type);
        assert.equal(cells[4], hash, `${locale} entry ${i} hash`);
      }
      const appeal = r.page.locator('#audit-entries tr[data-type="APPEAL"]');
      const digest = exported.entries.find((e) => e.entry.type === 'APPEAL')!.entry.digests!.statement!;
      assert.equal(
        (await appeal.locator('[data-field="statement"]').innerText()).trim(),
        `${digestWord}: ${digest}`,
      );
      assert.equal(await r.page.locator('#audit-head-hash').innerText(), exported.head.headHash);
      assert.equal(await r.page.locator('#audit-count').innerText(), String(exported.head.entryCount));
      assert.equal(await r.page.locator('#audit-key').innerText(), exported.head.keyId);
      assert.match(await r.page.locator('#audit-signature').innerText(), /^[A-Za-z0-9+/]{86}==$/);
      assert.equal(await r.page.locator('#audit-unchained').count(), 0, 'a chained case');
      const text = await r.page.locator('main').innerText();
      assert.ok(!text.includes(statement.slice(-12)), `${locale}: the words are not on the trail`);
    }
  });

  it('on paper: the trail without the console around it', async () => {
    const r = await open('en-US');
    await r.page.goto(`${casePath(caseId)}/audit`);
    assert.equal(await r.page.locator('header.top').isVisible(), true);
    await r.page.emulateMedia({ media: 'print' });
    assert.equal(await r.page.locator('header.top').isVisible(), false, 'no console bar on paper');
    assert.equal(await r.page.locator('nav.tools').isVisible(), false);
    assert.equal(await r.page.locator('a[download]').first().isVisible(), false, 'no links on paper');
    assert.equal(await r.page.locator('#audit-entries').isVisible(), true);
    assert.equal(await r.page.locator('#audit-head').isVisible(), true);
  });

  it('the download is the export as a file, and the command line finds it intact', async () => {
    const r = await open('zh-CN');
    await r.page.goto(casePath(caseId));
    const [download] = await Promise.all([
      r.page.waitForEvent('download'),
      r.page.locator('#audit-download').click(),
    ]);
    assert.equal(download.suggestedFilename(), `audit-${caseId}.json`);
    const file = join(files, download.suggestedFilename());
    await download.saveAs(file);
    const keys = join(files, 'keys.json');
    writeFileSync(keys, await fetch(`${url}/v1/audit-keys`).then((res) => res.text()));
    const run = await verify(file, keys);
    assert.equal(run.code, 0, run.stdout);
    assert.match(
      run.stdout,
      new RegExp(`intact: case ${caseId.replace('.', '\\.')}, ${exported.entries.length} entries`),
    );
  });

  it('an unknown case is a page that says so; a visitor not signed in is sent to sign in', async () => {
    const r = await open('en-US');
    const answer = await r.page.goto(`${casePath(`${uniqueAccount()}.0123456789ab`)}/audit`);
    assert.equal(answer?.status(), 404);
    assert.match(await r.page.locator('h1').innerText(), /Case not found/);
    const stranger = await openPage(browser!, url);
    pages.push(stranger);
    await stranger.page.goto(`${casePath(caseId)}/audit.json`);
    assert.match(stranger.page.url(), /\/console\/login\?next=/);
  });
});
