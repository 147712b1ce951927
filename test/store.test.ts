// Cordon's own database, the same suite on the embedded SQLite file and on a real PostgreSQL server.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendEvent, UserNotice } from '../core/activity-contract';
import { identityOf } from '../core/actions';
import {
  verificationUpdate,
  type CaseView,
  type OutboxMessage,
  type RiskEventResult,
} from '../core/contracts';
import { openDatabase } from '../infra/database';
import { Store } from '../infra/store';
import { riskEvent, uniqueAccount } from './helpers/events';
import { withHarness } from './helpers/harness';
import { sharedPostgres } from './helpers/postgres';

const notice = (accountId: string, caseId: string, key: string): OutboxMessage => ({
  kind: 'NOTIFY_USER',
  notice: {
    caseId,
    accountId,
    locale: 'en',
    template: 'RESTRICTED',
    tier: 'FREEZE',
    status: 'AWAITING_USER',
    reasonCodes: [],
    idempotencyKey: key,
  } satisfies UserNotice,
});
const change = (
  accountId: string,
  caseId: string,
  key: string,
  type: BackendEvent['type'],
): OutboxMessage => ({
  kind: 'NOTIFY_BACKEND',
  event: {
    type,
    caseId,
    accountId,
    status: 'AWAITING_USER',
    tier: 'FREEZE',
    restricted: true,
    reasonCodes: [],
    outcome: null,
    at: new Date().toISOString(),
    idempotencyKey: key,
  },
});
const result = (accountId: string, eventId: string): RiskEventResult => ({
  eventId,
  accountId,
  caseId: `${accountId}.0123456789ab`,
  status: 'AWAITING_USER',
  decision: {
    tier: 'FREEZE',
    score: 80,
    reasons: [],
    lockout: false,
    verificationAllowed: true,
    unavailableSources: [],
    policyVersion: 'p',
    policyHash: 'h',
  } as unknown as RiskEventResult['decision'],
  duplicate: false,
});

type Opener = (clock?: () => number) => Promise<Store>;

const databases: [string, Opener][] = [
  [
    'SQLite',
    async (clock) => {
      const file = join(mkdtempSync(join(tmpdir(), 'cordon-store-')), 'cordon.sqlite');
      return new Store(await openDatabase({ sqliteFile: file }), clock);
    },
  ],
  [
    'PostgreSQL',
    async (clock) => {
      const { url } = await sharedPostgres();
      return new Store(await openDatabase({ url, sqliteFile: '' }), clock);
    },
  ],
];

for (const [name, open] of databases) {
  describe(`Cordon's database on ${name}`, function () {
    this.timeout(60_000);

    it('migrates once, from several processes at once, and again at every start', async () => {
      const [a, b] = await Promise.all([open(), open()]);
      const again = await open();
      const versions = await again.db.query<{ version: number }>('SELECT version FROM schema_migrations');
      assert.deepEqual(
        versions.map((v) => Number(v.version)),
        [1, 2, 3, 4],
      );
      await Promise.all([a.db.close(), b.db.close(), again.db.close()]);
    });

    it('keeps the newest restriction record per account: a late, older write changes nothing', async () => {
      const store = await open();
      const [a, b] = [uniqueAccount(), uniqueAccount()];
      const rec = (status: 'AWAITING_USER' | 'IN_REVIEW' | 'RESTORED', version: string) => ({
        accountId: a,
        caseId: `${a}.0123456789ab`,
        status,
        tier: 'FREEZE' as const,
        restricted: status !== 'RESTORED',
        open: status !== 'RESTORED',
        version,
      });
      await store.recordRestriction(rec('AWAITING_USER', '001:001:01'));
      await store.recordRestriction(rec('RESTORED', '001:003:01'));
      await store.recordRestriction(rec('IN_REVIEW', '001:002:01'));
      await store.recordRestriction(rec('IN_REVIEW', '001:003:01'));
      await store.recordRestriction(rec('AWAITING_USER', '000:009:99'), true);
      const [first, none, again] = await store.restrictionsOf([a, b, a]);
      assert.equal(first?.status, 'RESTORED');
      assert.equal(first?.restricted, false);
      assert.equal(none, null);
      assert.deepEqual(again, first);
      await store.db.close();
    });

    it('remembers what a channel delivered, per channel and key', async () => {
      const store = await open();
      const key = `c.1:${randomUUID()}`;
      assert.equal(await store.wasDelivered('smtp', key), false);
      await store.recordDelivery('smtp', key);
      await store.recordDelivery('smtp', key);
      assert.equal(await store.wasDelivered('smtp', key), true);
      assert.equal(await store.wasDelivered('other', key), false);
      await store.db.close();
    });

    it('counts rate-limit hits per key and window, also when many arrive at once', async () => {
      let now = 10 * 60_000 + 5_000;
      const store = await open(() => now);
      const key = `ip:${randomUUID()}`;
      const hits = await Promise.all(Array.from({ length: 8 }, () => store.hit(key, 60_000, 5)));
      assert.deepEqual(
        hits.map((h) => h.allowed).sort(),
        [false, false, false, true, true, true, true, true],
        'exactly the limit is allowed',
      );
      assert.equal(hits.find((h) => !h.allowed)!.retryAfterMs, 55_000, 'until the window ends');
      assert.equal((await store.hit(`other:${randomUUID()}`, 60_000, 5)).allowed, true, 'keys are separate');
      now += 60_000;
      assert.equal((await store.hit(key, 60_000, 5)).allowed, true, 'a new window');
      await store.db.close();
    });

    it('remembers event IDs for their window, whatever the ID (prototype names included)', async () => {
      let now = Date.now();
      const store = await open(() => now);
      const account = uniqueAccount();
      for (const id of ['__proto__', 'constructor', 'toString', `e-${randomUUID()}`]) {
        assert.equal(await store.findEvent(account, id, 1_000), null, `${id} unseen`);
        await store.recordEvent(result(account, id));
        assert.equal((await store.findEvent(account, id, 1_000))?.eventId, id);
      }
      await store.recordEvent({ ...result(account, '__proto__'), status: 'IN_REVIEW' });
      assert.equal(
        (await store.findEvent(account, '__proto__', 1_000))?.status,
        'AWAITING_USER',
        'first answer',
      );
      now += 2_000;
      assert.equal(await store.findEvent(account, '__proto__', 1_000), null, 'outside the window');
      await store.purge(1_000);
      assert.equal(await store.findEvent(account, 'constructor', 10_000), null, 'purged');
      await store.db.close();
    });

    it('records a request with its fingerprint and first answer', async () => {
      const store = await open();
      const key = `k-${randomUUID()}`;
      await store.recordRequest(key, 'c.0123456789ab', 'f1', { status: 'RESTORED' } as CaseView);
      await store.recordRequest(key, 'c.0123456789ab', 'f2', { status: 'UPHELD' } as CaseView);
      assert.deepEqual(await store.findRequest(key), { fingerprint: 'f1', response: { status: 'RESTORED' } });
      await store.db.close();
    });

    it('delivers the outbox in order per account, one lease at a time, and keeps failures', async () => {
      const store = await open();
      const [a, b] = [uniqueAccount(), uniqueAccount()];
      const ca = `${a}.0123456789ab`;
      const cb = `${b}.0123456789ab`;
      await store.enqueue([notice(a, ca, `${ca}:1`), change(a, ca, `${ca}:2`, 'restriction.changed')]);
      await store.enqueue([notice(b, cb, `${cb}:1`)]);
      await store.enqueue([notice(a, ca, `${ca}:1`)]); // the same key again: ignored
      const mine = <T extends { caseId: string }>(ms: T[]) =>
        ms.filter((m) => m.caseId === ca || m.caseId === cb);

      // Two dispatchers at once never lease the same message.
      const [l1, l2] = await Promise.all([store.leaseDue(100, 60_000), store.leaseDue(100, 60_000)]);
      const leased = mine([...l1, ...l2]);
      assert.deepEqual(leased.map((m) => m.idempotencyKey).sort(), [`${ca}:1`, `${cb}:1`].sort());
      assert.equal(mine(await store.leaseDue(100, 60_000)).length, 0, 'the next of account a waits');

      const first = leased.find((m) => m.caseId === ca)!;
      await store.markRetry(first.seq, 'receiver unreachable', Date.now() - 1);
      const retried = mine(await store.leaseDue(100, 60_000));
      assert.deepEqual(
        retried.map((m) => [m.idempotencyKey, m.attempts]),
        [[`${ca}:1`, 1]],
        'the same message again, before anything later of its account',
      );
      await store.markDelivered(retried[0]!.seq, ['webhook']);
      const next = mine(await store.leaseDue(100, 60_000));
      assert.deepEqual(
        next.map((m) => m.idempotencyKey),
        [`${ca}:2`],
      );
      await store.markFailed(next[0]!.seq, 'Webhook: receiver refused with 400');
      const messages = await store.messagesOf(ca);
      assert.deepEqual(
        messages.map((m) => [m.status, m.attempts]),
        [
          ['DELIVERED', 2],
          ['FAILED', 1],
        ],
      );
      await store.db.close();
    });

    it('lists changes after a cursor, in order', async () => {
      let now = Date.now();
      const store = await open(() => now);
      const a = uniqueAccount();
      const c = `${a}.0123456789ab`;
      const start = await store.changesAfter(0, 100_000);
      const cursor = start.length ? Number(start[start.length - 1]!.cursor) : 0;
      await store.enqueue([
        change(a, c, `${c}:1`, 'restriction.changed'),
        notice(a, c, `${c}:2`),
        change(a, c, `${c}:3`, 'case.outcome'),
      ]);
      now += 5_000; // PostgreSQL lists rows once they are a second old
      // Other tests share this database: look at this account's changes only.
      const page = (await store.changesAfter(cursor, 100_000)).filter((p) => p.event.accountId === a);
      assert.deepEqual(
        page.map((p) => [p.type, p.event.idempotencyKey]),
        [
          ['restriction.changed', `${c}:1`],
          ['case.outcome', `${c}:3`],
        ],
      );
      const later = await store.changesAfter(Number(page[0]!.cursor), 100_000);
      assert.deepEqual(
        later.filter((p) => p.event.accountId === a).map((p) => p.event.idempotencyKey),
        [`${c}:3`],
      );
      await store.db.close();
    });

    it('counts shadow scoring per day and keeps each disagreement once; reports a window', async () => {
      const store = await open();
      // A day of its own in the past: the PostgreSQL database is shared by the run.
      const day = Date.UTC(2001, 0, 1 + Math.floor(Math.random() * 3_000));
      const a = uniqueAccount();
      const d = {
        accountId: a,
        eventId: 'e1',
        eventType: 'IDENTITY_CHECK',
        liveTier: 'FREEZE',
        candidateTier: 'NONE',
        liveScore: 50,
        candidateScore: 0,
        liveReasons: ['IDENTITY_MISMATCH'],
        candidateReasons: [],
      };
      const versions = { liveVersion: 'live-1', candidateVersion: 'cand-1' };
      await store.recordShadow({ at: day + 1_000, ...versions, disagreement: d });
      await store.recordShadow({ at: day + 2_000, ...versions, disagreement: d }); // the same event again
      await store.recordShadow({ at: day + 3_000, ...versions });
      await store.recordShadow({
        at: day + 86_400_000 + 5,
        ...versions,
        disagreement: { ...d, eventId: 'e2' },
      });
      const both = await store.shadowReport(day, day + 2 * 86_400_000, 10);
      assert.deepEqual(
        both.days.map((x) => [x.scored, x.disagreements]),
        [
          [3, 1],
          [1, 1],
        ],
      );
      assert.deepEqual(both.transitions, [{ liveTier: 'FREEZE', candidateTier: 'NONE', count: 2 }]);
      assert.deepEqual(
        both.latest.map((x) => x.eventId),
        ['e2', 'e1'],
      );
      assert.deepEqual(both.latest[1]!.liveReasons, ['IDENTITY_MISMATCH']);
      const first = await store.shadowReport(day, day + 86_400_000, 10);
      assert.deepEqual(
        first.days.map((x) => x.scored),
        [3],
      );
      assert.equal(first.latest.length, 1);
      await store.db.close();
    });

    it('pages through the cases that ended in a window, in order', async () => {
      let now = Date.UTC(1999, 0, 1 + Math.floor(Math.random() * 300));
      const start = now;
      const store = await open(() => now);
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const a = uniqueAccount();
        const view = { caseId: `${a}.0123456789ab`, accountId: a, status: 'RESTORED' } as CaseView;
        ids.push(view.caseId);
        await store.archiveCase(view, [], [], 365 * 86_400_000 * 40);
        if (i % 3 !== 1) now += 1_000; // some end at the same millisecond
      }
      const seen: string[] = [];
      for await (const v of store.endedCases(start, now + 1, 2)) seen.push(v.caseId);
      assert.deepEqual(seen.sort(), [...ids].sort());
      const early: string[] = [];
      for await (const v of store.endedCases(start, start + 1_000, 2)) early.push(v.caseId);
      assert.deepEqual(early, ids.slice(0, 1));
      await store.db.close();
    });

    it('keeps an ended case readable for its keeping period', async () => {
      let now = Date.now();
      const store = await open(() => now);
      const a = uniqueAccount();
      const view = { caseId: `${a}.0123456789ab`, accountId: a, status: 'RESTORED' } as CaseView;
      await store.archiveCase(view, [{ key: 'k', fingerprint: 'f' }], [result(a, 'e1')], 10_000);
      assert.equal((await store.archivedCase(view.caseId))?.view.status, 'RESTORED');
      assert.ok(await store.findEvent(a, 'e1', 10_000), 'its event IDs are remembered');
      now += 20_000;
      assert.equal(await store.archivedCase(view.caseId), null);
      await store.db.close();
    });
  });
}

describe("a whole case with Cordon's database on PostgreSQL", function () {
  this.timeout(60_000);
  it('opens, is restored, is archived, and a retried event gets its first answer', async () => {
    const { url } = await sharedPostgres();
    const store = new Store(await openDatabase({ url, sqliteFile: '' }));
    await withHarness(
      async (h) => {
        const account = uniqueAccount();
        const event = riskEvent(account, 'LOGIN', {
          newDevice: true,
          geoDistanceKm: 2000,
          minutesSinceLastLogin: 30,
        });
        const first = await h.cases.reportEvent(event, { kind: 'backend', id: 'backend' });
        assert.equal(first.status, 'VERIFICATION_REQUIRED');
        const args = {
          method: 'OTP',
          passed: true,
          requestId: 'v',
          actor: { kind: 'user' as const, id: account },
        };
        const done = await h.cases.act(
          first.caseId!,
          verificationUpdate,
          args,
          identityOf('verification', { ...args, caseId: first.caseId! }),
        );
        assert.equal(done.outcome, 'RESTORED');
        const deadline = Date.now() + 10_000;
        while (!(await store.archivedCase(first.caseId!)) && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 100));
        assert.equal((await store.archivedCase(first.caseId!))?.view.outcome, 'RESTORED');
        const retry = await h.cases.reportEvent(event, { kind: 'backend', id: 'backend' });
        assert.equal(retry.duplicate, true);
        assert.equal(retry.caseId, first.caseId);
      },
      { store },
    );
    await store.db.close();
  });
});
