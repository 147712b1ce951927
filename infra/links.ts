// Signed, expiring links to the user's case page (`/u/<token>`): an HMAC-SHA256 over the key ID, case ID,
// purpose and expiry. Keys have IDs so they can rotate: new links use the newest key, links signed with an
// older key stay valid until they expire (or the key is removed). Nothing in a token is secret; it only
// cannot be forged or altered.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { devSecret } from './dev-secrets';

export interface LinkKey {
  id: string;
  secret: Buffer;
}

/** What a link lets its holder do: see the case and act on it as the account holder. */
export type LinkPurpose = 'case';

export interface LinkClaims {
  caseId: string;
  purpose: LinkPurpose;
  /** Unix milliseconds. */
  expiresAt: number;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,16}$/;

/**
 * Parses `CORDON_LINK_KEYS` (`id:base64key,...`, newest first; keys of at least 32 bytes). Errors name the
 * variable and the entry's position, never key material. Unset: production refuses, development uses a key
 * created once in the data folder.
 */
export function linkKeysFromConfig(config: { mode: string; dataDir: string; linkKeys?: string }): LinkKey[] {
  if (!config.linkKeys) {
    if (config.mode === 'production')
      throw new Error('invalid configuration: production mode needs CORDON_LINK_KEYS (id:base64key,...)');
    return [{ id: 'dev', secret: devSecret(config.dataDir, 'link-key') }];
  }
  return config.linkKeys.split(',').map((entry, i) => {
    const [id, key, ...rest] = entry.trim().split(':');
    const secret = Buffer.from(key ?? '', 'base64');
    if (!id || !KEY_ID.test(id) || rest.length || secret.length < 32)
      throw new Error(
        `invalid configuration: CORDON_LINK_KEYS entry ${i + 1} must be id:base64key with a key of 32+ bytes`,
      );
    return { id, secret };
  });
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

function mac(key: LinkKey, c: LinkClaims): Buffer {
  return createHmac('sha256', key.secret)
    .update(`${key.id}|${c.caseId}|${c.purpose}|${c.expiresAt}`)
    .digest();
}

/** The one spelling of a token for these claims under this key. */
function tokenOf(key: LinkKey, claims: LinkClaims): string {
  return [
    key.id,
    b64url(claims.caseId),
    claims.purpose,
    claims.expiresAt.toString(36),
    b64url(mac(key, claims)),
  ].join('.');
}

/** A token for a link, signed with the newest key. */
export function signLink(keys: readonly LinkKey[], claims: LinkClaims): string {
  const key = keys[0];
  if (!key) throw new Error('no link key configured');
  return tokenOf(key, claims);
}

/** The claims of a valid, unexpired token; null for anything else (tampered, expired, unknown key, garbage). */
export function verifyLink(keys: readonly LinkKey[], token: string, now = Date.now()): LinkClaims | null {
  const parts = token.split('.');
  if (parts.length !== 5) return null;
  const [id, caseIdPart, purpose, expiry, signature] = parts as [string, string, string, string, string];
  const key = keys.find((k) => k.id === id);
  if (!key || purpose !== 'case' || !/^[0-9a-z]{1,12}$/.test(expiry)) return null;
  const claims: LinkClaims = {
    caseId: Buffer.from(caseIdPart, 'base64url').toString('utf8'),
    purpose,
    expiresAt: parseInt(expiry, 36),
  };
  const expected = mac(key, claims);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  // Base64 decoding forgives: a trailing "=", a last character whose unused bits differ, a stray character in the
  // case ID all decode to the same bytes. Only the token as Cordon wrote it opens the case: compared as text.
  const canonical = Buffer.from(tokenOf(key, claims));
  const text = Buffer.from(token);
  if (text.length !== canonical.length || !timingSafeEqual(text, canonical)) return null;
  return claims.expiresAt > now ? claims : null;
}
