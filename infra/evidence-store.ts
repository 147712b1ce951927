// Evidence files users upload with an appeal or an answer, kept encrypted at rest behind a small interface
// (put / get / delete by opaque reference) that an object store can replace. Only the references travel into
// Temporal; the bytes never do.
//
// The file store keeps one file per reference in <dataDir>/evidence/: a header naming the format and the key
// ID, then AES-256-GCM over (metadata JSON ‖ content) with a random 12-byte IV and the key ID and reference as
// additional authenticated data, so a file renamed to another reference, or sealed under another key with the
// same ID, fails instead of decrypting. Keys rotate like the payload codec's: new files use the first key,
// files sealed with a listed older key stay readable.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

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
  /** The file and its metadata; null for a reference that is unknown or malformed. */
  get(ref: string): Promise<StoredEvidence | null>;
  /** Removes a file; an unknown reference is no error. */
  delete(ref: string): Promise<void>;
  /**
   * The files written before `before` (ms since the epoch), each with the case it was sent for (undefined when
   * the file cannot be read, e.g. sealed with a key no longer configured): what the evidence sweep looks at.
   */
  listBefore(before: number): AsyncIterable<{ ref: string; caseId?: string }>;
}

export interface EvidenceKey {
  id: string;
  /** 32 bytes: AES-256. */
  key: Buffer;
}

/** References look like `ev_<32 base64url characters>`: checked before any path is built from one. */
export const EVIDENCE_REF = /^ev_[A-Za-z0-9_-]{32}$/;

const MAGIC = Buffer.from('CEV1');
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Evidence keys derived from the payload codec's keys (HKDF-SHA256, one label per purpose): the same IDs and
 * rotation as CORDON_CODEC_KEYS, without a key of their own to configure and lose.
 */
export function evidenceKeysFrom(codecKeys: readonly { id: string; key: Buffer }[]): EvidenceKey[] {
  return codecKeys.map(({ id, key }) => ({
    id,
    key: Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'cordon-evidence/v1', 32)),
  }));
}

export class FileEvidenceStore implements EvidenceStore {
  private readonly dir: string;

  constructor(
    dataDir: string,
    private readonly keys: readonly EvidenceKey[],
    private readonly clock: () => number = Date.now,
  ) {
    if (!keys.length) throw new Error('the evidence store needs at least one key');
    this.dir = join(dataDir, 'evidence');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  private path(ref: string): string {
    return join(this.dir, `${ref}.bin`);
  }

  private refFor(content: Buffer, idempotencyKey: string | undefined): string {
    if (!idempotencyKey) return `ev_${randomBytes(24).toString('base64url')}`;
    // Keyed, so a reference tells nothing about the content to someone without the key.
    const mac = createHmac('sha256', this.keys[0]!.key)
      .update('ref|')
      .update(idempotencyKey)
      .update('|')
      .update(content)
      .digest();
    return `ev_${mac.subarray(0, 24).toString('base64url')}`;
  }

  async put(
    content: Buffer,
    meta: Omit<EvidenceMeta, 'size' | 'createdAt'>,
    o: { idempotencyKey?: string } = {},
  ): Promise<{ ref: string; created: boolean }> {
    const ref = this.refFor(content, o.idempotencyKey);
    const key = this.keys[0]!;
    const full: EvidenceMeta = { ...meta, size: content.length, createdAt: this.clock() };
    const metaBytes = Buffer.from(JSON.stringify(full), 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(metaBytes.length);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key.key, iv);
    cipher.setAAD(Buffer.from(`${key.id}|${ref}`, 'utf8'));
    const sealed = Buffer.concat([
      cipher.update(Buffer.concat([length, metaBytes, content])),
      cipher.final(),
    ]);
    const id = Buffer.from(key.id, 'utf8');
    const file = Buffer.concat([MAGIC, Buffer.from([id.length]), id, iv, sealed, cipher.getAuthTag()]);
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
      const exists = await this.exists(ref);
      if (exists) return { ref, created: false };
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

  async get(ref: string): Promise<StoredEvidence | null> {
    if (!EVIDENCE_REF.test(ref)) return null;
    let file: Buffer;
    try {
      file = await readFile(this.path(ref));
    } catch {
      return null;
    }
    if (file.length < MAGIC.length + 1 || !file.subarray(0, MAGIC.length).equals(MAGIC))
      throw new Error(`evidence ${ref} is not an evidence file`);
    const idLength = file[MAGIC.length]!;
    const idStart = MAGIC.length + 1;
    const keyId = file.subarray(idStart, idStart + idLength).toString('utf8');
    const key = this.keys.find((k) => k.id === keyId);
    if (!key) throw new Error(`evidence ${ref} is sealed with key ID "${keyId}", which is not configured`);
    const ivStart = idStart + idLength;
    const iv = file.subarray(ivStart, ivStart + IV_BYTES);
    const tag = file.subarray(file.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key.key, iv);
    decipher.setAAD(Buffer.from(`${key.id}|${ref}`, 'utf8'));
    decipher.setAuthTag(tag);
    let plain: Buffer;
    try {
      plain = Buffer.concat([
        decipher.update(file.subarray(ivStart + IV_BYTES, file.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new Error(`evidence ${ref} does not decrypt: altered, or sealed with another key`);
    }
    const metaLength = plain.readUInt32BE(0);
    const meta = JSON.parse(plain.subarray(4, 4 + metaLength).toString('utf8')) as EvidenceMeta;
    return { meta, content: plain.subarray(4 + metaLength) };
  }

  async delete(ref: string): Promise<void> {
    if (!EVIDENCE_REF.test(ref)) return;
    await rm(this.path(ref), { force: true });
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
      const caseId = await this.get(ref).then(
        (stored) => stored?.meta.caseId,
        () => undefined,
      );
      yield { ref, ...(caseId ? { caseId } : {}) };
    }
  }
}

// --- what a file is --------------------------------------------------------------------------------------

/** The extensions each type may come with. */
const EXTENSIONS: Record<EvidenceType, readonly string[]> = {
  'image/png': ['png'],
  'image/jpeg': ['jpg', 'jpeg'],
  'application/pdf': ['pdf'],
  'text/plain': ['txt'],
};

/** The type the first bytes say, or null. Text is valid UTF-8 without control characters other than spacing. */
export function sniffType(content: Buffer): EvidenceType | null {
  const starts = (bytes: number[]) => bytes.every((b, i) => content[i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts([0x25, 0x50, 0x44, 0x46, 0x2d])) return 'application/pdf';
  if (content.length === 0) return null;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    return null;
  }
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(text) ? null : 'text/plain';
}

export type FileCheck = { ok: true; type: EvidenceType } | { ok: false; why: 'TYPE' | 'SIZE' | 'EMPTY' };

/** A file may be kept when its bytes are one of the types, its name's extension agrees, and it fits the limit. */
export function checkEvidenceFile(name: string, content: Buffer, maxBytes: number): FileCheck {
  if (content.length === 0) return { ok: false, why: 'EMPTY' };
  if (content.length > maxBytes) return { ok: false, why: 'SIZE' };
  const type = sniffType(content);
  const ext = /\.([A-Za-z0-9]{1,8})$/.exec(name)?.[1]?.toLowerCase();
  if (!type || !ext || !EXTENSIONS[type].includes(ext)) return { ok: false, why: 'TYPE' };
  return { ok: true, type };
}
