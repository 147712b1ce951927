// The reviewer console: sessions, CSRF and pages over real HTTP, and a reviewer's work in a real headless
// Chromium, against the real API (two processes' worth, sharing the session secret) and a real worker.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { startApi, type RunningApi } from '../api/main';
import { parseCodecKeys } from '../infra/codec';
import { evidenceKeysFrom, FileEvidenceStore } from '../infra/evidence-store';
import { translator, USER_PRESETS } from '../console/i18n';
import { queuePage } from '../console/pages';
import { applyFilter, facetCounts, sortQueue, type QueueRow } from '../console/queue';
import { SESSION_COOKIE, startSession } from '../web/session';
import { parseConfig, type Principal } from '../infra/config';
import { devSecret } from '../infra/dev-secrets';
import { ConsoleSessionStore } from '../infra/sessions';
import { quiet, tempStore } from './helpers/deps';
import { launchBrowser, openPage, screenshot, signIn, type ReviewerPage } from './helpers/browser';
import { EXAMPLES, riskEvent, uniqueAccount } from './helpers/events';
import { callApi, eventually, startApiHarness, type ApiHarness } from './helpers/harness';
import { sharedDevServer, TEST_CODEC_KEYS } from './helpers/servers';
import { requires } from './helpers/requirements';

interface Answer {
  status: number;
  location: string | null;
  text: string;
  headers: Headers;
  setCookies: string[];
}

/** A browser's part in plain HTTP: a cookie jar, forms, and no following of redirects. */
class Agent {
  readonly jar = new Map<string, string>();
  constructor(
    private readonly base: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  async send(
    method: 'GET' | 'POST',
    path: string,
    o: { form?: Record<string, string>; headers?: Record<string, string>; base?: string } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...this.headers, ...o.headers };
    const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (cookie) headers.cookie = cookie;
    if (o.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(`${o.base ?? this.base}${path}`, {
      method,
      headers,
      body: o.form ? new URLSearchParams(o.form).toString() : undefined,
      redirect: 'manual',
    });
    const setCookies = res.headers.getSetCookie();
    for (const c of setCookies) {
      const [pair = '', ...attributes] = c.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const gone = attributes.some((a) => {
        const [k = '', v = ''] = a.trim().split('=');
        return (
          (/^max-age$/i.test(k) && Number(v) <= 0) || (/^expires$/i.test(k) && Date.parse(v) < Date.now())
        );
      });
      if (gone) this.jar.delete(name);
      else this.jar.set(name, pair.slice(pair.indexOf('=') + 1));
    }
    return {
      status: res.status,
      location: res.headers.get('location'),
      text: await res.text(),
      headers: res.headers,
      setCookies,
    };
  }

  get(path: string, o: { headers?: Record<string, string>; base?: string } = {}) {
    return this.send('GET', path, o);
  }

  post(
    path: string,
    form: Record<string, string>,
    o: { headers?: Record<string, string>; base?: string } = {},
  ) {
    return this.send('POST', path, { ...o, form });
  }

  /** The CSRF token of a page this agent loads. */
  async csrf(path = '/console/login'): Promise<string> {
    return csrfOf((await this.get(path)).text);
  }

  async signIn(token: string): Promise<Answer> {
    return this.post('/console/login', { _csrf: await this.csrf(), token, next: '/console/queue' });
  }
}

function csrfOf(page: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
  assert.ok(token, 'the page has a form with a CSRF field');
  return token;
}

const sessionCookieOf = (a: Answer) => a.setCookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`));

describe('reviewer console', function () {
  requires('temporal');
  this.timeout(120_000);
  let running: ApiHarness | undefined;
  let url: string;
  /** A second API process on the same database and Temporal, with the same session secret. */
  let other: RunningApi | undefined;
  /** The session secret both processes use (in development, the data folder's, as api/main.ts reads it). */
  let secret: Buffer;

  before(async function () {
    this.timeout(300_000);
    running = await startApiHarness();
    url = running.api.url;
    const config = parseConfig({
      PORT: '0',
      TEMPORAL_ADDRESS: (await sharedDevServer()).address,
      CORDON_TASK_QUEUE: running.h.taskQueue,
      CORDON_CODEC_KEYS: TEST_CODEC_KEYS,
    });
    other = await startApi(config, quiet, undefined, running.h.store);
    secret = devSecret(config.dataDir, 'console-session-secret');
  });

  after(async () => {
    await other?.close();
    await running?.close();
  });

  const apiCall = (method: 'GET' | 'POST', path: string, token: string, body?: unknown) =>
    callApi(url, method, path, token, body);

  /** A case the user appealed, waiting in review (and listed in the queue). */
  async function caseInReview(
    example: keyof typeof EXAMPLES,
    statement = 'I can explain this.',
  ): Promise<string> {
    const [type, attributes] = EXAMPLES[example];
    const reported = await apiCall(
      'POST',
      '/v1/risk-events',
      'dev-backend',
      riskEvent(uniqueAccount('console'), type, attributes as never),
    );
    assert.equal(reported.status, 200, JSON.stringify(reported.body));
    const caseId: string = reported.body.caseId;
    const appealed = await apiCall('POST', `/v1/cases/${caseId}/appeal`, 'dev-backend', {
      statement,
      evidence: ['doc-42'],
      requestId: 'appeal-1',
    });
    assert.equal(appealed.body.status, 'IN_REVIEW', JSON.stringify(appealed.body));
    await eventually(
      async () =>
        (await apiCall('GET', '/v1/review-queue?limit=500', 'dev-reviewer-1')).body.items.some(
          (i: { caseId: string }) => i.caseId === caseId,
        ),
      15_000,
      'the case in the review queue',
    );
    return caseId;
  }

  const caseOf = async (caseId: string) => (await apiCall('GET', `/v1/cases/${caseId}`, 'dev-backend')).body;

  describe('over HTTP', () => {
    it('opens a file the user sent as a download, within its own case only; visitors go to sign in', async () => {
      const [type, attributes] = EXAMPLES.identityMismatch;
      const reported = await apiCall(
        'POST',
        '/v1/risk-events',
        'dev-backend',
        riskEvent(uniqueAccount('console'), type, attributes as never),
      );
      const caseId: string = reported.body.caseId;
      // The store the user's page writes to: the API's data folder, keys derived from the codec keys.
      const store = new FileEvidenceStore(
        parseConfig({}).dataDir,
        evidenceKeysFrom(parseCodecKeys(TEST_CODEC_KEYS)),
      );
      const content = Buffer.from('scan of my new ID card\n');
      const { ref } = await store.put(content, { type: 'text/plain', caseId, name: 'id-card.txt' });
      const appealed = await apiCall('POST', `/v1/cases/${caseId}/appeal`, 'dev-backend', {
        statement: 'See the file.',
        evidence: [ref, 'doc-elsewhere'],
        requestId: 'appeal-ev',
      });
      assert.equal(appealed.status, 200, JSON.stringify(appealed.body));

      const a = new Agent(url);
      await a.signIn('dev-reviewer-1');
      const link = `/console/cases/${encodeURIComponent(caseId)}/evidence/${ref}`;
      const page = await a.get(`/console/cases/${encodeURIComponent(caseId)}`);
      assert.ok(page.text.includes(`href="${link}"`), 'the reference links to the file');
      assert.ok(
        page.text.includes('<code class="evidence">doc-elsewhere</code>'),
        'other references as given',
      );
      const file = await a.get(link);
      assert.equal(file.status, 200);
      assert.equal(file.text, content.toString());
      assert.match(file.headers.get('content-type') ?? '', /^text\/plain/);
      assert.equal(file.headers.get('content-disposition'), `attachment; filename="${ref}.txt"`);
      assert.match(file.headers.get('content-security-policy') ?? '', /sandbox/);

      const otherCase = `${uniqueAccount()}.0123456789ab`;
      assert.equal(
        (await a.get(`/console/cases/${otherCase}/evidence/${ref}`)).status,
        404,
        'not in another case',
      );
      assert.equal((await a.get(`/console/cases/${caseId}/evidence/ev_${'A'.repeat(32)}`)).status, 404);
      const visitor = await new Agent(url).get(link);
      assert.equal(visitor.status, 303);
      assert.match(visitor.location ?? '', /^\/console\/login/);
    });

    it('sends a visitor to sign in, then signs a reviewer in with an HttpOnly, SameSite=Strict cookie without the token', async () => {
      const a = new Agent(url);
      const away = await a.get('/console/queue?tier=FREEZE');
      assert.equal(away.status, 303);
      assert.equal(away.location, `/console/login?next=${encodeURIComponent('/console/queue?tier=FREEZE')}`);

      const login = await a.get('/console/login');
      assert.equal(login.status, 200);
      assert.match(login.headers.get('content-type') ?? '', /^text\/html/);
      const csp = login.headers.get('content-security-policy') ?? '';
      for (const directive of [
        "default-src 'none'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
      ])
        assert.ok(csp.includes(directive), `${directive} in ${csp}`);
      assert.equal(login.headers.get('cache-control'), 'no-store');
      // The CSRF nonce cookie came with the first answer; the sign-in page keeps it.
      assert.equal(login.setCookies.length, 0);
      const csrfCookie = away.setCookies.find((c) => c.startsWith('cordon_console_csrf='));
      assert.match(csrfCookie ?? '', /; Path=\/console(;|$)/);
      assert.match(csrfCookie ?? '', /HttpOnly/);
      assert.match(csrfCookie ?? '', /SameSite=Strict/);

      const signedIn = await a.post('/console/login', {
        _csrf: csrfOf(login.text),
        token: 'dev-reviewer-1',
        next: '/console/queue?tier=FREEZE',
      });
      assert.equal(signedIn.status, 303);
      assert.equal(signedIn.location, '/console/queue?tier=FREEZE');
      const cookie = sessionCookieOf(signedIn) ?? assert.fail('a session cookie');
      assert.match(cookie, /; HttpOnly/);
      assert.match(cookie, /; SameSite=Strict/);
      assert.match(cookie, /; Path=\/(;|$)/);
      assert.match(cookie, new RegExp(`; Max-Age=${parseConfig({}).sessions.maxMs / 1000}`));
      // A random session ID (the session is in Cordon's database) and its signature: no principal, no token.
      const value = a.jar.get(SESSION_COOKIE)!;
      assert.match(value, /^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
      assert.ok(!value.includes('dev-reviewer-1'), 'the session never holds the token');

      const queue = await a.get('/console/queue?tier=FREEZE');
      assert.equal(queue.status, 200);
      assert.match(queue.text, /reviewer-1/);
      assert.match(queue.text, /<section id="queue" data-refresh="30">/);
      // Signed in, the sign-in page sends the reviewer on.
      assert.equal((await a.get('/console/login')).status, 303);
    });

    it('refuses backend, unknown and empty tokens, and a sign-in without its CSRF token', async () => {
      const a = new Agent(url);
      const backend = await a.post('/console/login', {
        _csrf: await a.csrf(),
        token: 'dev-backend',
        next: '',
      });
      assert.equal(backend.status, 403);
      assert.match(backend.text, /only reviewer, senior and admin tokens/);
      assert.equal(sessionCookieOf(backend), undefined);
      for (const token of ['dev-reviewer-3', 'DEV-REVIEWER-1', '', 'constructor', '__proto__']) {
        const r = await a.post('/console/login', { _csrf: await a.csrf(), token, next: '' });
        assert.equal(r.status, 401, token);
        assert.match(r.text, /This token is not valid/);
        assert.equal(sessionCookieOf(r), undefined, token);
      }
      const forged = await a.post('/console/login', { token: 'dev-reviewer-1', next: '' });
      assert.equal(forged.status, 403);
      assert.match(forged.text, /This form has expired/);
      assert.equal(sessionCookieOf(forged), undefined);
      // A token from another browser's page (another nonce) is no better.
      const elsewhere = await new Agent(url).csrf();
      const borrowed = await a.post('/console/login', {
        _csrf: elsewhere,
        token: 'dev-reviewer-1',
        next: '',
      });
      assert.equal(borrowed.status, 403);
      assert.equal(a.jar.has(SESSION_COOKIE), false);
    });

    it('keeps no session in a process: another API process with the secret serves it, so does /codec', async () => {
      const a = new Agent(url);
      assert.equal((await a.signIn('dev-senior')).status, 303);
      const there = await a.get('/console/queue', { base: other!.url });
      assert.equal(there.status, 200);
      assert.match(there.text, /senior/);
      const codec = (cookie?: string) =>
        fetch(`${other!.url}/codec/decode`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-namespace': 'default',
            ...(cookie ? { cookie } : {}),
          },
          body: JSON.stringify({ payloads: [] }),
        }).then((r) => r.status);
      assert.equal(await codec(`${SESSION_COOKIE}=${a.jar.get(SESSION_COOKIE)}`), 200);
      assert.equal(await codec(), 401);
      // The CSRF token of a page from one process is good on the other.
      const out = await a.post(
        '/console/logout',
        { _csrf: await a.csrf('/console/queue') },
        { base: other!.url },
      );
      assert.equal(out.location, '/console/login?bye=1');
    });

    it('signs out a tampered, forged, ended, idle, expired or revoked session', async () => {
      const { idleMs, maxMs } = parseConfig({}).sessions;
      /** Sessions in the API's database, as of `ago` ms in the past. */
      const store = (ago = 0) =>
        new ConsoleSessionStore(running!.h.store.db, { idleMs, maxMs }, () => Date.now() - ago);
      const sealed = async (p: Principal, sessions = store(), key = secret) =>
        (await startSession(key, sessions, p)).value;
      const reviewer: Principal = { id: 'reviewer-1', role: 'reviewer' };
      const visit = async (value: string) => {
        const a = new Agent(url);
        a.jar.set(SESSION_COOKIE, value);
        return a.get('/console/queue');
      };
      // The forging itself is right: a session started in the database and signed with the secret is accepted.
      assert.equal((await visit(await sealed(reviewer))).status, 200);

      const good = await sealed(reviewer);
      const [id, mac] = good.split('.') as [string, string];
      const signedOut = await sealed(reviewer);
      await store().end(signedOut.split('.')[0]!);
      const elsewhere = await tempStore();
      const refused = {
        'signature changed': `${id}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`,
        'no signature': id,
        'another secret': await sealed(reviewer, store(), randomBytes(32)),
        'signed with the secret, but no such session here': await sealed(
          reviewer,
          new ConsoleSessionStore(elsewhere.db, { idleMs, maxMs }),
        ),
        'signed out': signedOut,
        'expired (signed in 8 h ago)': await sealed(reviewer, store(maxMs + 1_000)),
        'idle (last used 30 minutes ago)': await sealed(reviewer, store(idleMs + 1_000)),
        'a principal no token maps to (revoked)': await sealed({ id: 'reviewer-9', role: 'reviewer' }),
        'a role the token table does not give': await sealed({ id: 'reviewer-1', role: 'senior' }),
        'the backend service': await sealed({ id: 'backend', role: 'backend' }),
        garbage: 'not-a-session',
      };
      await elsewhere.db.close();
      for (const [what, value] of Object.entries(refused)) {
        const r = await visit(value);
        assert.equal(r.status, 303, what);
        assert.equal(r.location, `/console/login?next=${encodeURIComponent('/console/queue')}&ended=1`, what);
        assert.ok(
          r.setCookies.some((c) => c.startsWith(`${SESSION_COOKIE}=;`) && /Expires=Thu, 01 Jan 1970/.test(c)),
          `${what}: the cookie is cleared`,
        );
      }
      const a = new Agent(url);
      a.jar.set(SESSION_COOKIE, refused['expired (signed in 8 h ago)']);
      const page = await a.get('/console/login?next=%2Fconsole%2Fqueue&ended=1');
      assert.match(page.text, /Your session has ended/);
    });

    it('refuses a POST without this session’s CSRF token or from another site: 403, and nothing changes', async () => {
      const caseId = await caseInReview('identityMismatch');
      const r1 = new Agent(url);
      const r2 = new Agent(url);
      await r1.signIn('dev-reviewer-1');
      await r2.signIn('dev-reviewer-2');
      const page = `/console/cases/${caseId}`;
      const mine = await r1.csrf(page);
      const theirs = await r2.csrf(page);
      const attempts: [string, Record<string, string>, Record<string, string>?][] = [
        ['no token', {}],
        ['an empty token', { _csrf: '' }],
        ["another reviewer's token", { _csrf: theirs }],
        ['a token with a character changed', { _csrf: mine.slice(0, -1) + (mine.endsWith('A') ? 'B' : 'A') }],
        ['a cross-site request', { _csrf: mine }, { 'sec-fetch-site': 'cross-site' }],
      ];
      for (const [what, form, headers] of attempts) {
        const r = await r1.post(`${page}/claim`, form, { headers });
        assert.equal(r.status, 403, what);
        assert.match(r.text, /This form has expired/, what);
      }
      // A token of the same browser before signing in is bound to no session: refused after signing in.
      const fresh = new Agent(url);
      const anonymous = await fresh.csrf();
      await fresh.signIn('dev-reviewer-1');
      assert.equal((await fresh.post(`${page}/claim`, { _csrf: anonymous })).status, 403);
      assert.equal((await caseOf(caseId)).assignee, null, 'nothing changed');

      const claimed = await r1.post(`${page}/claim`, { _csrf: mine });
      assert.equal(claimed.status, 303);
      assert.equal(claimed.location, `${page}?done=claim`);
      assert.equal((await caseOf(caseId)).assignee, 'reviewer-1');
    });

    it('shows invalid input and refusals in place with what was typed, never a bare error', async () => {
      const caseId = await caseInReview('identityMismatch');
      const a = new Agent(url);
      await a.signIn('dev-reviewer-1');
      const page = `/console/cases/${caseId}`;
      const csrf = await a.csrf(page);
      // Approving a case that waits for no approval: the API's 409, shown on the case page.
      const approval = await a.post(`${page}/approval`, {
        _csrf: csrf,
        approve: 'true',
        rationale: 'Looks fine.',
      });
      assert.equal(approval.status, 409);
      assert.match(approval.text, /data-code="NOT_PENDING_APPROVAL"/);
      assert.match(approval.text, /The case is not waiting for an approval/);
      assert.match(approval.text, new RegExp(`Case ${caseId.replace('.', '\\.')}`));

      assert.equal((await a.post(`${page}/claim`, { _csrf: csrf })).status, 303);
      const decide = await a.get(page);
      assert.match(decide.text, /id="decision-form"/);
      const requestId = /name="requestId" value="([^"]+)"/.exec(decide.text)![1]!;
      const typed = {
        _csrf: csrf,
        requestId,
        decision: 'UNLOCK',
        rationale: '   ',
        explanationCode: 'IDENTITY_MISMATCH',
        explanationText: 'Checked <b>twice</b>',
      };
      const invalid = await a.post(`${page}/decision`, typed);
      assert.equal(invalid.status, 400);
      assert.match(invalid.text, /data-code="VALIDATION_FAILED"/);
      assert.match(invalid.text, /<p class="field-error" data-field="rationale">/);
      assert.match(
        invalid.text,
        /Checked &lt;b&gt;twice&lt;\/b&gt;<\/textarea>/,
        'the text as typed, escaped',
      );
      assert.match(invalid.text, /value="UNLOCK"\s+required\s+checked/);

      const noQuestion = await a.post(`${page}/decision`, {
        ...typed,
        decision: 'REQUEST_INFO',
        rationale: 'Need the new ID.',
      });
      assert.equal(noQuestion.status, 400);
      assert.match(noQuestion.text, /data-field="question">\s*REQUEST_INFO needs a question for the user/);
      assert.equal((await caseOf(caseId)).status, 'IN_REVIEW', 'nothing changed');

      const asked = await a.post(`${page}/decision`, {
        ...typed,
        decision: 'REQUEST_INFO',
        rationale: 'Need the new ID.',
        question: 'Please upload your new ID card.',
      });
      assert.equal(asked.status, 303);
      const view = await caseOf(caseId);
      assert.equal(view.status, 'AWAITING_INFO');
      assert.equal(view.question, 'Please upload your new ID card.');

      const unknown = await a.get(`/console/cases/${uniqueAccount()}.0123456789ab`);
      assert.equal(unknown.status, 404);
      assert.match(unknown.text, /Case not found/);
      assert.match(unknown.text, /CASE_NOT_FOUND/);
      const badId = await a.get('/console/cases/not%20a%20case');
      assert.equal(badId.status, 400);
      assert.match(badId.text, /VALIDATION_FAILED/);
      const nowhere = await a.get('/console/nowhere');
      assert.equal(nowhere.status, 404);
      assert.match(nowhere.headers.get('content-type') ?? '', /^text\/html/);
      const huge = await a.post(`${page}/decision`, { _csrf: csrf, rationale: 'x'.repeat(40_000) });
      assert.equal(huge.status, 413);
      assert.match(huge.text, /BODY_TOO_LARGE/);
      for (const r of [approval, invalid, noQuestion, unknown, badId, nowhere, huge])
        assert.doesNotMatch(r.text, /\bat [\w.]+ \(|node_modules|Error:/, 'no stack trace');
    });

    it('speaks the browser’s language, switches by a link, and never redirects off the console', async () => {
      const zh = new Agent(url, { 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.8' });
      const page = await zh.get('/console/login');
      assert.match(page.text, /<html lang="zh-CN">/);
      assert.match(page.text, /登录审核控制台/);
      const en = await new Agent(url, { 'accept-language': 'fr-FR, en;q=0.5, zh;q=0.1' }).get(
        '/console/login',
      );
      assert.match(en.text, /<html lang="en">/);
      assert.match(en.text, /Sign in to the reviewer console/);

      const switched = await zh.get(
        `/console/lang?to=en&back=${encodeURIComponent('/console/login?next=/console/queue')}`,
      );
      assert.equal(switched.status, 303);
      assert.equal(switched.location, '/console/login?next=/console/queue');
      assert.match((await zh.get('/console/login')).text, /<html lang="en">/);
      for (const back of [
        'https://evil.example/',
        '//evil.example/console',
        '/console//evil.example',
        '/consolex',
        'javascript:alert(1)',
      ])
        assert.equal(
          (await zh.get(`/console/lang?to=zh-CN&back=${encodeURIComponent(back)}`)).location,
          '/console/queue',
          back,
        );
      const next = await zh.post('/console/login', {
        _csrf: await zh.csrf(),
        token: 'dev-reviewer-2',
        next: 'https://evil.example/',
      });
      assert.equal(next.location, '/console/queue');
    });

    it('signs out: the session cookie is cleared and the console asks to sign in again', async () => {
      const a = new Agent(url);
      await a.signIn('dev-reviewer-2');
      const csrf = await a.csrf('/console/queue');
      const out = await a.post('/console/logout', { _csrf: csrf });
      assert.equal(out.status, 303);
      assert.equal(out.location, '/console/login?bye=1');
      assert.equal(a.jar.has(SESSION_COOKIE), false);
      assert.equal((await a.get('/console/queue')).status, 303);
      assert.match((await a.get('/console/login?bye=1')).text, /You are signed out/);
    });
  });

  describe('the queue', () => {
    const at = (min: number) => new Date(Date.UTC(2026, 10, 23, 12, min)).toISOString();
    const now = Date.parse(at(30));
    const row = (caseId: string, o: Partial<QueueRow>): QueueRow => ({
      caseId,
      accountId: caseId.split('.')[0]!,
      tier: 'FREEZE',
      status: 'IN_REVIEW',
      reviewDueAt: null,
      assignee: null,
      escalated: false,
      reasonCodes: ['IDENTITY_MISMATCH'],
      ...o,
    });
    const rows = [
      row('a.000000000001', { reviewDueAt: at(50) }),
      row('b.000000000002', {
        reviewDueAt: at(10),
        escalated: true,
        tier: 'CLOSE',
        reasonCodes: ['EXTERNAL_FRAUD_REPORT'],
      }),
      row('c.000000000003', { reviewDueAt: null, status: 'PENDING_APPROVAL', assignee: 'reviewer-1' }),
      // Breached since the API answered: the deadline passed, escalated not yet set.
      row('d.000000000004', { reviewDueAt: at(20), assignee: 'reviewer-2' }),
      row('e.000000000005', {
        reviewDueAt: at(40),
        tier: 'LIMIT',
        reasonCodes: ['MULTI_LENDER_BORROWING', 'IDENTITY_MISMATCH'],
      }),
    ];

    it('puts breached cases first, then orders by the time left to the SLA (no deadline last)', () => {
      assert.deepEqual(
        sortQueue(rows, now).map((r) => r.caseId[0]),
        ['b', 'd', 'e', 'a', 'c'],
      );
    });

    it('filters by status, tier, reason and assignee, and counts each choice with the other filters kept', () => {
      const me = 'reviewer-1';
      assert.deepEqual(
        applyFilter(rows, { reason: 'IDENTITY_MISMATCH', assignee: 'unassigned' }, me, now).map(
          (r) => r.caseId[0],
        ),
        ['a', 'e'],
      );
      assert.deepEqual(
        applyFilter(rows, { assignee: 'mine' }, me, now).map((r) => r.caseId[0]),
        ['c'],
      );
      assert.deepEqual(
        applyFilter(rows, { escalated: 'yes' }, me, now).map((r) => r.caseId[0]),
        ['b', 'd'],
      );
      const counts = facetCounts(rows, { tier: 'FREEZE' }, me, now);
      assert.equal(counts.tier.get(''), 5, 'the tier facet ignores its own filter');
      assert.equal(counts.tier.get('CLOSE'), 1);
      assert.equal(counts.reason.get(''), 3, 'other facets count FREEZE cases only');
      assert.equal(counts.reason.get('IDENTITY_MISMATCH'), 3);
      assert.equal(counts.reason.get('EXTERNAL_FRAUD_REPORT'), undefined);
      assert.equal(counts.assignee.get('mine'), 1);
      assert.equal(counts.assignee.get('unassigned'), 1);
      assert.equal(counts.status.get('PENDING_APPROVAL'), 1);
    });

    it('shows breached cases distinctly, and escapes what it shows', () => {
      const me: Principal = { id: 'reviewer-1', role: 'reviewer' };
      const sorted = sortQueue(
        [...rows, row('f.000000000006', { reviewDueAt: at(45), assignee: '<script>x</script>' })],
        now,
      );
      const page = queuePage(
        { t: translator('en'), lang: 'en', principal: me, csrf: 'token', here: '/console/queue' },
        {
          rows: sorted,
          total: sorted.length,
          filter: {},
          counts: facetCounts(sorted, {}, me.id, now),
          unknownReasons: 0,
          refreshSeconds: 30,
          now,
        },
      );
      const rowOf = (id: string) =>
        new RegExp(`<tr\\s+class="([^"]*)"\\s+data-case-id="${id}"[\\s\\S]*?</tr>`).exec(page);
      for (const id of ['b.000000000002', 'd.000000000004']) {
        assert.equal(rowOf(id)?.[1], 'escalated', id);
        assert.match(rowOf(id)![0], /class="badge danger"[^>]*>\s*Escalated/);
      }
      for (const id of ['a.000000000001', 'e.000000000005'])
        assert.doesNotMatch(rowOf(id)![0], /Escalated|escalated/, id);
      assert.ok(page.indexOf('b.000000000002') < page.indexOf('a.000000000001'));
      assert.ok(!page.includes('<script>x</script>'));
      assert.ok(page.includes('&lt;script&gt;x&lt;/script&gt;'));
      assert.match(page, /Reason code\s*<select[^>]*>\s*<option value="">All \(6\)<\/option>/);
    });
  });

  describe('in Chromium', function () {
    requires('chromium');
    let browser: Browser;
    const pages: ReviewerPage[] = [];
    const open = async (locale?: string) => {
      const p = await openPage(browser, url, locale);
      pages.push(p);
      return p;
    };

    before(async () => {
      browser = await launchBrowser();
    });
    afterEach(async function () {
      for (const p of pages.splice(0)) {
        // Awaited: a close left running rejects once the browser is gone.
        await p.context.close();
        if (this.currentTest?.state === 'passed') assert.deepEqual(p.problems, [], 'no page or CSP errors');
      }
    });
    after(() => browser?.close());

    it('two reviewers close a case with four eyes; a stale claim is refused in place', async () => {
      const statement = 'My card was stolen <img src=x onerror="window.__xss=1"> and I reported it.';
      const caseId = await caseInReview('fraudConfirmed', statement);
      await caseInReview('identityMismatch');
      await caseInReview('multiLender');
      const topReason = [...(await caseOf(caseId)).reasons].sort(
        (a: any, b: any) => b.contribution - a.contribution,
      )[0].code;

      const r1 = await open('en-US');
      await signIn(r1.page, 'dev-reviewer-1');
      assert.match(r1.page.url(), /\/console\/queue$/);
      await r1.page.locator('h1', { hasText: 'Review queue' }).waitFor();
      const row = r1.page.locator(`tr[data-case-id="${caseId}"]`);
      assert.equal(await row.count(), 1, 'the appealed case is in the queue');
      assert.match(await row.innerText(), /EXTERNAL_FRAUD_REPORT/);
      await Promise.all([
        r1.page.waitForURL(/tier=CLOSE/),
        r1.page.locator('select[name=tier]').selectOption('CLOSE'),
      ]);
      await Promise.all([
        r1.page.waitForURL(/assignee=unassigned/),
        r1.page.locator('select[name=assignee]').selectOption('unassigned'),
      ]);
      assert.equal(await r1.page.locator(`tr[data-case-id="${caseId}"]`).count(), 1);
      assert.match(
        (await r1.page.locator('select[name=tier] option:checked').innerText()).trim(),
        /^Close \(\d+\)$/,
      );
      await r1.page.goto('/console/queue');
      await screenshot(r1.page, 'queue');

      // Reviewer 2 opens the case first, in Chinese, and leaves the page open.
      const r2 = await open('zh-CN');
      await signIn(r2.page, 'dev-reviewer-2', `/console/cases/${caseId}`);
      assert.match(r2.page.url(), new RegExp(`/console/cases/${caseId.replace('.', '\\.')}$`));
      await r2.page.locator('button[data-action=claim]', { hasText: '认领' }).waitFor();

      await r1.page.locator(`tr[data-case-id="${caseId}"] a`).click();
      await r1.page.waitForURL(new RegExp(`/console/cases/${caseId.replace('.', '\\.')}$`));
      assert.equal(
        await r1.page.locator('.statement .quote').innerText(),
        statement,
        'the statement as written',
      );
      assert.equal(await r1.page.evaluate('window.__xss'), undefined, 'and never run');
      assert.match(await r1.page.locator('.statement').innerText(), /doc-42/);
      assert.match(await r1.page.locator(`tr[data-reason="${topReason}"]`).innerText(), /\+\d+/);
      assert.ok((await r1.page.locator('#timeline tr[data-type=APPEAL][data-actor^="user:"]').count()) === 1);
      assert.ok(
        (await r1.page.locator('#timeline tr[data-type=RISK_EVENT][data-actor="backend:backend"]').count()) >=
          1,
      );
      await Promise.all([
        r1.page.waitForURL(/\?done=claim$/),
        r1.page.locator('button[data-action=claim]').click(),
      ]);
      assert.match(await r1.page.locator('#done').innerText(), /You claimed the case/);
      assert.match(await r1.page.locator('#case-assignee').innerText(), /reviewer-1/);
      assert.equal(
        await r1.page.locator('select[name=explanationCode]').inputValue(),
        'IDENTITY_CONFIRMED',
        'an outcome code (core/outcomes.ts), not a reason code',
      );
      await screenshot(r1.page, 'case');

      // The stale page's claim: refused by the case (409), shown where reviewer 2 clicked.
      const [refusal] = await Promise.all([
        r2.page.waitForResponse((res) => res.url().endsWith('/claim')),
        r2.page.locator('button[data-action=claim]').click(),
      ]);
      assert.equal(refusal.status(), 409);
      const alert = r2.page.locator('#hold .alert.error');
      assert.equal(await alert.getAttribute('data-code'), 'CLAIMED_BY_OTHER');
      assert.match(await alert.innerText(), /操作被拒绝[\s\S]*此案件已由其他审核员处理/);
      assert.match(
        await r2.page.locator('h1').innerText(),
        new RegExp(caseId.replace('.', '\\.')),
        'still the case page',
      );

      // Reviewer 1 closes: the preset explanation follows the decision; four eyes hold the close.
      await r1.page.locator('input[name=decision][value=CLOSE]').check();
      assert.equal(
        await r1.page.locator('textarea[name=explanationText]').inputValue(),
        USER_PRESETS.en.close,
      );
      assert.equal(await r1.page.locator('#question-field').isHidden(), true);
      await r1.page
        .locator('textarea[name=rationale]')
        .fill('Confirmed card-network fraud report; statement does not explain the transfers.');
      await Promise.all([
        r1.page.waitForURL(/\?done=decision$/),
        r1.page.locator('#decision-form button[type=submit]').click(),
      ]);
      assert.equal(await r1.page.locator('#case-status').getAttribute('data-status'), 'PENDING_APPROVAL');
      assert.match(await r1.page.locator('#approval').innerText(), /another reviewer must approve/);
      assert.equal(
        await r1.page.locator('#approval button[name=approve]').count(),
        0,
        'no approving one’s own decision',
      );

      await r2.page.goto(`/console/cases/${caseId}`);
      await r2.page.locator('#approval-rationale').fill('同意：欺诈报告已确认。');
      await Promise.all([
        r2.page.waitForURL(/\?done=approval$/),
        r2.page.locator('#approval button[value=true]').click(),
      ]);
      assert.equal(await r2.page.locator('#case-status').getAttribute('data-status'), 'CLOSED');
      assert.equal(
        await r2.page.locator('#timeline tr[data-type=APPROVAL][data-actor="reviewer:reviewer-2"]').count(),
        1,
      );

      const view = await caseOf(caseId);
      assert.equal(view.outcome, 'CLOSED');
      const decision = view.timeline.find((e: any) => e.type === 'DECISION');
      assert.equal(decision.actor.id, 'reviewer-1');
      assert.equal(decision.decision, 'CLOSE');
      const approval = view.timeline.find((e: any) => e.type === 'APPROVAL');
      assert.equal(approval.actor.id, 'reviewer-2');
      assert.equal(approval.approve, true);
      // The first outcome code that fits a close, chosen with the decision.
      assert.deepEqual(view.explanation, { code: 'RISK_CONFIRMED', text: USER_PRESETS.en.close });
    });

    it('a missing question is shown in place; with it, the user is asked', async () => {
      const caseId = await caseInReview('identityMismatch');
      const r = await open();
      await signIn(r.page, 'dev-reviewer-2', `/console/cases/${caseId}`);
      await Promise.all([
        r.page.waitForURL(/\?done=claim$/),
        r.page.locator('button[data-action=claim]').click(),
      ]);
      await r.page.locator('input[name=decision][value=REQUEST_INFO]').check();
      assert.equal(await r.page.locator('#explanation-field').isHidden(), true);
      await r.page.locator('textarea[name=rationale]').fill('The new ID card is not attached.');
      const [answer] = await Promise.all([
        r.page.waitForResponse((res) => res.url().endsWith('/decision')),
        r.page.locator('#decision-form button[type=submit]').click(),
      ]);
      assert.equal(answer.status(), 400);
      assert.equal(
        await r.page.locator('.field-error[data-field=question]').innerText(),
        'REQUEST_INFO needs a question for the user',
      );
      assert.equal(
        await r.page.locator('textarea[name=rationale]').inputValue(),
        'The new ID card is not attached.',
      );
      await r.page.locator('textarea[name=question]').fill('Please upload a photo of your new ID card.');
      await Promise.all([
        r.page.waitForURL(/\?done=decision$/),
        r.page.locator('#decision-form button[type=submit]').click(),
      ]);
      assert.equal(await r.page.locator('#case-status').getAttribute('data-status'), 'AWAITING_INFO');
      assert.match(
        await r.page.locator('#user-statements').innerText(),
        /Please upload a photo of your new ID card/,
      );
      assert.equal((await caseOf(caseId)).question, 'Please upload a photo of your new ID card.');
    });

    it('the queue refreshes itself and keeps its filters', async () => {
      const r = await open();
      await r.page.clock.install();
      await signIn(r.page, 'dev-reviewer-1', '/console/queue?tier=LIMIT');
      assert.match(r.page.url(), /\/console\/queue\?tier=LIMIT$/);
      const caseId = await caseInReview('multiLender');
      const row = r.page.locator(`tr[data-case-id="${caseId}"]`);
      assert.equal(await row.count(), 0, 'not there before the refresh');
      await r.page.clock.runFor(31_000);
      await row.waitFor({ timeout: 15_000 });
      assert.match(r.page.url(), /\?tier=LIMIT$/);
      assert.equal(
        await r.page.locator('tr[data-case-id] td:nth-child(3)', { hasNotText: 'Limit' }).count(),
        0,
      );
    });

    it('follows the browser’s language, switches by the link, and signs out', async () => {
      const r = await open('zh-CN');
      await signIn(r.page, 'dev-senior');
      await r.page.locator('h1', { hasText: '审核队列' }).waitFor();
      await Promise.all([r.page.waitForURL(/\/console\/queue$/), r.page.locator('a[hreflang=en]').click()]);
      await r.page.locator('h1', { hasText: 'Review queue' }).waitFor();
      await r.page.reload();
      await r.page.locator('h1', { hasText: 'Review queue' }).waitFor();
      await Promise.all([
        r.page.waitForURL(/\/console\/login\?bye=1$/),
        r.page.locator('header form button').click(),
      ]);
      assert.match(await r.page.locator('.alert').innerText(), /You are signed out/);
      await r.page.goto('/console/queue');
      assert.match(r.page.url(), /\/console\/login\?next=/);
      const cookies = await r.context.cookies();
      assert.equal(
        cookies.find((c) => c.name === SESSION_COOKIE),
        undefined,
      );
    });
  });
});
