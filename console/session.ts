// Console sessions and CSRF tokens, kept in signed cookies only: any API process with the same secret accepts
// them, and no process holds state of its own. A session names the principal (id and role) and when it ends;
// it never carries the token, and each request checks that the principal is still in the token table.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Principal, Role, TokenTable } from '../infra/config';

export const SESSION_COOKIE = 'cordon_console_session';
export const CSRF_COOKIE = 'cordon_console_csrf';
/** An absolute lifetime: a reviewer signs in again each working day. */
export const SESSION_TTL_MS = 8 * 3_600_000;
/** Roles that may use the console: the backend service's token never signs in. */
export const CONSOLE_ROLES: readonly Role[] = ['reviewer', 'senior', 'admin'];
/** How far in the future a session's issue time may be: clocks of API processes differ a little. */
const CLOCK_SKEW_MS = 60_000;

export interface Session {
  /** Random per sign-in: CSRF tokens are bound to it. */
  sid: string;
  principal: Principal;
  issuedAt: number;
  expiresAt: number;
}

const SessionPayload = z.strictObject({
  v: z.literal(1),
  sid: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
  id: z.string().min(1).max(128),
  role: z.enum(['backend', 'reviewer', 'senior', 'admin']),
  iat: z.number().int(),
  exp: z.number().int(),
});

/** One key per purpose, derived from the one secret: a CSRF token can never pass for a session, nor a portal cookie. */
function keyFor(secret: Buffer, purpose: 'session' | 'csrf'): Buffer {
  return createHmac('sha256', secret).update(`cordon-console/${purpose}/v1`).digest();
}

const mac = (key: Buffer, text: string): string =>
  createHmac('sha256', key).update(text, 'utf8').digest('base64url');

/** Compared as text, not decoded: base64 decoders accept several spellings of the same bytes. */
function sameText(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `<base64url JSON payload>.<base64url HMAC-SHA256 of the payload>` */
export function sealSession(
  secret: Buffer,
  principal: Principal,
  now = Date.now(),
): { value: string; session: Session } {
  const session: Session = {
    sid: randomBytes(18).toString('base64url'),
    principal: { id: principal.id, role: principal.role },
    issuedAt: now,
    expiresAt: now + SESSION_TTL_MS,
  };
  const payload = Buffer.from(
    JSON.stringify({
      v: 1,
      sid: session.sid,
      id: principal.id,
      role: principal.role,
      iat: session.issuedAt,
      exp: session.expiresAt,
    }),
  ).toString('base64url');
  return { value: `${payload}.${mac(keyFor(secret, 'session'), payload)}`, session };
}

export type SessionCheck =
  { ok: true; session: Session } | { ok: false; why: 'absent' | 'invalid' | 'expired' | 'revoked' };

/** A cookie's session, if it is genuine, current, and its principal may still use the console. */
export function openSession(
  secret: Buffer,
  tokens: TokenTable,
  value: string | undefined,
  now = Date.now(),
): SessionCheck {
  if (!value) return { ok: false, why: 'absent' };
  const dot = value.lastIndexOf('.');
  if (dot <= 0 || value.length > 2_048) return { ok: false, why: 'invalid' };
  const payload = value.slice(0, dot);
  if (!sameText(value.slice(dot + 1), mac(keyFor(secret, 'session'), payload)))
    return { ok: false, why: 'invalid' };
  let parsed: z.infer<typeof SessionPayload>;
  try {
    parsed = SessionPayload.parse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
  } catch {
    return { ok: false, why: 'invalid' };
  }
  if (parsed.exp <= now || parsed.iat > now + CLOCK_SKEW_MS || parsed.exp - parsed.iat > SESSION_TTL_MS)
    return { ok: false, why: 'expired' };
  const principal = stillConfigured(tokens, parsed.id, parsed.role);
  if (!principal || !CONSOLE_ROLES.includes(principal.role)) return { ok: false, why: 'revoked' };
  return { ok: true, session: { sid: parsed.sid, principal, issuedAt: parsed.iat, expiresAt: parsed.exp } };
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
