// One contract for every place evidence can live: the local folder, Cordon's database (SQLite and a real
// PostgreSQL) and an S3-compatible object store (moto's server, with its signature and permission checks on).
// Each keeps the same sealed bytes: encrypted at rest, bound to their reference, readable by any process with
// the keys and by no other.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../infra/database';
import { DatabaseEvidenceStore } from '../infra/evidence/database-store';
import { FileEvidenceStore } from '../infra/evidence/file-store';
import { chooseEvidenceStore, evidenceStoreFromConfig } from '../infra/evidence/from-config';
import type { Logger } from '../infra/logger';
import { S3EvidenceStore, parseEvidenceUrl } from '../infra/evidence/s3-store';
import { evidenceKeysFrom } from '../infra/evidence/seal';
import type { EvidenceKey, EvidenceStore } from '../infra/evidence/types';
import { sharedPostgres } from './helpers/postgres';
import { s3OrSkip, type TestS3 } from './helpers/s3';
import { requires } from './helpers/requirements';

const keysOf = (id = 'k1') => evidenceKeysFrom([{ id, key: randomBytes(32) }]);
const HOUR = 3_600_000;

/** A store under test and a way around it to its kept bytes, to alter or move them as an intruder could. */
interface Subject {
  store: EvidenceStore;
  /** The same place, read with other keys. */
  withKeys(keys: readonly EvidenceKey[]): EvidenceStore;
  readRaw(ref: string): Promise<Buffer>;
  writeRaw(ref: string, bytes: Buffer): Promise<void>;
}

function fileSubject(keys: EvidenceKey[]): Subject {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-evidence-contract-'));
  const path = (ref: string) => join(dir, 'evidence', `${ref}.bin`);
  return {
    store: new FileEvidenceStore(dir, keys),
    withKeys: (other) => new FileEvidenceStore(dir, other),
    readRaw: async (ref) => readFileSync(path(ref)),
    writeRaw: async (ref, bytes) => writeFileSync(path(ref), bytes),
  };
}

function databaseSubject(db: Database, keys: EvidenceKey[]): Subject {
  return {
    store: new DatabaseEvidenceStore(db, keys),
    withKeys: (other) => new DatabaseEvidenceStore(db, other),
    readRaw: async (ref) => {
      const [row] = await db.query<{ sealed: Uint8Array }>(
        'SELECT sealed FROM evidence_files WHERE ref = ?',
        [ref],
      );
      return Buffer.from(row!.sealed);
    },
    writeRaw: async (ref, bytes) => {
      await db.run(
        `INSERT INTO evidence_files (ref, case_id, sealed, created_at) VALUES (?, NULL, ?, 0)
         ON CONFLICT (ref) DO UPDATE SET sealed = excluded.sealed`,
        [ref, bytes],
      );
    },
  };
}

function s3Subject(s3: TestS3, bucket: string, keys: EvidenceKey[]): Subject {
  const at = parseEvidenceUrl(s3.evidenceUrl(bucket), {});
  const store = new S3EvidenceStore(at, keys);
  return {
    store,
    withKeys: (other) => new S3EvidenceStore(at, other),
    readRaw: async (ref) => (await store.client.getObject(store.objectKey(ref)))!,
    writeRaw: async (ref, bytes) => void (await store.client.putObject(store.objectKey(ref), bytes)),
  };
}

/** The contract, for one store. */
function contract(name: string, open: (keys: EvidenceKey[]) => Promise<Subject>) {
  describe(`evidence store contract: ${name}`, function () {
    this.timeout(60_000);
    const keys = keysOf();
    let s: Subject;
    before(async () => {
      s = await open(keys);
    });
    const text = Buffer.from('My bank statement shows the transfer was mine. 我的银行流水。');
    const meta = (caseId = `acct-${randomBytes(4).toString('hex')}.0123456789ab`) => ({
      type: 'text/plain' as const,
      caseId,
      name: 'statement-of-account.txt',
    });

    it('keeps a file encrypted and gives it back byte for byte, with its metadata', async () => {
      const before = Date.now();
      const m = meta();
      const { ref, created } = await s.store.put(text, m);
      assert.ok(created);
      assert.match(ref, /^ev_[A-Za-z0-9_-]{32}$/);
      const raw = await s.readRaw(ref);
      assert.ok(!raw.includes(text), 'not the plaintext at rest');
      assert.ok(!raw.includes(Buffer.from('statement-of-account')), 'nor the file name');
      assert.ok(!raw.includes(Buffer.from(m.caseId)), 'nor the case');
      const back = await s.store.get(ref);
      assert.ok(back);
      assert.deepEqual(back.content, text);
      assert.equal(back.meta.caseId, m.caseId);
      assert.equal(back.meta.name, m.name);
      assert.equal(back.meta.type, 'text/plain');
      assert.equal(back.meta.size, text.length);
      assert.ok(back.meta.createdAt >= before && back.meta.createdAt <= Date.now());
      // Another process with the same keys reads it; one with another key of the same ID cannot.
      assert.deepEqual((await s.withKeys(keys).get(ref))?.content, text);
      await assert.rejects(s.withKeys(keysOf('k1')).get(ref), /does not decrypt/);
      await assert.rejects(s.withKeys(keysOf('k0')).get(ref), /key ID "k1", which is not configured/);
      // After a rotation (a new key first, the old one still listed) old files stay readable.
      assert.deepEqual((await s.withKeys([...keysOf('k2'), ...keys]).get(ref))?.content, text);
    });

    it('gives the same reference for the same idempotency key and content, and writes once', async () => {
      const m = meta();
      const a = await s.store.put(text, m, { idempotencyKey: `${m.caseId}|req-1|0` });
      const b = await s.store.put(text, m, { idempotencyKey: `${m.caseId}|req-1|0` });
      const c = await s.store.put(text, m, { idempotencyKey: `${m.caseId}|req-2|0` });
      const d = await s.store.put(Buffer.from('other bytes'), m, { idempotencyKey: `${m.caseId}|req-1|0` });
      const e = await s.store.put(text, m);
      assert.equal(a.ref, b.ref);
      assert.deepEqual(
        [a.created, b.created, c.created, d.created, e.created],
        [true, false, true, true, true],
      );
      assert.equal(new Set([a.ref, c.ref, d.ref, e.ref]).size, 4);
      assert.deepEqual((await s.store.get(b.ref))?.content, text);
    });

    it('finds nothing for an unknown or malformed reference; deletes once and quietly after', async () => {
      assert.equal(await s.store.get(`ev_${'A'.repeat(32)}`), null);
      for (const bad of [
        '../../etc/passwd',
        'ev_short',
        `ev_${'a'.repeat(31)}/`,
        '',
        `ev_${'a'.repeat(32)}x`,
      ])
        assert.equal(await s.store.get(bad), null, bad);
      const { ref } = await s.store.put(text, meta());
      await s.store.delete(ref);
      assert.equal(await s.store.get(ref), null);
      await s.store.delete(ref);
      await s.store.delete('../../etc/passwd');
    });

    it('refuses bytes that were altered, or moved to another reference', async () => {
      const { ref } = await s.store.put(text, meta());
      const raw = await s.readRaw(ref);
      const other = `ev_${randomBytes(24).toString('base64url')}`;
      await s.writeRaw(other, raw);
      await assert.rejects(s.store.get(other), /does not decrypt/);
      const flipped = Buffer.from(raw);
      flipped[flipped.length - 20]! ^= 1;
      await s.writeRaw(ref, flipped);
      await assert.rejects(s.store.get(ref), /does not decrypt/);
      await s.writeRaw(ref, Buffer.from('not sealed at all'));
      await assert.rejects(s.store.get(ref), /not an evidence file/);
    });

    it('lists the files written before a time, each with its case, and not after it is removed', async () => {
      const [m1, m2] = [meta(), meta()];
      const one = (await s.store.put(text, m1)).ref;
      const two = (await s.store.put(Buffer.from('second'), m2)).ref;
      const listed = async (before: number) => {
        const found = new Map<string, string | undefined>();
        for await (const { ref, caseId } of s.store.listBefore(before))
          if (ref === one || ref === two) found.set(ref, caseId);
        return found;
      };
      assert.deepEqual(
        await listed(Date.now() - HOUR),
        new Map(),
        'written just now: not before an hour ago',
      );
      assert.deepEqual(
        await listed(Date.now() + HOUR),
        new Map([
          [one, m1.caseId],
          [two, m2.caseId],
        ]),
      );
      await s.store.delete(one);
      assert.deepEqual([...(await listed(Date.now() + HOUR)).keys()], [two]);
    });
  });
}

describe('evidence stores', () => {
  requires('postgres');
  let sqlite: Database | undefined;
  let postgres: Database | undefined;
  contract('local folder', async (keys) => fileSubject(keys));

  contract("Cordon's database on SQLite", async (keys) => {
    sqlite ??= await openDatabase({
      sqliteFile: join(mkdtempSync(join(tmpdir(), 'cordon-ev-db-')), 'c.sqlite'),
    });
    return databaseSubject(sqlite, keys);
  });

  contract("Cordon's database on PostgreSQL", async (keys) => {
    postgres ??= await openDatabase({ url: (await sharedPostgres()).url, sqliteFile: '' });
    return databaseSubject(postgres, keys);
  });

  describe('evidence store contract: S3-compatible object store (moto)', function () {
    requires('python');
    this.timeout(300_000);
    let s3: TestS3 | undefined;
    before(async function () {
      this.timeout(900_000); // a first run installs moto from PyPI
      s3 = await s3OrSkip(this);
      const bucket = `cordon-contract-${randomBytes(4).toString('hex')}`;
      await new S3EvidenceStore(parseEvidenceUrl(s3.evidenceUrl(bucket), {}), keysOf()).client.createBucket();
      subject = (keys) => s3Subject(s3!, bucket, keys);
    });
    after(() => s3?.stop());
    let subject: (keys: EvidenceKey[]) => Subject;
    contract('S3', async (keys) => subject(keys));
  });

  for (const [name, open] of [
    [
      'SQLite',
      async () =>
        (sqlite ??= await openDatabase({
          sqliteFile: join(mkdtempSync(join(tmpdir(), 'cordon-ev-db-')), 'c.sqlite'),
        })),
    ],
    [
      'PostgreSQL',
      async () => (postgres ??= await openDatabase({ url: (await sharedPostgres()).url, sqliteFile: '' })),
    ],
  ] as const)
    it(`lists every old file of the database (${name}) once, page after page, while the sweep removes some`, async () => {
      const db = await open();
      // One instant for all: the page boundaries fall between rows of equal time.
      const at = 1_000 + Math.floor(Math.random() * 1_000_000);
      const store = new DatabaseEvidenceStore(db, keysOf(), () => at);
      const refs = new Set<string>();
      for (let i = 0; i < 1_201; i++)
        refs.add(
          (await store.put(Buffer.from(`file ${i}`), { type: 'text/plain', caseId: `c${i}`, name: 'f.txt' }))
            .ref,
        );
      const seen: string[] = [];
      for await (const { ref, caseId } of store.listBefore(at + 1)) {
        if (!refs.has(ref)) continue;
        assert.match(caseId ?? '', /^c\d+$/);
        seen.push(ref);
        if (seen.length % 3 === 0) await store.delete(ref);
      }
      assert.equal(seen.length, 1_201);
      assert.equal(new Set(seen).size, 1_201);
      let left = 0;
      for await (const { ref } of store.listBefore(at + 1)) if (refs.has(ref)) left++;
      assert.equal(left, 1_201 - 400);
      for await (const { ref } of store.listBefore(at)) assert.ok(!refs.has(ref), 'none before their time');
    });

  it('chooses the object store when CORDON_EVIDENCE_URL is set, else PostgreSQL, else the local folder', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cordon-ev-choice-'));
    const codec = { keys: [{ id: 'k1', key: randomBytes(32) }] };
    const pg = (postgres ??= await openDatabase({ url: (await sharedPostgres()).url, sqliteFile: '' }));
    const lite = (sqlite ??= await openDatabase({ sqliteFile: join(dataDir, 'c.sqlite') }));
    const url = 's3+http://AKID:s3cret@127.0.0.1:9/bucket';
    const chosen = [
      chooseEvidenceStore({ dataDir, codec, evidenceUrl: url }, pg, {}),
      chooseEvidenceStore({ dataDir, codec, evidenceUrl: url }, lite, {}),
      chooseEvidenceStore({ dataDir, codec }, pg, {}),
      chooseEvidenceStore({ dataDir, codec }, lite, {}),
    ];
    assert.deepEqual(
      chosen.map((c) => c.where),
      ['s3', 's3', 'database', 'folder'],
    );
    assert.ok(chosen[0]!.store instanceof S3EvidenceStore);
    assert.ok(chosen[2]!.store instanceof DatabaseEvidenceStore);
    assert.ok(chosen[3]!.store instanceof FileEvidenceStore);
    assert.ok(!chosen[0]!.description.includes('s3cret') && !chosen[0]!.description.includes('AKID'));
    // What the API says at start-up: where, never the credentials; a warning for production on one disk.
    const lines: string[] = [];
    const log = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
      void lines.push(`${level} ${msg} ${JSON.stringify(fields)}`);
    const recording: Logger = {
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      child: () => recording,
    };
    for (const [config, db] of [
      [{ mode: 'production', dataDir, codec, evidenceUrl: url }, pg],
      [{ mode: 'production', dataDir, codec }, pg],
      [{ mode: 'development', dataDir, codec }, lite],
      [{ mode: 'production', dataDir, codec }, lite],
    ] as const)
      evidenceStoreFromConfig(config, db, recording);
    assert.equal(lines.length, 5, lines.join('\n'));
    assert.match(lines[0]!, /^info evidence store .*object store s3\+http:\/\/127\.0\.0\.1:9\/bucket\//);
    assert.match(lines[1]!, /^info evidence store .*PostgreSQL/);
    assert.match(lines[2]!, /^info evidence store .*local data folder/);
    assert.match(lines[4]!, /^warn evidence files are kept on this machine only/);
    assert.ok(!lines.join('').includes('s3cret') && !lines.join('').includes('AKID'));
  });

  after(async () => {
    await sqlite?.close();
    await postgres?.close();
  });
});
