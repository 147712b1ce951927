// Cordon's own database, the same suite on the embedded SQLite file and on a real PostgreSQL server.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendEvent, OutboxMessage, UserNotice } from '../core/messages';
import { identityOf } from '../core/actions';
import type { CaseView, RiskEventResult } from '../core/contracts';
import { verificationUpdate } from '../workflows/definitions';
import { openDatabase } from '../infra/database';
import { MIGRATIONS } from '../infra/migrations';
import { DataKeyError, DataKeys, processLocalWrapKeys } from '../infra/data-keys';
import { FIELD, sealJson } from '../infra/personal-data';
import { chooseEvidenceStore } from '../infra/evidence/from-config';
import { Store } from '../infra/store';
import { riskEvent, uniqueAccount } from './helpers/events';
import { withHarness } from './helpers/harness';
import { sharedPostgres } from './helpers/postgres';
import { requires } from './helpers/requirements';

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

/** `own`: a database no other test writes to (PostgreSQL: a new database on the shared server). */
type Opener = (clock?: () => number, own?: boolean) => Promise<Store>;

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
    async (clock, own) => {
      const { url } = await sharedPostgres();
      if (!own) return new Store(await openDatabase({ url, sqliteFile: '' }), clock);
      const admin = await openDatabase({ url, sqliteFile: '' });
      const name = `store_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
      await admin.run(`CREATE DATABASE ${name}`);
      await admin.close();
      const at = new URL(url);
      at.pathname = `/${name}`;
      return new Store(await openDatabase({ url: at.toString(), sqliteFile: '' }), clock);
    },
  ],
];

/** A notice with every personal field a notice can carry. */
const personalNotice = (accountId: string, caseId: string, key: string, email: string): OutboxMessage => ({
  kind: 'NOTIFY_USER',
  notice: {
    ...(notice(accountId, caseId, key) as Extract<OutboxMessage, { kind: 'NOTIFY_USER' }>).notice,
    template: 'OUTCOME',
    deadline: '2030-01-01T00:00:00.000Z',
    question: `What changed on ${email}?`,
    explanation: { code: 'IDENTITY_MISMATCH', text: `Confirmed with ${email}` },
    contact: { email, phone: '+86 139 0000 1234', timeZone: 'Asia/Shanghai' },
  },
});

for (const [name, open] of databases) {
  describe(`Cordon's database on ${name}`, function () {
    if (name === 'PostgreSQL') requires('postgres');
    this.timeout(60_000);

    it('migrates once, from several processes at once, and again at every start', async () => {
      const [a, b] = await Promise.all([open(), open()]);
      const again = await open();
      const versions = await again.db.query<{ version: number }>('SELECT version FROM schema_migrations');
      assert.deepEqual(
        versions.map((v) => Number(v.version)).sort((x, y) => x - y),
        MIGRATIONS.map((m) => m.version).sort((x, y) => x - y),
      );
      assert.ok(
        MIGRATIONS.some((m) => m.version === 6),
        'account data keys (6) among them',
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
      await store.restrictions.record(rec('AWAITING_USER', '001:001:01'));
      await store.restrictions.record(rec('RESTORED', '001:003:01'));
      await store.restrictions.record(rec('IN_REVIEW', '001:002:01'));
      await store.restrictions.record(rec('IN_REVIEW', '001:003:01'));
      await store.restrictions.record(rec('AWAITING_USER', '000:009:99'), true);
      const [first, none, again] = await store.restrictions.of([a, b, a]);
      assert.equal(first?.status, 'RESTORED');
      assert.equal(first?.restricted, false);
      assert.equal(none, null);
      assert.deepEqual(again, first);
      await store.db.close();
    });

    it('remembers what a channel delivered, per channel and key', async () => {
      const store = await open();
      const key = `c.1:${randomUUID()}`;
      assert.equal(await store.deliveries.wasDelivered('smtp', key), false);
      await store.deliveries.record('smtp', key);
      await store.deliveries.record('smtp', key);
      assert.equal(await store.deliveries.wasDelivered('smtp', key), true);
      assert.equal(await store.deliveries.wasDelivered('other', key), false);
      await store.db.close();
    });

    it('counts rate-limit hits per key and window, also when many arrive at once', async () => {
      let now = 10 * 60_000 + 5_000;
      const store = await open(() => now);
      const key = `ip:${randomUUID()}`;
      const hits = await Promise.all(Array.from({ length: 8 }, () => store.rateLimits.hit(key, 60_000, 5)));
      assert.deepEqual(
        hits.map((h) => h.allowed).sort(),
        [false, false, false, true, true, true, true, true],
        'exactly the limit is allowed',
      );
      assert.equal(hits.find((h) => !h.allowed)!.retryAfterMs, 55_000, 'until the window ends');
      assert.equal(
        (await store.rateLimits.hit(`other:${randomUUID()}`, 60_000, 5)).allowed,
        true,
        'keys are separate',
      );
      now += 60_000;
      assert.equal((await store.rateLimits.hit(key, 60_000, 5)).allowed, true, 'a new window');
      await store.db.close();
    });

    it('remembers event IDs for their window, whatever the ID (prototype names included)', async () => {
      let now = Date.now();
      const store = await open(() => now);
      const account = uniqueAccount();
      for (const id of ['__proto__', 'constructor', 'toString', `e-${randomUUID()}`]) {
        assert.equal(await store.events.find(account, id, 1_000), null, `${id} unseen`);
        await store.events.record(result(account, id));
        assert.equal((await store.events.find(account, id, 1_000))?.eventId, id);
      }
      await store.events.record({ ...result(account, '__proto__'), status: 'IN_REVIEW' });
      assert.equal(
        (await store.events.find(account, '__proto__', 1_000))?.status,
        'AWAITING_USER',
        'first answer',
      );
      now += 2_000;
      assert.equal(await store.events.find(account, '__proto__', 1_000), null, 'outside the window');
      await store.purge(1_000);
      assert.equal(await store.events.find(account, 'constructor', 10_000), null, 'purged');
      await store.db.close();
    });

    it('records a request with its fingerprint and first answer', async () => {
      const store = await open();
      const key = `k-${randomUUID()}`;
      await store.requests.record(key, 'c.0123456789ab', 'f1', { status: 'RESTORED' } as CaseView);
      await store.requests.record(key, 'c.0123456789ab', 'f2', { status: 'UPHELD' } as CaseView);
      assert.deepEqual(await store.requests.find(key), {
        fingerprint: 'f1',
        response: { status: 'RESTORED' },
      });
      await store.db.close();
    });

    it('delivers the outbox in order per account, one lease at a time, and keeps failures', async () => {
      const store = await open();
      const [a, b] = [uniqueAccount(), uniqueAccount()];
      const ca = `${a}.0123456789ab`;
      const cb = `${b}.0123456789ab`;
      await store.outbox.enqueue([notice(a, ca, `${ca}:1`), change(a, ca, `${ca}:2`, 'restriction.changed')]);
      await store.outbox.enqueue([notice(b, cb, `${cb}:1`)]);
      await store.outbox.enqueue([notice(a, ca, `${ca}:1`)]); // the same key again: ignored
      const mine = <T extends { caseId: string }>(ms: T[]) =>
        ms.filter((m) => m.caseId === ca || m.caseId === cb);

      // Two dispatchers at once never lease the same message.
      const [l1, l2] = await Promise.all([
        store.outbox.leaseDue(100, 60_000),
        store.outbox.leaseDue(100, 60_000),
      ]);
      const leased = mine([...l1, ...l2]);
      assert.deepEqual(leased.map((m) => m.idempotencyKey).sort(), [`${ca}:1`, `${cb}:1`].sort());
      assert.equal(mine(await store.outbox.leaseDue(100, 60_000)).length, 0, 'the next of account a waits');

      const first = leased.find((m) => m.caseId === ca)!;
      await store.outbox.markRetry(first.seq, 'receiver unreachable', Date.now() - 1);
      const retried = mine(await store.outbox.leaseDue(100, 60_000));
      assert.deepEqual(
        retried.map((m) => [m.idempotencyKey, m.attempts]),
        [[`${ca}:1`, 1]],
        'the same message again, before anything later of its account',
      );
      await store.outbox.markDelivered(retried[0]!.seq, ['webhook']);
      const next = mine(await store.outbox.leaseDue(100, 60_000));
      assert.deepEqual(
        next.map((m) => m.idempotencyKey),
        [`${ca}:2`],
      );
      await store.outbox.markFailed(next[0]!.seq, 'Webhook: receiver refused with 400');
      const messages = await store.outbox.messagesOf(ca);
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
      const start = await store.changes.after(0, 100_000);
      const cursor = start.length ? Number(start[start.length - 1]!.cursor) : 0;
      await store.outbox.enqueue([
        change(a, c, `${c}:1`, 'restriction.changed'),
        notice(a, c, `${c}:2`),
        change(a, c, `${c}:3`, 'case.outcome'),
      ]);
      now += 5_000; // PostgreSQL lists rows once they are a second old
      // Other tests share this database: look at this account's changes only.
      const page = (await store.changes.after(cursor, 100_000)).filter((p) => p.event.accountId === a);
      assert.deepEqual(
        page.map((p) => [p.type, p.event.idempotencyKey]),
        [
          ['restriction.changed', `${c}:1`],
          ['case.outcome', `${c}:3`],
        ],
      );
      const later = await store.changes.after(Number(page[0]!.cursor), 100_000);
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
      await store.shadow.record({ at: day + 1_000, ...versions, disagreement: d });
      await store.shadow.record({ at: day + 2_000, ...versions, disagreement: d }); // the same event again
      await store.shadow.record({ at: day + 3_000, ...versions });
      await store.shadow.record({
        at: day + 86_400_000 + 5,
        ...versions,
        disagreement: { ...d, eventId: 'e2' },
      });
      const both = await store.shadow.report(day, day + 2 * 86_400_000, 10);
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
      const first = await store.shadow.report(day, day + 86_400_000, 10);
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
        await store.archive.record(view, [], [], 365 * 86_400_000 * 40);
        if (i % 3 !== 1) now += 1_000; // some end at the same millisecond
      }
      const seen: string[] = [];
      for await (const v of store.archive.ended(start, now + 1, 2)) seen.push(v.caseId);
      assert.deepEqual(seen.sort(), [...ids].sort());
      const early: string[] = [];
      for await (const v of store.archive.ended(start, start + 1_000, 2)) early.push(v.caseId);
      assert.deepEqual(early, ids.slice(0, 1));
      await store.db.close();
    });

    it('seals personal values in their columns, under the account; IDs, kinds, statuses and times stay plain', async () => {
      const store = await open();
      const a = uniqueAccount();
      const c = `${a}.0123456789ab`;
      const email = `${a}@example.test`;
      const statement = `My passport is E${randomUUID().slice(0, 8)}`;
      const view = {
        caseId: c,
        accountId: a,
        status: 'IN_REVIEW',
        timeline: [{ statement }],
      } as unknown as CaseView;
      const staffNote = {
        ...result(a, 'staff:r:1'),
        decision: { ...result(a, 'x').decision, note: statement },
      };
      await store.requests.record(`k-${a}`, c, 'f', view);
      await store.outbox.enqueue([
        personalNotice(a, c, `${c}:1`, email),
        change(a, c, `${c}:2`, 'restriction.changed'),
      ]);
      await store.archive.record(
        view,
        [{ key: 'k', fingerprint: 'f' }],
        [result(a, 'e1'), staffNote],
        86_400_000,
      );

      const raw = async (sql: string) =>
        (await store.db.query(sql, [a])).map((r) => Object.values(r).map(String));
      const sealed = [
        ...(await raw("SELECT response FROM request_records WHERE case_id LIKE ? || '.%'")),
        ...(await raw("SELECT payload FROM messages WHERE account_id = ? AND kind = 'NOTIFY_USER'")),
        ...(await raw('SELECT view, requests FROM case_archive WHERE account_id = ?')),
        ...(await raw("SELECT result FROM event_ids WHERE account_id = ? AND event_id LIKE 'staff:%'")),
      ].flat();
      assert.equal(sealed.length, 5);
      for (const value of sealed) {
        assert.match(value, /^cdk1:[A-Za-z0-9_-]{8}:[A-Za-z0-9+/]+=*$/);
        assert.ok(!value.includes(email) && !value.includes(statement) && !value.includes(a));
      }
      // What carries nothing personal stays readable without keys: the change feed, most first answers.
      const [feed] = await raw(
        "SELECT payload FROM messages WHERE account_id = ? AND kind = 'NOTIFY_BACKEND'",
      );
      assert.equal(JSON.parse(feed![0]!).event.type, 'restriction.changed');
      const [plainAnswer] = await raw(
        "SELECT result FROM event_ids WHERE account_id = ? AND event_id = 'e1'",
      );
      assert.equal(JSON.parse(plainAnswer![0]!).eventId, 'e1');
      const [keyRow] = await raw('SELECT account_id, wrap_key_id FROM account_keys WHERE account_id = ?');
      assert.deepEqual(keyRow, [a, store.dataKeys.newestWrapKeyId], 'one data key for the account');

      assert.deepEqual((await store.requests.find(`k-${a}`))?.response, view);
      assert.deepEqual((await store.archive.find(c))?.view, view);
      assert.deepEqual(await store.events.find(a, 'staff:r:1', 86_400_000), staffNote);
      assert.equal((await store.outbox.messagesOf(c)).length, 2);
      assert.deepEqual((await store.outbox.messagesOf(c))[0]!.message, personalNotice(a, c, `${c}:1`, email));
      // A sealed value copied to another account's row does not open (the account is bound into it).
      const b = uniqueAccount();
      await store.db.run(
        'INSERT INTO request_records (request_key, case_id, fingerprint, response, created_at) VALUES (?, ?, ?, ?, ?)',
        [`k-${b}`, `${b}.0123456789ab`, 'f', sealed[0]!, Date.now()],
      );
      await store.requests.record(`k2-${b}`, `${b}.0123456789ab`, 'f', view); // b has a key of its own now
      await assert.rejects(store.requests.find(`k-${b}`), /does not decrypt|no longer exists/);
      await store.db.close();
    });

    it("destroying an account's data key makes its sealed values and files unreadable, and only its own", async () => {
      const store = await open();
      const dataDir = mkdtempSync(join(tmpdir(), 'cordon-destroy-'));
      const evidence = chooseEvidenceStore({ dataDir, codec: {} }, store.db).store;
      const [a, b] = [uniqueAccount(), uniqueAccount()];
      const put = async (x: string) => {
        const c = `${x}.0123456789ab`;
        const view = {
          caseId: c,
          accountId: x,
          status: 'RESTORED',
          timeline: [{ statement: x }],
        } as unknown as CaseView;
        await store.requests.record(`k-${x}`, c, 'f', view);
        await store.archive.record(view, [], [], 86_400_000);
        await store.outbox.enqueue([personalNotice(x, c, `${c}:1`, `${x}@example.test`)]);
        return (
          await evidence.put(Buffer.from(`file of ${x}`), { type: 'text/plain', caseId: c, name: 'f.txt' })
        ).ref;
      };
      const [refA, refB] = [await put(a), await put(b)];
      const c2 = `${a}.0123456789ac`; // a notice redacted first (what an erasure does) outlives the key
      await store.outbox.enqueue([personalNotice(a, c2, `${c2}:1`, `${a}@example.test`)]);
      assert.equal(await store.outbox.redactNoticesOf(a), 2);
      // (the first notice is put back as sealed: erased without a redaction)
      await store.db.run('UPDATE messages SET payload = ? WHERE idempotency_key = ?', [
        await sealJson(store.dataKeys, a, FIELD.message, personalNotice(a, `${a}.0123456789ab`, 'x', 'e')),
        `${a}.0123456789ab:1`,
      ]);
      assert.equal(await store.dataKeys.destroy(a), true);
      const gone = (err: Error) =>
        err instanceof DataKeyError && err.reason === 'GONE' && err.accountId === a;
      await assert.rejects(store.requests.find(`k-${a}`), gone);
      await assert.rejects(store.archive.find(`${a}.0123456789ab`), gone);
      await assert.rejects(store.outbox.messagesOf(`${a}.0123456789ab`), gone);
      const [redacted] = await store.outbox.messagesOf(c2);
      assert.equal(redacted?.redacted, true);
      assert.equal(redacted?.message.kind === 'NOTIFY_USER' && redacted.message.notice.contact, undefined);
      // A pending message whose key is gone can never go out: marked failed, and the others are still leased.
      const mine = (await store.outbox.leaseDue(1_000, 60_000)).filter((m) => [a, b].includes(m.accountId));
      assert.deepEqual(
        mine.map((m) => m.accountId),
        [b],
      );
      const [failed] = await store.db.query<{ status: string; last_error: string }>(
        'SELECT status, last_error FROM messages WHERE idempotency_key = ?',
        [`${a}.0123456789ab:1`],
      );
      assert.deepEqual(failed, { status: 'FAILED', last_error: 'its personal data was erased' });
      await assert.rejects(evidence.get(refA), gone);
      // Another process's cache is no way around it: a fresh handle on the same database finds no key either.
      const other = new Store(store.db, Date.now, {
        dataKeys: new DataKeys(store.db, processLocalWrapKeys()),
      });
      await assert.rejects(other.requests.find(`k-${a}`), gone);
      // The other account reads as before; the erased one gets a new key for anything new, the old stays gone.
      assert.equal((await store.requests.find(`k-${b}`))?.response.accountId, b);
      assert.equal((await evidence.get(refB))?.content.toString(), `file of ${b}`);
      await store.requests.record(`k2-${a}`, `${a}.0123456789ab`, 'f', { accountId: a } as CaseView);
      assert.equal((await store.requests.find(`k2-${a}`))?.response.accountId, a);
      await assert.rejects(store.requests.find(`k-${a}`), gone);
      assert.equal(await store.dataKeys.destroy(uniqueAccount()), false, 'an account without a key');
      await store.db.close();
    });

    it('removes settled notices’ personal fields after the retention; pending ones and the feed keep theirs', async () => {
      let now = Date.UTC(2001, 0, 1);
      const store = await open(() => now, true);
      const a = uniqueAccount();
      const c = `${a}.0123456789ab`;
      const email = `${a}@example.test`;
      await store.outbox.enqueue([
        personalNotice(a, c, `${c}:1`, email),
        change(a, c, `${c}:2`, 'case.outcome'),
        personalNotice(a, c, `${c}:3`, email),
      ]);
      const [first] = await store.outbox.leaseDue(10, 60_000);
      await store.outbox.markDelivered(first!.seq, ['log', 'email']);
      const [second] = await store.outbox.leaseDue(10, 60_000);
      await store.outbox.markDelivered(second!.seq, ['webhook']);
      // The third stays pending (a receiver down).
      now += 29 * 86_400_000;
      await store.purge(86_400_000);
      const within = await store.outbox.messagesOf(c);
      assert.equal(
        within[0]!.message.kind === 'NOTIFY_USER' && within[0]!.message.notice.contact?.email,
        email,
      );

      now += 2 * 86_400_000; // past the 30 days (the default)
      await store.purge(86_400_000);
      await store.purge(86_400_000); // again: nothing more to do, nothing breaks
      const [done, feed, pending] = await store.outbox.messagesOf(c);
      assert.deepEqual(done!.message, {
        kind: 'NOTIFY_USER',
        notice: {
          caseId: c,
          accountId: a,
          locale: 'en',
          template: 'OUTCOME',
          tier: 'FREEZE',
          status: 'AWAITING_USER',
          reasonCodes: [],
          deadline: '2030-01-01T00:00:00.000Z',
          idempotencyKey: `${c}:1`,
        },
      });
      assert.equal(done!.redacted, true);
      assert.deepEqual([done!.status, done!.channels, done!.attempts], ['DELIVERED', ['log', 'email'], 1]);
      assert.equal(feed!.message.kind, 'NOTIFY_BACKEND', 'backend events as they were');
      assert.equal(pending!.message.kind === 'NOTIFY_USER' && pending!.message.notice.contact?.email, email);
      const rows = await store.db.query<{ payload: string }>(
        'SELECT payload FROM messages WHERE case_id = ?',
        [c],
      );
      assert.ok(
        !rows[0]!.payload.includes(email) && !rows[0]!.payload.startsWith('cdk1:'),
        'kept plain, redacted',
      );
      await store.db.close();
    });

    it('keeps an ended case readable for its keeping period', async () => {
      let now = Date.now();
      const store = await open(() => now);
      const a = uniqueAccount();
      const view = { caseId: `${a}.0123456789ab`, accountId: a, status: 'RESTORED' } as CaseView;
      await store.archive.record(view, [{ key: 'k', fingerprint: 'f' }], [result(a, 'e1')], 10_000);
      assert.equal((await store.archive.find(view.caseId))?.view.status, 'RESTORED');
      assert.ok(await store.events.find(a, 'e1', 10_000), 'its event IDs are remembered');
      now += 20_000;
      assert.equal(await store.archive.find(view.caseId), null);
      await store.db.close();
    });
  });
}

describe("a whole case with Cordon's database on PostgreSQL", function () {
  requires('temporal', 'postgres');
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
        while (!(await store.archive.find(first.caseId!)) && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 100));
        assert.equal((await store.archive.find(first.caseId!))?.view.outcome, 'RESTORED');
        const retry = await h.cases.reportEvent(event, { kind: 'backend', id: 'backend' });
        assert.equal(retry.duplicate, true);
        assert.equal(retry.caseId, first.caseId);
      },
      { store },
    );
    await store.db.close();
  });
});
