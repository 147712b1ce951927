// The cookies of Cordon's pages (the console's session, CSRF and language; the user's pages' CSRF): how they are
// read, and the one set of attributes every one of them is written with.
import type { CookieOptions } from 'express';

/**
 * Every cookie is HttpOnly and SameSite=Strict. Production cookies are always Secure, also when the request came
 * over plain HTTP: TLS ends at a proxy in front (believed only through CORDON_TRUST_PROXY, which is what makes
 * req.secure true). Development follows the request.
 */
export function cookieOptions(
  mode: 'development' | 'production',
  req: { secure: boolean },
  where: { path: string; maxAgeMs?: number },
): CookieOptions {
  return {
    path: where.path,
    httpOnly: true,
    sameSite: 'strict',
    secure: mode === 'production' || req.secure,
    ...(where.maxAgeMs !== undefined ? { maxAge: where.maxAgeMs } : {}),
  };
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
      // A cookie these pages did not write: ignored.
    }
  }
  return cookies;
}
