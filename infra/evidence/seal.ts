// The sealed formats every evidence store keeps, whatever it keeps it in. CEV1 (0.4, and stores made with a plain
// key list): a header naming the format and the key ID, then AES-256-GCM over (metadata JSON ‖ content) with a
// random 12-byte IV and the key ID and reference as additional authenticated data, so bytes moved to another
// reference, or sealed under another key with the same ID, fail instead of decrypting. Keys rotate like the payload codec's: new files use the first key,
// files sealed with a listed older key stay readable. CEV2 (below, since 0.5): under the account's data key.
// Because the formats are the same everywhere, sealed bytes move between stores unchanged.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { EvidenceKey, EvidenceMeta, StoredEvidence } from './types';

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

/** A new reference: random, or (with an idempotency key) the same for the same key and content. */
export function evidenceRef(keys: readonly EvidenceKey[], content: Buffer, idempotencyKey?: string): string {
  if (!idempotencyKey) return `ev_${randomBytes(24).toString('base64url')}`;
  // Keyed, so a reference tells nothing about the content to someone without the key.
  const mac = createHmac('sha256', keys[0]!.key)
    .update('ref|')
    .update(idempotencyKey)
    .update('|')
    .update(content)
    .digest();
  return `ev_${mac.subarray(0, 24).toString('base64url')}`;
}

const aad = (keyId: string, ref: string) => Buffer.from(`${keyId}|${ref}`, 'utf8');

/** The sealed bytes of a file under a reference, with the newest key. */
export function sealEvidence(
  keys: readonly EvidenceKey[],
  ref: string,
  content: Buffer,
  meta: EvidenceMeta,
): Buffer {
  const key = keys[0]!;
  const metaBytes = Buffer.from(JSON.stringify(meta), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(metaBytes.length);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv);
  cipher.setAAD(aad(key.id, ref));
  const sealed = Buffer.concat([cipher.update(Buffer.concat([length, metaBytes, content])), cipher.final()]);
  const id = Buffer.from(key.id, 'utf8');
  return Buffer.concat([MAGIC, Buffer.from([id.length]), id, iv, sealed, cipher.getAuthTag()]);
}

/** The file and metadata sealed under `ref`; throws (naming the reference only) when they do not open. */
export function openEvidence(keys: readonly EvidenceKey[], ref: string, file: Buffer): StoredEvidence {
  if (file.length < MAGIC.length + 1 || !file.subarray(0, MAGIC.length).equals(MAGIC))
    throw new Error(`evidence ${ref} is not an evidence file`);
  const idLength = file[MAGIC.length]!;
  const idStart = MAGIC.length + 1;
  const keyId = file.subarray(idStart, idStart + idLength).toString('utf8');
  const key = keys.find((k) => k.id === keyId);
  if (!key) throw new Error(`evidence ${ref} is sealed with key ID "${keyId}", which is not configured`);
  const ivStart = idStart + idLength;
  if (file.length < ivStart + IV_BYTES + TAG_BYTES + 4)
    throw new Error(`evidence ${ref} is not an evidence file`);
  const iv = file.subarray(ivStart, ivStart + IV_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key.key, iv);
  decipher.setAAD(aad(key.id, ref));
  decipher.setAuthTag(file.subarray(file.length - TAG_BYTES));
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

// CEV2: sealed under the data key of the account the file's case belongs to (infra/data-keys.ts), so destroying
// that key makes the file unreadable wherever a copy is. The header names the data key and the case (as plain as
// every table's case IDs), so a store can tell a file's case without its key:
//   "CEV2" ‖ id length ‖ data key ID ‖ case length ‖ case ID ‖ IV ‖ AES-256-GCM(metadata JSON ‖ content) ‖ tag
// with the data key ID, the case ID and the reference as additional authenticated data.
const MAGIC_ACCOUNT = Buffer.from('CEV2');
const aad2 = (dataKeyId: string, caseId: string, ref: string) =>
  Buffer.from(`CEV2|${dataKeyId}|${caseId}|${ref}`, 'utf8');

/** What a sealed file's header says: its format, the key it names, and (CEV2) its case. */
export function evidenceHeader(
  file: Buffer,
): { format: 1 | 2; keyId: string; caseId?: string; bodyStart: number } | null {
  const magic = file.subarray(0, 4);
  const format = magic.equals(MAGIC) ? 1 : magic.equals(MAGIC_ACCOUNT) ? 2 : null;
  if (!format || file.length < 5) return null;
  const idEnd = 5 + file[4]!;
  const keyId = file.subarray(5, idEnd).toString('utf8');
  if (format === 1) return { format, keyId, bodyStart: idEnd };
  if (file.length < idEnd + 1) return null;
  const caseEnd = idEnd + 1 + file[idEnd]!;
  return { format, keyId, caseId: file.subarray(idEnd + 1, caseEnd).toString('utf8'), bodyStart: caseEnd };
}

/** The sealed bytes of a file under an account's data key (`dataKey.id` names it in the header). */
export function sealEvidenceForAccount(
  dataKey: { id: string; key: Buffer },
  ref: string,
  content: Buffer,
  meta: EvidenceMeta,
): Buffer {
  const metaBytes = Buffer.from(JSON.stringify(meta), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(metaBytes.length);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', dataKey.key, iv);
  cipher.setAAD(aad2(dataKey.id, meta.caseId, ref));
  const sealed = Buffer.concat([cipher.update(Buffer.concat([length, metaBytes, content])), cipher.final()]);
  const id = Buffer.from(dataKey.id, 'utf8');
  const caseId = Buffer.from(meta.caseId, 'utf8');
  return Buffer.concat([
    MAGIC_ACCOUNT,
    Buffer.from([id.length]),
    id,
    Buffer.from([caseId.length]),
    caseId,
    iv,
    sealed,
    cipher.getAuthTag(),
  ]);
}

/** Opens a CEV2 file with the data key its header names; throws (naming the reference only) when it does not. */
export function openEvidenceForAccount(dataKey: { key: Buffer }, ref: string, file: Buffer): StoredEvidence {
  const header = evidenceHeader(file);
  if (header?.format !== 2 || file.length < header.bodyStart + IV_BYTES + TAG_BYTES + 4)
    throw new Error(`evidence ${ref} is not an evidence file`);
  const iv = file.subarray(header.bodyStart, header.bodyStart + IV_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', dataKey.key, iv);
  decipher.setAAD(aad2(header.keyId, header.caseId!, ref));
  decipher.setAuthTag(file.subarray(file.length - TAG_BYTES));
  let plain: Buffer;
  try {
    plain = Buffer.concat([
      decipher.update(file.subarray(header.bodyStart + IV_BYTES, file.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    throw new Error(`evidence ${ref} does not decrypt: altered, or sealed with another key`);
  }
  const metaLength = plain.readUInt32BE(0);
  const meta = JSON.parse(plain.subarray(4, 4 + metaLength).toString('utf8')) as EvidenceMeta;
  return { meta, content: plain.subarray(4 + metaLength) };
}

/** The case a sealed file was sent for; undefined when it does not open (its key gone, or altered). */
export function caseIdOf(keys: readonly EvidenceKey[], ref: string, file: Buffer): string | undefined {
  try {
    return openEvidence(keys, ref, file).meta.caseId;
  } catch {
    return undefined;
  }
}
