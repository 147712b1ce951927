// CSRF: the browser holds a random nonce in an HttpOnly, SameSite=Strict cookie; every form carries
// HMAC(csrf key, nonce | what it is bound to: the console's session ID, or the user's case). Only the server can
// compute it, it is useless in another browser or another session, and it needs no server-side state.
import { randomBytes } from 'node:crypto';
import { keyFor, mac, sameText } from './signing';

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
