// Evidence in a local folder, one sealed file per reference in <dataDir>/evidence/: the single-machine
// default. Only processes sharing that folder see the files, so several API processes (pods) need the
// database or an object store instead (infra/evidence/from-config.ts chooses).
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { evidenceRef } from './seal';
import { sealerOf, type EvidenceSealer } from './sealer';
import {
  EVIDENCE_REF,
  type EvidenceKey,
  type EvidenceMeta,
  type EvidenceStore,
  type ResealableEvidence,
  type StoredEvidence,
} from './types';

/** The folder a data folder keeps its evidence files in. */
export function evidenceDir(dataDir: string): string {
  return join(dataDir, 'evidence');
}

export class FileEvidenceStore implements EvidenceStore, ResealableEvidence {
  private readonly dir: string;
  private readonly sealer: EvidenceSealer;

  constructor(
    dataDir: string,
    keys: readonly EvidenceKey[] | EvidenceSealer,
    private readonly clock: () => number = Date.now,
  ) {
    this.sealer = sealerOf(keys);
    this.dir = evidenceDir(dataDir);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  private path(ref: string): string {
    return join(this.dir, `${ref}.bin`);
  }

  async put(
    content: Buffer,
    meta: Omit<EvidenceMeta, 'size' | 'createdAt'>,
    o: { idempotencyKey?: string } = {},
  ): Promise<{ ref: string; created: boolean }> {
    const ref = evidenceRef(this.sealer.keys, content, o.idempotencyKey);
    const file = await this.sealer.seal(ref, content, {
      ...meta,
      size: content.length,
      createdAt: this.clock(),
    });
    // Written beside, then linked into place only if no file has the reference yet: never a torn file.
    const tmp = join(this.dir, `.${ref}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(file);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      if (await this.exists(ref)) return { ref, created: false };
      await rename(tmp, this.path(ref));
      return { ref, created: true };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  private async exists(ref: string): Promise<boolean> {
    try {
      await (await open(this.path(ref), 'r')).close();
      return true;
    } catch {
      return false;
    }
  }

  /** The sealed bytes as kept, or null: what moving files to another store copies. */
  async getSealed(ref: string): Promise<Buffer | null> {
    if (!EVIDENCE_REF.test(ref)) return null;
    try {
      return await readFile(this.path(ref));
    } catch {
      return null;
    }
  }

  async get(ref: string): Promise<StoredEvidence | null> {
    const file = await this.getSealed(ref);
    return file && this.sealer.open(ref, file);
  }

  async delete(ref: string): Promise<void> {
    if (!EVIDENCE_REF.test(ref)) return;
    await rm(this.path(ref), { force: true });
  }

  async *allRefs(): AsyncGenerator<string> {
    yield* await this.refs();
  }

  /** Written beside and renamed over the old file: a reader sees the old bytes or the new, never a torn file. */
  async replaceSealed(ref: string, sealed: Buffer, previous: Buffer): Promise<boolean> {
    if (!EVIDENCE_REF.test(ref) || !(await this.getSealed(ref))?.equals(previous)) return false;
    const tmp = join(this.dir, `.${ref}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(sealed);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.path(ref));
    return true;
  }

  /** Every reference in the folder, in no particular order. */
  async refs(): Promise<string[]> {
    return (await readdir(this.dir))
      .filter((name) => name.endsWith('.bin'))
      .map((name) => name.slice(0, -'.bin'.length))
      .filter((ref) => EVIDENCE_REF.test(ref));
  }

  /** Also removes what an interrupted put left behind: its temporary file, never referenced by anything. */
  async *listBefore(before: number): AsyncGenerator<{ ref: string; caseId?: string }> {
    for (const name of await readdir(this.dir)) {
      const path = join(this.dir, name);
      const modified = await stat(path).then(
        (s) => s.mtimeMs,
        () => Infinity, // gone meanwhile
      );
      if (modified >= before) continue;
      if (name.startsWith('.') && name.endsWith('.tmp')) {
        await rm(path, { force: true });
        continue;
      }
      const ref = name.replace(/\.bin$/, '');
      if (!name.endsWith('.bin') || !EVIDENCE_REF.test(ref)) continue;
      const file = await this.getSealed(ref);
      if (!file) continue; // removed meanwhile
      const caseId = await this.sealer.caseIdOf(ref, file);
      yield { ref, ...(caseId ? { caseId } : {}) };
    }
  }
}
