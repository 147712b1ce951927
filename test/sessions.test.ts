// Who can use the console, and for how long, over real HTTP against the real API (and a real headless Chromium):
// console sessions kept in Cordon's database (sign-out, idle and absolute timeouts, an admin's revoke, on every
// API process and for /codec), and production's Secure cookies and HSTS. The session store itself is checked on
// SQLite and on PostgreSQL with a clock of the test's own. (Where the API listens: test/listen.test.ts.)
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, type RunningApi } from '../api/main';
import { HSTS_MAX_AGE_S } from '../api/app';
import { SESSION_COOKIE } from '../web/session';
import { parseConfig } from '../infra/config';
import { openDatabase, type Database } from '../infra/database';
import { linkKeysFromConfig, signLink } from '../infra/links';
import type { Logger } from '../infra/logger';
import { ConsoleSessionStore } from '../infra/sessions';
import { launchBrowser, openPage, signIn } from './helpers/browser';
import { quiet } from './helpers/deps';
import { riskEvent, uniqueAccount } from './helpers/events';
import { callApi, startApiHarness, type ApiHarness } from './helpers/harness';
import { sharedPostgres, startPostgres } from './helpers/postgres';
import { sharedDevServer, TEST_CODEC_KEYS } from './helpers/servers';
import { requires, requiresInTest } from './helpers/requirements';

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
  constructor(private readonly base: string) {}

  async send(method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<Answer> {
    const headers: Record<string, string> = {};
    const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (cookie) headers.cookie = cookie;
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers,
      body: form ? new URLSearchParams(form).toString() : undefined,
      redirect: 'manual',
    });
    const setCookies = res.headers.getSetCookie();
    for (const c of setCookies) {
      const pair = c.slice(0, c.indexOf(';'));
      const name = pair.slice(0, pair.indexOf('='));
      if (/Expires=Thu, 01 Jan 1970/.test(c)) this.jar.delete(name);
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

  get(path: string): Promise<Answer> {
    return this.send('GET', path);
  }

  async csrf(path = '/console/login'): Promise<string> {
    const token = /name="_csrf" value="([^"]+)"/.exec((await this.get(path)).text)?.[1];
    assert.ok(token, `${path} has a form with a CSRF field`);
    return token;
  }

  async signIn(token: string): Promise<Answer> {
    const r = await this.send('POST', '/console/login', {
      _csrf: await this.csrf(),
      token,
      next: '/console/queue',
    });
    assert.equal(r.status, 303, `signed in as ${token}: ${r.text.slice(0, 200)}`);
    assert.ok(this.jar.has(SESSION_COOKIE), 'a session cookie');
    return r;
  }

  async signOut(): Promise<Answer> {
    return this.send('POST', '/console/logout', { _csrf: await this.csrf('/console/queue') });
  }

  get session(): string {
    return this.jar.get(SESSION_COOKIE) ?? assert.fail('no session cookie');
  }
}

/** The console's queue as a browser holding only this session cookie (a copy of it) sees it. */
const visit = (base: string, session: string, path = '/console/queue') => {
  const a = new Agent(base);
  a.jar.set(SESSION_COOKIE, session);
  return a.get(path);
};

/** Where the console sends a browser whose session has ended. */
const endedAt = (path: string) => `/console/login?next=${encodeURIComponent(path)}&ended=1`;

/** POST /codec/decode (what the Web UI sends) with a console session cookie only. */
const decode = (base: string, session?: string) =>
  fetch(`${base}/codec/decode`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(session ? { cookie: `${SESSION_COOKIE}=${session}` } : {}),
    },
    body: JSON.stringify({ payloads: [] }),
  }).then((r) => r.status);

function recordingLogger(lines: string[]): Logger {
  const record = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    void lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);
  const logger: Logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    child: () => logger,
  };
  return logger;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

describe('trust boundaries: console sessions', function () {
  requires('temporal');
  this.timeout(120_000);
  const ADMIN = `sessions-admin-${randomUUID()}`;
  const logs: string[] = [];
  let dataDir: string;
  let running: ApiHarness | undefined;
  /** A second API process on the same database: what one process ends, the other refuses at once. */
  let other: RunningApi | undefined;
  let url: string;

  before(async function () {
    this.timeout(300_000);
    dataDir = tempDir('cordon-sessions-');
    const env = { CORDON_DATA_DIR: dataDir, CORDON_TOKENS: `${ADMIN}=admin:admin-1` };
    running = await startApiHarness(recordingLogger(logs), env);
    url = running.api.url;
    other = await startApi(
      parseConfig({
        PORT: '0',
        TEMPORAL_ADDRESS: (await sharedDevServer()).address,
        CORDON_TASK_QUEUE: running.h.taskQueue,
        CORDON_CODEC_KEYS: TEST_CODEC_KEYS,
        ...env,
      }),
      quiet,
      undefined,
      running.h.store,
    );
  });

  after(async () => {
    await other?.close();
    await running?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const revoke = (id: string, token = ADMIN) =>
    callApi(url, 'POST', `/v1/staff/${encodeURIComponent(id)}/sessions/revoke`, token);

  it('sign-out ends the session: a copied cookie is refused by every page, on every API process, and by /codec', async () => {
    const a = new Agent(url);
    await a.signIn('dev-reviewer-1');
    const copied = a.session;
    // Before the sign-out a copy is as good as the original, on both processes and for the Web UI's decoding.
    for (const base of [url, other!.url]) {
      assert.equal((await visit(base, copied)).status, 200, base);
      assert.equal(await decode(base, copied), 200, base);
    }
    const out = await a.signOut();
    assert.equal(out.location, '/console/login?bye=1');
    for (const base of [url, other!.url]) {
      for (const path of ['/console/queue', `/console/cases/${uniqueAccount()}.0123456789ab`]) {
        const page = await visit(base, copied, path);
        assert.equal(page.status, 303, `${base}${path}`);
        assert.equal(page.location, endedAt(path));
      }
      assert.equal(await decode(base, copied), 401, `${base}/codec/decode`);
    }
    assert.match((await visit(url, copied, '/console/login?ended=1')).text, /Your session has ended/);
  });

  it('keeps only a hash of the session ID in the database', async () => {
    const a = new Agent(url);
    await a.signIn('dev-senior');
    const id = a.session.slice(0, a.session.indexOf('.'));
    assert.ok(id.length >= 43, 'a random ID of 256 bits');
    const rows = await running!.h.store.db.query('SELECT * FROM console_sessions WHERE principal_id = ?', [
      'senior',
    ]);
    const mine = rows.find((r) => r.id_hash === sha256(id));
    assert.ok(mine, 'the row is found by the hash of the ID');
    assert.equal(mine.role, 'senior');
    assert.ok(!JSON.stringify(rows).includes(id), 'no row holds the ID itself');
    assert.ok(!JSON.stringify(rows).includes(a.session));
    assert.ok(!JSON.stringify(rows).includes('dev-senior'), 'nor the token');
  });

  it('an admin ends all of a reviewer’s sessions (two browsers, two processes), and no one else’s', async () => {
    const first = new Agent(url);
    const second = new Agent(other!.url);
    const bystander = new Agent(url);
    await first.signIn('dev-reviewer-2');
    await second.signIn('dev-reviewer-2');
    await bystander.signIn('dev-reviewer-1');
    for (const [base, a] of [
      [url, first],
      [other!.url, second],
    ] as const)
      assert.equal((await visit(base, a.session)).status, 200);

    // Only an admin may: the reviewer themselves and a senior are refused, and nothing ends.
    for (const token of ['dev-reviewer-2', 'dev-senior']) {
      const refused = await revoke('reviewer-2', token);
      assert.equal(refused.status, 403, token);
      assert.equal(refused.body.code, 'FORBIDDEN');
    }
    assert.equal((await visit(url, first.session)).status, 200);

    const done = await revoke('reviewer-2');
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.deepEqual(done.body, { principalId: 'reviewer-2', revoked: 2 });
    for (const [base, a] of [
      [url, first],
      [other!.url, second],
    ] as const) {
      const page = await visit(base, a.session);
      assert.equal(page.status, 303, base);
      assert.equal(page.location, endedAt('/console/queue'));
      assert.equal(await decode(base, a.session), 401, base);
    }
    assert.equal((await visit(url, bystander.session)).status, 200, 'another reviewer is still signed in');
    assert.equal(await decode(other!.url, bystander.session), 200);
    assert.deepEqual((await revoke('reviewer-2')).body, { principalId: 'reviewer-2', revoked: 0 });
    const bad = await revoke('not an id!');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'VALIDATION_FAILED');

    // Logged: who signed in, whose sessions an admin ended, how many; never a cookie or a token.
    const text = logs.join('\n');
    assert.match(text, /console sign-in \{"principal":"reviewer-2","role":"reviewer"\}/);
    assert.match(text, /console sessions revoked \{"principal":"reviewer-2","by":"admin-1","revoked":2\}/);
    for (const secret of [first.session, second.session, bystander.session, ADMIN])
      assert.ok(!text.includes(secret), 'no cookie value or token in the log');
    for (const a of [first, second, bystander]) {
      const id = a.session.slice(0, a.session.indexOf('.'));
      assert.ok(!text.includes(id) && !text.includes(sha256(id)), 'no session ID or its hash in the log');
    }
  });

  it('in Chromium: the admin’s revoke ends another browser’s session; its next page asks to sign in again', async function () {
    requiresInTest(this, 'chromium');
    const browser = await launchBrowser();
    try {
      const r = await openPage(browser, url);
      await signIn(r.page, 'dev-senior');
      await r.page.locator('h1', { hasText: 'Review queue' }).waitFor();
      const decodeHere = () =>
        r.page.evaluate(async () => {
          const res = await fetch('/codec/decode', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{"payloads":[]}',
          });
          return res.status;
        });
      assert.equal(await decodeHere(), 200, 'the signed-in browser decodes');
      const done = await revoke('senior');
      assert.ok(done.body.revoked >= 1, JSON.stringify(done.body));
      assert.equal(await decodeHere(), 401, 'with its cookie still there, it decodes no more');
      await r.page.reload();
      assert.match(r.page.url(), /\/console\/login\?next=%2Fconsole%2Fqueue&ended=1$/);
      assert.match(await r.page.locator('.alert').innerText(), /Your session has ended/);
    } finally {
      await browser.close();
    }
  });

  it('while the database is down, pages, /codec and the revoke answer 503 with Retry-After, and let no one in', async function () {
    requiresInTest(this, 'postgres');
    // An API of its own on a PostgreSQL of its own, which the test then stops.
    const pg = await startPostgres();
    const api = await startApi(
      parseConfig({
        PORT: '0',
        TEMPORAL_ADDRESS: (await sharedDevServer()).address,
        CORDON_TASK_QUEUE: running!.h.taskQueue,
        CORDON_CODEC_KEYS: TEST_CODEC_KEYS,
        CORDON_DATA_DIR: dataDir,
        CORDON_TOKENS: `${ADMIN}=admin:admin-1`,
        CORDON_DATABASE_URL: pg.url,
      }),
      quiet,
    );
    try {
      const a = new Agent(api.url);
      await a.signIn('dev-reviewer-1');
      assert.equal((await visit(api.url, a.session)).status, 200);
      await pg.stop();
      const page = await visit(api.url, a.session);
      assert.equal(page.status, 503, page.text.slice(0, 300));
      assert.match(page.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
      assert.match(page.text, /data-code="SESSIONS_UNAVAILABLE"/);
      const codec = await fetch(`${api.url}/codec/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: `${SESSION_COOKIE}=${a.session}` },
        body: JSON.stringify({ payloads: [] }),
      });
      assert.equal(codec.status, 503);
      assert.match(codec.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
      assert.equal(((await codec.json()) as { code: string }).code, 'SESSIONS_UNAVAILABLE');
      const revoked = await callApi(api.url, 'POST', '/v1/staff/reviewer-1/sessions/revoke', ADMIN);
      assert.equal(revoked.status, 503, JSON.stringify(revoked.body));
      assert.equal(revoked.body.code, 'SESSIONS_UNAVAILABLE');
    } finally {
      await api.close();
      await pg.stop();
    }
  });

  describe('timeouts', () => {
    /** 6 s without a request ends a session; 14.4 s after sign-in it ends however busy. */
    const IDLE_MS = 6_000;
    const MAX_MS = 14_400;
    let short: RunningApi | undefined;

    before(async () => {
      short = await startApi(
        parseConfig({
          PORT: '0',
          TEMPORAL_ADDRESS: (await sharedDevServer()).address,
          CORDON_TASK_QUEUE: running!.h.taskQueue,
          CORDON_CODEC_KEYS: TEST_CODEC_KEYS,
          CORDON_DATA_DIR: dataDir,
          CORDON_SESSION_IDLE_MINUTES: String(IDLE_MS / 60_000),
          CORDON_SESSION_MAX_HOURS: String(MAX_MS / 3_600_000),
        }),
        quiet,
        undefined,
        running!.h.store,
      );
    });
    after(() => short?.close());

    it('a session left idle ends; one in use outlives the idle timeout but not the absolute one', async () => {
      const busy = new Agent(short!.url);
      const idle = new Agent(short!.url);
      const began = Date.now();
      const signedIn = await busy.signIn('dev-reviewer-1');
      await idle.signIn('dev-reviewer-2');
      // The browser keeps the cookie no longer than the absolute timeout either.
      assert.match(signedIn.setCookies.join(), new RegExp(`; Max-Age=${Math.floor(MAX_MS / 1000)};`));

      // The busy browser asks every 1.5 s; the idle one waits out its idle time, then asks once.
      const answers: { at: number; status: number }[] = [];
      const polling = (async () => {
        while (Date.now() - began < MAX_MS + 8_000) {
          const status = (await visit(short!.url, busy.session)).status;
          answers.push({ at: Date.now() - began, status });
          if (status !== 200) return;
          await sleep(1_500);
        }
      })();
      await sleep(IDLE_MS + 1_500);
      const late = await visit(short!.url, idle.session);
      assert.equal(late.status, 303, 'the idle session ended');
      assert.equal(late.location, endedAt('/console/queue'));
      assert.equal(await decode(short!.url, idle.session), 401);
      await polling;

      const refused = answers.find((a) => a.status !== 200);
      assert.ok(refused, `the busy session ended: ${JSON.stringify(answers)}`);
      assert.equal(refused.status, 303);
      assert.ok(
        answers.some((a) => a.status === 200 && a.at > IDLE_MS + 1_500),
        `in use, it lived past the idle timeout: ${JSON.stringify(answers)}`,
      );
      // The absolute end counts from its sign-in, which came after `began`.
      assert.ok(refused.at >= MAX_MS, `not before its absolute end: ${JSON.stringify(answers)}`);
    });
  });

  describe('production: cookies and HSTS', () => {
    const tokens = {
      backend: `prod-backend-${randomUUID()}`,
      reviewer: `prod-reviewer-${randomUUID()}`,
    };
    let prodDir: string;
    let prod: ApiHarness | undefined;
    let config: ReturnType<typeof parseConfig>;

    before(async function () {
      this.timeout(300_000);
      prodDir = tempDir('cordon-prod-');
      const env = {
        CORDON_MODE: 'production',
        CORDON_HOST: '127.0.0.1',
        CORDON_TOKENS: `${tokens.backend}=backend:backend-1,${tokens.reviewer}=reviewer:reviewer-p`,
        CORDON_SESSION_SECRET: randomBytes(32).toString('base64'),
        CORDON_LINK_KEYS: `l1:${randomBytes(32).toString('base64')}`,
        CORDON_AUDIT_KEYS: `a1:${randomBytes(32).toString('base64')}`,
        CORDON_ENTITY_KEY: randomBytes(32).toString('base64'),
        CORDON_DATA_DIR: prodDir,
      };
      prod = await startApiHarness(quiet, env);
      config = parseConfig({ ...env, CORDON_CODEC_KEYS: TEST_CODEC_KEYS });
    });
    after(async () => {
      await prod?.close();
      if (prodDir) rmSync(prodDir, { recursive: true, force: true });
    });

    const HSTS = `max-age=${HSTS_MAX_AGE_S}; includeSubDomains`;

    it('over plain HTTP every cookie is Secure, and pages and API answers carry Strict-Transport-Security', async () => {
      assert.ok(HSTS_MAX_AGE_S >= 180 * 24 * 3600, 'browsers keep it for months');
      const base = prod!.api.url;
      const a = new Agent(base);
      const login = await a.get('/console/login');
      assert.equal(login.headers.get('strict-transport-security'), HSTS);
      const csrf = login.setCookies.find((c) => c.startsWith('cordon_console_csrf='));
      assert.match(csrf ?? '', /; Secure(;|$)/, 'the CSRF cookie');
      const signedIn = await a.signIn(tokens.reviewer);
      const session = signedIn.setCookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`));
      assert.match(session ?? '', /; Secure(;|$)/, 'the session cookie');
      assert.match(session ?? '', /; HttpOnly/);
      const out = await a.signOut();
      const cleared = out.setCookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`));
      assert.match(cleared ?? '', /; Secure(;|$)/, 'the cookie that clears the session');

      // The user's page: its own CSRF cookie.
      const reported = await callApi(
        base,
        'POST',
        '/v1/risk-events',
        tokens.backend,
        riskEvent(uniqueAccount('prod'), 'IDENTITY_CHECK', { matched: false }),
      );
      assert.equal(reported.status, 200, JSON.stringify(reported.body));
      assert.equal(reported.headers.get('strict-transport-security'), HSTS, 'an API answer');
      const link = signLink(linkKeysFromConfig(config), {
        caseId: reported.body.caseId,
        purpose: 'case',
        expiresAt: Date.now() + 3_600_000,
      });
      const page = await new Agent(base).get(`/u/${link}`);
      assert.equal(page.status, 200, page.text.slice(0, 300));
      assert.equal(page.headers.get('strict-transport-security'), HSTS, "the user's page");
      assert.match(page.setCookies.find((c) => c.startsWith('cordon_u_csrf=')) ?? '', /; Secure(;|$)/);

      for (const [path, status] of [
        ['/healthz', 200],
        ['/openapi.json', 200],
        ['/v1/review-queue', 401],
        ['/no-such-path', 404],
      ] as const) {
        const res = await fetch(`${base}${path}`);
        assert.equal(res.status, status, path);
        assert.equal(res.headers.get('strict-transport-security'), HSTS, path);
      }
      const codec = await fetch(`${base}/codec/decode`, { method: 'POST' });
      assert.equal(codec.status, 401);
      assert.equal(codec.headers.get('strict-transport-security'), HSTS, '/codec');
    });

    it('development (on 127.0.0.1) sends no HSTS, and a cookie is Secure only over HTTPS a trusted proxy vouches for', async () => {
      const dev = new Agent(url);
      const login = await dev.get('/console/login');
      assert.equal(login.headers.get('strict-transport-security'), null);
      assert.equal((await fetch(`${url}/healthz`)).headers.get('strict-transport-security'), null);
      // X-Forwarded-Proto from a client no CORDON_TRUST_PROXY names is not believed.
      const claimed = await fetch(`${url}/console/login`, { headers: { 'x-forwarded-proto': 'https' } });
      const csrf = claimed.headers.getSetCookie().find((c) => c.startsWith('cordon_console_csrf='));
      assert.ok(csrf, 'a CSRF cookie');
      assert.doesNotMatch(csrf, /; Secure/);
    });
  });
});

describe('trust boundaries: the session store (SQLite and PostgreSQL)', function () {
  this.timeout(60_000);
  const MINUTE = 60_000;
  // A clock of the test's own, in 2001: the shared PostgreSQL's other rows (now) are never old enough to purge.
  const T0 = Date.UTC(2001, 0, 1);

  for (const dialect of ['sqlite', 'postgres'] as const)
    describe(dialect, () => {
      if (dialect === 'postgres') requires('postgres');
      let db: Database;
      let dir: string | undefined;
      let now = T0;
      let sessions: ConsoleSessionStore;
      const who = () => ({ id: `staff-${randomUUID().slice(0, 8)}`, role: 'reviewer' as const });

      before(async function () {
        this.timeout(120_000);
        if (dialect === 'postgres')
          db = await openDatabase({ url: (await sharedPostgres()).url, sqliteFile: '' });
        else {
          dir = tempDir('cordon-sessions-db-');
          db = await openDatabase({ sqliteFile: join(dir, 'cordon.sqlite') });
        }
        sessions = new ConsoleSessionStore(db, { idleMs: 30 * MINUTE, maxMs: 8 * 60 * MINUTE }, () => now);
      });
      after(async () => {
        await db?.close();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });
      beforeEach(() => (now = T0));

      const rowsOf = (principalId: string) =>
        db.query('SELECT * FROM console_sessions WHERE principal_id = ?', [principalId]);

      it('finds a session by its ID only; ends it at sign-out', async () => {
        const p = who();
        const s = await sessions.start(p);
        assert.match(s.id, /^[A-Za-z0-9_-]{43}$/);
        const found = await sessions.find(s.id);
        assert.ok(found.ok);
        assert.deepEqual(found.session.principal, p);
        assert.deepEqual(await sessions.find(`${s.id.slice(0, -1)}${s.id.endsWith('A') ? 'B' : 'A'}`), {
          ok: false,
          why: 'unknown',
        });
        const [row] = await rowsOf(p.id);
        assert.equal(row?.id_hash, sha256(s.id));
        assert.ok(!JSON.stringify(row).includes(s.id));
        assert.equal(await sessions.end(s.id), true);
        assert.deepEqual(await sessions.find(s.id), { ok: false, why: 'unknown' });
        assert.equal((await rowsOf(p.id)).length, 0);
      });

      it('ends a session idle for 30 minutes; use keeps it alive until 8 hours after sign-in', async () => {
        const p = who();
        const idle = await sessions.start(p);
        const busy = await sessions.start(p);
        const signedIn = now;
        for (let t = 20; t < 8 * 60; t += 20) {
          now = signedIn + t * MINUTE;
          assert.ok((await sessions.find(busy.id)).ok, `in use at ${t} min`);
        }
        assert.deepEqual(await sessions.find(idle.id), { ok: false, why: 'idle' });
        now = signedIn + 8 * 60 * MINUTE;
        assert.deepEqual(await sessions.find(busy.id), { ok: false, why: 'expired' });
        assert.equal((await rowsOf(p.id)).length, 0, 'an ended session’s row goes');
      });

      it('a shortened absolute timeout ends sessions already running; a lengthened one does not extend them', async () => {
        const p = who();
        const s = await sessions.start(p);
        const signedIn = now;
        const shorter = new ConsoleSessionStore(db, { idleMs: 30 * MINUTE, maxMs: 60 * MINUTE }, () => now);
        const longer = new ConsoleSessionStore(
          db,
          { idleMs: 30 * MINUTE, maxMs: 24 * 60 * MINUTE },
          () => now,
        );
        for (const t of [20, 40, 61]) {
          now = signedIn + t * MINUTE;
          assert.ok((await sessions.find(s.id)).ok, `in use at ${t} min, under 8 hours`);
        }
        assert.deepEqual(await shorter.find(s.id), { ok: false, why: 'expired' });
        const t = await sessions.start(p);
        for (let m = 20; m < 8 * 60; m += 20) {
          now = signedIn + 61 * MINUTE + m * MINUTE;
          assert.ok((await longer.find(t.id)).ok, `in use at ${m} min`);
        }
        now = signedIn + 61 * MINUTE + 8 * 60 * MINUTE;
        assert.deepEqual(await longer.find(t.id), { ok: false, why: 'expired' }, 'its end stays 8 hours');
      });

      it('ends every session of one principal and answers how many', async () => {
        const p = who();
        const q = who();
        const mine = [await sessions.start(p), await sessions.start(p)];
        const theirs = await sessions.start(q);
        assert.equal(await sessions.endAllOf(p.id), 2);
        for (const s of mine) assert.equal((await sessions.find(s.id)).ok, false);
        assert.ok((await sessions.find(theirs.id)).ok);
        assert.equal(await sessions.endAllOf(p.id), 0);
      });

      it('purges the rows of ended sessions (at a sign-in, at most once a minute per process)', async () => {
        const fresh = new ConsoleSessionStore(db, sessions.timeouts, () => now);
        const p = who();
        const old = await fresh.start(p);
        now += 31 * MINUTE;
        const kept = await fresh.start(p); // purged on the way: the first sign-in of this process
        assert.deepEqual(
          (await rowsOf(p.id)).map((r) => r.id_hash),
          [sha256(kept.id)],
          'the idle row is gone without being asked for',
        );
        assert.equal((await fresh.find(old.id)).ok, false);
        now += 8 * 60 * MINUTE;
        assert.ok((await fresh.purge()) >= 1, 'the other, past its end');
        assert.equal((await rowsOf(p.id)).length, 0);
      });
    });
});
