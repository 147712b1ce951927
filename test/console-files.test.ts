// The files a user sent, on the reviewer console's case page: uploaded the way a user sends them (the case page
// their notice links to), then read by reviewers in a real headless Chromium against the real API, a real worker
// and the Temporal dev server. Each file shows its name (escaped), kind and size in the reviewer's language;
// images show inline from a sandboxed same-origin answer, other files download; a file gone, damaged or of
// another case is a placeholder; the names reach no URL and no log line.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import type { Browser, Response } from 'playwright-core';
import { parseConfig, type Principal } from '../infra/config';
import { devSecret } from '../infra/dev-secrets';
import type { Logger } from '../infra/logger';
import { linkKeysFromConfig, signLink } from '../infra/links';
import { ConsoleSessionStore } from '../infra/sessions';
import { SESSION_COOKIE, startSession } from '../web/session';
import { launchBrowser, openPage, signIn, type ReviewerPage } from './helpers/browser';
import { riskEvent, uniqueAccount } from './helpers/events';
import { callApi, startApiHarness, type ApiHarness } from './helpers/harness';
import { formFields, PortalAgent } from './helpers/portal-env';
import { requires } from './helpers/requirements';

const LINK_KEYS = `t1:${randomBytes(32).toString('base64')}`;

/** A real PNG, 3 × 2 pixels: Chromium decodes it (naturalWidth 3) only if it arrives intact as an image. */
function png(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(3, 0); // width
  header.writeUInt32BE(2, 4); // height
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB, deflate, no filter, no interlace
  const row = Buffer.from([0, 200, 30, 30, 30, 200, 30, 30, 30, 200]); // filter byte, then 3 RGB pixels
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat([row, row]))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const PNG = png();
/** 1,536 bytes exactly: "1.5 KB" in both languages. */
const PDF = (() => {
  const head = Buffer.from('%PDF-1.7\n1 0 obj\n<<>>\nendobj\n% my bank statement\n');
  const tail = Buffer.from('%%EOF\n');
  return Buffer.concat([head, Buffer.alloc(1536 - head.length - tail.length, 0x20), tail]);
})();
const PNG_NAME = 'My new ID card (front).png';
const PDF_NAME = 'bank statement march.pdf';
/** Markup in a name: it must reach the page as text. */
const HTML_NAME = '<img src=x onerror=window.__xss=1><b>scan.png'; // no '/': a file name has no path

function recordingLogger(lines: string[]): Logger {
  const write = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    void lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);
  const logger: Logger = {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: () => logger,
  };
  return logger;
}

describe('reviewer console: the files a user sent', function () {
  requires('temporal', 'chromium');
  this.timeout(120_000);
  const logs: string[] = [];
  let running: ApiHarness | undefined;
  let url: string;
  let dataDir: string;
  let browser: Browser | undefined;
  const pages: ReviewerPage[] = [];
  /** The case the user appealed with three files, and each file's reference by name. */
  let caseId: string;
  const refs = new Map<string, string>();

  const open = async (locale: string) => {
    const p = await openPage(browser!, url, locale);
    // What the page holds is there once it has loaded: a missing element fails the test soon, not after 30 s.
    p.page.setDefaultTimeout(10_000);
    pages.push(p);
    await signIn(p.page, 'dev-reviewer-1');
    return p;
  };
  const casePath = (id: string) => `/console/cases/${encodeURIComponent(id)}`;
  const ref = (name: string) => refs.get(name) ?? assert.fail(`a reference for ${name}`);
  const item = (p: ReviewerPage, r: string) => p.page.locator(`li.evidence-file[data-ref="${r}"]`);

  /** A case opened by a risk event (a FREEZE awaiting the user). */
  async function newCase(): Promise<string> {
    const reported = await callApi(
      url,
      'POST',
      '/v1/risk-events',
      'dev-backend',
      riskEvent(uniqueAccount('files'), 'IDENTITY_CHECK', { matched: false, field: 'name' }),
    );
    assert.equal(reported.status, 200, JSON.stringify(reported.body));
    return reported.body.caseId as string;
  }

  before(async function () {
    this.timeout(300_000);
    dataDir = mkdtempSync(join(tmpdir(), 'cordon-console-files-'));
    running = await startApiHarness(recordingLogger(logs), {
      CORDON_DATA_DIR: dataDir,
      CORDON_LINK_KEYS: LINK_KEYS,
    });
    url = running.api.url;
    browser = await launchBrowser();

    // The user appeals with three files from the page their notice links to, as a browser sends them.
    caseId = await newCase();
    const token = signLink(linkKeysFromConfig({ mode: 'development', dataDir: '', linkKeys: LINK_KEYS }), {
      caseId,
      purpose: 'case',
      expiresAt: Date.now() + 3_600_000,
    });
    const user = new PortalAgent(url);
    const page = await user.send('GET', `/u/${token}`);
    assert.equal(page.status, 200);
    const form = new FormData();
    for (const [k, v] of Object.entries(formFields(page.text, `/u/${token}/appeal`))) form.append(k, v);
    form.append('statement', 'My ID card and my bank statement are attached.');
    const sent: [string, Buffer][] = [
      [PNG_NAME, PNG],
      [PDF_NAME, PDF],
      [HTML_NAME, PNG],
    ];
    for (const [name, content] of sent) form.append('files', new Blob([content]), name);
    const appealed = await user.send('POST', `/u/${token}/appeal`, { multipart: form });
    assert.equal(appealed.status, 303, appealed.text.slice(0, 500));
    const view = await callApi(url, 'GET', `/v1/cases/${caseId}`, 'dev-reviewer-1');
    const evidence = (view.body.timeline as { type: string; evidence?: string[] }[]).find(
      (e) => e.type === 'APPEAL',
    )?.evidence;
    assert.equal(evidence?.length, 3, JSON.stringify(view.body.timeline));
    sent.forEach(([name], i) => refs.set(name, evidence[i]!));
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
  });

  it('shows each file by its name, kind and size, in English and in Chinese', async () => {
    const expected = {
      en: { png: 'PNG image', pdf: 'PDF document', pngSize: `${PNG.length} bytes`, pdfSize: '1.5 KB' },
      'zh-CN': { png: 'PNG 图片', pdf: 'PDF 文档', pngSize: `${PNG.length} 字节`, pdfSize: '1.5 KB' },
    };
    for (const [locale, words] of Object.entries(expected)) {
      const r = await open(locale);
      await r.page.goto(casePath(caseId));
      const statements = await r.page.locator('#user-statements').innerText();
      for (const name of [PNG_NAME, PDF_NAME])
        assert.ok(statements.includes(name), `${locale}: ${name} is shown`);
      const image = item(r, ref(PNG_NAME));
      const pdf = item(r, ref(PDF_NAME));
      assert.equal(await image.locator('.file-name').innerText(), PNG_NAME, locale);
      assert.equal(await image.locator('.file-kind').innerText(), words.png, locale);
      assert.match(await image.locator('.file-meta').innerText(), /image\/png/, locale);
      assert.equal(await image.locator('.file-size').innerText(), words.pngSize, locale);
      assert.equal(await pdf.locator('.file-name').innerText(), PDF_NAME, locale);
      assert.equal(await pdf.locator('.file-kind').innerText(), words.pdf, locale);
      assert.match(await pdf.locator('.file-meta').innerText(), /application\/pdf/, locale);
      assert.equal(await pdf.locator('.file-size').innerText(), words.pdfSize, locale);
      assert.equal(await pdf.locator('img').count(), 0, `${locale}: a PDF is never shown inline`);
    }
  });

  it('shows an image inline from a sandboxed same-origin answer, with no name in any URL', async () => {
    const r = await open('en-US');
    const requested: string[] = [];
    const answers: Response[] = [];
    r.page.on('request', (q) => requested.push(q.url()));
    r.page.on('response', (a) => answers.push(a));
    const inline = `${casePath(caseId)}/evidence/${ref(PNG_NAME)}/inline`;
    // The load event waits for the page's images.
    await r.page.goto(casePath(caseId), { waitUntil: 'load' });
    const img = item(r, ref(PNG_NAME)).locator('img');
    assert.equal(await r.page.locator('#user-statements img').count(), 2, 'both PNGs inline, nothing else');
    assert.equal(await img.getAttribute('src'), inline);
    assert.equal(await img.getAttribute('alt'), PNG_NAME);
    assert.deepEqual(
      await img.evaluate((i: { complete: boolean; naturalWidth: number; naturalHeight: number }) => [
        i.complete,
        i.naturalWidth,
        i.naturalHeight,
      ]),
      [true, 3, 2],
      'decoded as the 3 × 2 PNG that was sent',
    );

    const answer =
      answers.find((a) => new URL(a.url()).pathname === inline) ?? assert.fail('the image answer');
    assert.equal(answer.status(), 200);
    assert.equal(answer.request().resourceType(), 'image');
    const headers = await answer.allHeaders();
    assert.equal(headers['content-type'], 'image/png');
    assert.equal(headers['x-content-type-options'], 'nosniff');
    const csp = headers['content-security-policy'] ?? '';
    assert.match(csp, /(^|;\s*)sandbox(;|$)/, csp);
    assert.match(csp, /default-src 'none'/, csp);
    assert.match(headers['content-disposition'] ?? '', /^inline; filename="ev_[A-Za-z0-9_-]{32}\.png"$/);

    // Personal data stays out of addresses (and so out of access logs and Referer headers).
    assert.ok(requested.length > 3, 'the page, its assets and its images');
    for (const u of requested)
      for (const part of ['My new ID', 'bank statement', 'onerror', 'scan.png'])
        assert.ok(!decodeURIComponent(u).includes(part), `${u} names no file`);
  });

  it('downloads the PDF from its name: an attachment, the bytes as sent', async () => {
    const r = await open('en-US');
    await r.page.goto(casePath(caseId));
    const link = r.page.locator('#user-statements a', { hasText: PDF_NAME });
    assert.equal(await link.count(), 1, 'a link named by the file');
    const href = await link.getAttribute('href');
    assert.equal(href, `${casePath(caseId)}/evidence/${ref(PDF_NAME)}`);
    const [download] = await Promise.all([r.page.waitForEvent('download'), link.click()]);
    assert.equal(download.suggestedFilename(), `${ref(PDF_NAME)}.pdf`);
    assert.deepEqual(readFileSync(await download.path()), PDF);
    const answer = await r.context.request.get(href);
    assert.equal(answer.status(), 200);
    assert.equal(answer.headers()['content-type'], 'application/pdf');
    assert.equal(answer.headers()['content-disposition'], `attachment; filename="${ref(PDF_NAME)}.pdf"`);
    assert.match(answer.headers()['content-security-policy'] ?? '', /sandbox/);
  });

  it('serves the image route only to a reviewer’s session, only for an image of its own case', async () => {
    const r = await open('en-US');
    const inline = `${url}${casePath(caseId)}/evidence/${ref(PNG_NAME)}/inline`;
    const reviewer = await r.context.request.get(inline, { maxRedirects: 0 });
    assert.equal(reviewer.status(), 200, 'a reviewer’s session gets the image');
    assert.deepEqual(await reviewer.body(), PNG);

    // Analysts and the backend have tokens but no console session: they are sent to sign in, with no bytes.
    const { idleMs, maxMs } = parseConfig({}).sessions;
    const forged = async (p: Principal) =>
      (
        await startSession(
          devSecret(dataDir, 'console-session-secret'),
          new ConsoleSessionStore(running!.h.store.db, { idleMs, maxMs }),
          p,
        )
      ).value;
    const callers: Record<string, Record<string, string>> = {
      'nobody signed in': {},
      'the analyst’s token': { authorization: 'Bearer dev-analyst' },
      'the backend’s token': { authorization: 'Bearer dev-backend' },
      'a session made for the analyst': {
        cookie: `${SESSION_COOKIE}=${await forged({ id: 'analyst', role: 'analyst' })}`,
      },
      'a session made for the backend': {
        cookie: `${SESSION_COOKIE}=${await forged({ id: 'backend', role: 'backend' })}`,
      },
    };
    for (const [who, headers] of Object.entries(callers)) {
      const res = await fetch(inline, { headers, redirect: 'manual' });
      assert.equal(res.status, 303, who);
      assert.match(res.headers.get('location') ?? '', /^\/console\/login\?next=/, who);
      assert.doesNotMatch(res.headers.get('content-type') ?? '', /^image\//, who);
    }

    // Not a PDF (downloads only), not under another case, not an unknown reference.
    const other = await newCase();
    for (const path of [
      `${casePath(caseId)}/evidence/${ref(PDF_NAME)}/inline`,
      `${casePath(other)}/evidence/${ref(PNG_NAME)}/inline`,
      `${casePath(caseId)}/evidence/ev_${'A'.repeat(32)}/inline`,
    ]) {
      const res = await r.context.request.get(`${url}${path}`, { maxRedirects: 0 });
      assert.equal(res.status(), 404, path);
      assert.match(res.headers()['content-type'] ?? '', /^text\/html/, path);
    }
  });

  it('shows a name with markup in it as text, never as markup', async () => {
    const r = await open('en-US');
    const raw = await r.context.request.get(casePath(caseId));
    assert.ok(
      (await raw.text()).includes('&lt;img src=x onerror=window.__xss=1&gt;&lt;b&gt;scan.png'),
      'escaped in the page as sent',
    );
    await r.page.goto(casePath(caseId));
    const entry = item(r, ref(HTML_NAME));
    assert.equal(await entry.locator('.file-name').innerText(), HTML_NAME);
    assert.equal(await entry.locator('img').getAttribute('alt'), HTML_NAME);
    assert.equal(await r.page.locator('#user-statements img[src="x"]').count(), 0);
    assert.equal(await r.page.locator('#user-statements b', { hasText: 'scan' }).count(), 0);
    assert.equal(await r.page.evaluate('window.__xss'), undefined, 'and never run');
  });

  it('shows a placeholder for a file removed, damaged or of another case, and the page still opens', async () => {
    const second = await newCase();
    const evidence = running!.api.evidence;
    const damaged = await evidence.put(Buffer.from('my payslip\n'), {
      type: 'text/plain',
      caseId: second,
      name: 'payslip-damaged.txt',
    });
    const removed = await evidence.put(PNG, { type: 'image/png', caseId: second, name: 'removed-photo.png' });
    const appealed = await callApi(url, 'POST', `/v1/cases/${second}/appeal`, 'dev-backend', {
      statement: 'See my files.',
      evidence: [damaged.ref, removed.ref, ref(PNG_NAME), 'doc-77'],
      requestId: 'appeal-placeholders',
    });
    assert.equal(appealed.status, 200, JSON.stringify(appealed.body));
    await evidence.delete(removed.ref);
    const bin = join(dataDir, 'evidence', `${damaged.ref}.bin`);
    const bytes = readFileSync(bin);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    writeFileSync(bin, bytes);

    for (const [locale, texts] of Object.entries({
      en: { missing: /File not found/, unreadable: /cannot be opened right now/ },
      'zh-CN': { missing: /找不到此文件/, unreadable: /暂时无法打开/ },
    })) {
      const r = await open(locale);
      const answer = await r.page.goto(casePath(second));
      assert.equal(answer?.status(), 200, locale);
      const statements = await r.page.locator('#user-statements').innerText();
      assert.match(statements, texts.unreadable, `${locale}: the damaged file's placeholder`);
      assert.match(statements, texts.missing, `${locale}: the missing files' placeholder`);
      const states = {
        [damaged.ref]: ['unreadable', texts.unreadable],
        [removed.ref]: ['missing', texts.missing],
        // Another case's file: not this case's to show, so its name is nowhere on the page.
        [ref(PNG_NAME)]: ['missing', texts.missing],
      } as const;
      for (const [r0, [state, text]] of Object.entries(states)) {
        const entry = item(r, r0);
        assert.equal(await entry.getAttribute('data-state'), state, `${locale} ${r0}`);
        assert.match(await entry.innerText(), text, `${locale} ${r0}`);
        assert.equal(await entry.locator('a, img').count(), 0, `${locale}: nothing to open for ${r0}`);
      }
      const page = await r.page.content();
      for (const name of ['payslip-damaged', 'removed-photo', PNG_NAME])
        assert.ok(!page.includes(name), name);
      assert.equal(
        await r.page.locator('code.evidence', { hasText: 'doc-77' }).count(),
        1,
        'other references as given',
      );
    }
  });

  it('logs who saw which image by reference, and no file name anywhere', async () => {
    const r = await open('en-US');
    const before = logs.length;
    await r.page.goto(casePath(caseId), { waitUntil: 'load' }); // the load event waits for the images
    const shown = logs
      .slice(before)
      .filter((l) => l.includes('console evidence shown') && l.includes(ref(PNG_NAME)));
    assert.equal(shown.length, 1, 'this visit showed the image once, and the log says so');
    assert.match(shown[0]!, /"principal":"reviewer-1"/);
    assert.ok(shown[0]!.includes(caseId), 'with its case');
    for (const name of [PNG_NAME, PDF_NAME, HTML_NAME, 'payslip-damaged', 'removed-photo', 'My new ID'])
      assert.equal(logs.filter((l) => l.includes(name)).length, 0, `${name} is in no log line`);
  });
});
