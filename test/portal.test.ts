// The account holder's case page at /u/<token>: the user-safe view, links, evidence at rest and the file checks
// as pure tests; then end to end against the real Temporal dev server, the real HTTP API and worker, a real
// SMTP server the test starts, and a real headless Chromium.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import type { Browser } from 'playwright-core';
import type { RouteSpec } from '../api/routes/spec';
import { Problem } from '../web/problems';
import { CaseIdParams } from '../api/schemas';
import type { CaseView } from '../core/contracts';
import { createLogger } from '../infra/logger';
import {
  checkEvidenceFile,
  evidenceKeysFrom,
  FileEvidenceStore,
  sniffType,
  type EvidenceStore,
} from '../infra/evidence-store';
import { signLink, type LinkKey } from '../infra/links';
import type { Store } from '../infra/store';
import { parseConfig } from '../infra/config';
import { MAX_FILE_BYTES } from '../portal/forms';
import { casePage, portalContext } from '../portal/pages';
import { portalRouter } from '../portal/router';
import { openState, resultSignature, signState, verifyResult } from '../portal/verification';
import { userSafeView } from '../portal/view';
import { launchBrowser, openPage, screenshot } from './helpers/browser';
import { tempStore } from './helpers/deps';
import { eventually } from './helpers/harness';
import {
  caseLinkIn,
  formFields,
  linksIn,
  mailsTo,
  PortalAgent,
  startPortalEnv,
  type PortalEnv,
} from './helpers/portal-env';
import { requires } from './helpers/requirements';

const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from('0000000d49484452000000010000000108060000001f15c489', 'hex'),
  Buffer.from('portal-test-image-bytes'),
]);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('jfif-bytes')]);
const PDF = Buffer.from('%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n');

// --- pure: what the user may see ------------------------------------------------------------------------

const SECRET_STATEMENT = 'My passport number is X1234567 and I live at 12 Secret Road';

function fixtureView(over: Partial<CaseView> = {}): CaseView & { deliveries: unknown[]; contact: unknown } {
  return {
    caseId: 'acct-view.0123456789ab',
    accountId: 'acct-view',
    status: 'IN_REVIEW',
    tier: 'FREEZE',
    restricted: true,
    score: 87,
    reasons: [
      { code: 'IDENTITY_MISMATCH', contribution: 50, ruleId: 'identity-mismatch-rule-x' },
      { code: 'ABNORMAL_FUND_FLOWS', contribution: 37, ruleId: 'fund-flows-rule-y' },
    ],
    verificationAllowed: true,
    deadlines: { userDeadlineAt: '2026-12-01T09:00:00.000Z', reviewDueAt: '2026-11-26T09:00:00.000Z' },
    assignee: 'reviewer-secret-7',
    appealed: true,
    slaBreached: false,
    escalated: false,
    pendingApproval: {
      decidedBy: 'reviewer-secret-8',
      rationale: 'internal rationale words',
      at: '2026-11-25T10:00:00.000Z',
      decision: 'CLOSE',
      evidenceVersion: 3,
    },
    evidenceVersion: 3,
    question: null,
    explanation: null,
    retractedEvents: ['evt-retracted-zz'],
    lockoutCount: 0,
    missingSources: ['credit-bureau-zz'],
    policyVersion: '2026-11-default-2',
    policyHash: 'deadbeefcafe',
    openedAt: '2026-11-24T09:00:00.000Z',
    outcome: null,
    locale: 'en',
    unchangedEvents: { count: 2, lastAt: null },
    timeline: [
      {
        at: '2026-11-24T09:00:00.000Z',
        actor: { kind: 'backend', id: 'backend-svc-zz' },
        type: 'RISK_EVENT',
        eventId: 'evt-1',
        score: 87,
        policyVersion: '2026-11-default-2',
      },
      {
        at: '2026-11-24T09:00:01.000Z',
        actor: { kind: 'system', id: 'cordon' },
        type: 'RESTRICTION_APPLIED',
      },
      {
        at: '2026-11-24T10:00:00.000Z',
        actor: { kind: 'user', id: 'acct-view' },
        type: 'APPEAL',
        statement: SECRET_STATEMENT,
        evidence: ['ev_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
      },
      { at: '2026-11-24T10:00:00.000Z', actor: { kind: 'system', id: 'cordon' }, type: 'REVIEW_STARTED' },
      {
        at: '2026-11-24T11:00:00.000Z',
        actor: { kind: 'reviewer', id: 'reviewer-secret-7' },
        type: 'CLAIM',
      },
    ],
    ...over,
    deliveries: [
      { key: 'k', kind: 'NOTIFY_USER', what: 'RESTRICTED', status: 'DELIVERED', channels: ['email'] },
    ],
    contact: { email: 'someone.private@example.com', phone: '+86 138 0000 0000' },
  };
}

const FORBIDDEN = [
  'identity-mismatch-rule-x',
  'fund-flows-rule-y',
  'ruleId',
  'contribution',
  '"score"',
  '2026-11-default-2',
  'deadbeefcafe',
  'reviewer-secret-7',
  'reviewer-secret-8',
  'internal rationale words',
  'backend-svc-zz',
  'credit-bureau-zz',
  'evt-retracted-zz',
  'someone.private@example.com',
  '138 0000',
  SECRET_STATEMENT,
  'ev_aaaa',
];

describe('user case page: what it shows', () => {
  it('portal-view: the user-safe view leaves out scores, rule IDs, policy version, reviewers and personal data', () => {
    const user = userSafeView(fixtureView());
    const json = JSON.stringify(user);
    for (const s of FORBIDDEN) assert.ok(!json.includes(s), `the user view must not hold ${s}`);
    assert.deepEqual(user.reasons, ['IDENTITY_MISMATCH', 'ABNORMAL_FUND_FLOWS']);
    assert.equal(user.review, 'in-review');
    assert.deepEqual(user.appeal, { at: '2026-11-24T10:00:00.000Z', files: 1 });
    assert.equal(user.canAppeal, false);
    assert.equal(user.canAddInfo, true);
    assert.ok(!('score' in user) && !('policyVersion' in user) && !('assignee' in user));
    // The page rendered from it, in both languages, holds none of it either.
    for (const lang of ['en', 'zh-CN'] as const) {
      const page = casePage(portalContext(lang, 'Asia/Shanghai'), {
        view: user,
        base: '/u/token',
        forms: { csrf: 'c', requestId: 'r' },
        verificationAvailable: true,
      });
      for (const s of FORBIDDEN) assert.ok(!page.includes(s), `the ${lang} page must not hold ${s}`);
      assert.ok(
        page.includes(lang === 'en' ? 'Your account is temporarily frozen.' : '您的账户已被临时冻结。'),
      );
    }
  });

  it('portal-view-outcome: an ended case shows the outcome and the explanation, and offers no action', () => {
    const user = userSafeView(
      fixtureView({
        status: 'RESTORED',
        outcome: 'RESTORED',
        restricted: false,
        explanation: { code: 'IDENTITY_MISMATCH', text: 'We checked your new ID card.' },
        timeline: [
          ...fixtureView().timeline,
          {
            at: '2026-11-25T09:00:00.000Z',
            actor: { kind: 'reviewer', id: 'reviewer-secret-7' },
            type: 'OUTCOME',
          },
        ],
      }),
    );
    assert.equal(user.outcome, 'RESTORED');
    assert.equal(user.endedAt, '2026-11-25T09:00:00.000Z');
    assert.deepEqual(user.explanation, { code: 'IDENTITY_MISMATCH', text: 'We checked your new ID card.' });
    assert.ok(!user.canAppeal && !user.canVerify && !user.canAddInfo && !user.canAnswer && !user.canConfirm);
    const page = casePage(portalContext('en', undefined), {
      view: user,
      base: '/u/t',
      forms: { csrf: 'c', requestId: 'r' },
      verificationAvailable: true,
    });
    assert.ok(page.includes('Your account is fully available again.'));
    assert.ok(page.includes('We checked your new ID card.'));
    assert.ok(!page.includes('<form'), 'an ended case offers no form');
  });

  it('portal-escaping: what a reviewer wrote is escaped on the page', () => {
    const user = userSafeView(
      fixtureView({ status: 'AWAITING_INFO', question: '<script>alert(1)</script> & "more"' }),
    );
    const page = casePage(portalContext('en', undefined), {
      view: user,
      base: '/u/t',
      forms: { csrf: 'c', requestId: 'r' },
      verificationAvailable: true,
    });
    assert.ok(!page.includes('<script>alert(1)'));
    assert.ok(page.includes('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;more&quot;'));
  });
});

// --- pure: evidence at rest and file checks -------------------------------------------------------------

describe('user case page: evidence files', () => {
  const keys = evidenceKeysFrom([{ id: 'k1', key: randomBytes(32) }]);

  it('evidence-at-rest: files are encrypted on disk and come back byte for byte', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cordon-evidence-'));
    const store = new FileEvidenceStore(dir, keys);
    const text = Buffer.from('My bank statement shows the transfer was mine. 我的银行流水。');
    const { ref, created } = await store.put(text, {
      type: 'text/plain',
      caseId: 'acct-1.0123456789ab',
      name: 'statement.txt',
    });
    assert.ok(created);
    assert.match(ref, /^ev_[A-Za-z0-9_-]{32}$/);
    const files = readdirSync(join(dir, 'evidence'));
    assert.deepEqual(files, [`${ref}.bin`]);
    const raw = readFileSync(join(dir, 'evidence', files[0]!));
    assert.ok(!raw.includes(text), 'the file bytes are not the plaintext');
    assert.ok(!raw.includes(Buffer.from('statement.txt')), 'nor is the file name');
    assert.ok(!raw.includes(Buffer.from('银行')));
    const back = await store.get(ref);
    assert.ok(back);
    assert.deepEqual(back.content, text);
    assert.equal(back.meta.name, 'statement.txt');
    assert.equal(back.meta.size, text.length);
    // Another store with the same keys (another API process) reads it; one without the key cannot.
    assert.deepEqual((await new FileEvidenceStore(dir, keys).get(ref))?.content, text);
    const stranger = new FileEvidenceStore(dir, evidenceKeysFrom([{ id: 'k1', key: randomBytes(32) }]));
    await assert.rejects(stranger.get(ref), /does not decrypt/);
    // A flipped byte is detected, not decrypted to something else.
    raw[raw.length - 20]! ^= 1;
    writeFileSync(join(dir, 'evidence', files[0]!), raw);
    await assert.rejects(store.get(ref), /does not decrypt/);
    await store.delete(ref);
    assert.equal(await store.get(ref), null);
  });

  it('evidence-refs: the same request and file give the same reference; malformed references find nothing', async () => {
    const store: EvidenceStore = new FileEvidenceStore(mkdtempSync(join(tmpdir(), 'cordon-evidence-')), keys);
    const meta = { type: 'image/png' as const, caseId: 'acct-2.0123456789ab', name: 'a.png' };
    const a = await store.put(PNG, meta, { idempotencyKey: 'case|req-1|0' });
    const b = await store.put(PNG, meta, { idempotencyKey: 'case|req-1|0' });
    const c = await store.put(PNG, meta, { idempotencyKey: 'case|req-2|0' });
    assert.equal(a.ref, b.ref);
    assert.ok(a.created && !b.created);
    assert.notEqual(a.ref, c.ref);
    for (const bad of ['../../etc/passwd', 'ev_short', `ev_${'a'.repeat(31)}/`, ''])
      assert.equal(await store.get(bad), null);
  });

  it('file-checks: types by their first bytes and extension, sizes and empty files', () => {
    assert.equal(sniffType(PNG), 'image/png');
    assert.equal(sniffType(JPEG), 'image/jpeg');
    assert.equal(sniffType(PDF), 'application/pdf');
    assert.equal(sniffType(Buffer.from('plain words\n')), 'text/plain');
    assert.equal(sniffType(Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03])), null, 'an .exe is not text');
    assert.deepEqual(checkEvidenceFile('id.png', PNG, MAX_FILE_BYTES), { ok: true, type: 'image/png' });
    assert.deepEqual(checkEvidenceFile('ID.JPEG', JPEG, MAX_FILE_BYTES), { ok: true, type: 'image/jpeg' });
    assert.deepEqual(checkEvidenceFile('doc.pdf', PDF, MAX_FILE_BYTES), {
      ok: true,
      type: 'application/pdf',
    });
    assert.deepEqual(checkEvidenceFile('note.txt', Buffer.from('hello'), MAX_FILE_BYTES), {
      ok: true,
      type: 'text/plain',
    });
    // The name alone never makes a file acceptable, nor do the bytes alone.
    const exe = Buffer.concat([Buffer.from([0x4d, 0x5a, 0x90, 0x00]), randomBytes(64)]);
    assert.deepEqual(checkEvidenceFile('photo.png', exe, MAX_FILE_BYTES), { ok: false, why: 'TYPE' });
    assert.deepEqual(checkEvidenceFile('photo.pdf', PNG, MAX_FILE_BYTES), { ok: false, why: 'TYPE' });
    assert.deepEqual(checkEvidenceFile('page.html', Buffer.from('<html>'), MAX_FILE_BYTES), {
      ok: false,
      why: 'TYPE',
    });
    assert.deepEqual(checkEvidenceFile('noext', PNG, MAX_FILE_BYTES), { ok: false, why: 'TYPE' });
    assert.deepEqual(checkEvidenceFile('big.png', Buffer.alloc(MAX_FILE_BYTES + 1, 1), MAX_FILE_BYTES), {
      ok: false,
      why: 'SIZE',
    });
    assert.deepEqual(checkEvidenceFile('empty.txt', Buffer.alloc(0), MAX_FILE_BYTES), {
      ok: false,
      why: 'EMPTY',
    });
  });
});

// --- pure-ish: links and verification signatures, over HTTP with a counting route table -----------------

describe('user case page: links and signatures', () => {
  const keys: LinkKey[] = [{ id: 'lk', secret: randomBytes(32) }];
  let server: Server;
  let base: string;
  let store: Store;
  const calls: string[] = [];

  before(async () => {
    store = await tempStore();
    // The route table is the portal's dependency, not what is under test: it counts lookups and knows no case.
    const routes: RouteSpec[] = [
      {
        method: 'get',
        path: '/v1/cases/:caseId',
        summary: 'test',
        roles: ['backend'],
        params: CaseIdParams,
        handle: async ({ params }) => {
          calls.push(String((params as { caseId: string } | undefined)?.caseId));
          throw new Problem(404, 'Case not found', 'no case', { code: 'CASE_NOT_FOUND' });
        },
      },
    ];
    const app = express();
    app.use(
      '/u',
      portalRouter({
        routes,
        store,
        linkKeys: keys,
        sessionSecret: randomBytes(32),
        dataDir: mkdtempSync(join(tmpdir(), 'cordon-portal-pure-')),
        publicUrl: 'http://127.0.0.1',
        mode: 'production',
        limits: { window: '1h', perCase: 5, perAccount: 5, perIp: 5, linkOpensPerIp: 1000 },
        logger: createLogger('test', { level: 'error' }),
      }),
    );
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((r) => server.close(r));
    await store.db.close();
  });

  it('portal-neutral: tampered, expired, garbage and unknown-case links get the same page; Temporal only after the HMAC', async () => {
    const good = signLink(keys, {
      caseId: 'acct-gone.0123456789ab',
      purpose: 'case',
      expiresAt: Date.now() + 3_600_000,
    });
    const parts = good.split('.');
    const sig = parts[4]!;
    const tampered = [...parts.slice(0, 4), (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1)].join('.');
    const otherCase = [
      parts[0],
      Buffer.from('acct-other.0123456789ab').toString('base64url'),
      ...parts.slice(2),
    ].join('.');
    const expired = signLink(keys, {
      caseId: 'acct-gone.0123456789ab',
      purpose: 'case',
      expiresAt: Date.now() - 1000,
    });
    const foreign = signLink([{ id: 'lk', secret: randomBytes(32) }], {
      caseId: 'acct-gone.0123456789ab',
      purpose: 'case',
      expiresAt: Date.now() + 3_600_000,
    });
    const answers = [];
    for (const token of [tampered, otherCase, expired, foreign, 'garbage', 'a.b.c.d.e']) {
      const res = await fetch(`${base}/u/${token}`);
      answers.push({ status: res.status, body: await res.text(), cookie: res.headers.get('set-cookie') });
    }
    assert.equal(calls.length, 0, 'no case lookup before a link is genuine');
    const unknown = await fetch(`${base}/u/${good}`);
    const unknownBody = await unknown.text();
    assert.deepEqual(calls, ['acct-gone.0123456789ab']);
    for (const a of answers) {
      assert.equal(a.status, 404);
      assert.equal(a.body, unknownBody, 'the same bytes whatever is wrong with the link');
      assert.equal(a.cookie, null);
    }
    assert.equal(unknown.status, 404);
    assert.ok(unknownBody.includes('This link cannot be opened'));
    assert.ok(!unknownBody.includes('acct-gone'), 'the page names no account or case');
    // Actions on a bad link: the same page, and still no lookup.
    const post = await fetch(`${base}/u/${tampered}/appeal`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'statement=x',
    });
    assert.equal(post.status, 404);
    assert.equal(await post.text(), unknownBody);
    assert.equal(calls.length, 1);
    // In the language the browser asks for, and still the same for every kind of bad link.
    const zh = await Promise.all(
      [tampered, expired].map(async (t) =>
        (await fetch(`${base}/u/${t}`, { headers: { 'accept-language': 'zh-CN,zh;q=0.9' } })).text(),
      ),
    );
    assert.equal(zh[0], zh[1]);
    assert.ok(zh[0]!.includes('无法打开此链接'));
  });

  it('portal-link-text: a link with a trailing "=" or a sibling last character opens nothing (no lookup)', async () => {
    const good = signLink(keys, {
      caseId: 'acct-text.0123456789ab',
      purpose: 'case',
      expiresAt: Date.now() + 3_600_000,
    });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = `${good.slice(0, -1)}${alphabet[alphabet.indexOf(good.at(-1)!) ^ 1]}`;
    const neutralBody = await (await fetch(`${base}/u/garbage`)).text();
    const before = calls.length;
    for (const token of [`${good}=`, sibling]) {
      const res = await fetch(`${base}/u/${token}`);
      assert.equal(res.status, 404, token);
      assert.equal(await res.text(), neutralBody, 'the neutral page');
    }
    assert.equal(calls.length, before, 'no case lookup for a link not as Cordon wrote it');
    await (await fetch(`${base}/u/${good}`)).text();
    assert.deepEqual(calls.slice(before), ['acct-text.0123456789ab'], 'the link as written is looked up');
  });

  it('portal-form-413: a form past the size limits gets the 413 page, not a reset connection', async () => {
    const good = signLink(keys, {
      caseId: 'acct-big.0123456789ab',
      purpose: 'case',
      expiresAt: Date.now() + 3_600_000,
    });
    const urlencoded = await fetch(`${base}/u/${good}/appeal`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `statement=${'x'.repeat(120_000)}&_csrf=x`,
    });
    const fd = new FormData();
    fd.append('statement', 'y'.repeat(40_000));
    const multipart = await fetch(`${base}/u/${good}/appeal`, { method: 'POST', body: fd });
    for (const res of [urlencoded, multipart]) {
      assert.equal(res.status, 413);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      const page = await res.text();
      assert.ok(page.includes('The form could not be read'), page);
      assert.ok(!page.includes('A file is larger'), 'no file was sent');
    }
    // The connection stays usable: the next request on it is answered.
    assert.equal((await fetch(`${base}/u/garbage`)).status, 404);
  });

  it('portal-open-limit: link redemptions per IP are limited (genuine or not) → 429 with Retry-After', async () => {
    const app = express();
    app.use(
      '/u',
      portalRouter({
        routes: [],
        store,
        linkKeys: keys,
        sessionSecret: randomBytes(32),
        dataDir: mkdtempSync(join(tmpdir(), 'cordon-portal-pure-')),
        publicUrl: 'http://127.0.0.1',
        mode: 'production',
        limits: { window: '1h', perCase: 5, perAccount: 5, perIp: 5, linkOpensPerIp: 3 },
        logger: createLogger('test', { level: 'error' }),
      }),
    );
    const limited = app.listen(0, '127.0.0.1');
    await new Promise((r) => limited.once('listening', r));
    try {
      const url = `http://127.0.0.1:${(limited.address() as AddressInfo).port}/u/`;
      // The counter is per IP and shared through the database: earlier tests from 127.0.0.1 count too.
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 5; i++) {
        last = await fetch(`${url}garbage-${i}`);
        statuses.push(last.status);
        await last.text();
      }
      assert.equal(statuses.at(-1), 429);
      const retryAfter = Number(last!.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 3600);
    } finally {
      await new Promise((r) => limited.close(r));
    }
  });

  it('portal-headers: strict CSP, no referrer, no caching, no framing', async () => {
    const res = await fetch(`${base}/u/garbage`);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.match(res.headers.get('content-security-policy') ?? '', /form-action 'self'/);
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
  });

  it('verification-signatures: a result is accepted only as the provider signed it, recent, for a state Cordon signed', () => {
    const secret = randomBytes(32);
    const key = randomBytes(32);
    const state = signState(key, {
      caseId: 'acct-v.0123456789ab',
      requestId: 'portal-1',
      linkExpiresAt: Date.now() + 86_400_000,
      lang: 'en',
      expiresAt: Date.now() + 60_000,
    });
    assert.equal(openState(key, state)?.caseId, 'acct-v.0123456789ab');
    assert.equal(openState(randomBytes(32), state), null, 'another key');
    assert.equal(
      openState(
        key,
        state.replace(/^./, (c) => (c === 'e' ? 'f' : 'e')),
      ),
      null,
      'altered',
    );
    assert.equal(openState(key, state, Date.now() + 120_000), null, 'expired');
    const ts = Math.floor(Date.now() / 1000);
    const answer = { state, result: 'passed' as const, method: 'OTP', ts };
    const sig = resultSignature(secret, answer);
    const fields = { state, result: 'passed', method: 'OTP', ts: String(ts), sig };
    assert.ok(verifyResult(secret, fields));
    assert.equal(verifyResult(secret, { ...fields, result: 'failed' }), null, 'the result changed');
    assert.equal(verifyResult(secret, { ...fields, method: 'DOCUMENT' }), null);
    assert.equal(verifyResult(randomBytes(32), fields), null, 'another secret');
    assert.equal(
      verifyResult(secret, { ...fields, sig: sig.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) }),
      null,
    );
    assert.equal(verifyResult(secret, fields, Date.now() + 3_600_000), null, 'too old');
  });

  it('config: production needs the verification secret when a provider URL is set', () => {
    const prod = {
      CORDON_MODE: 'production',
      CORDON_TOKENS: 'backend-token-0123456789=backend:backend',
      CORDON_SESSION_SECRET: 'x'.repeat(32),
      CORDON_CODEC_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      CORDON_LINK_KEYS: `l1:${randomBytes(32).toString('base64')}`,
      CORDON_HOST: '127.0.0.1',
    };
    assert.equal(parseConfig(prod).verification.url, undefined);
    assert.throws(
      () => parseConfig({ ...prod, CORDON_VERIFICATION_URL: 'https://idp.example.com/start' }),
      /CORDON_VERIFICATION_SECRET/,
    );
    const ok = parseConfig({
      ...prod,
      CORDON_VERIFICATION_URL: 'https://idp.example.com/start',
      CORDON_VERIFICATION_SECRET: 's'.repeat(32),
    });
    assert.equal(ok.verification.url, 'https://idp.example.com/start');
  });
});

// --- end to end --------------------------------------------------------------------------------------------

const BACKEND = { authorization: 'Bearer dev-backend', 'content-type': 'application/json' };
const REVIEWER = { authorization: 'Bearer dev-reviewer-1', 'content-type': 'application/json' };

describe('user case page end to end (Temporal, API, SMTP, Chromium)', function () {
  requires('temporal', 'chromium');
  this.timeout(180_000);
  let env: PortalEnv;
  let browser: Browser;
  // Tight per-case limits so a burst is quick; the IP limits are high, as every test comes from 127.0.0.1.
  const PER_CASE = 6;

  before(async function () {
    this.timeout(240_000);
    env = await startPortalEnv({ perCase: PER_CASE, perAccount: 8, perIp: 10_000, linkOpensPerIp: 10_000 });
    browser = await launchBrowser();
  });
  after(async function () {
    this.timeout(60_000);
    await browser?.close();
    await env?.close();
  });

  const api = async (
    path: string,
    o: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) => {
    const res = await fetch(`${env.api.url}${path}`, {
      method: o.method ?? 'GET',
      headers: o.headers ?? BACKEND,
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  const caseOf = async (caseId: string) => (await api(`/v1/cases/${caseId}`)).json as CaseView;
  /**
   * What the case recorded, less the delivery records of messages (NOTIFIED, WEBHOOK_SENT), which the outbox
   * adds on its own schedule: what a person's action would change.
   */
  const DELIVERY_RECORDS = new Set(['NOTIFIED', 'WEBHOOK_SENT', 'DELIVERY_FAILED']);
  const actionsOf = (view: CaseView) => view.timeline.filter((e) => !DELIVERY_RECORDS.has(e.type));
  const timelineOf = async (caseId: string) => {
    const view = await caseOf(caseId);
    return { status: view.status, evidenceVersion: view.evidenceVersion, entries: actionsOf(view) };
  };

  /** Reports an event for a new account with a contact address; answers the case ID and the address. */
  const report = async (
    type: string,
    attributes: Record<string, unknown>,
    o: { locale?: 'en' | 'zh-CN'; timeZone?: string } = {},
  ) => {
    const accountId = `acct-portal-${randomUUID().slice(0, 8)}`;
    const email = `${accountId}@example.test`;
    const res = await api('/v1/risk-events', {
      method: 'POST',
      body: {
        eventId: `evt-${randomUUID()}`,
        accountId,
        type,
        occurredAt: new Date().toISOString(),
        attributes,
        ...(o.locale ? { locale: o.locale } : {}),
        contact: { email, ...(o.timeZone ? { timeZone: o.timeZone } : {}) },
      },
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    return { caseId: res.json.caseId as string, accountId, email };
  };
  const freeze = (o: { locale?: 'en' | 'zh-CN'; timeZone?: string } = {}) =>
    report('IDENTITY_CHECK', { matched: false, field: 'name' }, o);

  const unlock = async (caseId: string, text: string) => {
    await eventually(
      async () =>
        (await api(`/v1/cases/${caseId}/claim`, { method: 'POST', headers: REVIEWER })).status === 200,
    );
    const decided = await api(`/v1/cases/${caseId}/decision`, {
      method: 'POST',
      headers: REVIEWER,
      body: {
        decision: 'UNLOCK',
        rationale: 'Name change confirmed against the new ID card.',
        requestId: `d-${randomUUID()}`,
        explanation: { code: 'IDENTITY_MISMATCH', text },
      },
    });
    assert.equal(decided.status, 200, JSON.stringify(decided.json));
    assert.equal(decided.json.outcome, 'RESTORED');
  };

  /** The landing page's hidden fields for a form, through an agent that keeps the CSRF cookie. */
  const landing = async (link: string) => {
    const agent = new PortalAgent(env.api.url);
    const page = await agent.send('GET', link);
    assert.equal(page.status, 200);
    return { agent, page: page.text, path: new URL(link).pathname };
  };

  it('portal-en: freeze → mail → link in Chromium → appeal with a file → unlock → outcome on the page and in the mail', async () => {
    const { caseId, email } = await freeze({ timeZone: 'Asia/Shanghai' });
    const [mail] = await mailsTo(env.smtp, email);
    const link = caseLinkIn(mail!);
    assert.ok(link.startsWith(`${env.api.url}/u/`));

    const { page, problems } = await openPage(browser, env.api.url);
    await page.goto(link);
    assert.equal(await page.locator('h1').textContent(), 'Your account is temporarily frozen.');
    const body = (await page.locator('main').textContent()) ?? '';
    assert.ok(body.includes('Some of the identity details on your account could not be confirmed.'));
    assert.ok(body.includes('Complete identity verification, or appeal and tell us more.'));
    assert.match(body, /Please act by/);
    assert.match(body, /left\)/);
    for (const s of ['identity-mismatch', '2026-11-default', 'score', email]) assert.ok(!body.includes(s), s);
    // The deadline in the user's zone: the mail's link names it (and the language).
    assert.match(new URL(link).search, /^\?lang=en&tz=Asia%2FShanghai$/);
    assert.match(body, /\(Asia\/Shanghai\)/);
    await screenshot(page, 'portal-case');

    // Every input has a label.
    for (const id of ['statement', 'appeal-files'])
      assert.equal(await page.locator(`label[for="${id}"]`).count(), 1, `a label for #${id}`);
    await page.locator('#statement').fill('I changed my legal name last month; my new ID card is attached.');
    await page
      .locator('#appeal-files')
      .setInputFiles({ name: 'new-id-card.png', mimeType: 'image/png', buffer: PNG });
    await Promise.all([
      page.waitForURL(/\/result\/appeal/),
      page.getByRole('button', { name: 'Send the appeal' }).click(),
    ]);
    assert.equal(await page.locator('h1').textContent(), 'Your appeal has been received');

    const view = await caseOf(caseId);
    assert.equal(view.status, 'IN_REVIEW');
    const appeal = view.timeline.find((e) => e.type === 'APPEAL')!;
    const refs = appeal.evidence as string[];
    assert.equal(refs.length, 1);
    assert.match(refs[0]!, /^ev_/);
    // Only the reference went into Temporal; the file is in the data folder, encrypted.
    const stored = readFileSync(join(env.dataDir, 'evidence', `${refs[0]}.bin`));
    assert.ok(!stored.includes(Buffer.from('portal-test-image-bytes')));
    assert.ok(!stored.includes(Buffer.from('new-id-card.png')));

    await unlock(caseId, 'Your new ID card matches the name on the account.');
    await page.getByRole('link', { name: 'Back to your case' }).click();
    await eventually(async () => {
      await page.reload();
      return (await page.locator('h1').textContent()) === 'Your account is fully available again.';
    });
    assert.equal(
      (await page.locator('#explanation').textContent())?.trim(),
      'Your new ID card matches the name on the account.',
    );
    assert.equal(await page.locator('form').count(), 0, 'nothing to do once the case has ended');
    await screenshot(page, 'portal-outcome');

    const outcomeMail = await eventually(async () => {
      const all = await mailsTo(env.smtp, email, 1);
      return all.find((m) => /complete/.test(m.subject ?? '')) ?? false;
    });
    assert.ok(outcomeMail.text?.includes('Your new ID card matches the name on the account.'));
    // The outcome mail's link opens the same case page, with the outcome.
    const res = await fetch(caseLinkIn(outcomeMail));
    assert.ok((await res.text()).includes('Your new ID card matches the name on the account.'));
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  it('portal-zh: the same in Chinese, switchable to English', async () => {
    const { caseId, email } = await freeze({ locale: 'zh-CN', timeZone: 'Asia/Shanghai' });
    const [mail] = await mailsTo(env.smtp, email);
    const { page, problems } = await openPage(browser, env.api.url, 'en-US');
    await page.goto(caseLinkIn(mail!));
    // The case's language wins over the browser's.
    assert.equal(await page.locator('h1').textContent(), '您的账户已被临时冻结。');
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
    assert.ok(
      ((await page.locator('main').textContent()) ?? '').includes('您账户中的部分身份信息未能核实。'),
    );
    await page.locator('#statement').fill('我上个月更改了姓名，新的身份证已附上。');
    await page.locator('#appeal-files').setInputFiles({
      name: '说明.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('新身份证号码已更新。'),
    });
    await Promise.all([
      page.waitForURL(/\/result\/appeal/),
      page.getByRole('button', { name: '提交申诉' }).click(),
    ]);
    assert.equal(await page.locator('h1').textContent(), '我们已收到您的申诉');
    await unlock(caseId, '您的新身份证与账户姓名一致。');
    await page.getByRole('link', { name: '返回您的案件' }).click();
    await eventually(async () => {
      await page.reload();
      return (await page.locator('h1').textContent()) === '您的账户已恢复正常使用。';
    });
    assert.equal((await page.locator('#explanation').textContent())?.trim(), '您的新身份证与账户姓名一致。');
    // The switch: the same page in English.
    await page.getByRole('link', { name: 'English' }).click();
    assert.equal(await page.locator('h1').textContent(), 'Your account is fully available again.');
    const outcomeMail = await eventually(async () => {
      const all = await mailsTo(env.smtp, email, 1);
      return all.find((m) => (m.subject ?? '').includes('审核已完成')) ?? false;
    });
    assert.ok(outcomeMail.text?.includes('您的新身份证与账户姓名一致。'));
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  it('portal-scanner: GETting every link in every mail changes nothing', async () => {
    const { caseId, email } = await freeze();
    await mailsTo(env.smtp, email);
    const ids = [
      ...new Set([
        caseId,
        ...env.smtp.mails.map((m) => /Case ([A-Za-z0-9_.-]+)\./.exec(m.text ?? '')?.[1]).filter(Boolean),
      ]),
    ] as string[];
    const before = await Promise.all(ids.map(async (id) => JSON.stringify(await timelineOf(id))));
    const links = [...new Set(env.smtp.mails.flatMap(linksIn))];
    assert.ok(links.length >= 2);
    for (const url of links) {
      // A scanner follows redirects and also tries a HEAD.
      await (await fetch(url)).text();
      await fetch(url, { method: 'HEAD' });
    }
    const after = await Promise.all(ids.map(async (id) => JSON.stringify(await timelineOf(id))));
    assert.deepEqual(after, before);
    assert.equal((await caseOf(caseId)).status, 'AWAITING_USER');
  });

  it('portal-replay: a form sent twice is one appeal with the same files; a new form is refused, nothing changes', async () => {
    const { caseId, email } = await freeze();
    const link = caseLinkIn((await mailsTo(env.smtp, email))[0]!);
    const { agent, page, path } = await landing(link);
    const fields = formFields(page, `${path}/appeal`);
    assert.ok(fields._csrf && fields.requestId);
    const multipart = () => {
      const fd = new FormData();
      for (const [k, v] of Object.entries(fields)) fd.append(k, v);
      fd.append('statement', 'Sent twice by a double click.');
      fd.append('files', new Blob([PDF], { type: 'application/pdf' }), 'bank.pdf');
      return fd;
    };
    const first = await agent.send('POST', `${path}/appeal`, { multipart: multipart() });
    const second = await agent.send('POST', `${path}/appeal`, { multipart: multipart() });
    assert.equal(first.status, 303);
    assert.equal(second.status, 303);
    assert.equal(second.location, first.location);
    const view = await caseOf(caseId);
    const appeals = view.timeline.filter((e) => e.type === 'APPEAL');
    assert.equal(appeals.length, 1);
    assert.equal((appeals[0]!.evidence as string[]).length, 1);
    assert.equal(
      readdirSync(join(env.dataDir, 'evidence')).filter((f) => f.endsWith('.bin')).length >= 1,
      true,
    );
    const before = JSON.stringify(await timelineOf(caseId));
    // The same link, a fresh form (another request ID): the case already has its appeal.
    const again = await agent.send('GET', path);
    assert.ok(!again.text.includes(`${path}/appeal`), 'no appeal form once appealed');
    const fresh = { ...fields, requestId: `portal-${randomUUID()}` };
    const fd = new FormData();
    for (const [k, v] of Object.entries(fresh)) fd.append(k, v);
    fd.append('statement', 'A second appeal.');
    const refused = await agent.send('POST', `${path}/appeal`, { multipart: fd });
    assert.equal(refused.status, 409);
    assert.ok(refused.text.includes('You have already appealed on this case.'));
    assert.equal(JSON.stringify(await timelineOf(caseId)), before);
  });

  it('portal-csrf: a form without its token, with another browser’s, or cross-site → 403 and nothing changes', async () => {
    const { caseId, email } = await freeze();
    const link = caseLinkIn((await mailsTo(env.smtp, email))[0]!);
    const { agent, page, path } = await landing(link);
    const fields = formFields(page, `${path}/appeal`);
    const before = JSON.stringify(await timelineOf(caseId));
    const form = (f: Record<string, string>) => ({ form: { ...f, statement: 'Forged appeal' } });
    const noToken = await agent.send('POST', `${path}/appeal`, form({ ...fields, _csrf: '' }));
    const other = new PortalAgent(env.api.url);
    await other.send('GET', link);
    const otherBrowser = await other.send('POST', `${path}/appeal`, form(fields));
    const noCookie = await new PortalAgent(env.api.url).send('POST', `${path}/appeal`, form(fields));
    const crossSite = await agent.send('POST', `${path}/appeal`, {
      ...form(fields),
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    for (const r of [noToken, otherBrowser, noCookie, crossSite]) {
      assert.equal(r.status, 403);
      assert.ok(r.text.includes('This form has expired'));
    }
    // The token is bound to the case: a token from another case's page does not work here.
    const otherCase = await freeze();
    const otherLink = caseLinkIn((await mailsTo(env.smtp, otherCase.email))[0]!);
    const otherPage = await agent.send('GET', otherLink);
    const otherFields = formFields(otherPage.text, `${new URL(otherLink).pathname}/appeal`);
    const crossCase = await agent.send(
      'POST',
      `${path}/appeal`,
      form({ ...fields, _csrf: otherFields._csrf! }),
    );
    assert.equal(crossCase.status, 403);
    assert.equal(JSON.stringify(await timelineOf(caseId)), before);
    // With its token, the same form goes through.
    const ok = await agent.send('POST', `${path}/appeal`, form(fields));
    assert.equal(ok.status, 303);
  });

  it('portal-links: tampered, expired and unknown-case links over the real API get the one neutral page', async () => {
    const { caseId, email } = await freeze();
    const link = caseLinkIn((await mailsTo(env.smtp, email))[0]!);
    const token = new URL(link).pathname.split('/').pop()!;
    const parts = token.split('.');
    const tampered = [...parts.slice(0, 4), parts[4]!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))].join(
      '.',
    );
    const expired = signLink(env.linkKeys, { caseId, purpose: 'case', expiresAt: Date.now() - 1 });
    const unknown = signLink(env.linkKeys, {
      caseId: 'acct-never-there.0123456789ab',
      purpose: 'case',
      expiresAt: Date.now() + 3_600_000,
    });
    const pages = await Promise.all(
      [tampered, expired, unknown].map(async (t) => {
        const res = await fetch(`${env.api.url}/u/${t}`);
        return { status: res.status, text: await res.text() };
      }),
    );
    for (const p of pages) {
      assert.equal(p.status, 404);
      assert.equal(p.text, pages[0]!.text);
    }
    assert.ok(!pages[0]!.text.includes(caseId));
    assert.equal((await fetch(link)).status, 200, 'the genuine link still works, again and again');
    assert.equal((await fetch(link)).status, 200);
  });

  it('portal-burst: past the per-case limit → 429 with Retry-After, and one USER_ACTION_BURST in the case', async () => {
    const { caseId, email } = await freeze();
    const link = caseLinkIn((await mailsTo(env.smtp, email))[0]!);
    const { agent, page, path } = await landing(link);
    const fields = formFields(page, `${path}/appeal`);
    // Answers nobody asked for: refused by the case (409), each counted.
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<PortalAgent['send']>> | undefined;
    for (let i = 0; i < PER_CASE + 4; i++) {
      const r = await agent.send('POST', `${path}/info`, {
        form: { ...fields, requestId: `portal-${randomUUID()}`, answer: `answer ${i}` },
      });
      statuses.push(r.status);
      if (r.status === 429) limited ??= r;
    }
    assert.deepEqual(statuses.slice(0, PER_CASE), Array(PER_CASE).fill(409));
    assert.deepEqual(statuses.slice(PER_CASE), Array(4).fill(429));
    assert.ok(limited);
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 3600, `Retry-After ${retryAfter}`);
    assert.ok(limited.text.includes('Too many requests'));
    const bursts = await eventually(async () => {
      const found = (await caseOf(caseId)).timeline.filter(
        (e) => e.type === 'RISK_EVENT' && e.eventType === 'USER_ACTION_BURST',
      );
      return found.length ? found : false;
    });
    assert.equal(bursts.length, 1);
    const view = await caseOf(caseId);
    assert.ok(view.reasons.some((r) => r.code === 'SUSPICIOUS_ACTION_BURST'));
    // More over the limit: still 429, still one burst event.
    assert.equal(
      (await agent.send('POST', `${path}/appeal`, { form: { ...fields, statement: 'x' } })).status,
      429,
    );
    assert.equal(
      (await caseOf(caseId)).timeline.filter(
        (e) => e.type === 'RISK_EVENT' && e.eventType === 'USER_ACTION_BURST',
      ).length,
      1,
    );
    assert.equal(view.appealed, false, 'nothing over the limit was applied');
    // The landing page (GET) still opens: reading is limited per IP only.
    assert.equal((await agent.send('GET', path)).status, 200);
  });

  it('portal-verify: the development stand-in passes (restored) or fails (review); a replayed or forged callback changes nothing', async () => {
    const pass = await freeze();
    const { page, problems } = await openPage(browser, env.api.url);
    await page.goto(caseLinkIn((await mailsTo(env.smtp, pass.email))[0]!));
    await Promise.all([
      page.waitForURL(/\/u\/dev-verify/),
      page.getByRole('button', { name: 'Start verification' }).click(),
    ]);
    assert.match((await page.locator('main').textContent()) ?? '', /development stand-in/i);
    let callbackUrl = '';
    page.on('request', (r) => {
      if (r.url().includes('/u/verification/callback')) callbackUrl = r.url();
    });
    await Promise.all([
      page.waitForURL(/\/result\/verification/),
      page.getByRole('button', { name: 'Pass verification' }).click(),
    ]);
    assert.equal(await page.locator('h1').textContent(), 'You have been verified');
    const passed = await caseOf(pass.caseId);
    assert.equal(passed.outcome, 'RESTORED');
    assert.equal(passed.timeline.filter((e) => e.type === 'VERIFICATION').length, 1);
    // The same callback again (a reload, a replay): the same request, applied once.
    assert.ok(callbackUrl);
    const passCallback = callbackUrl;
    const replay = await fetch(passCallback, { redirect: 'manual' });
    assert.equal(replay.status, 303);
    assert.equal((await caseOf(pass.caseId)).timeline.filter((e) => e.type === 'VERIFICATION').length, 1);
    // A forged result (the user changes "failed" to "passed", or signs it themselves): refused.
    const forged = new URL(passCallback);
    forged.searchParams.set('sig', createHash('sha256').update('forged').digest('hex'));
    assert.equal((await fetch(forged, { redirect: 'manual' })).status, 400);

    const fail = await freeze();
    await page.goto(caseLinkIn((await mailsTo(env.smtp, fail.email))[0]!));
    await Promise.all([
      page.waitForURL(/\/u\/dev-verify/),
      page.getByRole('button', { name: 'Start verification' }).click(),
    ]);
    await Promise.all([
      page.waitForURL(/\/result\/verification/),
      page.getByRole('button', { name: 'Fail verification' }).click(),
    ]);
    assert.equal(await page.locator('h1').textContent(), 'The verification did not succeed');
    const failed = await caseOf(fail.caseId);
    assert.equal(failed.status, 'IN_REVIEW');
    assert.ok(failed.reasons.some((r) => r.code === 'FAILED_VERIFICATIONS'));
    // The passing result with "passed" changed to "failed" (or the failing one the other way): refused.
    const changed = new URL(passCallback);
    changed.searchParams.set('result', 'failed');
    assert.equal((await fetch(changed, { redirect: 'manual' })).status, 400, 'a result changed in transit');
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  it('portal-protect: a protective hold is confirmed from the page after the cooling-off', async () => {
    const { caseId, email } = await report('TRANSFER_ATTEMPT', {
      toNewPayee: true,
      amount: 3000,
      duringCall: true,
      justBorrowed: true,
    });
    assert.equal((await caseOf(caseId)).status, 'PROTECTIVE_HOLD');
    const link = caseLinkIn((await mailsTo(env.smtp, email))[0]!);
    const { page, problems } = await openPage(browser, env.api.url);
    await page.goto(link);
    assert.equal(
      await page.locator('h1').textContent(),
      'We are holding a payment to protect you from a possible scam.',
    );
    await eventually(
      async () => {
        await page.reload();
        return (await page.locator('#confirm-check').count()) === 1;
      },
      10_000,
      'the confirmation form after the cooling-off',
    );
    // The box must be ticked: the browser enforces `required`; without it the server refuses too.
    await page.locator('#confirm-check').check();
    await Promise.all([
      page.waitForURL(/\/result\/confirmation/),
      page.getByRole('button', { name: 'Confirm the payment' }).click(),
    ]);
    assert.equal(await page.locator('h1').textContent(), 'The payment is confirmed');
    const view = await caseOf(caseId);
    assert.equal(view.outcome, 'RESTORED');
    assert.ok(view.timeline.some((e) => e.type === 'VERIFICATION' && e.method === 'USER_CONFIRMATION'));
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  it('portal-info: the reviewer’s question is shown and answered from the page, with a file', async () => {
    const { caseId, email } = await freeze();
    const appealed = await api(`/v1/cases/${caseId}/appeal`, {
      method: 'POST',
      body: { statement: 'Please look again.', requestId: `a-${randomUUID()}` },
    });
    assert.equal(appealed.status, 200);
    await eventually(
      async () =>
        (await api(`/v1/cases/${caseId}/claim`, { method: 'POST', headers: REVIEWER })).status === 200,
    );
    const asked = await api(`/v1/cases/${caseId}/decision`, {
      method: 'POST',
      headers: REVIEWER,
      body: {
        decision: 'REQUEST_INFO',
        rationale: 'Need the document.',
        question: 'Please send a photo of the <new> ID card.',
        requestId: `d-${randomUUID()}`,
      },
    });
    assert.equal(asked.status, 200, JSON.stringify(asked.json));
    const link = caseLinkIn((await mailsTo(env.smtp, email))[0]!);
    const { agent, page, path } = await landing(link);
    assert.ok(page.includes('Please send a photo of the &lt;new&gt; ID card.'));
    assert.ok(page.includes('Please answer by'));
    const fields = formFields(page, `${path}/info`);
    const fd = new FormData();
    for (const [k, v] of Object.entries(fields)) fd.append(k, v);
    fd.append('answer', 'Here it is.');
    fd.append('files', new Blob([JPEG]), 'card.jpg');
    const sent = await agent.send('POST', `${path}/info`, { multipart: fd });
    assert.equal(sent.status, 303);
    assert.match(sent.location ?? '', /\/result\/info\?lang=en$/);
    const result = await agent.send('GET', sent.location!);
    assert.ok(result.text.includes('Your information has been sent'));
    const view = await caseOf(caseId);
    assert.equal(view.status, 'IN_REVIEW');
    const info = view.timeline.find((e) => e.type === 'INFO_PROVIDED')!;
    assert.equal(info.answer, 'Here it is.');
    assert.match((info.evidence as string[])[0]!, /^ev_/);
  });

  it('portal-files: a file that is not what its name says, or too many files, is refused and nothing is kept', async () => {
    const { caseId, email } = await freeze();
    const link = caseLinkIn((await mailsTo(env.smtp, email))[0]!);
    const { agent, page, path } = await landing(link);
    const fields = formFields(page, `${path}/appeal`);
    const before = readdirSync(join(env.dataDir, 'evidence')).length;
    const send = async (files: [Buffer, string][]) => {
      const fd = new FormData();
      for (const [k, v] of Object.entries(fields)) fd.append(k, v);
      fd.append('statement', 'With files');
      for (const [content, name] of files) fd.append('files', new Blob([content]), name);
      return agent.send('POST', `${path}/appeal`, { multipart: fd });
    };
    const exe = await send([[Buffer.concat([Buffer.from('MZ'), randomBytes(100)]), 'photo.png']]);
    assert.equal(exe.status, 400);
    assert.ok(exe.text.includes('is not a PNG, JPEG, PDF or .txt file'));
    assert.ok(exe.text.includes('With files'), 'the statement comes back into the form');
    const four = await send([
      [PNG, 'a.png'],
      [PNG, 'b.png'],
      [PNG, 'c.png'],
      [PNG, 'd.png'],
    ]);
    assert.equal(four.status, 413);
    const big = await send([[Buffer.concat([PNG, Buffer.alloc(MAX_FILE_BYTES)]), 'big.png']]);
    assert.equal(big.status, 413);
    assert.equal(readdirSync(join(env.dataDir, 'evidence')).length, before);
    assert.equal((await caseOf(caseId)).appealed, false);
  });
});
