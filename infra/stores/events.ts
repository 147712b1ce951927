// The first answer to each risk event ID, kept for the event-ID window: a retry of an event, even after its case
// ended, gets the first answer and changes nothing. A result that carries personal data is sealed.
import type { RiskEventResult } from '../../core/contracts';
import { FIELD, eventResultIsPersonal, openJson, sealJson } from '../personal-data';
import { insertIgnore, type StoreContext } from './context';

export class EventStore {
  constructor(private readonly c: StoreContext) {}

  async record(result: RiskEventResult): Promise<void> {
    const { db, dataKeys, clock } = this.c;
    const first = { ...result, duplicate: false };
    await db.run(insertIgnore(db, 'event_ids', ['account_id', 'event_id', 'result', 'created_at']), [
      result.accountId,
      result.eventId,
      eventResultIsPersonal(first)
        ? await sealJson(dataKeys, result.accountId, FIELD.event, first)
        : JSON.stringify(first),
      clock(),
    ]);
  }

  /** The first answer to this event ID if it was seen within the window. */
  async find(accountId: string, eventId: string, windowMs: number): Promise<RiskEventResult | null> {
    const rows = await this.c.db.query<{ result: string }>(
      'SELECT result FROM event_ids WHERE account_id = ? AND event_id = ? AND created_at >= ?',
      [accountId, eventId, this.c.clock() - windowMs],
    );
    return rows[0]
      ? openJson<RiskEventResult>(this.c.dataKeys, accountId, FIELD.event, rows[0].result)
      : null;
  }

  /** Drops first answers recorded before `before`. */
  async purge(before: number): Promise<void> {
    await this.c.db.run('DELETE FROM event_ids WHERE created_at < ?', [before]);
  }
}
