// What every store of Cordon's database shares: the database, the account data keys that seal personal values,
// and the clock (tests move it).
import type { DataKeys } from '../data-keys';
import type { Database, Param } from '../database';

export interface StoreContext {
  readonly db: Database;
  readonly dataKeys: DataKeys;
  readonly clock: () => number;
}

/** An INSERT that leaves an existing row (same key) alone, in the database's dialect. */
export function insertIgnore(db: Database, table: string, columns: string[]): string {
  const marks = columns.map(() => '?').join(', ');
  return db.dialect === 'postgres'
    ? `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${marks}) ON CONFLICT DO NOTHING`
    : `INSERT OR IGNORE INTO ${table} (${columns.join(', ')}) VALUES (${marks})`;
}

/**
 * Takes a row's lease until `until` only if it is still as it was read (`claimed_until` null, or the value read):
 * of two processes that read the same free row, one takes it. `key` names the row by its columns. Answers whether
 * this call took it.
 */
export async function takeLease(
  db: Database,
  table: string,
  key: Record<string, Param>,
  read: unknown,
  until: number,
): Promise<boolean> {
  const before = read === null || read === undefined ? null : Number(read);
  const where = Object.keys(key).map((column) => `${column} = ?`);
  const taken = await db.run(
    `UPDATE ${table} SET claimed_until = ? WHERE ${where.join(' AND ')} AND done_at IS NULL AND ${
      before === null ? 'claimed_until IS NULL' : 'claimed_until = ?'
    }`,
    [until, ...Object.values(key), ...(before === null ? [] : [before])],
  );
  return taken > 0;
}
