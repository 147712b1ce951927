// Step-up verification through the platform's identity provider. The case page sends the user to the provider
// with a signed, expiring `state` (which case, which request, where to come back); the provider sends the
// user back to /u/verification/callback with its result signed with the shared secret:
//
//   GET|POST /u/verification/callback?state=<state>&result=passed|failed&method=<METHOD>&ts=<unix s>&sig=<hex>
//   sig = hex HMAC-SHA256(secret, "v1|<state>|<result>|<method>|<ts>")
//
// The state is signed by Cordon alone (a key derived from the session secret), so neither the provider nor
// the user can point a result at another case; the result is signed by the provider, so the user cannot
// choose it. The request ID inside the state makes a replayed callback the same request: applied once.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** How long a user may spend at the provider. */
export const STATE_TTL_MS = 15 * 60_000;
/** How old a provider's signed result may be. */
export const RESULT_TOLERANCE_S = 10 * 60;

export interface VerificationState {
  caseId: string;
  /** The request ID reported with the result: a replayed callback is the same request. */
  requestId: string;
  /** When the user's link expires: the page they come back to uses a link with the same expiry. */
  linkExpiresAt: number;
  lang: string;
  tz?: string;
  /** When this state stops being accepted (Unix ms). */
  expiresAt: number;
}

const StatePayload = z.strictObject({
  v: z.literal(1),
  c: z.string().min(1).max(200),
  r: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/),
  l: z.number().int(),
  g: z.enum(['en', 'zh-CN']),
  z: z.string().max(64).optional(),
  e: z.number().int(),
});

export const stateKey = (sessionSecret: Buffer): Buffer =>
  createHmac('sha256', sessionSecret).update('cordon-portal/verification-state/v1').digest();

const mac = (key: Buffer | string, text: string): Buffer =>
  createHmac('sha256', key).update(text, 'utf8').digest();

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function signState(key: Buffer, s: VerificationState): string {
  const payload = Buffer.from(
    JSON.stringify({
      v: 1,
      c: s.caseId,
      r: s.requestId,
      l: s.linkExpiresAt,
      g: s.lang,
      ...(s.tz ? { z: s.tz } : {}),
      e: s.expiresAt,
    }),
  ).toString('base64url');
  return `${payload}.${mac(key, `state|${payload}`).toString('base64url')}`;
}

export function openState(key: Buffer, token: unknown, now = Date.now()): VerificationState | null {
  if (typeof token !== 'string' || token.length > 1_024) return null;
  const dot = token.lastIndexOf('.');
  const payload = dot > 0 ? token.slice(0, dot) : '';
  const expected = mac(key, `state|${payload}`);
  const given = Buffer.from(dot > 0 ? token.slice(dot + 1) : '', 'base64url');
  if (!sameBytes(given, expected)) return null;
  let p: z.infer<typeof StatePayload>;
  try {
    p = StatePayload.parse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
  } catch {
    return null;
  }
  if (p.e <= now) return null;
  return {
    caseId: p.c,
    requestId: p.r,
    linkExpiresAt: p.l,
    lang: p.g,
    ...(p.z ? { tz: p.z } : {}),
    expiresAt: p.e,
  };
}

export interface ProviderResult {
  state: string;
  result: 'passed' | 'failed';
  method: string;
  /** Unix seconds. */
  ts: number;
}

export function resultSignature(secret: Buffer, r: ProviderResult): string {
  return mac(secret, `v1|${r.state}|${r.result}|${r.method}|${r.ts}`).toString('hex');
}

/** The provider's signed answer, if its signature holds and it is recent; null otherwise. */
export function verifyResult(
  secret: Buffer,
  input: Record<string, unknown>,
  now = Date.now(),
): ProviderResult | null {
  const { state, result, method, ts, sig } = input;
  if (typeof state !== 'string' || typeof sig !== 'string' || typeof ts !== 'string') return null;
  if (result !== 'passed' && result !== 'failed') return null;
  if (typeof method !== 'string' || !/^[A-Z0-9_]{1,32}$/.test(method)) return null;
  if (!/^\d{1,12}$/.test(ts)) return null;
  const r: ProviderResult = { state, result, method, ts: Number(ts) };
  const expected = Buffer.from(resultSignature(secret, r), 'hex');
  const given = /^[0-9a-f]{64}$/.test(sig) ? Buffer.from(sig, 'hex') : Buffer.alloc(0);
  if (!sameBytes(given, expected)) return null;
  return Math.abs(now / 1000 - r.ts) <= RESULT_TOLERANCE_S ? r : null;
}

/** Where the user is sent: the provider's URL with the state, the callback and the language. */
export function providerRedirect(
  providerUrl: string,
  state: string,
  callbackUrl: string,
  lang: string,
): string {
  const url = new URL(providerUrl);
  url.searchParams.set('state', state);
  url.searchParams.set('return', callbackUrl);
  url.searchParams.set('lang', lang);
  return url.toString();
}
