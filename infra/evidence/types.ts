// What every evidence store shares: the kinds of file, a file's metadata, the store interface and the keys.
// The bytes are sealed client-side (infra/evidence/seal.ts) before any store sees them, so a store only keeps
// opaque sealed bytes under an opaque reference.

/** The kinds of file a user may send, told apart by their first bytes (not by the name they came with). */
export const EVIDENCE_TYPES = ['image/png', 'image/jpeg', 'application/pdf', 'text/plain'] as const;
export type EvidenceType = (typeof EVIDENCE_TYPES)[number];

export interface EvidenceMeta {
  type: EvidenceType;
  size: number;
  /** The case the file was sent for. */
  caseId: string;
  /** The name the file had on the user's device: personal data, kept encrypted, never logged. */
  name: string;
  createdAt: number;
}

export interface StoredEvidence {
  content: Buffer;
  meta: EvidenceMeta;
}

export interface EvidenceStore {
  /**
   * Keeps a file and answers its reference. With `idempotencyKey`, the same key and content always give the
   * same reference (a form sent twice stores one file); `created` says whether this call wrote it.
   */
  put(
    content: Buffer,
    meta: Omit<EvidenceMeta, 'size' | 'createdAt'>,
    o?: { idempotencyKey?: string },
  ): Promise<{ ref: string; created: boolean }>;
  /**
   * The file and its metadata; null for a reference that is unknown or malformed. Throws when the bytes kept
   * under the reference do not open: altered, moved from another reference, or sealed with an unknown key.
   */
  get(ref: string): Promise<StoredEvidence | null>;
  /** Removes a file; an unknown reference is no error. */
  delete(ref: string): Promise<void>;
  /**
   * The files written before `before` (ms since the epoch), each with the case it was sent for when the store
   * can tell (undefined when it cannot, e.g. a file sealed with a key no longer configured): what the evidence
   * sweep looks at.
   */
  listBefore(before: number): AsyncIterable<{ ref: string; caseId?: string }>;
}

/** A store whose files can be sealed again in place (`npm run keys -- reencrypt`: CEV1 files to CEV2). */
export interface ResealableEvidence {
  /** Every reference kept, in no particular order. */
  allRefs(): AsyncIterable<string>;
  /** The sealed bytes as kept, or null. */
  getSealed(ref: string): Promise<Buffer | null>;
  /** Puts `sealed` in place of `previous` if the reference still holds it; answers whether it did. */
  replaceSealed(ref: string, sealed: Buffer, previous: Buffer): Promise<boolean>;
}

/** A store that can take a file already sealed elsewhere, unchanged (moving files from the local folder). */
export interface SealedEvidenceTarget {
  /** Keeps the sealed bytes under their reference unless it is taken; answers whether this call wrote them. */
  putSealed(ref: string, sealed: Buffer, meta: Pick<EvidenceMeta, 'caseId' | 'createdAt'>): Promise<boolean>;
}

export interface EvidenceKey {
  id: string;
  /** 32 bytes: AES-256. */
  key: Buffer;
}

/** References look like `ev_<32 base64url characters>`: checked before any path or object key is built. */
export const EVIDENCE_REF = /^ev_[A-Za-z0-9_-]{32}$/;
