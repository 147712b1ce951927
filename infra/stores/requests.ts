// The answer to each human request (its key: case, action, principal, requestId), with the fingerprint of its
// body: a repeat gets the same answer, the same key with another body is refused. Answers are sealed.
import { parseCaseId, type CaseView } from '../../core/contracts';
import { FIELD, openJson, sealJson } from '../personal-data';
import { insertIgnore, type StoreContext } from './context';

/** The account a case belongs to: its ID says (see makeCaseId). Its data key seals the answer. */
function accountOfCase(caseId: string): string {
  const parsed = parseCaseId(caseId);
  if (!parsed) throw new Error(`not a case ID: ${caseId}`);
  return parsed.accountId;
}

export class RequestStore {
  constructor(private readonly c: StoreContext) {}

  async find(requestKey: string): Promise<{ fingerprint: string; response: CaseView } | null> {
    const rows = await this.c.db.query<{ case_id: string; fingerprint: string; response: string }>(
      'SELECT case_id, fingerprint, response FROM request_records WHERE request_key = ?',
      [requestKey],
    );
    const r = rows[0];
    if (!r) return null;
    const response = await openJson<CaseView>(
      this.c.dataKeys,
      accountOfCase(r.case_id),
      FIELD.request,
      r.response,
    );
    return { fingerprint: r.fingerprint, response };
  }

  async record(requestKey: string, caseId: string, fingerprint: string, response: CaseView): Promise<void> {
    const { db, dataKeys, clock } = this.c;
    await db.run(
      insertIgnore(db, 'request_records', [
        'request_key',
        'case_id',
        'fingerprint',
        'response',
        'created_at',
      ]),
      [
        requestKey,
        caseId,
        fingerprint,
        await sealJson(dataKeys, accountOfCase(caseId), FIELD.request, response),
        clock(),
      ],
    );
  }

  /** Drops answers recorded before `before`. */
  async purge(before: number): Promise<void> {
    await this.c.db.run('DELETE FROM request_records WHERE created_at < ?', [before]);
  }
}
