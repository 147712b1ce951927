// Idempotency of human actions: a request is identified by its case, action, principal and requestId, and
// a repeat must carry the same body. Pure (the workflow uses it too), so no crypto: FNV-1a over canonical
// JSON is enough to tell "the same body" from "another body" for one key.

/** The identity of one human request: only the same action, by the same principal, on the same case repeats. */
export function requestKey(caseId: string, action: string, principalId: string, requestId: string): string {
  return JSON.stringify([caseId, action, principalId, requestId]);
}

/** JSON with object keys sorted, so the same body always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A 64-bit FNV-1a hash of the body's canonical JSON, as 16 hex digits. */
export function fingerprint(body: unknown): string {
  const text = canonicalJson(body);
  let h1 = 0x811c9dc5;
  let h2 = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c ^ (h1 >>> 7), 0x01000193) >>> 0;
  }
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
}

/** An update ID that Temporal uses to deduplicate the same request arriving twice at one workflow run. */
export function updateIdOf(key: string): string {
  return `req-${fingerprint(key)}`;
}

export interface RequestIdentity {
  key: string;
  fingerprint: string;
}

/** Who asked for what on which case, and a fingerprint of what they sent. */
export function requestIdentity(
  caseId: string,
  action: string,
  principalId: string,
  requestId: string,
  body: Record<string, unknown>,
): RequestIdentity {
  return { key: requestKey(caseId, action, principalId, requestId), fingerprint: fingerprint(body) };
}
