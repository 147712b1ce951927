// Staff sessions: the console's sign-in, which the codec endpoint (/codec) accepts too. A session lives in
// Cordon's database (infra/sessions.ts), so sign-out, the idle and absolute timeouts and an admin's revoke take
// effect at once on every API process; the cookie holds only its random ID, signed so that junk is refused
// without a lookup. It never carries the token, and each request also checks that the principal is still in the
// token table.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Problem } from './problems';
import type { Principal, Role, TokenTable } from '../infra/config';
import type { ConsoleSessionStore } from '../infra/sessions';
import { parseCookies } from './cookies';
import { keyFor, mac, sameText } from './signing';

export const SESSION_COOKIE = 'cordon_console_session';
/** Roles that may use the console: the backend service's token never signs in. */
export const CONSOLE_ROLES: readonly Role[] = ['reviewer', 'senior', 'admin'];

export interface Session {
  /** The random session ID (the database keeps only its hash): CSRF tokens are bound to it. */
  sid: string;
  principal: Principal;
  issuedAt: number;
  expiresAt: number;
}

/** What checking a session cookie needs: the secret that signs it, the sessions, the token table. */
export interface SessionDeps {
  sessionSecret: Buffer;
  sessions: ConsoleSessionStore;
  tokens: TokenTable;
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

/**
 * The signed-in principal of a request's console session (for the codec endpoint), if it has a current one;
 * throws the 503 problem while the database cannot be asked.
 */
export async function sessionPrincipal(
  deps: SessionDeps,
  req: { headers: { cookie?: string } },
): Promise<Principal | undefined> {
  const check = await openSession(
    deps.sessionSecret,
    deps.sessions,
    deps.tokens,
    parseCookies(req.headers.cookie).get(SESSION_COOKIE),
  );
  return check.ok ? check.session.principal : undefined;
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
