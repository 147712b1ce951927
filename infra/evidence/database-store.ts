// Evidence in Cordon's own database (table evidence_files, migration 4): on PostgreSQL every API process
// reaches it, so a file uploaded through one pod opens through another and outlives any pod. The bytes are the
// same sealed format as the local folder's (seal.ts), so the database only ever holds ciphertext. Also works
// on the SQLite file, for a single machine and for tests.
import type { Database } from '../database';
import { evidenceRef } from './seal';
import { sealerOf, type EvidenceSealer } from './sealer';
import {
  EVIDENCE_REF,
  type EvidenceKey,
  type EvidenceMeta,
  type EvidenceStore,
  type ResealableEvidence,
  type SealedEvidenceTarget,
  type StoredEvidence,
} from './types';

/** References the sweep reads per query: bounded memory however many files there are. */
const PAGE = 500;

export class DatabaseEvidenceStore implements EvidenceStore, SealedEvidenceTarget, ResealableEvidence {
  private readonly sealer: EvidenceSealer;

  constructor(
    private readonly db: Database,
    keys: readonly EvidenceKey[] | EvidenceSealer,
    private readonly clock: () => number = Date.now,
  ) {
    this.sealer = sealerOf(keys);
  }

  async put(
    content: Buffer,
    meta: Omit<EvidenceMeta, 'size' | 'createdAt'>,
    o: { idempotencyKey?: string } = {},
  ): Promise<{ ref: string; created: boolean }> {
    const ref = evidenceRef(this.sealer.keys, content, o.idempotencyKey);
    const full: EvidenceMeta = { ...meta, size: content.length, createdAt: this.clock() };
    const created = await this.putSealed(ref, await this.sealer.seal(ref, content, full), full);
    return { ref, created };
  }

  /** One row per reference: a second write of the same reference (a form sent twice) changes nothing. */
  async putSealed(
    ref: string,
    sealed: Buffer,
    meta: Pick<EvidenceMeta, 'caseId' | 'createdAt'>,
  ): Promise<boolean> {
    if (!EVIDENCE_REF.test(ref)) throw new Error('not an evidence reference');
    const written = await this.db.run(
      `INSERT INTO evidence_files (ref, case_id, sealed, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (ref) DO NOTHING`,
      [ref, meta.caseId, sealed, meta.createdAt],
    );
    return written === 1;
  }

  async get(ref: string): Promise<StoredEvidence | null> {
    const sealed = await this.getSealed(ref);
    return sealed && this.sealer.open(ref, sealed);
  }

  async getSealed(ref: string): Promise<Buffer | null> {
    if (!EVIDENCE_REF.test(ref)) return null;
    const [row] = await this.db.query<{ sealed: Uint8Array }>(
      'SELECT sealed FROM evidence_files WHERE ref = ?',
      [ref],
    );
    return row ? Buffer.from(row.sealed) : null;
  }

  async replaceSealed(ref: string, sealed: Buffer, previous: Buffer): Promise<boolean> {
    if (!EVIDENCE_REF.test(ref)) return false;
    return (
      (await this.db.run('UPDATE evidence_files SET sealed = ? WHERE ref = ? AND sealed = ?', [
        sealed,
        ref,
        previous,
      ])) === 1
    );
  }

  async *allRefs(): AsyncGenerator<string> {
    for await (const { ref } of this.listBefore(Number.MAX_SAFE_INTEGER)) yield ref;
  }

  async delete(ref: string): Promise<void> {
    if (!EVIDENCE_REF.test(ref)) return;
    await this.db.run('DELETE FROM evidence_files WHERE ref = ?', [ref]);
  }

  /**
   * Through the (created_at, ref) index a page at a time, never reading the bytes: the case comes from its
   * column. Rows removed meanwhile (the sweep deletes as it goes) do not disturb the position.
   */
  async *listBefore(before: number): AsyncGenerator<{ ref: string; caseId?: string }> {
    let after: [number, string] = [-1, ''];
    for (;;) {
      const rows = await this.db.query<{ ref: string; case_id: string | null; created_at: number }>(
        `SELECT ref, case_id, created_at FROM evidence_files
         WHERE created_at < ? AND (created_at > ? OR (created_at = ? AND ref > ?))
         ORDER BY created_at, ref LIMIT ${PAGE}`,
        [before, after[0], after[0], after[1]],
      );
      for (const row of rows) yield { ref: row.ref, ...(row.case_id ? { caseId: row.case_id } : {}) };
      if (rows.length < PAGE) return;
      const last = rows[rows.length - 1]!;
      after = [Number(last.created_at), last.ref];
    }
  }
}
