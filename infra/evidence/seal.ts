// The one sealed format every evidence store keeps, whatever it keeps it in: a header naming the format and the
// key ID, then AES-256-GCM over (metadata JSON ‖ content) with a random 12-byte IV and the key ID and reference
// as additional authenticated data, so bytes moved to another reference, or sealed under another key with the
// same ID, fail instead of decrypting. Keys rotate like the payload codec's: new files use the first key,
// files sealed with a listed older key stay readable. Because the format is the same everywhere, sealed bytes
// move between stores unchanged (scripts/evidence-migrate.ts).
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

/** The case a sealed file was sent for; undefined when it does not open (its key gone, or altered). */
export function caseIdOf(keys: readonly EvidenceKey[], ref: string, file: Buffer): string | undefined {
  try {
    return openEvidence(keys, ref, file).meta.caseId;
  } catch {
    return undefined;
  }
}
