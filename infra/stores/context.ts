// What every store of Cordon's database shares: the database, the account data keys that seal personal values,
// and the clock (tests move it).
import type { DataKeys } from '../data-keys';
import type { Database } from '../database';

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
