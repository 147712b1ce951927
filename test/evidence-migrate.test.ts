// `npm run evidence-migrate`: the files of a local data folder move into the configured store as they are (same
// reference, same sealed bytes), once however often it runs; a file the keys cannot open stays and is named;
// --remove empties the folder of what the new store gives back intact.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCodecKeys } from '../infra/codec';
import { openDatabase, type Database } from '../infra/database';
import { DatabaseEvidenceStore } from '../infra/evidence/database-store';
import { FileEvidenceStore } from '../infra/evidence/file-store';
import { S3EvidenceStore, parseEvidenceUrl } from '../infra/evidence/s3-store';
import { evidenceKeysFrom } from '../infra/evidence/seal';
import { AccountSealer } from '../infra/evidence/sealer';
import { DataKeys, wrapKeysFrom } from '../infra/data-keys';
import { ROOT } from '../scripts/temporal-tools';
import { sharedPostgres } from './helpers/postgres';
import { s3OrSkip } from './helpers/s3';
import { TEST_CODEC_KEYS } from './helpers/servers';
import { requires } from './helpers/requirements';

const keys = evidenceKeysFrom(parseCodecKeys(TEST_CODEC_KEYS));

/** The command as an operator runs it: its exit code and output. */
function migrate(env: Record<string, string>, ...args: string[]) {
  return new Promise<{ code: number; out: string; err: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'scripts/evidence-migrate.ts', ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, CORDON_CODEC_KEYS: TEST_CODEC_KEYS, ...env },
        timeout: 60_000,
      },
      (error, out, err) => resolve({ code: error ? Number(error.code ?? 1) : 0, out, err }),
    );
  });
}

/** A data folder with files as the API kept them before: two cases, three files. */
async function folderWithFiles() {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-migrate-'));
  const folder = new FileEvidenceStore(dir, keys);
  const files = new Map<string, Buffer>();
  for (const [i, caseId] of [
    'acct-m1.0123456789ab',
    'acct-m1.0123456789ab',
    'acct-m2.0123456789ab',
  ].entries()) {
    const content = Buffer.from(`evidence file ${i} ${randomUUID()}`);
    files.set((await folder.put(content, { type: 'text/plain', caseId, name: `f${i}.txt` })).ref, content);
  }
  const raw = (ref: string) => readFileSync(join(dir, 'evidence', `${ref}.bin`));
  return { dir, folder, files, raw };
}

describe('npm run evidence-migrate', function () {
  requires('postgres');
  this.timeout(120_000);
  let db: Database;
  let url: string;

  before(async () => {
    url = (await sharedPostgres()).url;
    db = await openDatabase({ url, sqliteFile: '' });
  });
  after(() => db?.close());

  it('copies every file into PostgreSQL unchanged, once; names what it cannot open; --remove empties the folder', async () => {
    const { dir, folder, files, raw } = await folderWithFiles();
    const env = { CORDON_DATABASE_URL: url, CORDON_DATA_DIR: dir };
    const first = await migrate(env, '--to', 'database');
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /copied 3, already there 0, not copied 0/);
    const store = new DatabaseEvidenceStore(db, keys);
    for (const [ref, content] of files) {
      assert.deepEqual((await store.get(ref))?.content, content);
      const [row] = await db.query<{ sealed: Uint8Array; case_id: string }>(
        'SELECT sealed, case_id FROM evidence_files WHERE ref = ?',
        [ref],
      );
      assert.deepEqual(Buffer.from(row!.sealed), raw(ref), 'the same sealed bytes: no re-encryption');
      assert.equal(row!.case_id, (await folder.get(ref))!.meta.caseId);
    }
    const again = await migrate(env);
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /copied 0, already there 3, not copied 0/);

    // A file sealed with a key no longer configured: left where it is, named by reference, exit code 1.
    const stranger = new FileEvidenceStore(dir, evidenceKeysFrom([{ id: 'old', key: randomBytes(32) }]));
    const lost = (
      await stranger.put(Buffer.from('old key'), { type: 'text/plain', caseId: 'c', name: 'x.txt' })
    ).ref;
    const third = await migrate(env, '--remove');
    assert.equal(third.code, 1);
    assert.match(third.out, /copied 0, already there 3, not copied 1, removed from the folder 3/);
    assert.match(
      third.err,
      new RegExp(`evidence ${lost} is sealed with key ID "old", which is not configured`),
    );
    assert.deepEqual(readdirSync(join(dir, 'evidence')), [`${lost}.bin`]);
    for (const [ref, content] of files) assert.deepEqual((await store.get(ref))?.content, content);
  });

  it("copies files the API sealed under an account's data key (CEV2), opening them with the database's keys", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cordon-migrate-'));
    const sealer = new AccountSealer(keys, new DataKeys(db, wrapKeysFrom(parseCodecKeys(TEST_CODEC_KEYS))));
    const folder = new FileEvidenceStore(dir, sealer);
    const content = Buffer.from(`a passport scan ${randomUUID()}`);
    const caseId = `acct-m3-${randomUUID().slice(0, 8)}.0123456789ab`;
    const { ref } = await folder.put(content, { type: 'text/plain', caseId, name: 'scan.txt' });
    assert.equal(
      readFileSync(join(dir, 'evidence', `${ref}.bin`))
        .subarray(0, 4)
        .toString(),
      'CEV2',
    );
    const r = await migrate({ CORDON_DATABASE_URL: url, CORDON_DATA_DIR: dir }, '--to', 'database');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /copied 1, already there 0, not copied 0/);
    assert.deepEqual((await new DatabaseEvidenceStore(db, sealer).get(ref))?.content, content);
  });

  it('refuses when the configuration names another store, or none but the folder', async () => {
    const { dir } = await folderWithFiles();
    const wrong = await migrate({ CORDON_DATABASE_URL: url, CORDON_DATA_DIR: dir }, '--to', 's3');
    assert.equal(wrong.code, 2);
    assert.match(wrong.err, /--to s3, but the configuration keeps evidence in Cordon's PostgreSQL database/);
    const none = await migrate({ CORDON_DATA_DIR: dir });
    assert.equal(none.code, 2);
    assert.match(none.err, /keeps evidence in the local folder/);
    assert.equal(readdirSync(join(dir, 'evidence')).length, 3, 'nothing moved');
  });

  it('copies into an S3-compatible store named by CORDON_EVIDENCE_URL (moto)', async function () {
    const s3 = await s3OrSkip(this);
    try {
      const evidenceUrl = s3.evidenceUrl(`cordon-migrate-${randomUUID().slice(0, 8)}`, 'evidence');
      const target = new S3EvidenceStore(parseEvidenceUrl(evidenceUrl, {}), keys);
      await target.client.createBucket();
      const { dir, files, raw } = await folderWithFiles();
      const env = { CORDON_DATABASE_URL: url, CORDON_DATA_DIR: dir, CORDON_EVIDENCE_URL: evidenceUrl };
      const first = await migrate(env, '--to', 's3');
      assert.equal(first.code, 0, first.err);
      assert.match(first.out, /copied 3, already there 0, not copied 0/);
      assert.ok(!first.out.includes(s3.secretAccessKey), 'the secret is not printed');
      assert.match((await migrate(env)).out, /copied 0, already there 3/);
      for (const [ref, content] of files) {
        assert.deepEqual((await target.get(ref))?.content, content);
        assert.deepEqual(await target.client.getObject(`evidence/${ref}`), raw(ref));
      }
    } finally {
      await s3.stop();
    }
  });
});
