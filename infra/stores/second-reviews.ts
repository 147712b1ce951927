// Which ended case has had its one second review, and which case that opened. A row is reserved before the new
// case starts, so two requests for one case (from two API processes) never open two; no personal data.
import { insertIgnore, type StoreContext } from './context';

export interface SecondReviewLink {
  caseId: string;
  accountId: string;
  requestKey: string;
  fingerprint: string;
  /** Null until the second review has started (or while its start is being retried). */
  secondCaseId: string | null;
  requestedAt: number;
}

type Row = {
  case_id: string;
  account_id: string;
  request_key: string;
  fingerprint: string;
  second_case_id: string | null;
  requested_at: number | string;
};

const linkOf = (r: Row): SecondReviewLink => ({
  caseId: r.case_id,
  accountId: r.account_id,
  requestKey: r.request_key,
  fingerprint: r.fingerprint,
  secondCaseId: r.second_case_id,
  requestedAt: Number(r.requested_at),
});

export class SecondReviewStore {
  constructor(private readonly c: StoreContext) {}

  /** Reserves the case's second review for this request; answers the row that holds it (this one or another). */
  async reserve(link: Omit<SecondReviewLink, 'secondCaseId' | 'requestedAt'>): Promise<SecondReviewLink> {
    const { db, clock } = this.c;
    await db.run(
      insertIgnore(db, 'second_reviews', [
        'case_id',
        'account_id',
        'request_key',
        'fingerprint',
        'requested_at',
      ]),
      [link.caseId, link.accountId, link.requestKey, link.fingerprint, clock()],
    );
    return (await this.of(link.caseId))!;
  }

  async started(caseId: string, secondCaseId: string): Promise<void> {
    await this.c.db.run('UPDATE second_reviews SET second_case_id = ? WHERE case_id = ?', [
      secondCaseId,
      caseId,
    ]);
  }

  /** Gives up a reservation whose case never started (the account had another case open). */
  async release(caseId: string, requestKey: string): Promise<void> {
    await this.c.db.run(
      'DELETE FROM second_reviews WHERE case_id = ? AND request_key = ? AND second_case_id IS NULL',
      [caseId, requestKey],
    );
  }

  async of(caseId: string): Promise<SecondReviewLink | null> {
    const rows = await this.c.db.query<Row>('SELECT * FROM second_reviews WHERE case_id = ?', [caseId]);
    return rows[0] ? linkOf(rows[0]) : null;
  }

  /** Of these case IDs, those that are second reviews. */
  async secondOnes(caseIds: readonly string[]): Promise<Set<string>> {
    if (caseIds.length === 0) return new Set();
    const rows = await this.c.db.query<{ second_case_id: string }>(
      `SELECT second_case_id FROM second_reviews WHERE second_case_id IN (${caseIds.map(() => '?').join(', ')})`,
      [...caseIds],
    );
    return new Set(rows.map((r) => r.second_case_id));
  }

  /** The second reviews requested since `since`, newest first (the review queue's filter), at most `limit`. */
  async since(since: number, limit: number): Promise<string[]> {
    const rows = await this.c.db.query<{ second_case_id: string }>(
      'SELECT second_case_id FROM second_reviews WHERE second_case_id IS NOT NULL AND requested_at >= ? ORDER BY requested_at DESC LIMIT ?',
      [since, limit],
    );
    return rows.map((r) => r.second_case_id);
  }
}
