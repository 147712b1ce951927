import { createHmac, timingSafeEqual } from 'node:crypto';

// Outgoing calls to the backend (webhooks, account gateway, messaging) are signed:
// Cordon-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>">, with the timestamp in Cordon-Timestamp,
// so the receiver can reject replays older than its tolerance.
export const SIGNATURE_HEADER = 'cordon-signature';
export const TIMESTAMP_HEADER = 'cordon-timestamp';
export const IDEMPOTENCY_HEADER = 'idempotency-key';

export function sign(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function signedHeaders(
  secret: string,
  body: string,
  idempotencyKey: string,
  now = Date.now(),
): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return {
    'content-type': 'application/json',
    [TIMESTAMP_HEADER]: String(timestamp),
    [SIGNATURE_HEADER]: sign(secret, timestamp, body),
    [IDEMPOTENCY_HEADER]: idempotencyKey,
  };
}

/** For receivers (and tests): true when the signature matches and the timestamp is within the tolerance. */
export function verifySignature(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  toleranceSeconds = 300,
  now = Date.now(),
): boolean {
  const timestamp = Number(headers[TIMESTAMP_HEADER]);
  const given = String(headers[SIGNATURE_HEADER] ?? '');
  if (!Number.isFinite(timestamp) || Math.abs(now / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(sign(secret, timestamp, body));
  const actual = Buffer.from(given);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
