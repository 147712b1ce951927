// Cordon's own database: an embedded SQLite file (libSQL) by default, PostgreSQL when a URL is given. One
// small SQL dialect is written once: `?` placeholders (numbered for PostgreSQL here) and portable types.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Pool, types } from 'pg';
import { MIGRATIONS } from './migrations';
import { BACKSTOP_WAL_PAGES, startCheckpointer, type Checkpointer } from './sqlite-checkpointer';

/** The parts of libSQL's synchronous, better-sqlite3-style driver used here (the package ships no types). */
interface SqliteStatement {
  all(params: Param[]): Row[];
  run(params: Param[]): { changes: number };
}
interface SqliteHandle {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  close(): void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Libsql = require('libsql') as new (path: string) => SqliteHandle;

export type Row = Record<string, unknown>;
/** A statement parameter; bytes go as a Buffer (pg: bytea, libSQL: a blob). */
export type Param = string | number | null | Buffer;

export interface Database {
  readonly dialect: 'sqlite' | 'postgres';
  query<T extends Row = Row>(sql: string, params?: Param[]): Promise<T[]>;
  /** Runs a write; answers how many rows it changed. */
  run(sql: string, params?: Param[]): Promise<number>;
  close(): Promise<void>;
  /** Runs fn alone among every process sharing the database (migrations). */
  exclusively<T>(fn: (db: Database) => Promise<T>): Promise<T>;
  /**
   * SQLite: runs fn's statements in one transaction, committed once (a group commit: one write of the pages
   * they share instead of one per statement). fn must only run statements on this database, never wait for
   * anything else, and leave no other code's continuations pending (resolve callers after batch returns):
   * another caller's statement run meanwhile would join the transaction. PostgreSQL: fn as it is.
   */
  batch<T>(fn: () => Promise<T>): Promise<T>;
}

/**
 * SQLite through libSQL's synchronous driver, with each statement prepared once: the restriction check reads
 * here on every call, and preparing a statement cost more than running it. Calls are synchronous (so was the
 * async client's file mode underneath); WAL keeps them short, and the busy timeout makes a writer wait.
 */
class SqliteDatabase implements Database {
  readonly dialect = 'sqlite';
  private readonly statements = new Map<string, SqliteStatement>();
  constructor(
    private readonly handle: SqliteHandle,
    /** WAL checkpoints off the event loop (infra/sqlite-checkpointer.ts). */
    private readonly checkpointer: Checkpointer,
  ) {}
  private prepared(sql: string): SqliteStatement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.handle.prepare(sql);
      // The store's statements are a fixed set, but IN (?, ?, …) lists vary in length: keep the cache bounded.
      if (this.statements.size >= 256) this.statements.delete(this.statements.keys().next().value!);
      this.statements.set(sql, statement);
    }
    return statement;
  }
  async query<T extends Row>(sql: string, params: Param[] = []): Promise<T[]> {
    return this.prepared(sql).all(params) as T[];
  }
  async run(sql: string, params: Param[] = []): Promise<number> {
    return this.prepared(sql).run(params).changes;
  }
  async close(): Promise<void> {
    this.statements.clear();
    await this.checkpointer.stop();
    this.handle.close();
  }
  async exclusively<T>(fn: (db: Database) => Promise<T>): Promise<T> {
    // SQLite serialises writers itself (with the busy timeout) and every migration statement is idempotent.
    return fn(this);
  }
  private inBatch = false;
  async batch<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inBatch) return fn();
    // IMMEDIATE: the write lock is taken (or waited for) now, not at the first write half-way through.
    this.handle.exec('BEGIN IMMEDIATE');
    this.inBatch = true;
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      this.handle.exec('ROLLBACK');
      throw err;
    } finally {
      this.inBatch = false;
    }
    try {
      this.handle.exec('COMMIT');
    } catch (err) {
      // A commit that failed leaves the transaction open: end it, or every later statement would join it.
      this.handle.exec('ROLLBACK');
      throw err;
    }
    return result;
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
  // Statements on the pool's connections autocommit, as everywhere else on PostgreSQL.
  batch<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
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
      batch: (fn) => fn(),
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
    const pool = new Pool({ connectionString: o.url, max: 10 });
    // An idle client's error (PostgreSQL restarting) would otherwise end the process; the next query reports it.
    pool.on('error', () => undefined);
    db = new PostgresDatabase(pool);
  } else {
    mkdirSync(dirname(o.sqliteFile), { recursive: true });
    const handle = new Libsql(o.sqliteFile);
    // WAL lets the worker and the API processes read and write the same file; a writer waits, never fails.
    handle.exec('PRAGMA busy_timeout = 10000');
    handle.exec('PRAGMA journal_mode = WAL');
    handle.exec('PRAGMA synchronous = NORMAL');
    handle.exec(`PRAGMA wal_autocheckpoint = ${BACKSTOP_WAL_PAGES}`);
    db = new SqliteDatabase(handle, startCheckpointer(o.sqliteFile));
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
