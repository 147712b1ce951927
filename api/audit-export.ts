// A case's audit export: its timeline entries as chained (words by their digests only), each with the hash it was
// given when it was written, and a head (case, count, last hash, time, key) signed with the signing audit key.
// The hashes are the stored ones, never recomputed here: a record altered where it is kept does not verify.
import {
  AUDIT_CHAIN_RULES,
  chainedFormOf,
  genesisOf,
  withDigests,
  type ChainedEntry,
} from '../core/audit-chain';
import type { CaseView } from '../core/contracts';
import type { AuditKeyRing } from '../infra/audit-keys';

/** What the signature covers, as RFC 8785 canonical JSON. */
export interface AuditHead {
  caseId: string;
  /** False for a case opened before rules 4: its entries were never hashed, and nothing proves them. */
  chained: boolean;
  entryCount: number;
  /** The last entry's hash (the case's genesis for none); null when not chained. */
  headHash: string | null;
  exportedAt: string;
  keyId: string;
}

export interface AuditExport {
  caseId: string;
  /** The case machine's rules the case opened under. */
  rulesVersion: number;
  /** The erasure that removed the case's words (their digests and every hash stay). Not signed. */
  erased?: { erasureId: string; at: string };
  entries: { entry: ChainedEntry; hash: string | null }[];
  head: AuditHead;
  /** Ed25519 over the head's canonical JSON, base64. */
  signature: string;
}

export function auditExportOf(view: CaseView, keys: AuditKeyRing, exportedAt: Date): AuditExport {
  const rulesVersion = view.rulesVersion ?? 1;
  const chained = rulesVersion >= AUDIT_CHAIN_RULES;
  // Unchained entries are shown as chained ones would be: an export never carries what a user or reviewer wrote.
  const entries = view.timeline.map((e) => ({
    entry: chainedFormOf(chained ? e : withDigests(e)),
    hash: chained && typeof e.hash === 'string' ? e.hash : null,
  }));
  const head: AuditHead = {
    caseId: view.caseId,
    chained,
    entryCount: entries.length,
    headHash: chained ? (entries.length ? entries[entries.length - 1]!.hash : genesisOf(view.caseId)) : null,
    exportedAt: exportedAt.toISOString(),
    keyId: keys.signingKeyId,
  };
  const erased = (view as { erased?: { erasureId: string; at: string } }).erased;
  return {
    caseId: view.caseId,
    rulesVersion,
    ...(erased ? { erased: { erasureId: erased.erasureId, at: erased.at } } : {}),
    entries,
    head,
    signature: keys.sign(head),
  };
}
