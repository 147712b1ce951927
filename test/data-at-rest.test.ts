// Personal data at rest in Cordon's own database (issue 16, defect 3). A real case goes through the API over HTTP
// with a real worker: an event with a contact, an appeal with a statement and a passport number, a reviewer's
// question answered with a file on the user's page, an outcome with an explanation. Then the raw bytes of every
// file of the data folder (SQLite: the database and its write-ahead log; PostgreSQL: the server's data directory
// after a CHECKPOINT) hold none of it, while the case view, the console, deliveries and reports still read it.
// Then: rotating CORDON_CODEC_KEYS and `npm run keys -- rewrap`, and `npm run keys -- reencrypt` on rows and
// files as 0.4 left them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { CaseView, RiskEventResult } from '../core/contracts';
import type { OutboxMessage } from '../core/messages';
import { parseCodecKeys, type CodecKey } from '../infra/codec';
import { DataKeyError } from '../infra/data-keys';
import { openDatabase } from '../infra/database';
import { DatabaseEvidenceStore } from '../infra/evidence/database-store';

import { evidenceKeysFrom } from '../infra/evidence/seal';
import { FileEvidenceStore } from '../infra/evidence/file-store';
import { chooseEvidenceStore } from '../infra/evidence/from-config';
import { openStore, type Store } from '../infra/store';
import { eventually } from './helpers/harness';
import {
  assertNothingOf,
  call,
  driveCase,
  filesUnder,
  personalData,
  REVIEWER,
  BACKEND,
  startOn,
  type Running,
} from './helpers/personal-case';
import { PortalAgent } from './helpers/portal-env';
import { startPostgres, type TestPostgres } from './helpers/postgres';
import { TEST_CODEC_KEYS } from './helpers/servers';
import { requires, requiresInTest } from './helpers/requirements';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..');
const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join('');

/** What must read back through every reader: the API, the console, deliveries, the outbox, reports. */
async function readsBack(r: Running, caseId: string, p: ReturnType<typeof personalData>, from: number) {
  const base = r.api.url;
  const view = await call(base, 'GET', `/v1/cases/${caseId}`, REVIEWER);
  assert.equal(view.status, 200, view.text);
  const timeline = view.json.timeline as Record<string, unknown>[];
  assert.equal(timeline.find((e) => e.type === 'APPEAL')?.statement, p.statement);
  const info = timeline.find((e) => e.type === 'INFO_PROVIDED')!;
  assert.equal(info.answer, p.answer);
  assert.equal(view.json.outcome, 'RESTORED');
  assert.ok(view.json.deliveries.length >= 3, 'the deliveries of the case');
  assert.ok(view.json.deliveries.every((d: { status: string }) => d.status === 'DELIVERED'));

  // The outbox still holds the contact the notices went to (within the retention).
  const notices = (await r.store.outbox.messagesOf(caseId)).filter((m) => m.message.kind === 'NOTIFY_USER');
  assert.ok(
    notices.some(
      (m) =>
        m.message.kind === 'NOTIFY_USER' &&
        m.message.notice.contact?.email === p.email &&
        m.message.notice.contact.phone === p.phone &&
        m.message.notice.contact.timeZone === p.timeZone,
    ),
  );
  // The backend's change feed and the overturns report (it reads archived views).
  // (On PostgreSQL the feed lists a change once it is a second old.)
  await eventually(async () => {
    const changes = await call(base, 'GET', '/v1/changes?after=0&limit=1000', BACKEND);
    return changes.json.items.some((c: { event: { caseId: string } }) => c.event.caseId === caseId);
  });
  const report = await call(base, 'GET', `/v1/reports/overturns?from=${new Date(from).toISOString()}`, {
    authorization: 'Bearer dev-analyst',
  });
  assert.equal(report.status, 200, report.text);
  assert.equal(report.json.cases, 1, 'the case, read from its archived view');

  // The console: a reviewer reads the case and downloads the file.
  const reviewer = new PortalAgent(base);
  const login = await reviewer.send('GET', '/console/login');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(login.text)?.[1] ?? '';
  const signed = await reviewer.send('POST', '/console/login', {
    form: { _csrf: csrf, token: 'dev-reviewer-1', next: '/console/queue' },
  });
  assert.equal(signed.status, 303, signed.text);
  const casePage = await reviewer.send('GET', `/console/cases/${encodeURIComponent(caseId)}`);
  assert.equal(casePage.status, 200);
  assert.ok(casePage.text.includes(p.answer), 'the console shows the answer');
  const ref = (info.evidence as string[])[0]!;
  const file = await reviewer.send('GET', `/console/cases/${encodeURIComponent(caseId)}/evidence/${ref}`);
  assert.equal(file.status, 200);
  assert.equal(file.text, p.fileText);
}

describe('personal data at rest', function () {
  requires('temporal');
  this.timeout(180_000);
  const codecKeys = parseCodecKeys(TEST_CODEC_KEYS);

  it("SQLite: nothing personal in the data folder's files (database, write-ahead log, evidence); all of it reads back", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cordon-rest-lite-'));
    const store = await openStore({ sqliteFile: join(dataDir, 'cordon.sqlite'), codecKeys });
    const r = await startOn(store, dataDir);
    const p = personalData();
    const from = Date.now() - 1_000;
    try {
      const caseId = await driveCase(r, p);
      await readsBack(r, caseId, p, from);
      const files = readdirSync(dataDir);
      assert.ok(files.includes('cordon.sqlite-wal'), 'the write-ahead log is there to be searched');
      const stored = filesUnder(dataDir, (name) => name === 'mail');
      assert.ok(
        stored.some((b) => b.includes(caseId)),
        'the scan sees what the database stored (IDs stay plain)',
      );
      assertNothingOf(p, stored, dataDir);
    } finally {
      await r.close();
      await store.db.close();
    }
    // Closed: the write-ahead log is checkpointed into the file.
    assertNothingOf(
      p,
      filesUnder(dataDir, (name) => name === 'mail'),
      `${dataDir} after close`,
    );
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("PostgreSQL: nothing personal in the server's data directory after a CHECKPOINT; all of it reads back", async function () {
    requiresInTest(this, 'postgres');
    const pg: TestPostgres = await startPostgres();
    const dataDir = mkdtempSync(join(tmpdir(), 'cordon-rest-pg-'));
    const store = await openStore({ url: pg.url, sqliteFile: join(dataDir, 'cordon.sqlite'), codecKeys });
    const r = await startOn(store, dataDir);
    const p = personalData();
    const from = Date.now() - 1_000;
    try {
      const caseId = await driveCase(r, p);
      await readsBack(r, caseId, p, from);
      const [{ data_directory: pgData } = { data_directory: '' }] = await store.db.query<{
        data_directory: string;
      }>('SHOW data_directory');
      await store.db.run('CHECKPOINT');
      const stored = [...filesUnder(pgData), ...filesUnder(dataDir, (name) => name === 'mail')];
      assert.ok(
        stored.some((b) => b.includes(caseId)),
        'the scan sees what the database stored (IDs stay plain)',
      );
      assertNothingOf(p, stored, `PostgreSQL's data directory ${pgData} and ${dataDir}`);
    } finally {
      await r.close();
      await store.db.close();
      await pg.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

const codecKey = (id: string): CodecKey => ({ id, key: randomBytes(32) });
const keysText = (keys: CodecKey[]) => keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');

/** `npm run keys -- …` as an operator runs it, on a data folder (and a PostgreSQL database if given). */
async function keysCommand(
  args: string[],
  env: { dataDir: string; url?: string; keys: CodecKey[] },
): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run('npm', ['run', '--silent', 'keys', '--', ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        CORDON_DATA_DIR: env.dataDir,
        CORDON_CODEC_KEYS: keysText(env.keys),
        ...(env.url ? { CORDON_DATABASE_URL: env.url } : {}),
      },
    });
    return { code: 0, stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: `${e.stdout}${e.stderr}` };
  }
}

describe('npm run keys', function () {
  requires('postgres');
  this.timeout(180_000);
  let pg: TestPostgres | undefined;
  before(async function () {
    this.timeout(120_000);
    pg = await startPostgres();
  });
  after(async () => pg?.stop());

  /** A database of its own per test (the commands look at every row). */
  const backings: [string, () => Promise<string | undefined>][] = [
    ['SQLite', async () => undefined],
    [
      'PostgreSQL',
      async () => {
        const name = `rest_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
        const admin = await openDatabase({ url: pg!.url, sqliteFile: '' });
        await admin.run(`CREATE DATABASE ${name}`);
        await admin.close();
        const url = new URL(pg!.url);
        url.pathname = `/${name}`;
        return url.toString();
      },
    ],
  ];

  for (const [name, backing] of backings) {
    it(`${name}: rotation: a new key listed first keeps old rows readable; rewrap moves their keys, then the old key can go`, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'cordon-rotate-'));
      const url = await backing();
      const open = (keys: CodecKey[]) =>
        openStore({ url, sqliteFile: join(dataDir, 'cordon.sqlite'), codecKeys: keys });
      const [old, next] = [codecKey('2025-01'), codecKey('2026-01')];
      const a = `acct-rot-${randomUUID().slice(0, 8)}`;
      const caseId = `${a}.0123456789ab`;
      const secret = `passport E${digits(8)}`;
      const view = {
        caseId,
        accountId: a,
        status: 'RESTORED',
        timeline: [{ statement: secret }],
      } as unknown as CaseView;
      const notice: OutboxMessage = {
        kind: 'NOTIFY_USER',
        notice: {
          caseId,
          accountId: a,
          locale: 'en',
          template: 'RESTRICTED',
          tier: 'FREEZE',
          status: 'AWAITING_USER',
          reasonCodes: [],
          contact: { email: `${a}@example.test` },
          idempotencyKey: `${caseId}:n1`,
        },
      };
      const evidenceOf = (s: Store, keys: CodecKey[]) =>
        chooseEvidenceStore({ dataDir, codec: { keys } }, s.db).store;

      const before = await open([old]);
      await before.requests.record(`k-${a}`, caseId, 'f', view);
      await before.outbox.enqueue([notice]);
      await before.archive.record(view, [], [], 86_400_000);
      const { ref } = await evidenceOf(before, [old]).put(Buffer.from(secret), {
        type: 'text/plain',
        caseId,
        name: 'id.txt',
      });
      const sealedBefore = await before.db.query<{ response: string }>(
        'SELECT response FROM request_records WHERE request_key = ?',
        [`k-${a}`],
      );
      await before.db.close();

      // Rotated: the new key first, the old one still listed.
      const rotated = await open([next, old]);
      const readAll = async (s: Store, keys: CodecKey[]) => {
        assert.deepEqual((await s.requests.find(`k-${a}`))?.response, view);
        assert.deepEqual((await s.archive.find(caseId))?.view, view);
        const [m] = await s.outbox.messagesOf(caseId);
        assert.equal(
          m?.message.kind === 'NOTIFY_USER' && m.message.notice.contact?.email,
          `${a}@example.test`,
        );
        assert.equal((await evidenceOf(s, keys).get(ref))?.content.toString(), secret);
      };
      await readAll(rotated, [next, old]);
      const b = `acct-rot-${randomUUID().slice(0, 8)}`;
      await rotated.requests.record(`k-${b}`, `${b}.0123456789ab`, 'f', { ...view, accountId: b });
      const wraps = async (s: Store) =>
        Object.fromEntries(
          (
            await s.db.query<{ account_id: string; wrap_key_id: string }>(
              'SELECT account_id, wrap_key_id FROM account_keys',
            )
          ).map((r) => [r.account_id, r.wrap_key_id]),
        );
      assert.deepEqual(
        await wraps(rotated),
        { [a]: '2025-01', [b]: '2026-01' },
        'new keys wrap with the new key',
      );
      await rotated.db.close();

      // Without the old key, before the rewrap: its account's data is out of reach, and says why (no content).
      const early = await open([next]);
      await assert.rejects(
        early.requests.find(`k-${a}`),
        (err: Error) =>
          err instanceof DataKeyError && err.reason === 'WRAP_KEY_UNKNOWN' && /2025-01/.test(err.message),
      );
      await early.db.close();

      const first = await keysCommand(['rewrap'], { dataDir, url, keys: [next, old] });
      assert.equal(first.code, 0, first.stdout);
      assert.match(first.stdout, /re-wrapping account data keys with key ID 2026-01/);
      assert.match(first.stdout, /^ {2}1 of 1 re-wrapped$/m, 'progress');
      assert.match(first.stdout, /re-wrapped 1 of 1/);
      const again = await keysCommand(['rewrap'], { dataDir, url, keys: [next, old] });
      assert.match(again.stdout, /re-wrapped 0 of 0/, 'idempotent');

      const after = await open([next]);
      assert.deepEqual(await wraps(after), { [a]: '2026-01', [b]: '2026-01' });
      await readAll(after, [next]);
      const sealedAfter = await after.db.query<{ response: string }>(
        'SELECT response FROM request_records WHERE request_key = ?',
        [`k-${a}`],
      );
      assert.equal(sealedAfter[0]!.response, sealedBefore[0]!.response, 'the data itself is not rewritten');
      await after.db.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it(`${name}: reencrypt seals rows and files 0.4 left in plaintext; resumable, idempotent; everything reads back`, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'cordon-reencrypt-'));
      const url = await backing();
      const keys = [codecKey('k1')];
      const store = await openStore({ url, sqliteFile: join(dataDir, 'cordon.sqlite'), codecKeys: keys });
      const a = `acct-old-${randomUUID().slice(0, 8)}`;
      const caseId = `${a}.0123456789ab`;
      const p = personalData();
      const view = {
        caseId,
        accountId: a,
        status: 'IN_REVIEW',
        question: p.question,
        timeline: [{ type: 'APPEAL', statement: p.statement }],
      } as unknown as CaseView;
      const notice: OutboxMessage = {
        kind: 'NOTIFY_USER',
        notice: {
          caseId,
          accountId: a,
          locale: 'en',
          template: 'INFO_REQUESTED',
          tier: 'FREEZE',
          status: 'AWAITING_INFO',
          reasonCodes: [],
          question: p.question,
          contact: { email: p.email, phone: p.phone, timeZone: p.timeZone },
          idempotencyKey: `${caseId}:n1`,
        },
      };
      const opening: RiskEventResult = {
        eventId: `staff:r1:${randomUUID()}`,
        accountId: a,
        caseId,
        status: 'AWAITING_USER',
        decision: {
          tier: 'FREEZE',
          score: 0,
          reasons: [],
          policyVersion: 'p',
          policyHash: 'h',
          lockout: false,
          verificationAllowed: true,
          unavailableSources: [],
          note: p.rationale,
        },
        duplicate: false,
      };
      // As 0.4 wrote them: JSON text in the columns, the file sealed with the codec-derived key (CEV1).
      const now = Date.now();
      const db = store.db;
      await db.run(
        'INSERT INTO request_records (request_key, case_id, fingerprint, response, created_at) VALUES (?, ?, ?, ?, ?)',
        [`k-${a}`, caseId, 'f', JSON.stringify(view), now],
      );
      await db.run(
        `INSERT INTO messages (idempotency_key, account_id, case_id, kind, payload, status, next_attempt_at,
           created_at, updated_at) VALUES (?, ?, ?, 'NOTIFY_USER', ?, 'DELIVERED', ?, ?, ?)`,
        [`${caseId}:n1`, a, caseId, JSON.stringify(notice), now, now, now],
      );
      await db.run(
        'INSERT INTO case_archive (case_id, account_id, ended_at, expires_at, view, requests) VALUES (?, ?, ?, ?, ?, ?)',
        [
          caseId,
          a,
          now,
          now + 86_400_000,
          JSON.stringify(view),
          JSON.stringify([{ key: 'k', fingerprint: 'f' }]),
        ],
      );
      await db.run('INSERT INTO event_ids (account_id, event_id, result, created_at) VALUES (?, ?, ?, ?)', [
        a,
        opening.eventId,
        JSON.stringify(opening),
        now,
      ]);
      const legacy = url
        ? new DatabaseEvidenceStore(db, evidenceKeysFrom(keys))
        : new FileEvidenceStore(dataDir, evidenceKeysFrom(keys));
      const { ref } = await legacy.put(Buffer.from(p.fileText), {
        type: 'text/plain',
        caseId,
        name: p.fileName,
      });

      /** The personal columns of these rows and the evidence bytes, as stored. */
      const stored = async () => {
        const rows = [
          ...(await db.query('SELECT response FROM request_records WHERE case_id = ?', [caseId])),
          ...(await db.query('SELECT payload FROM messages WHERE case_id = ?', [caseId])),
          ...(await db.query('SELECT view, requests FROM case_archive WHERE case_id = ?', [caseId])),
          ...(await db.query('SELECT result FROM event_ids WHERE account_id = ?', [a])),
        ].flatMap((r) => Object.values(r).map((v) => Buffer.from(String(v))));
        const files = url
          ? (await db.query<{ sealed: Uint8Array }>('SELECT sealed FROM evidence_files')).map((r) =>
              Buffer.from(r.sealed),
            )
          : filesUnder(join(dataDir, 'evidence'));
        return [...rows, ...files];
      };
      const readsBack = async (s: Store) => {
        assert.deepEqual((await s.requests.find(`k-${a}`))?.response, view);
        assert.deepEqual((await s.archive.find(caseId))?.view, view);
        assert.deepEqual((await s.outbox.messagesOf(caseId))[0]?.message, notice);
        assert.deepEqual(await s.events.find(a, opening.eventId, 86_400_000), opening);
        const file = await chooseEvidenceStore({ dataDir, codec: { keys } }, s.db).store.get(ref);
        assert.equal(file?.content.toString(), p.fileText);
        assert.equal(file?.meta.name, p.fileName);
      };
      await readsBack(store); // readers take both forms
      const plain = await stored();
      assert.ok(plain.some((b) => b.includes(p.email)) && plain.some((b) => b.includes(p.statement)));

      const part = await keysCommand(['reencrypt', '--limit', '2'], { dataDir, url, keys });
      assert.equal(part.code, 0, part.stdout);
      assert.match(part.stdout, /stopped after --limit 2 rows: run it again to continue/);
      assert.match(part.stdout, /request_records: sealed 1 of 1/);
      const rest = await keysCommand(['reencrypt', '--vacuum'], { dataDir, url, keys });
      assert.equal(rest.code, 0, rest.stdout);
      assert.match(rest.stdout, /messages: sealed 1 of 1/);
      assert.match(rest.stdout, /event_ids: sealed 1 of 1/);
      assert.match(rest.stdout, /evidence: resealed 1 of 1 file/);
      assertNothingOf(p, await stored(), 'the rows and files after reencrypt');
      if (!url) assertNothingOf(p, filesUnder(dataDir), `${dataDir} after reencrypt --vacuum`);
      await readsBack(store);
      const again = await keysCommand(['reencrypt'], { dataDir, url, keys });
      for (const table of ['request_records', 'case_archive', 'messages', 'event_ids'])
        assert.match(again.stdout, new RegExp(`${table}: sealed 0 of 0`), 'nothing left to do');
      assert.match(again.stdout, /evidence: resealed 0 of 1 file/);
      await store.db.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
  }
});
