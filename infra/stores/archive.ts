// The archive of ended cases: each case's final view and the requests it answered, kept for the archive period
// so a late repeat gets its answer and reports can read what was decided. Sealed under the account's data key.
import type { ArchivedRequest, CaseView, RiskEventResult } from '../../core/contracts';
import { DataKeyError } from '../data-keys';
import { FIELD, openJson, sealJson } from '../personal-data';
import { insertIgnore, type StoreContext } from './context';
import type { EventStore } from './events';

/** Where a page of ended cases stopped: the last case it listed. */
export interface ArchiveCursor {
  endedAt: number;
  caseId: string;
}

export class ArchiveStore {
  constructor(
    private readonly c: StoreContext,
    /** The case's answered events go where every first answer is kept. */
    private readonly events: EventStore,
  ) {}

  async record(view: CaseView, requests: ArchivedRequest[], events: RiskEventResult[], keepMs: number) {
    const { db, dataKeys } = this.c;
    const now = this.c.clock();
    await db.run(
      insertIgnore(db, 'case_archive', [
        'case_id',
        'account_id',
        'ended_at',
        'expires_at',
        'view',
        'requests',
      ]),
      [
        view.caseId,
        view.accountId,
        now,
        now + keepMs,
        await sealJson(dataKeys, view.accountId, FIELD.archiveView, view),
        await sealJson(dataKeys, view.accountId, FIELD.archiveRequests, requests),
      ],
    );
    for (const e of events) await this.events.record(e);
  }

  async find(caseId: string): Promise<{ view: CaseView; requests: ArchivedRequest[] } | null> {
    const rows = await this.c.db.query<{ account_id: string; view: string; requests: string }>(
      'SELECT account_id, view, requests FROM case_archive WHERE case_id = ? AND expires_at > ?',
      [caseId, this.c.clock()],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      view: await openJson<CaseView>(this.c.dataKeys, r.account_id, FIELD.archiveView, r.view),
      requests: await openJson<ArchivedRequest[]>(
        this.c.dataKeys,
        r.account_id,
        FIELD.archiveRequests,
        r.requests,
      ),
    };
  }

  /** The views of cases that ended within [from, to), oldest first, in pages (for reports over long windows). */
  async *ended(from: number, to: number, pageSize = 500): AsyncGenerator<CaseView> {
    let after = { endedAt: from - 1, caseId: '' };
    for (;;) {
      const rows = await this.c.db.query<{
        case_id: string;
        account_id: string;
        ended_at: number;
        view: string;
      }>(
        `SELECT case_id, account_id, ended_at, view FROM case_archive
         WHERE ended_at < ? AND (ended_at > ? OR (ended_at = ? AND case_id > ?))
         ORDER BY ended_at, case_id LIMIT ?`,
        [to, after.endedAt, after.endedAt, after.caseId, pageSize],
      );
      // One read for the page's keys, not one per case.
      await this.c.dataKeys.preload(rows.map((r) => r.account_id));
      for (const r of rows)
        yield await openJson<CaseView>(this.c.dataKeys, r.account_id, FIELD.archiveView, r.view);
      if (rows.length < pageSize) return;
      const last = rows[rows.length - 1]!;
      after = { endedAt: Number(last.ended_at), caseId: last.case_id };
    }
  }

  /**
   * Ended cases newest first, for reviewers' lists: one case, or one account's (index case_archive_account), or
   * all (index case_archive_ended), ended within [from, to), after a cursor (the last row of the previous page).
   * A case whose account's data key was destroyed (its personal data erased) can no longer be read: left out.
   */
  async newest(o: {
    caseId?: string;
    accountId?: string;
    from?: number;
    to?: number;
    before?: ArchiveCursor;
    limit: number;
  }): Promise<{ endedAt: number; view: CaseView }[]> {
    const where = ['expires_at > ?', 'ended_at >= ?', 'ended_at < ?'];
    const params: (string | number)[] = [this.c.clock(), o.from ?? 0, o.to ?? Number.MAX_SAFE_INTEGER];
    if (o.caseId !== undefined) {
      where.push('case_id = ?');
      params.push(o.caseId);
    }
    if (o.accountId !== undefined) {
      where.push('account_id = ?');
      params.push(o.accountId);
    }
    if (o.before) {
      where.push('(ended_at < ? OR (ended_at = ? AND case_id < ?))');
      params.push(o.before.endedAt, o.before.endedAt, o.before.caseId);
    }
    const rows = await this.c.db.query<{ account_id: string; ended_at: number; view: string }>(
      `SELECT account_id, ended_at, view FROM case_archive WHERE ${where.join(' AND ')}
       ORDER BY ended_at DESC, case_id DESC LIMIT ?`,
      [...params, o.limit],
    );
    await this.c.dataKeys.preload([...new Set(rows.map((r) => r.account_id))]);
    const found: { endedAt: number; view: CaseView }[] = [];
    for (const r of rows) {
      try {
        const view = await openJson<CaseView>(this.c.dataKeys, r.account_id, FIELD.archiveView, r.view);
        found.push({ endedAt: Number(r.ended_at), view });
      } catch (err) {
        if (!(err instanceof DataKeyError && err.reason === 'GONE')) throw err;
      }
    }
    return found;
  }

  /** Drops cases whose archive period has ended by `now`. */
  async purge(now: number): Promise<void> {
    await this.c.db.run('DELETE FROM case_archive WHERE expires_at <= ?', [now]);
  }
}
