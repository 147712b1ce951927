// The archive's reviewer lists (ArchiveStore.newest, behind GET /v1/ended-cases and the search): newest first by
// end time, one case or one account, a window of end times, keyset pages that list each case once, expired cases
// left out, and an account whose data key was destroyed (erased) left out rather than failing the whole list.
// On SQLite and on a real PostgreSQL.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CaseView } from '../core/contracts';
import { openDatabase } from '../infra/database';
import { Store } from '../infra/store';
import type { ArchiveCursor } from '../infra/stores/archive';
import { uniqueAccount } from './helpers/events';
import { sharedPostgres } from './helpers/postgres';
import { requires } from './helpers/requirements';

type Opener = (clock: () => number) => Promise<Store>;

const databases: [string, Opener][] = [
  [
    'SQLite',
    async (clock) =>
      new Store(
        await openDatabase({ sqliteFile: join(mkdtempSync(join(tmpdir(), 'cordon-lists-')), 'c.sqlite') }),
        clock,
      ),
  ],
  [
    'PostgreSQL',
    async (clock) => {
      // A database of its own: the lists read every case in it.
      const { url } = await sharedPostgres();
      const admin = await openDatabase({ url, sqliteFile: '' });
      const name = `lists_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
      await admin.run(`CREATE DATABASE ${name}`);
      await admin.close();
      const at = new URL(url);
      at.pathname = `/${name}`;
      return new Store(await openDatabase({ url: at.toString(), sqliteFile: '' }), clock);
    },
  ],
];

const DAY = 86_400_000;

for (const [name, open] of databases) {
  describe(`the archive's lists for reviewers, on ${name}`, function () {
    if (name === 'PostgreSQL') requires('postgres');
    this.timeout(60_000);
    let now = Date.UTC(2001, 0, 1 + Math.floor(Math.random() * 300));
    const start = now;
    let store: Store;
    const [a, b] = [uniqueAccount('la'), uniqueAccount('lb')];
    /** Each case as it was archived: its account and end time. */
    const archived: { caseId: string; accountId: string; endedAt: number }[] = [];

    before(async () => {
      store = await open(() => now);
      // Five cases, two of them ending in the same millisecond; one kept only an hour.
      for (const [i, accountId] of [a, b, a, b, a].entries()) {
        const caseId = `${accountId}.${(0xa00 + i).toString(16).padStart(12, '0')}`;
        const view = { caseId, accountId, status: 'RESTORED', outcome: 'RESTORED', reasons: [] };
        await store.archive.record(view as unknown as CaseView, [], [], i === 0 ? 3_600_000 : 30 * DAY);
        archived.push({ caseId, accountId, endedAt: now });
        if (i !== 2) now += 1_000;
      }
    });

    after(async () => {
      await store?.db.close();
    });

    /** Newest first: by end time, then by case ID, as the lists order them. */
    const newestFirst = (cases: typeof archived) =>
      [...cases].sort((x, y) => y.endedAt - x.endedAt || (x.caseId < y.caseId ? 1 : -1)).map((c) => c.caseId);
    const ids = (rows: { view: CaseView }[]) => rows.map((r) => r.view.caseId);

    it('lists every case newest first, with its end time', async () => {
      const rows = await store.archive.newest({ limit: 10 });
      assert.deepEqual(ids(rows), newestFirst(archived));
      for (const r of rows)
        assert.equal(r.endedAt, archived.find((c) => c.caseId === r.view.caseId)!.endedAt);
    });

    it("one case, one account's cases, and a window of end times [from, to)", async () => {
      assert.deepEqual(ids(await store.archive.newest({ caseId: archived[1]!.caseId, limit: 5 })), [
        archived[1]!.caseId,
      ]);
      assert.deepEqual(
        ids(await store.archive.newest({ accountId: a, limit: 10 })),
        newestFirst(archived.filter((c) => c.accountId === a)),
      );
      const from = archived[1]!.endedAt;
      const to = archived[4]!.endedAt;
      assert.deepEqual(
        ids(await store.archive.newest({ from, to, limit: 10 })),
        newestFirst(archived.filter((c) => c.endedAt >= from && c.endedAt < to)),
      );
    });

    it('pages with a cursor: every case once, the two that ended together included', async () => {
      const seen: string[] = [];
      let before: ArchiveCursor | undefined;
      for (;;) {
        const page = await store.archive.newest({ before, limit: 2 });
        seen.push(...ids(page));
        if (page.length < 2) break;
        const last = page[page.length - 1]!;
        before = { endedAt: last.endedAt, caseId: last.view.caseId };
      }
      assert.deepEqual(seen, newestFirst(archived));
    });

    it('leaves out cases whose archive period has ended', async () => {
      const saved = now;
      now = start + 2 * 3_600_000;
      try {
        assert.deepEqual(ids(await store.archive.newest({ limit: 10 })), newestFirst(archived.slice(1)));
      } finally {
        now = saved;
      }
    });

    it("leaves out an erased account's cases (its data key destroyed) and lists the others", async () => {
      assert.equal(await store.dataKeys.destroy(b), true);
      assert.deepEqual(
        ids(await store.archive.newest({ limit: 10 })),
        newestFirst(archived.filter((c) => c.accountId !== b)),
      );
      assert.deepEqual(await store.archive.newest({ accountId: b, limit: 10 }), []);
    });
  });
}
