// Activities against real HTTP receivers on loopback: signed, idempotent, and typed failures.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities } from '../activities';
import { WebhookChannel, WebhookNotifier } from '../activities/channels';
import { HttpAccountGateway, RecordOnlyGateway } from '../activities/gateway';
import { createScorer } from '../activities/scorer';
import { renderNotice } from '../activities/templates';
import type { BackendEvent, UserNotice } from '../core/messages';
import { REASON_CODES, LOCALES } from '../core/model';
import { REASONS } from '../core/reasons';
import { IDEMPOTENCY_HEADER, verifySignature } from '../infra/hmac';
import { defaultPolicy, quiet, tempStore } from './helpers/deps';

const SECRET = 'test-secret-0123456789';

/** A receiver that checks signatures and deduplicates by idempotency key, as a careful backend would. */
class Receiver {
  readonly accepted: { path: string; key: string; body: any }[] = [];
  rejectedSignatures = 0;
  /** Status codes to answer with before accepting (to exercise retries). */
  failures: number[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void readBody(req).then((body) => {
        if (!verifySignature(SECRET, req.headers, body)) {
          this.rejectedSignatures++;
          res.writeHead(401).end();
          return;
        }
        const next = this.failures.shift();
        if (next) {
          res.writeHead(next).end();
          return;
        }
        const key = String(req.headers[IDEMPOTENCY_HEADER]);
        if (this.accepted.some((a) => a.key === key)) {
          res.writeHead(409).end();
          return;
        }
        this.accepted.push({ path: req.url ?? '', key, body: JSON.parse(body) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.server.close(r));
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => resolve(data));
  });
}

const notice: UserNotice = {
  caseId: 'acct-1.0123456789ab',
  accountId: 'acct-1',
  locale: 'en',
  template: 'RESTRICTED',
  tier: 'FREEZE',
  status: 'AWAITING_USER',
  reasonCodes: ['IDENTITY_MISMATCH'],
  deadline: '2026-11-30T10:00:00.000Z',
  idempotencyKey: 'acct-1.0123456789ab:2',
};

const event: BackendEvent = {
  type: 'restriction.changed',
  caseId: notice.caseId,
  accountId: 'acct-1',
  status: 'AWAITING_USER',
  tier: 'FREEZE',
  restricted: true,
  reasonCodes: ['IDENTITY_MISMATCH'],
  outcome: null,
  at: '2026-11-23T10:00:00.000Z',
  idempotencyKey: 'acct-1.0123456789ab:3',
};

describe('activities', () => {
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = new Receiver();
    await receiver.start();
  });
  afterEach(() => receiver.stop());

  it('signs webhooks so the backend can verify them, with an idempotency key', async () => {
    const result = await new WebhookNotifier(`${receiver.url}/hooks`, SECRET).send(event);
    assert.equal(result.delivered, true);
    assert.equal(receiver.rejectedSignatures, 0);
    assert.equal(receiver.accepted[0]!.key, event.idempotencyKey);
    assert.deepEqual(receiver.accepted[0]!.body, event);
    const forged = await new WebhookNotifier(`${receiver.url}/hooks`, 'another-secret-0123')
      .send(event)
      .catch((e: unknown) => e);
    assert.ok(forged instanceof ApplicationFailure);
    assert.equal(forged.type, 'WebhookRejected');
    assert.equal(forged.nonRetryable, true, 'a refused signature cannot succeed on retry');
    assert.equal(receiver.rejectedSignatures, 1);
  });

  it('a retried notification never reaches a deduplicating receiver twice', async () => {
    const activities = createActivities({
      scorer: createScorer(defaultPolicy()),
      gateway: new RecordOnlyGateway(quiet),
      channels: [new WebhookChannel(`${receiver.url}/messages`, SECRET)],
      backend: new WebhookNotifier(`${receiver.url}/hooks`, SECRET),
      store: await tempStore(),
      archiveKeepMs: 1,
      eventIdWindowMs: 1,
    });
    const first = await activities.notifyUser(notice);
    const retry = await activities.notifyUser(notice);
    assert.deepEqual(first, [{ channel: 'webhook', delivered: true }]);
    assert.deepEqual(retry, [{ channel: 'webhook', delivered: false }]);
    assert.equal(receiver.accepted.length, 1);
    assert.equal(receiver.accepted[0]!.body.subject, 'Action needed on your account');
  });

  it('a receiver that is down or overloaded is a retryable failure', async () => {
    receiver.failures = [503, 429];
    const notifier = new WebhookNotifier(`${receiver.url}/hooks`, SECRET);
    for (const _ of [503, 429]) {
      const err = await notifier.send(event).catch((e: unknown) => e);
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, 'WebhookUnavailable');
      assert.equal(err.nonRetryable, false);
    }
    assert.equal((await notifier.send(event)).delivered, true);
    const unreachable = await new WebhookNotifier('http://127.0.0.1:1/hooks', SECRET)
      .send(event)
      .catch((e: unknown) => e);
    assert.ok(unreachable instanceof ApplicationFailure);
    assert.equal(unreachable.nonRetryable, false);
  });

  it('the HTTP account gateway posts signed restriction commands', async () => {
    const gateway = new HttpAccountGateway(receiver.url, SECRET);
    const base = { caseId: notice.caseId, accountId: 'acct-1' };
    await gateway.apply({
      ...base,
      tier: 'FREEZE',
      lockout: false,
      reasonCodes: ['IDENTITY_MISMATCH'],
      idempotencyKey: 'k1',
    });
    await gateway.apply({
      ...base,
      tier: 'FREEZE',
      lockout: false,
      reasonCodes: ['IDENTITY_MISMATCH'],
      idempotencyKey: 'k1',
    });
    await gateway.lift({ ...base, idempotencyKey: 'k2' });
    await gateway.close({ ...base, idempotencyKey: 'k3' });
    assert.deepEqual(
      receiver.accepted.map((a) => [a.path, a.body.action, a.key]),
      [
        ['/restrictions/apply', 'apply', 'k1'],
        ['/restrictions/lift', 'lift', 'k2'],
        ['/restrictions/close', 'close', 'k3'],
      ],
    );
    receiver.failures = [422];
    const err = await gateway.lift({ ...base, idempotencyKey: 'k4' }).catch((e: unknown) => e);
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.type, 'AccountGatewayRejected');
    assert.equal(err.nonRetryable, true);
  });

  it('without an account system, the restriction is carried out by the record alone; the gateway keeps nothing', async () => {
    const store = await tempStore();
    const gateway = new RecordOnlyGateway(quiet);
    const activities = createActivities({
      scorer: createScorer(defaultPolicy()),
      gateway,
      channels: [],
      backend: new WebhookNotifier(`${receiver.url}/hooks`, SECRET),
      store,
      archiveKeepMs: 1,
      eventIdWindowMs: 1,
    });
    const base = { caseId: 'case-1', accountId: 'acct-record-only' };
    const record = (status: 'AWAITING_USER' | 'RESTORED', version: string) => ({
      ...base,
      status,
      tier: 'FREEZE' as const,
      restricted: status === 'AWAITING_USER',
      open: status === 'AWAITING_USER',
      version,
    });
    await activities.applyRestriction({
      ...base,
      tier: 'FREEZE',
      lockout: false,
      reasonCodes: ['IDENTITY_MISMATCH'],
      idempotencyKey: 'k1',
      record: record('AWAITING_USER', '0001'),
    });
    assert.equal((await store.restrictions.of([base.accountId]))[0]?.restricted, true);
    await activities.liftRestriction({ ...base, idempotencyKey: 'k2', record: record('RESTORED', '0002') });
    assert.equal((await store.restrictions.of([base.accountId]))[0]?.restricted, false);
    assert.deepEqual(Object.keys(gateway).sort(), ['logger', 'name'], 'no per-account state in memory');
    await store.db.close();
  });
});

describe('notice templates and reason texts', () => {
  it('every reason code has user text and a next step in every locale, and reviewer text', () => {
    for (const code of REASON_CODES) {
      for (const locale of LOCALES) {
        assert.ok(REASONS[code].user[locale].length > 10, `${code} ${locale}`);
        assert.ok(REASONS[code].nextStep[locale].length > 5, `${code} ${locale}`);
        assert.doesNotMatch(
          REASONS[code].user[locale] + REASONS[code].nextStep[locale],
          /\d/,
          'no thresholds or numbers',
        );
      }
      for (const locale of LOCALES) assert.ok(REASONS[code].reviewer[locale].length > 10);
    }
  });

  it('renders every template in both languages', () => {
    const templates = [
      'RESTRICTED',
      'REMINDER',
      'IN_REVIEW',
      'INFO_REQUESTED',
      'CONFIRMATION_OPEN',
      'LOCKOUT_LIFTED',
      'OUTCOME',
    ] as const;
    for (const template of templates)
      for (const locale of LOCALES) {
        const status = template === 'OUTCOME' ? 'RESTORED' : 'AWAITING_USER';
        const m = renderNotice({ ...notice, template, locale, status });
        assert.ok(m.subject.length > 0 && m.body.length > 0, `${template} ${locale}`);
      }
    const zh = renderNotice({ ...notice, locale: 'zh-CN' });
    assert.match(zh.body, /身份信息/);
    assert.match(zh.body, /2026-11-30T10:00:00.000Z/);
  });
});
