// SQLite's WAL checkpoints in a thread of their own (infra/sqlite-checkpointer.ts): the WAL's pages reach the
// database file without any commit of the main connection doing the copy, and closing the database stops it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../infra/database';
import { BACKSTOP_WAL_PAGES, startCheckpointer } from '../infra/sqlite-checkpointer';

describe('SQLite checkpoints off the event loop', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cordon-checkpoint-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("Cordon's connection checkpoints by itself only as a backstop, at a WAL ten times SQLite's default", async () => {
    const db = await openDatabase({ sqliteFile: join(dir, 'cordon.sqlite') });
    try {
      const rows = await db.query<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint');
      assert.equal(Number(rows[0]!.wal_autocheckpoint), BACKSTOP_WAL_PAGES);
      assert.equal(BACKSTOP_WAL_PAGES, 10_000);
    } finally {
      await db.close();
    }
  });

  it('the thread copies what the main connection wrote into the database file, no commit of the main connection doing it', async () => {
    const file = join(dir, 'cordon.sqlite');
    // The main connection's automatic checkpoint far above what is written here: only the thread can copy.
    const db = await openDatabase({ sqliteFile: file });
    const checkpointer = startCheckpointer(file, 50);
    try {
      await db.run('PRAGMA wal_autocheckpoint = 1000000');
      await db.run('CREATE TABLE filler (i INTEGER PRIMARY KEY, pad TEXT NOT NULL)');
      // A complete checkpoint begun after a write has put it in the file (one begun while the writes went on,
      // still in the queue, has not: next(after) skips it).
      const copied = async (after: number) => {
        let c = await checkpointer.next(after);
        while (c.checkpointed !== c.frames) c = await checkpointer.next(after);
      };
      await copied(Date.now() + 1);
      const before = statSync(file).size;
      const pad = 'x'.repeat(1000);
      for (let i = 0; i < 2000; i++) await db.run('INSERT INTO filler (pad) VALUES (?)', [pad]);
      // About 2 MB of pages went to the WAL; the thread's next complete checkpoint puts them in the file.
      await copied(Date.now() + 1);
      assert.ok(
        statSync(file).size >= before + 1_500_000,
        `the database file grew by ${statSync(file).size - before} bytes`,
      );
      const n = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM filler');
      assert.equal(Number(n[0]!.n), 2000);
    } finally {
      await checkpointer.stop();
      await db.close();
    }
  });

  it('closing the database stops its thread, then closes the connection', async () => {
    const db = await openDatabase({ sqliteFile: join(dir, 'cordon.sqlite') });
    await db.run('CREATE TABLE t (i INTEGER)');
    // close() waits for the thread's exit: a thread left running would keep it from resolving (mocha's timeout).
    await db.close();
    await assert.rejects(db.query('SELECT 1'), /closed|not open/i);
    // A second close of the thread waits for the same end instead of for an exit that has happened.
    const checkpointer = startCheckpointer(join(dir, 'cordon.sqlite'), 50);
    await checkpointer.stop();
    await checkpointer.stop();
  });
});
