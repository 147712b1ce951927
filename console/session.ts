// Console sessions and CSRF tokens. A session lives in Cordon's database (infra/sessions.ts), so sign-out, the
// idle and absolute timeouts and an admin's revoke take effect at once on every API process; the cookie holds
// only its random ID, signed so that junk is refused without a lookup. It never carries the token, and each
// request also checks that the principal is still in the token table.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Problem } from '../api/problems';
import type { Principal, Role, TokenTable } from '../infra/config';
import type { ConsoleSessionStore } from '../infra/sessions';

export const SESSION_COOKIE = 'cordon_console_session';
export const CSRF_COOKIE = 'cordon_console_csrf';
/** Roles that may use the console: the backend service's token never signs in. */
export const CONSOLE_ROLES: readonly Role[] = ['reviewer', 'senior', 'admin'];

export interface Session {
  /** The random session ID (the database keeps only its hash): CSRF tokens are bound to it. */
  sid: string;
  principal: Principal;
  issuedAt: number;
  expiresAt: number;
}

/** One key per purpose, derived from the one secret: a CSRF token can never pass for a session, nor a portal cookie. */
function keyFor(secret: Buffer, purpose: 'session' | 'csrf'): Buffer {
  return createHmac('sha256', secret).update(`cordon-console/${purpose}/v2`).digest();
}

const mac = (key: Buffer, text: string): string =>
  createHmac('sha256', key).update(text, 'utf8').digest('base64url');

/** Compared as text, not decoded: base64 decoders accept several spellings of the same bytes. */
function sameText(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Production cookies are always Secure, also when the request came over plain HTTP: TLS ends at a proxy in front
 * (believed only through CORDON_TRUST_PROXY, which is what makes req.secure true). Development follows the request.
 */
export function cookieSecure(mode: 'development' | 'production', req: { secure: boolean }): boolean {
  return mode === 'production' || req.secure;
}

/** The 503 a page or /codec answers while Cordon's database cannot be asked about a session. */
export function sessionsUnavailable(): Problem {
  return new Problem(503, 'Service unavailable', 'sessions cannot be checked just now; retry shortly', {
    code: 'SESSIONS_UNAVAILABLE',
  });
}

async function orUnavailable<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw Object.assign(sessionsUnavailable(), { cause: err });
  }
}

/** `<session ID>.<base64url HMAC-SHA256 of the ID>` */
const cookieValueOf = (secret: Buffer, id: string) => `${id}.${mac(keyFor(secret, 'session'), id)}`;

/** The session ID of a cookie value, if the server signed it. */
function idOf(secret: Buffer, value: string): string | undefined {
  const dot = value.indexOf('.');
  if (dot <= 0 || value.length > 256) return undefined;
  const id = value.slice(0, dot);
  return sameText(value, cookieValueOf(secret, id)) ? id : undefined;
}

/** Signs the principal in: a new session in the database, and the cookie value that names it. */
export async function startSession(
  secret: Buffer,
  sessions: ConsoleSessionStore,
  principal: Principal,
): Promise<{ value: string; session: Session }> {
  const stored = await orUnavailable(sessions.start(principal));
  return {
    value: cookieValueOf(secret, stored.id),
    session: {
      sid: stored.id,
      principal: stored.principal,
      issuedAt: stored.createdAt,
      expiresAt: stored.expiresAt,
    },
  };
}

export type SessionCheck =
  | { ok: true; session: Session }
  | { ok: false; why: 'absent' | 'invalid' | 'ended' | 'idle' | 'expired' | 'revoked' };

/**
 * A cookie's session, if the server signed it, the database still holds it within its timeouts, and its
 * principal may still use the console. Throws the 503 problem when the database cannot be asked.
 */
export async function openSession(
  secret: Buffer,
  sessions: ConsoleSessionStore,
  tokens: TokenTable,
  value: string | undefined,
): Promise<SessionCheck> {
  if (!value) return { ok: false, why: 'absent' };
  const id = idOf(secret, value);
  if (!id) return { ok: false, why: 'invalid' };
  const found = await orUnavailable(sessions.find(id));
  if (!found.ok) return { ok: false, why: found.why === 'unknown' ? 'ended' : found.why };
  const { principal: stored, createdAt, expiresAt } = found.session;
  const principal = stillConfigured(tokens, stored.id, stored.role);
  if (!principal || !CONSOLE_ROLES.includes(principal.role)) return { ok: false, why: 'revoked' };
  return { ok: true, session: { sid: id, principal, issuedAt: createdAt, expiresAt } };
}

/** Ends the session a cookie names (sign-out); answers whether there was one. */
export async function endSession(
  secret: Buffer,
  sessions: ConsoleSessionStore,
  value: string | undefined,
): Promise<boolean> {
  const id = value ? idOf(secret, value) : undefined;
  return id ? orUnavailable(sessions.end(id)) : false;
}

/** The principal, if some configured token still maps to it with the same role (a revoked token signs out). */
function stillConfigured(tokens: TokenTable, id: string, role: Role): Principal | undefined {
  for (const p of tokens.values()) if (p.id === id && p.role === role) return p;
  return undefined;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * The principal of a token typed at sign-in. As for bearer tokens (api/auth.ts), every configured token is
 * compared, as SHA-256 digests with timingSafeEqual, every time: the time taken says nothing about the match.
 */
export function principalOfToken(tokens: TokenTable, presented: string): Principal | undefined {
  const digest = sha256(presented);
  let found: Principal | undefined;
  for (const [token, principal] of tokens) {
    const same = timingSafeEqual(digest, sha256(token));
    found = same && !found ? principal : found;
  }
  return presented ? found : undefined;
}

// CSRF: the browser holds a random nonce in an HttpOnly, SameSite=Strict cookie; every form carries
// HMAC(csrf key, nonce | session ID). Only the server can compute it, it is useless in another browser or
// another session, and it needs no server-side state.

const NONCE = /^[A-Za-z0-9_-]{24}$/;

export function newCsrfNonce(): string {
  return randomBytes(18).toString('base64url');
}

export function validNonce(value: string | undefined): value is string {
  return value !== undefined && NONCE.test(value);
}

export function csrfToken(secret: Buffer, nonce: string, sid: string | undefined): string {
  return mac(keyFor(secret, 'csrf'), `${nonce}|${sid ?? '-'}`);
}

export function csrfValid(
  secret: Buffer,
  nonce: string | undefined,
  sid: string | undefined,
  presented: unknown,
): boolean {
  if (!validNonce(nonce) || typeof presented !== 'string' || presented.length > 100) return false;
  return sameText(presented, csrfToken(secret, nonce, sid));
}

/** The request's cookies by name (the first of a repeated name: the browser sends the most specific first). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!name || cookies.has(name)) continue;
    try {
      cookies.set(name, decodeURIComponent(part.slice(eq + 1).trim()));
    } catch {
      // A cookie this console did not write: ignored.
    }
  }
  return cookies;
}
