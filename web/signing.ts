// Values the server signs for the browser to hand back (session cookies, CSRF tokens): one key per purpose,
// derived from the one session secret, and a comparison that takes the same time whatever matches.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** One key per purpose: a CSRF token can never pass for a session, nor a portal cookie for a console one. */
export function keyFor(secret: Buffer, purpose: 'session' | 'csrf'): Buffer {
  return createHmac('sha256', secret).update(`cordon-console/${purpose}/v2`).digest();
}

/** The base64url HMAC-SHA256 of the text. */
export const mac = (key: Buffer, text: string): string =>
  createHmac('sha256', key).update(text, 'utf8').digest('base64url');

/** Compared as text, not decoded: base64 decoders accept several spellings of the same bytes. */
export function sameText(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
