// Reviewer console sessions, kept in Cordon's database (SQLite or PostgreSQL) so that every API process sees a
// sign-out, an expiry or an admin's revoke at once. The browser holds a random session ID; the table holds only
// its SHA-256, so neither a copy of the database nor its backups can be replayed as a cookie. No process caches
// a session: each request reads its row (one primary-key lookup).
import { createHash, randomBytes } from 'node:crypto';
import type { Principal, Role } from './config';
import type { Database } from './database';

export interface SessionTimeouts {
  /** Ends a session after this long without a request. */
  idleMs: number;
  /** Ends a session this long after sign-in, however busy. */
  maxMs: number;
}

export interface StoredSession {
  /** The opaque ID the browser holds (never stored as such). */
  id: string;
  principal: Principal;
  createdAt: number;
  /** The absolute end. */
  expiresAt: number;
}

/** Why a session ID found no session: never known, ended (sign-out, revoke, purge), idle or past its end. */
export type SessionLookup =
  { ok: true; session: StoredSession } | { ok: false; why: 'unknown' | 'idle' | 'expired' };

interface SessionRow {
  [column: string]: unknown;
  principal_id: string;
  role: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

/** 32 random bytes, base64url: 43 characters. */
export const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;
/** How often a process removes ended rows (at a sign-in). */
const PURGE_EVERY_MS = 60_000;
/** A session's last use is written at most this often (and at most every tenth of the idle timeout). */
const TOUCH_EVERY_MS = 60_000;

const hashOf = (id: string): string => createHash('sha256').update(id, 'utf8').digest('hex');

export class ConsoleSessionStore {
  private lastPurge = Number.NEGATIVE_INFINITY;
  private readonly touchEveryMs: number;

  constructor(
    private readonly db: Database,
    readonly timeouts: SessionTimeouts,
    private readonly clock: () => number = Date.now,
  ) {
    // Activity keeps a session alive; writing its last use on every request would make every page a write.
    this.touchEveryMs = Math.min(TOUCH_EVERY_MS, timeouts.idleMs / 10);
  }

  /** A new session for the principal (at sign-in); ended rows are purged now and then on the way. */
  async start(principal: Principal): Promise<StoredSession> {
    const now = this.clock();
    if (now - this.lastPurge >= PURGE_EVERY_MS) {
      this.lastPurge = now;
      await this.purge();
    }
    const id = randomBytes(32).toString('base64url');
    const expiresAt = now + this.timeouts.maxMs;
    await this.db.run(
      `INSERT INTO console_sessions (id_hash, principal_id, role, created_at, last_seen_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      [hashOf(id), principal.id, principal.role, now, now, expiresAt],
    );
    return { id, principal: { id: principal.id, role: principal.role }, createdAt: now, expiresAt };
  }

  /** The session of an ID, if it is current; using it counts as activity. An ended session's row goes. */
  async find(id: string): Promise<SessionLookup> {
    if (!SESSION_ID.test(id)) return { ok: false, why: 'unknown' };
    const hash = hashOf(id);
    const [row] = await this.db.query<SessionRow>(
      'SELECT principal_id, role, created_at, last_seen_at, expires_at FROM console_sessions WHERE id_hash = ?',
      [hash],
    );
    if (!row) return { ok: false, why: 'unknown' };
    const now = this.clock();
    const lastSeen = Number(row.last_seen_at);
    // A lowered CORDON_SESSION_MAX_HOURS applies to sessions already running too.
    const expiresAt = Math.min(Number(row.expires_at), Number(row.created_at) + this.timeouts.maxMs);
    const why = now >= expiresAt ? 'expired' : now - lastSeen >= this.timeouts.idleMs ? 'idle' : undefined;
    if (why) {
      await this.db.run('DELETE FROM console_sessions WHERE id_hash = ?', [hash]);
      return { ok: false, why };
    }
    if (now - lastSeen >= this.touchEveryMs)
      await this.db.run(
        'UPDATE console_sessions SET last_seen_at = ? WHERE id_hash = ? AND last_seen_at < ?',
        [now, hash, now],
      );
    return {
      ok: true,
      session: {
        id,
        principal: { id: row.principal_id, role: row.role as Role },
        createdAt: Number(row.created_at),
        expiresAt,
      },
    };
  }

  /** Ends one session (sign-out); answers whether there was one. */
  async end(id: string): Promise<boolean> {
    if (!SESSION_ID.test(id)) return false;
    return (await this.db.run('DELETE FROM console_sessions WHERE id_hash = ?', [hashOf(id)])) > 0;
  }

  /** Ends every session of a principal (an admin's revoke); answers how many there were. */
  async endAllOf(principalId: string): Promise<number> {
    return this.db.run('DELETE FROM console_sessions WHERE principal_id = ?', [principalId]);
  }

  /** Removes the rows of sessions past their idle or absolute end; answers how many. */
  async purge(): Promise<number> {
    const now = this.clock();
    return this.db.run('DELETE FROM console_sessions WHERE expires_at <= ? OR last_seen_at <= ?', [
      now,
      now - this.timeouts.idleMs,
    ]);
  }
}
