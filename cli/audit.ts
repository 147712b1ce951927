// `npx cordon audit verify FILE --keys KEYS`: checks a case's audit export (GET /v1/cases/{id}/audit) against the
// public keys in KEYS (what GET /v1/audit-keys answers, fetched however the reader trusts), never against a key the
// export itself names or carries. Exit 0: intact (one line says what was checked); 1: not intact, naming the first
// entry that is not (or the head or signature); 2: a usage error (arguments, a file that cannot be read).
// docs/audit.md walks through it, and through the same checks by hand.
import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { Command } from 'commander';
import { checkChain, type ChainedEntry } from '../core/audit-chain';
import { publishedKeysOf, signatureValid } from '../infra/audit-keys';
import { CliError } from './io';

/** A usage error: exit 2. */
const usage = (message: string) => new CliError(message, 2);

export type Verdict = { ok: true; summary: string } | { ok: false; problem: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

interface Head {
  caseId: string;
  chained: boolean;
  entryCount: number;
  headHash: string | null;
  exportedAt: string;
  keyId: string;
}

function headOf(v: unknown): Head | null {
  if (!isObject(v)) return null;
  const ok =
    typeof v.caseId === 'string' &&
    typeof v.chained === 'boolean' &&
    Number.isInteger(v.entryCount) &&
    (v.headHash === null || typeof v.headHash === 'string') &&
    typeof v.exportedAt === 'string' &&
    typeof v.keyId === 'string';
  return ok ? (v as unknown as Head) : null;
}

/** Names an entry as the verdict does: its index, and its type and time when it has them. */
function entryName(entries: unknown[], index: number): string {
  const e = (entries[index] as { entry?: { type?: unknown; at?: unknown } } | undefined)?.entry;
  const what = typeof e?.type === 'string' && typeof e?.at === 'string' ? ` (${e.type} at ${e.at})` : '';
  return `entry ${index}${what}`;
}

/**
 * The whole check: the head's signature with the key KEYS publishes under its key ID, then every entry's hash
 * from the case's genesis, then the count and the last hash against the signed head.
 */
export function verifyAuditExport(doc: unknown, keys: Map<string, KeyObject>): Verdict {
  const bad = (problem: string): Verdict => ({ ok: false, problem });
  if (!isObject(doc) || typeof doc.caseId !== 'string' || !Array.isArray(doc.entries))
    return bad('not an audit export: no caseId or no entries');
  const head = headOf(doc.head);
  if (!head) return bad('the head is missing or malformed');
  const key = keys.get(head.keyId);
  if (!key) return bad(`the head is signed with key ${head.keyId}, which the keys file does not publish`);
  if (typeof doc.signature !== 'string' || !signatureValid(key, doc.head, doc.signature))
    return bad(
      `the signature is not key ${head.keyId}'s over this head (the head or the signature was altered)`,
    );
  if (head.caseId !== doc.caseId) return bad(`the signed head is of case ${head.caseId}, not ${doc.caseId}`);
  if (!head.chained)
    return bad(
      `the signature holds, but the case was opened before the audit chain (rules 4): its ${head.entryCount} entries were never hashed, and nothing proves them`,
    );
  const entries = doc.entries as unknown[];
  const malformed = entries.findIndex(
    (e) => !isObject(e) || !isObject(e.entry) || !isObject(e.entry.actor) || typeof e.entry.type !== 'string',
  );
  const checked = checkChain(
    doc.caseId,
    (malformed === -1 ? entries : entries.slice(0, malformed)) as { entry: ChainedEntry; hash: unknown }[],
  );
  if (!checked.ok) return bad(`${entryName(entries, checked.index)}: ${checked.reason}`);
  if (malformed !== -1) return bad(`entry ${malformed}: not an entry (no entry, actor or type)`);
  if (entries.length < head.entryCount)
    return bad(
      `entry ${entries.length}: missing (the signed head counts ${head.entryCount} entries, the export has ${entries.length})`,
    );
  if (entries.length > head.entryCount)
    return bad(
      `${entryName(entries, head.entryCount)}: not in the signed head (it counts ${head.entryCount} entries): added`,
    );
  if (checked.headHash !== head.headHash)
    return bad(
      `the entries' chain ends at ${checked.headHash}, not at the signed head ${String(head.headHash)}: the entries were rewritten`,
    );
  return {
    ok: true,
    summary: `intact: case ${head.caseId}, ${head.entryCount} entries, head ${head.headHash}, signed by key ${head.keyId} at ${head.exportedAt}`,
  };
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw usage(
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw usage(`${what} ${path} is not JSON`);
  }
}

export function auditCommand(): Command {
  const audit = new Command('audit')
    .description("check a case's audit export (GET /v1/cases/{id}/audit)")
    // Arguments commander refuses (a missing file, an unknown option) are usage errors too: exit 2.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  audit
    .command('verify')
    .argument('<file>', 'the export, as GET /v1/cases/{id}/audit answered it')
    .requiredOption('--keys <file>', 'the public keys, as GET /v1/audit-keys answered it')
    .description(
      'exit 0 if the export is intact (signature, every hash, count and head); 1 naming the first entry that is not; 2 for a usage error',
    )
    .action((file: string, o: { keys: string }) => {
      const doc = readJson(file, 'export');
      let keys: Map<string, KeyObject>;
      try {
        keys = publishedKeysOf(readJson(o.keys, 'keys file'));
      } catch (err) {
        if (err instanceof CliError) throw err;
        throw usage(`keys file ${o.keys}: ${(err as Error).message}`);
      }
      const verdict = verifyAuditExport(doc, keys);
      if (verdict.ok) process.stdout.write(`${file}: ${verdict.summary}\n`);
      else {
        process.stdout.write(`${file}: NOT intact: ${verdict.problem}\n`);
        process.exitCode = 1;
      }
    });
  return audit;
}
