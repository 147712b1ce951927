// Sharing an event file's lines out by account (cli/run-backtest.ts's threads): every line of an account goes to
// the same part, found without parsing the line when it can be.

/**
 * The account ID of a JSONL line without parsing it (`"accountId":"…"` as JSON.stringify writes it), so lines
 * can be shared out by account; undefined when the quick look fails (then parse, or any part will do).
 */
export function quickAccountId(text: string): string | undefined {
  const at = text.indexOf('"accountId":"');
  if (at < 0) return undefined;
  const start = at + 13;
  const end = text.indexOf('"', start);
  if (end < 0) return undefined;
  // Account IDs are [A-Za-z0-9_-]: a backslash means an escape the quick look does not read.
  const id = text.slice(start, end);
  return id.includes('\\') ? undefined : id;
}

/** The account ID by parsing the line (the slow path), or undefined for a line that has none. */
export function parsedAccountId(text: string): string | undefined {
  try {
    const v = JSON.parse(text) as { accountId?: unknown; event?: { accountId?: unknown } } | null;
    const id = v?.accountId ?? v?.event?.accountId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Which of `parts` an account's lines go to (FNV-1a). */
export function shardOf(accountId: string, parts: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < accountId.length; i++) h = Math.imul(h ^ accountId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % parts;
}
