// Cordon's own database: an embedded SQLite file (libSQL) by default, PostgreSQL when a URL is given. One
// small SQL dialect is written once: `?` placeholders (numbered for PostgreSQL here) and portable types.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Client as LibsqlClient, Config as LibsqlConfig, InValue } from '@libsql/client' with {
  'resolution-mode': 'import',
};
import { Pool, types } from 'pg';
import { MIGRATIONS } from './migrations';

// libSQL ships CommonJS for require() but only ESM type declarations: typed here, loaded by require.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const libsql = require('@libsql/client') as { createClient: (config: LibsqlConfig) => LibsqlClient };

export type Row = Record<string, unknown>;
export type Param = string | number | null;

export interface Database {
  readonly dialect: 'sqlite' | 'postgres';
  query<T extends Row = Row>(sql: string, params?: Param[]): Promise<T[]>;
  /** Runs a write; answers how many rows it changed. */
  run(sql: string, params?: Param[]): Promise<number>;
  close(): Promise<void>;
  /** Runs fn alone among every process sharing the database (migrations). */
  exclusively<T>(fn: (db: Database) => Promise<T>): Promise<T>;
}

class SqliteDatabase implements Database {
  readonly dialect = 'sqlite';
  constructor(private readonly client: LibsqlClient) {}
  async query<T extends Row>(sql: string, params: Param[] = []): Promise<T[]> {
    const rs = await this.client.execute({ sql, args: params as InValue[] });
    return rs.rows.map((r) => {
      const o: Row = {};
      for (const c of rs.columns) o[c] = typeof r[c] === 'bigint' ? Number(r[c]) : r[c];
      return o as T;
    });
  }
  async run(sql: string, params: Param[] = []): Promise<number> {
    return (await this.client.execute({ sql, args: params as InValue[] })).rowsAffected;
  }
  async close(): Promise<void> {
    this.client.close();
  }
  async exclusively<T>(fn: (db: Database) => Promise<T>): Promise<T> {
    // SQLite serialises writers itself (with the busy timeout) and every migration statement is idempotent.
    return fn(this);
  }
}

class PostgresDatabase implements Database {
  readonly dialect = 'postgres';
  constructor(private readonly pool: Pool) {}
  private numbered(sql: string): string {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  }
  async query<T extends Row>(sql: string, params: Param[] = []): Promise<T[]> {
    return (await this.pool.query(this.numbered(sql), params)).rows as T[];
  }
  async run(sql: string, params: Param[] = []): Promise<number> {
    return (await this.pool.query(this.numbered(sql), params)).rowCount ?? 0;
  }
  async close(): Promise<void> {
    await this.pool.end();
  }
  async exclusively<T>(fn: (db: Database) => Promise<T>): Promise<T> {
    // Concurrent CREATE TABLE IF NOT EXISTS can still collide in PostgreSQL's catalog: an advisory lock on
    // one connection makes the processes take turns.
    const client = await this.pool.connect();
    const numbered = (sql: string) => this.numbered(sql);
    const one: Database = {
      dialect: 'postgres',
      query: async <T extends Row>(sql: string, params: Param[] = []) =>
        (await client.query(numbered(sql), params)).rows as T[],
      run: async (sql: string, params: Param[] = []) =>
        (await client.query(numbered(sql), params)).rowCount ?? 0,
      close: async () => undefined,
      exclusively: (inner) => inner(one),
    };
    try {
      await client.query('SELECT pg_advisory_lock(7426661)');
      try {
        return await fn(one);
      } finally {
        await client.query('SELECT pg_advisory_unlock(7426661)');
      }
    } finally {
      client.release();
    }
  }
}

export interface DatabaseOptions {
  /** postgres://… to use PostgreSQL; otherwise the SQLite file. */
  url?: string;
  sqliteFile: string;
}

/** Opens the database and brings its schema up to date (idempotent; safe from several processes at once). */
export async function openDatabase(o: DatabaseOptions): Promise<Database> {
  let db: Database;
  if (o.url) {
    // BIGINT (epoch milliseconds, sequence numbers) as numbers, as SQLite gives them: they fit in a double.
    types.setTypeParser(types.builtins.INT8, (v) => Number(v));
    db = new PostgresDatabase(new Pool({ connectionString: o.url, max: 10 }));
  } else {
    mkdirSync(dirname(o.sqliteFile), { recursive: true });
    const client = libsql.createClient({ url: `file:${o.sqliteFile}` });
    // WAL lets the worker and the API processes read and write the same file; a writer waits, never fails.
    await client.execute('PRAGMA busy_timeout = 10000');
    await client.execute('PRAGMA journal_mode = WAL');
    await client.execute('PRAGMA synchronous = NORMAL');
    db = new SqliteDatabase(client);
  }
  await db.exclusively(migrate);
  return db;
}

async function migrate(db: Database): Promise<void> {
  await db.run(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)',
  );
  for (const m of MIGRATIONS) {
    const done = await db.query('SELECT version FROM schema_migrations WHERE version = ?', [m.version]);
    if (done.length) continue;
    for (const statement of m.up(db.dialect)) await db.run(statement);
    // Another process may have applied it meanwhile: every statement is IF NOT EXISTS, the marker too.
    await db.run(
      db.dialect === 'postgres'
        ? 'INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?) ON CONFLICT DO NOTHING'
        : 'INSERT OR IGNORE INTO schema_migrations (version, applied_at) VALUES (?, ?)',
      [m.version, new Date().toISOString()],
    );
  }
}
