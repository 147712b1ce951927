// The backend's change feed (GET /v1/changes): the outbox's backend events in the order they happened, read by
// cursor. Backend events are kept plain (nothing personal), so the feed needs no data key.
import type { WebhookEvent } from '../../core/messages';
import type { StoreContext } from './context';
import { messagesFrom, type MessageRow, type StoredOutboxMessage } from './outbox';

export interface Change {
  cursor: string;
  type: WebhookEvent['type'];
  event: WebhookEvent;
}

export class ChangeFeed {
  constructor(private readonly c: StoreContext) {}

  /**
   * Restriction changes and outcomes after a cursor, in the order they happened. On PostgreSQL a sequence
   * number can commit after a higher one, so rows younger than a second are left for the next call.
   */
  async after(cursor: number, limit: number): Promise<Change[]> {
    const { db } = this.c;
    const settled = db.dialect === 'postgres' ? this.c.clock() - 1_000 : Number.MAX_SAFE_INTEGER;
    const rows = await db.query<MessageRow>(
      `SELECT * FROM messages WHERE kind = 'NOTIFY_BACKEND' AND seq > ? AND created_at <= ? ORDER BY seq LIMIT ?`,
      [cursor, settled, limit],
    );
    return (await messagesFrom(this.c.dataKeys, rows)).map((m) => {
      const event = (m.message as Extract<StoredOutboxMessage, { kind: 'NOTIFY_BACKEND' }>).event;
      return { cursor: String(m.seq), type: event.type, event };
    });
  }
}
