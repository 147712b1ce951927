// The payload codec: every payload Cordon hands to Temporal (workflow inputs, update arguments and results, query
// results, memos, summaries, failure messages through the failure converter) is encrypted with AES-256-GCM, so
// Temporal's database and the Web UI without the codec endpoint see only ciphertext.
//
// An encrypted payload is the original Payload message (its metadata included, so the original encoding is
// hidden too), serialised as protobuf and sealed: data = IV (12 bytes) ‖ ciphertext ‖ GCM tag (16 bytes), with the
// key ID as additional authenticated data, so a payload moved under another key ID fails instead of decrypting
// to something. Its metadata says only `encoding: binary/encrypted` and `encryption-key-id: <id>`.
//
// Keys have IDs so they can rotate: new payloads use the newest key, payloads sealed with an older one stay
// readable while that key is listed. Payloads without the encrypted encoding (histories recorded in plaintext by
// earlier releases) pass through decode unchanged, so they still replay.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  METADATA_ENCODING_KEY,
  type DataConverter,
  type Payload,
  type PayloadCodec,
} from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { devSecret } from './dev-secrets';

export const ENCODING_ENCRYPTED = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';

export interface CodecKey {
  id: string;
  /** 32 bytes: AES-256. */
  key: Buffer;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,16}$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const ProtoPayload = temporal.api.common.v1.Payload;

/** A payload sealed with a key this process does not have. Names the key ID only. */
export class UnknownCodecKeyError extends Error {
  override readonly name = 'UnknownCodecKeyError';
  constructor(readonly keyId: string) {
    super(
      `a payload is encrypted with key ID "${keyId}", which is not configured: add that key to CORDON_CODEC_KEYS`,
    );
  }
}

/** A payload that does not decrypt (altered, truncated, or sealed under another key with the same ID). */
export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
  constructor(readonly keyId: string) {
    super(`a payload encrypted with key ID "${keyId}" does not decrypt: altered, or sealed with another key`);
  }
}

/**
 * Parses `id:base64key,id2:base64key,...` (newest first; keys of exactly 32 bytes, IDs of 1-16 letters, digits,
 * `_` or `-`). Errors name the variable and the entry's position, never key material.
 */
export function parseCodecKeys(text: string, variable = 'CORDON_CODEC_KEYS'): CodecKey[] {
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error(`${variable} lists no key (expected id:base64key,...)`);
  const seen = new Set<string>();
  return entries.map((entry, i) => {
    const parts = entry.split(':');
    const [id, encoded] = parts;
    const key = encoded && BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : undefined;
    if (parts.length !== 2 || !id || !KEY_ID.test(id) || key?.length !== KEY_BYTES)
      throw new Error(
        `${variable} entry ${i + 1} must be id:base64key with a key ID of 1-16 letters, digits, _ or - ` +
          `and a key of exactly ${KEY_BYTES} bytes (openssl rand -base64 32)`,
      );
    if (seen.has(id)) throw new Error(`${variable} lists key ID ${id} more than once`);
    seen.add(id);
    return { id, key };
  });
}

export class EncryptionCodec implements PayloadCodec {
  private readonly byId: ReadonlyMap<string, CodecKey>;
  private readonly newest: CodecKey;

  constructor(keys: readonly CodecKey[]) {
    const newest = keys[0];
    if (!newest) throw new Error('the payload codec needs at least one key');
    for (const k of keys)
      if (!KEY_ID.test(k.id) || k.key.length !== KEY_BYTES)
        throw new Error(
          `codec key ${KEY_ID.test(k.id) ? k.id : '(malformed ID)'} must be ${KEY_BYTES} bytes`,
        );
    this.newest = newest;
    this.byId = new Map(keys.map((k) => [k.id, k]));
  }

  /** The key ID new payloads are sealed with. */
  get currentKeyId(): string {
    return this.newest.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.seal(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.open(p));
  }

  private seal(payload: Payload): Payload {
    const { id, key } = this.newest;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(id));
    const sealed = Buffer.concat([cipher.update(ProtoPayload.encode(payload).finish()), cipher.final()]);
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: Buffer.from(ENCODING_ENCRYPTED),
        [METADATA_KEY_ID]: Buffer.from(id),
      },
      data: Buffer.concat([iv, sealed, cipher.getAuthTag()]),
    };
  }

  private open(payload: Payload): Payload {
    const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
    if (!encoding || Buffer.from(encoding).toString() !== ENCODING_ENCRYPTED) return payload;
    const rawId = payload.metadata?.[METADATA_KEY_ID];
    const id = rawId ? Buffer.from(rawId).toString() : '';
    // An ID that is not one of ours in form is not echoed: it names nothing and could be anything.
    const named = KEY_ID.test(id) ? id : '(missing or malformed)';
    const k = this.byId.get(id);
    if (!k) throw new UnknownCodecKeyError(named);
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError(named);
    try {
      const decipher = createDecipheriv('aes-256-gcm', k.key, data.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(id));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return ProtoPayload.decode(plain);
    } catch {
      throw new PayloadDecryptionError(named);
    }
  }
}

/**
 * The codec of a configuration: CORDON_CODEC_KEYS when set; otherwise (development only: production refuses to
 * start without it) a key created once in the data folder, `codec-key`, with the key ID `dev`. Every process on
 * the same data folder (npm start, a separate worker and API) shares it.
 */
export function codecFromConfig(config: {
  mode: string;
  dataDir: string;
  codec: { keys?: readonly CodecKey[] };
}): EncryptionCodec {
  if (config.codec.keys?.length) return new EncryptionCodec(config.codec.keys);
  if (config.mode === 'production')
    throw new Error('invalid configuration: production mode needs CORDON_CODEC_KEYS (id:base64key,...)');
  return new EncryptionCodec([{ id: 'dev', key: devSecret(config.dataDir, 'codec-key', KEY_BYTES) }]);
}

/** Loaded by path wherever failures are converted: the client, the worker, and the workflow bundle. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/** What a Client, a Worker or a replayer gets: the codec, and failures whose messages go through it. */
export function codecDataConverter(codec: PayloadCodec): DataConverter {
  return { payloadCodecs: [codec], failureConverterPath: FAILURE_CONVERTER_PATH };
}
