// Deliveries by channels that cannot deduplicate themselves (mail): a message already sent under its
// idempotency key is not sent again when its delivery is retried.
import { insertIgnore, type StoreContext } from './context';

export class DeliveryStore {
  constructor(private readonly c: StoreContext) {}

  async wasDelivered(channel: string, idempotencyKey: string): Promise<boolean> {
    const rows = await this.c.db.query(
      'SELECT 1 AS found FROM channel_deliveries WHERE channel = ? AND idempotency_key = ?',
      [channel, idempotencyKey],
    );
    return rows.length > 0;
  }

  async record(channel: string, idempotencyKey: string): Promise<void> {
    const { db } = this.c;
    await db.run(insertIgnore(db, 'channel_deliveries', ['channel', 'idempotency_key', 'delivered_at']), [
      channel,
      idempotencyKey,
      this.c.clock(),
    ]);
  }
}
