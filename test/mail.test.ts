// E-mail notices over real SMTP (an smtp-server the test starts on 127.0.0.1), and the development mail
// catcher with its pages over real HTTP.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import express from 'express';
import { simpleParser, type ParsedMail } from 'mailparser';
import { createTransport } from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { carryNotice, LogChannel } from '../activities/channels';
import {
  LINK_AFTER_DEADLINE_MS,
  LINK_MIN_MS,
  SmtpChannel,
  type SmtpChannelOptions,
  httpDirectory,
  messageIdFor,
} from '../activities/mail';
import { escapeHtml } from '../web/html';
import { mailCatcherPages, type CaughtMail } from '../api/dev-mail';
import type { UserNotice } from '../core/messages';
import { REASONS } from '../core/reasons';
import { openDatabase } from '../infra/database';
import { verifyLink, type LinkKey } from '../infra/links';
import type { Logger } from '../infra/logger';
import { Store } from '../infra/store';
import { startMailCatcher, type MailCatcher } from '../scripts/mail-catcher';
import { quiet } from './helpers/deps';
import { riskEvent, uniqueAccount } from './helpers/events';
import { callApi, eventually, startApiHarness, type ApiHarness } from './helpers/harness';
import { requires } from './helpers/requirements';

// --- a real SMTP server whose answers the test decides --------------------------------------------------

type Step = 'RCPT' | 'DATA';
interface TestSmtp {
  url: string;
  /** Messages the server accepted (250 after DATA). */
  accepted: ParsedMail[];
  /** Every message body that reached the end of DATA, accepted or not. */
  attempts: ParsedMail[];
  connections: number;
  /** Next answers to give, in order: `{ step, code }` refuses that step once with that code. */
  refusals: { step: Step; code: number }[];
  close(): Promise<void>;
}

const smtpError = (code: number, message: string) =>
  Object.assign(new Error(message), { responseCode: code });

async function startTestSmtp(): Promise<TestSmtp> {
  const t: Omit<TestSmtp, 'url' | 'close'> = { accepted: [], attempts: [], connections: 0, refusals: [] };
  const refuse = (step: Step): Error | null => {
    const next = t.refusals[0];
    if (next?.step !== step) return null;
    t.refusals.shift();
    // Servers quote the address in their reply: the channel must not pass this text on.
    return smtpError(next.code, `refused for now <mailbox quoted by the server>`);
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(_s, cb) {
      t.connections++;
      cb();
    },
    onRcptTo(_a, _s, cb) {
      cb(refuse('RCPT'));
    },
    onData(stream, _s, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        simpleParser(Buffer.concat(chunks)).then(
          (mail) => {
            t.attempts.push(mail);
            const refusal = refuse('DATA');
            if (!refusal) t.accepted.push(mail);
            cb(refusal);
          },
          (err: Error) => cb(err),
        );
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return Object.assign(t, {
    url: `smtp://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

// --- helpers -------------------------------------------------------------------------------------------

interface Captured {
  logger: Logger;
  lines: string[];
}

/** A logger that keeps what it is given, to check that no personal data reaches it. */
function captureLogger(): Captured {
  const lines: string[] = [];
  const make = (component: string): Logger => {
    const at =
      (level: string) =>
      (msg: string, fields?: Record<string, unknown>): void =>
        void lines.push(JSON.stringify({ level, component, msg, ...fields }));
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (c) => make(`${component}:${c}`),
    };
  };
  return { logger: make('test'), lines };
}

const ADDRESS = 'li.wei+cordon@example.com';
const DEADLINE = '2026-11-30T09:00:00Z';
const NOW = Date.parse('2026-11-23T09:00:00Z');

function notice(over: Partial<UserNotice> = {}): UserNotice {
  const accountId = `acct-mail-${randomUUID().slice(0, 8)}`;
  return {
    caseId: `${accountId}.0123456789ab`,
    accountId,
    locale: 'en',
    template: 'RESTRICTED',
    tier: 'FREEZE',
    status: 'AWAITING_USER',
    reasonCodes: ['IDENTITY_MISMATCH', 'ABNORMAL_FUND_FLOWS'],
    deadline: DEADLINE,
    contact: { email: ADDRESS, timeZone: 'America/New_York' },
    idempotencyKey: `${accountId}.0123456789ab:n${randomUUID().slice(0, 6)}`,
    ...over,
  };
}

async function openTestStore(): Promise<Store> {
  const file = join(mkdtempSync(join(tmpdir(), 'cordon-mail-')), 'cordon.sqlite');
  return new Store(await openDatabase({ sqliteFile: file }));
}

const keys: LinkKey[] = [{ id: 'mail1', secret: randomBytes(32) }];
const PUBLIC_URL = 'https://cordon.example.test';

function channel(url: string, store: SmtpChannelOptions['store'], logger: Logger) {
  return new SmtpChannel({
    smtpUrl: url,
    from: 'Cordon <no-reply@cordon.example.test>',
    publicUrl: PUBLIC_URL,
    linkKeys: keys,
    store,
    logger,
    now: () => NOW,
    timeoutMs: 5_000,
  });
}

async function rejectsWith(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the send to fail');
}

const tokenIn = (s: string): string => {
  const m = new RegExp(`${PUBLIC_URL.replace(/\./g, '\\.')}/u/([A-Za-z0-9._-]+)`).exec(s);
  assert.ok(m?.[1], 'the mail holds a link to the case page');
  return m[1];
};

// --- the channel ---------------------------------------------------------------------------------------

describe('e-mail notices over SMTP', function () {
  this.timeout(30_000);
  let smtp: TestSmtp;
  let store: Store;

  beforeEach(async () => {
    smtp = await startTestSmtp();
    store = await openTestStore();
  });
  afterEach(async () => {
    await smtp.close();
    await store.db.close();
  });

  it('mail-once: is delivered once per idempotency key across a 451, a retry and a repeat', async () => {
    const { logger } = captureLogger();
    const ch = channel(smtp.url, store, logger);
    const n = notice();
    smtp.refusals.push({ step: 'DATA', code: 451 });

    const failure = await rejectsWith(ch.send(n));
    assert.equal(failure.nonRetryable, false, 'a 4xx is retried');
    assert.equal(failure.type, 'MailUnavailable');
    assert.equal(await store.deliveries.wasDelivered('email', n.idempotencyKey), false);

    assert.deepEqual(await ch.send(n), { delivered: true });
    assert.deepEqual(await ch.send(n), { delivered: false });
    // Another worker process with its own channel, over the same database: nothing either.
    assert.deepEqual(await channel(smtp.url, store, logger).send(n), { delivered: false });

    assert.equal(smtp.accepted.length, 1);
    assert.equal(smtp.attempts.length, 2);
    const expected = messageIdFor(n.idempotencyKey, 'no-reply@cordon.example.test');
    assert.deepEqual(
      smtp.attempts.map((m) => m.messageId),
      [expected, expected],
      'every attempt carries the Message-ID derived from the key',
    );
    assert.match(expected, /^<notice\.[0-9a-f]{40}@cordon\.example\.test>$/);
    assert.notEqual(
      messageIdFor(`${n.idempotencyKey}x`, 'a@b.test'),
      messageIdFor(n.idempotencyKey, 'a@b.test'),
    );
    assert.equal(smtp.connections, 2, 'the repeats did not even connect');
    assert.equal(await store.deliveries.wasDelivered('email', n.idempotencyKey), true);
  });

  it('mail-crash-window: sent but not recorded, the retry sends the same Message-ID', async () => {
    const { logger } = captureLogger();
    let failRecord = true;
    const flaky: SmtpChannelOptions['store'] = {
      deliveries: {
        wasDelivered: (c, k) => store.deliveries.wasDelivered(c, k),
        record: async (c, k) => {
          if (failRecord) {
            failRecord = false;
            throw new Error('database went away');
          }
          await store.deliveries.record(c, k);
        },
      },
    };
    const ch = channel(smtp.url, flaky, logger);
    const n = notice();
    await assert.rejects(ch.send(n), /database went away/);
    assert.deepEqual(await ch.send(n), { delivered: true });
    assert.deepEqual(await ch.send(n), { delivered: false });
    assert.equal(smtp.accepted.length, 2);
    assert.equal(smtp.accepted[0]?.messageId, smtp.accepted[1]?.messageId, 'the receiver can drop the copy');
  });

  it('mail-permanent: a recipient refused for good fails for good, without the address in the error', async () => {
    const { logger, lines } = captureLogger();
    const ch = channel(smtp.url, store, logger);
    const n = notice();
    smtp.refusals.push({ step: 'RCPT', code: 550 });
    const failure = await rejectsWith(ch.send(n));
    assert.equal(failure.nonRetryable, true);
    assert.equal(failure.type, 'MailRejected');
    assert.match(failure.message, /550/);
    assert.doesNotMatch(failure.message, /example\.com|mailbox/);
    assert.equal(await store.deliveries.wasDelivered('email', n.idempotencyKey), false);
    assert.ok(!lines.join('\n').includes('example.com'));

    // A message refused at DATA with a 5xx is refused for good too; a 4xx at RCPT is retried.
    smtp.refusals.push({ step: 'DATA', code: 554 });
    assert.equal((await rejectsWith(ch.send(notice()))).nonRetryable, true);
    smtp.refusals.push({ step: 'RCPT', code: 452 });
    assert.equal((await rejectsWith(ch.send(notice()))).nonRetryable, false);
  });

  it('mail-unreachable: a server that is down is retried', async () => {
    const { logger } = captureLogger();
    await smtp.close();
    const failure = await rejectsWith(channel(smtp.url, store, logger).send(notice()));
    assert.equal(failure.nonRetryable, false);
    assert.equal(failure.type, 'MailUnavailable');
    smtp = await startTestSmtp(); // for afterEach
  });

  it('mail-no-address: a notice without an e-mail address is skipped and done, and says it carried nothing', async () => {
    const { logger } = captureLogger();
    const ch = channel(smtp.url, store, logger);
    const n = notice({ contact: { phone: '+86 138 0000 0000' } });
    assert.deepEqual(await ch.send(n), { delivered: false, skipped: 'no e-mail address' });
    assert.deepEqual(await ch.send(notice({ contact: undefined })), {
      delivered: false,
      skipped: 'no e-mail address',
    });
    assert.equal(smtp.connections, 0);
  });

  it('mail-carried: only the channels that carried a notice are named; the log and a skipped e-mail are not', async () => {
    const { logger } = captureLogger();
    const channels = [new LogChannel(logger), channel(smtp.url, store, logger)];
    assert.deepEqual(await carryNotice(channels, notice({ contact: undefined })), {
      carried: [],
      skipped: ['log: records only', 'email: no e-mail address'],
    });
    assert.equal(smtp.connections, 0, 'nothing was mailed');
    const mailed = notice();
    assert.deepEqual((await carryNotice(channels, mailed)).carried, ['email']);
    assert.equal(smtp.accepted.length, 1);
    // A repeat (a retry after a crash) is deduplicated, and e-mail still carried the notice, earlier.
    assert.deepEqual((await carryNotice(channels, mailed)).carried, ['email']);
    assert.equal(smtp.accepted.length, 1);
  });

  it('mail-directory: without a contact on the event, the backend directory gives the address', async () => {
    const served = new Map([['acct-known', { email: 'known@example.cn', timeZone: 'Asia/Shanghai' }]]);
    let failing = false;
    const dir = http.createServer((req, res) => {
      const id = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
      if (failing) return void res.writeHead(503).end();
      const c = served.get(id);
      if (!c) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(c));
    });
    await new Promise<void>((r) => dir.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(dir.address() as AddressInfo).port}/contacts`;
    try {
      const { logger } = captureLogger();
      const ch = new SmtpChannel({
        smtpUrl: smtp.url,
        from: 'Cordon <no-reply@cordon.example.test>',
        publicUrl: PUBLIC_URL,
        linkKeys: keys,
        store,
        logger,
        directory: httpDirectory(url),
      });
      const known = notice({ accountId: 'acct-known', contact: undefined });
      assert.deepEqual(await ch.send(known), { delivered: true });
      assert.deepEqual(
        smtp.accepted.map((m) => (Array.isArray(m.to) ? m.to : [m.to]).map((a) => a?.text)),
        [['known@example.cn']],
      );
      assert.deepEqual(await ch.send(notice({ accountId: 'acct-unknown', contact: undefined })), {
        delivered: false,
        skipped: 'no e-mail address',
      });
      failing = true;
      const failure = await rejectsWith(ch.send(notice({ accountId: 'acct-known', contact: undefined })));
      assert.equal(failure.nonRetryable, false, 'a directory that is down is waited for, not skipped');
    } finally {
      dir.close();
    }
  });

  it('mail-en: English, deadline in the user’s zone with the zone named, a link that verifies', async () => {
    const { logger, lines } = captureLogger();
    const n = notice();
    await channel(smtp.url, store, logger).send(n);
    const [mail] = smtp.accepted;
    assert.ok(mail);
    assert.equal(mail.subject, 'Action needed on your account');
    assert.equal(mail.from?.value[0]?.address, 'no-reply@cordon.example.test');
    assert.equal(mail.from?.value[0]?.name, 'Cordon');
    assert.equal(mail.to && !Array.isArray(mail.to) ? mail.to.value[0]?.address : '', ADDRESS);
    assert.equal(mail.headers.get('auto-submitted'), 'auto-generated');
    const text = mail.text ?? '';
    const html = typeof mail.html === 'string' ? mail.html : '';
    for (const code of n.reasonCodes) {
      assert.ok(text.includes(REASONS[code].user.en), `text explains ${code}`);
      assert.ok(text.includes(REASONS[code].nextStep.en), `text says what to do about ${code}`);
      assert.ok(html.includes(escapeHtml(REASONS[code].user.en)), `HTML explains ${code}`);
    }
    assert.match(text, /What happened:/);
    assert.match(text, /What you can do:/);
    // 09:00 UTC is 04:00 in New York in November (EST).
    assert.match(
      text,
      /Please act by Monday, November 30, 2026 at 4:00\sAM Eastern Standard Time \(America\/New_York\)/,
    );
    assert.doesNotMatch(text, /2026-11-30T09:00/, 'no raw ISO time for the user');
    assert.ok(text.includes(`Case ${n.caseId}.`));

    const token = tokenIn(text);
    const claims = verifyLink(keys, token, NOW);
    assert.ok(claims, 'the link verifies');
    assert.equal(claims.caseId, n.caseId);
    assert.equal(claims.purpose, 'case');
    assert.equal(
      claims.expiresAt,
      Math.max(NOW + LINK_MIN_MS, Date.parse(DEADLINE) + LINK_AFTER_DEADLINE_MS),
    );
    assert.equal(
      verifyLink([{ id: 'mail1', secret: randomBytes(32) }], token, NOW),
      null,
      'signed with the key',
    );
    // The page opens in the notice's language with deadlines in the user's zone.
    assert.ok(
      html.includes(`href="${PUBLIC_URL}/u/${token}?lang=en&amp;tz=America%2FNew_York"`),
      'the HTML button links to the same page, with the language and the zone',
    );

    // Logs: IDs, template, key; never the address, the subject or the text.
    const logged = lines.join('\n');
    assert.match(logged, /notice mailed/);
    assert.ok(logged.includes(n.idempotencyKey));
    for (const secret of [ADDRESS, 'example.com', mail.subject, REASONS.IDENTITY_MISMATCH.user.en])
      assert.ok(!logged.includes(secret), `the log holds no ${secret}`);
  });

  it('mail-zh: Chinese, deadline in Asia/Shanghai, UTC when the user gave no zone', async () => {
    const { logger } = captureLogger();
    const ch = channel(smtp.url, store, logger);
    await ch.send(notice({ locale: 'zh-CN', contact: { email: ADDRESS, timeZone: 'Asia/Shanghai' } }));
    await ch.send(notice({ locale: 'zh-CN', contact: { email: ADDRESS } }));
    const [shanghai, utc] = smtp.accepted;
    assert.ok(shanghai && utc);
    assert.equal(shanghai.subject, '您的账户需要处理');
    const text = shanghai.text ?? '';
    assert.ok(text.includes(REASONS.IDENTITY_MISMATCH.user['zh-CN']));
    assert.ok(text.includes('发生了什么'));
    assert.ok(text.includes('您可以怎么做'));
    assert.match(text, /2026年11月30日.*中国标准时间.*17:00.*\(Asia\/Shanghai\)/);
    assert.match(utc.text ?? '', /2026年11月30日.*09:00 \(UTC\)/);
    assert.ok(typeof shanghai.html === 'string' && shanghai.html.includes('lang="zh-CN"'));
    assert.equal(shanghai.headers.get('content-language'), 'zh-CN');
    assert.ok(verifyLink(keys, tokenIn(text), NOW));
  });

  it('mail-escaping: every value in the HTML is escaped, the text part keeps it as written', async () => {
    const { logger } = captureLogger();
    const ch = channel(smtp.url, store, logger);
    const question = `<script>alert("x")</script> & <img src=x onerror=alert(1)> 'quoted'`;
    await ch.send(notice({ template: 'INFO_REQUESTED', status: 'IN_REVIEW', question }));
    await ch.send(
      notice({
        template: 'OUTCOME',
        status: 'UPHELD',
        deadline: undefined,
        explanation: { code: 'EXTERNAL_FRAUD_REPORT', text: '<b>bold</b> "claim" & more' },
      }),
    );
    const [info, outcome] = smtp.accepted;
    assert.ok(info && outcome);
    const infoHtml = typeof info.html === 'string' ? info.html : '';
    assert.ok(infoHtml.includes(escapeHtml(question)), 'the question, escaped');
    assert.doesNotMatch(infoHtml, /<script|<img/);
    assert.ok((info.text ?? '').includes(question), 'the text part has the question as written');
    const outcomeHtml = typeof outcome.html === 'string' ? outcome.html : '';
    assert.ok(outcomeHtml.includes('&lt;b&gt;bold&lt;/b&gt; &quot;claim&quot; &amp; more'));
    assert.doesNotMatch(outcomeHtml, /<b>bold/);
    assert.equal(outcome.subject, 'The review of your account is complete');
    // Without a deadline, the link lives 30 days.
    const claims = verifyLink(keys, tokenIn(outcome.text ?? ''), NOW);
    assert.equal(claims?.expiresAt, NOW + LINK_MIN_MS);
  });
});

// --- what the case's timeline says (real dev server, the API over HTTP, real SMTP) -----------------------

describe("a notice's delivery record names only the channels that carried it", function () {
  requires('temporal');
  this.timeout(120_000);
  let smtp: TestSmtp;
  let a: ApiHarness;
  let mail: SmtpChannel;

  before(async function () {
    this.timeout(300_000);
    smtp = await startTestSmtp();
    a = await startApiHarness();
    mail = new SmtpChannel({
      smtpUrl: smtp.url,
      from: 'Cordon <no-reply@cordon.example.test>',
      publicUrl: a.api.url,
      linkKeys: keys,
      store: a.h.store,
      logger: quiet,
      timeoutMs: 5_000,
    });
    // What a worker runs with an SMTP server and no messaging endpoint: the log, then e-mail.
    a.h.deps.channels.splice(0, a.h.deps.channels.length, new LogChannel(quiet), mail);
  });
  after(async () => {
    await a?.close();
    mail?.close();
    await smtp?.close();
  });

  /** Opens a freezing case (a RESTRICTED notice is owed) and waits until its notice has been dealt with. */
  async function caseOf(contact?: { email: string }) {
    const opened = await callApi(a.api.url, 'POST', '/v1/risk-events', 'dev-backend', {
      ...riskEvent(uniqueAccount(), 'IDENTITY_CHECK', { matched: false, field: 'name' }),
      ...(contact ? { contact } : {}),
    });
    assert.equal(opened.status, 200, JSON.stringify(opened.body));
    return eventually(
      async () => {
        const view = await callApi(a.api.url, 'GET', `/v1/cases/${opened.body.caseId}`, 'dev-reviewer-1');
        const notice = view.body.deliveries.find(
          (d: { kind: string; what: string }) => d.kind === 'NOTIFY_USER' && d.what === 'RESTRICTED',
        );
        return notice && notice.status !== 'PENDING' && { view: view.body, notice };
      },
      30_000,
      'the RESTRICTED notice dealt with',
    );
  }

  const entriesOf = (view: { timeline: { type: string; template?: string; message?: string }[] }) =>
    view.timeline.filter((e) => e.template === 'RESTRICTED' || e.message === 'RESTRICTED');

  it('no contact: no NOTIFIED entry and no "email"; the notice is recorded as reaching no one, and why', async () => {
    const { view, notice } = await caseOf();
    assert.equal(smtp.accepted.length, 0, 'no mail was sent');
    assert.equal(notice.status, 'FAILED');
    assert.deepEqual(notice.channels, []);
    assert.match(
      notice.lastError,
      /^no channel reached the account holder: log: records only; email: no e-mail address$/,
    );
    const entries = entriesOf(view);
    assert.deepEqual(
      entries.map((e) => e.type),
      ['DELIVERY_FAILED'],
      `the timeline says the user was not told: ${JSON.stringify(entries)}`,
    );
    assert.ok(!JSON.stringify(view.timeline).includes('"email"'), 'no entry names e-mail');
  });

  it('with an address: NOTIFIED by "email" only (the log is no way to reach anyone), and the mail arrived', async () => {
    const address = `case-${randomUUID().slice(0, 8)}@example.com`;
    const { view, notice } = await caseOf({ email: address });
    assert.equal(notice.status, 'DELIVERED');
    assert.deepEqual(notice.channels, ['email']);
    const entries = entriesOf(view);
    assert.deepEqual(
      entries.map((e) => [e.type, (e as { channels?: string[] }).channels]),
      [['NOTIFIED', ['email']]],
    );
    const to = smtp.accepted.flatMap((m) => (Array.isArray(m.to) ? m.to : [m.to]).map((t) => t?.text));
    assert.ok(to.includes(address), `mailed to the address: ${to.join()}`);
  });
});

// --- the development mail catcher ----------------------------------------------------------------------

describe('the development mail catcher', function () {
  this.timeout(30_000);
  let dir: string;
  let catcher: MailCatcher;
  let http: Server;
  let base: string;

  beforeEach(async () => {
    dir = join(mkdtempSync(join(tmpdir(), 'cordon-catcher-')), 'mail');
    catcher = await startMailCatcher({ dir, logger: captureLogger().logger });
    const app = express();
    app.use('/dev/mail', mailCatcherPages(dir));
    http = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}/dev/mail`;
  });
  afterEach(async () => {
    await catcher.close();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });

  it('catcher-keeps: keeps what nodemailer sends as files, and lists and shows it over HTTP', async () => {
    assert.match(catcher.url, /^smtp:\/\/127\.0\.0\.1:\d+$/);
    const transport = createTransport(catcher.url);
    await transport.sendMail({
      from: 'Cordon <no-reply@cordon.local>',
      to: 'someone@example.org',
      subject: 'Hello <b>there</b>',
      text: 'Open https://cordon.example.test/u/abc.def now.',
      html: '<p>Open <a href="https://cordon.example.test/u/abc.def">the case</a></p><script>parent.x=1</script>',
    });
    transport.close();
    const files = readdirSync(dir).sort();
    assert.equal(files.length, 2);
    assert.match(files[0] ?? '', /^\d{8}T\d{9}Z-[0-9a-f]{8}\.eml$/);
    assert.match(files[1] ?? '', /\.json$/);

    const list = await fetch(`${base}`);
    assert.equal(list.status, 200);
    assert.match(list.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const listHtml = await list.text();
    assert.ok(listHtml.includes('Hello &lt;b&gt;there&lt;/b&gt;'), 'the subject, escaped');
    assert.ok(listHtml.includes('someone@example.org'));
    const id = files[0]?.slice(0, -4) ?? '';
    assert.ok(listHtml.includes(`href="/dev/mail/${id}"`));

    const index = (await (await fetch(`${base}/index.json`)).json()) as { items: CaughtMail[] };
    assert.equal(index.items.length, 1);
    assert.deepEqual(index.items[0]?.links, ['https://cordon.example.test/u/abc.def']);
    assert.equal(index.items[0]?.subject, 'Hello <b>there</b>');

    const show = await fetch(`${base}/${id}`);
    assert.equal(show.status, 200);
    const page = await show.text();
    assert.match(
      page,
      /<iframe sandbox="allow-popups allow-popups-to-escape-sandbox"[^>]*srcdoc="[^"]*&lt;base target=&quot;_blank&quot;&gt;/,
    );
    assert.doesNotMatch(page, /<script/, 'the mail’s HTML only inside the escaped srcdoc');
    assert.ok(
      page.includes(
        '<a href="https://cordon.example.test/u/abc.def" target="_blank" rel="noopener noreferrer">',
      ),
      'the text part’s link is clickable',
    );
    assert.ok(page.includes('<h1>Hello &lt;b&gt;there&lt;/b&gt;</h1>'));

    const raw = await fetch(`${base}/${id}/raw`);
    assert.match(await raw.text(), /^Subject: Hello <b>there<\/b>/m);
    assert.equal((await fetch(`${base}/..%2F..%2Fetc%2Fpasswd`)).status, 404);
    assert.equal((await fetch(`${base}/20260101T000000000Z-00000000`)).status, 404);
  });

  it('catcher-notice: a notice through the SmtpChannel, its case link listed; mail survives a restart', async () => {
    const store = await openTestStore();
    const { logger, lines } = captureLogger();
    const n = notice({ locale: 'zh-CN' });
    await channel(catcher.url, store, logger).send(n);
    await store.db.close();
    await catcher.close();
    catcher = await startMailCatcher({ dir, logger: captureLogger().logger });

    const index = (await (await fetch(`${base}/index.json`)).json()) as { items: CaughtMail[] };
    assert.equal(index.items.length, 1);
    const [mail] = index.items;
    assert.equal(mail?.subject, '您的账户需要处理');
    assert.equal(mail?.to, ADDRESS);
    const link = mail?.links[0] ?? '';
    assert.equal(verifyLink(keys, tokenIn(link), NOW)?.caseId, n.caseId);
    const page = await (await fetch(`${base}/${mail?.id}`)).text();
    assert.ok(page.includes(`<a href="${escapeHtml(link)}"`));
    assert.ok(!lines.join('\n').includes(ADDRESS));
  });
});
