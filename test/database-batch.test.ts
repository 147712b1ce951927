// Database.batch on SQLite (infra/database.ts): the statements of a batch are one transaction, seen by another
// connection all at once after the commit or not at all; a batch that throws leaves nothing; a batch begun
// inside another joins it. Server-free.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../infra/database';

describe('Database.batch on SQLite: one transaction, committed once', function () {
  this.timeout(30_000);
  let dir: string;
  let db: Database;
  let other: Database;
  const count = async (d: Database) =>
    Number((await d.query<{ n: number }>('SELECT COUNT(*) AS n FROM t'))[0]!.n);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cordon-batch-'));
    db = await openDatabase({ sqliteFile: join(dir, 'cordon.sqlite') });
    other = await openDatabase({ sqliteFile: join(dir, 'cordon.sqlite') });
    await db.run('CREATE TABLE t (i INTEGER PRIMARY KEY)');
  });
  afterEach(async () => {
    await db.close();
    await other.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("another connection sees none of a batch's rows before its commit, and all of them after", async () => {
    const seenInside = await db.batch(async () => {
      for (let i = 1; i <= 3; i++) await db.run('INSERT INTO t (i) VALUES (?)', [i]);
      return count(other);
    });
    assert.equal(seenInside, 0);
    assert.equal(await count(other), 3);
  });

  it('a batch that throws leaves nothing, and the next one works', async () => {
    await assert.rejects(
      db.batch(async () => {
        await db.run('INSERT INTO t (i) VALUES (1)');
        await db.run('INSERT INTO t (i) VALUES (1)'); // the primary key refuses it
      }),
      /UNIQUE/,
    );
    assert.equal(await count(other), 0);
    await db.batch(() => db.run('INSERT INTO t (i) VALUES (2)'));
    assert.equal(await count(other), 1);
  });

  it('a batch begun inside another joins it', async () => {
    await db.batch(async () => {
      await db.run('INSERT INTO t (i) VALUES (1)');
      await db.batch(() => db.run('INSERT INTO t (i) VALUES (2)'));
      assert.equal(await count(other), 0, 'the inner batch did not commit on its own');
    });
    assert.equal(await count(other), 2);
  });
});
