// The keys that sign audit exports (GET /v1/cases/{id}/audit) and the public halves anyone checks them with
// (GET /v1/audit-keys). CORDON_AUDIT_KEYS lists Ed25519 keys, newest first: the first signs; the others are kept
// only to be published, so exports signed before a rotation still verify (a retired key may be given by its public
// half alone). Development without the variable: one key created once in the data folder. docs/audit.md.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign,
  verify,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { canonicalJson } from '../core/audit-chain';
import { devSecret } from './dev-secrets';

export interface AuditKey {
  keyId: string;
  publicKey: KeyObject;
  /** Absent for a retired key given by its public half: published, never signing. */
  privateKey?: KeyObject;
}

/** A key as GET /v1/audit-keys publishes it. */
export interface PublishedAuditKey {
  keyId: string;
  algorithm: 'Ed25519';
  /** SubjectPublicKeyInfo, PEM. */
  publicKey: string;
  publicKeyJwk: JsonWebKey;
  /** Whether exports are signed with it now (the others verify exports signed before a rotation). */
  signing: boolean;
}

export interface PublishedAuditKeys {
  keys: PublishedAuditKey[];
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** PKCS#8 DER of an Ed25519 private key, up to its 32-byte seed (RFC 8410). */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const VARIABLE = 'CORDON_AUDIT_KEYS';

/** A private key from its 32-byte seed (what `openssl rand -base64 32` gives). */
function fromSeed(seed: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/** One entry's key: a PEM, or base64 of a 32-byte seed, a PKCS#8 DER private key or an SPKI DER public key. */
function keyOf(material: string): Pick<AuditKey, 'publicKey' | 'privateKey'> {
  let privateKey: KeyObject | undefined;
  let publicKey: KeyObject;
  if (material.includes('-----BEGIN')) {
    const pem = material.replace(/\\n/g, '\n');
    if (/PRIVATE KEY/.test(pem)) privateKey = createPrivateKey(pem);
    publicKey = privateKey ? createPublicKey(privateKey) : createPublicKey(pem);
  } else {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(material)) throw new Error('not base64');
    const der = Buffer.from(material, 'base64');
    if (der.length === 32) privateKey = fromSeed(der);
    else {
      try {
        privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      } catch {
        privateKey = undefined;
      }
    }
    publicKey = privateKey
      ? createPublicKey(privateKey)
      : createPublicKey({ key: der, format: 'der', type: 'spki' });
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
  return { publicKey, ...(privateKey ? { privateKey } : {}) };
}

/**
 * Parses CORDON_AUDIT_KEYS: `id:key,…`, newest first. Errors name the variable and the entry, never the key.
 */
export function parseAuditKeys(value: string): AuditKey[] {
  const keys: AuditKey[] = [];
  for (const [i, entry] of value.split(',').entries()) {
    const at = entry.indexOf(':');
    const keyId = entry.slice(0, at).trim();
    const problem = (why: string) => new Error(`invalid configuration: ${VARIABLE} entry ${i + 1} ${why}`);
    if (at < 1 || !KEY_ID.test(keyId))
      throw problem('must be id:key with an ID of letters, digits, ".", "_" or "-" (64 at most)');
    if (keys.some((k) => k.keyId === keyId)) throw problem(`repeats the key ID ${keyId}`);
    try {
      keys.push({ keyId, ...keyOf(entry.slice(at + 1).trim()) });
    } catch {
      throw problem(
        'must hold an Ed25519 key: base64 of a 32-byte seed or of PKCS#8 DER, or PEM (a public key only for a retired one)',
      );
    }
  }
  if (!keys[0]?.privateKey)
    throw new Error(`invalid configuration: ${VARIABLE} entry 1 signs, so it must be a private key`);
  return keys;
}

/** The signing key and every published one. */
export class AuditKeyRing {
  constructor(readonly keys: readonly AuditKey[]) {
    if (!keys[0]?.privateKey) throw new Error('the first audit key must be a private key');
  }

  get signingKeyId(): string {
    return this.keys[0]!.keyId;
  }

  /** Ed25519 over the UTF-8 bytes of the value's canonical JSON (RFC 8785), base64. */
  sign(value: unknown): string {
    return sign(null, Buffer.from(canonicalJson(value), 'utf8'), this.keys[0]!.privateKey!).toString(
      'base64',
    );
  }

  published(): PublishedAuditKeys {
    return {
      keys: this.keys.map((k, i) => ({
        keyId: k.keyId,
        algorithm: 'Ed25519',
        publicKey: k.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
        publicKeyJwk: k.publicKey.export({ format: 'jwk' }),
        signing: i === 0,
      })),
    };
  }
}

/**
 * The API's audit keys: CORDON_AUDIT_KEYS; unset in development, a key created once in the data folder (its ID
 * names its fingerprint, so two data folders' keys are told apart). Production refuses to start without it.
 */
export function auditKeysFromConfig(config: {
  mode: string;
  dataDir: string;
  auditKeys?: string;
}): AuditKeyRing {
  if (config.auditKeys) return new AuditKeyRing(parseAuditKeys(config.auditKeys));
  if (config.mode === 'production')
    throw new Error(`invalid configuration: production mode needs ${VARIABLE} (id:base64key,...)`);
  const privateKey = fromSeed(devSecret(config.dataDir, 'audit-signing-key', 32));
  const publicKey = createPublicKey(privateKey);
  const fingerprint = createHash('sha256')
    .update(publicKey.export({ format: 'der', type: 'spki' }))
    .digest('hex')
    .slice(0, 12);
  return new AuditKeyRing([{ keyId: `dev-${fingerprint}`, publicKey, privateKey }]);
}

/**
 * The public keys of a GET /v1/audit-keys answer, by key ID (PEM, else JWK). Throws, saying why, for anything
 * else: a verifier must never fall back to a key from somewhere else.
 */
export function publishedKeysOf(json: unknown): Map<string, KeyObject> {
  const list = (json as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list) || list.length === 0) throw new Error('no "keys" list');
  const keys = new Map<string, KeyObject>();
  for (const [i, k] of (list as Partial<PublishedAuditKey>[]).entries()) {
    if (typeof k?.keyId !== 'string' || !KEY_ID.test(k.keyId))
      throw new Error(`key ${i + 1}: no valid keyId`);
    let key: KeyObject;
    try {
      key =
        typeof k.publicKey === 'string'
          ? createPublicKey(k.publicKey)
          : createPublicKey({ key: k.publicKeyJwk as JsonWebKey, format: 'jwk' });
    } catch {
      throw new Error(`key ${k.keyId}: no public key (PEM or JWK) that can be read`);
    }
    if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519')
      throw new Error(`key ${k.keyId}: not an Ed25519 public key`);
    keys.set(k.keyId, key);
  }
  return keys;
}

/** Whether the signature (base64) is the key's Ed25519 signature over the value's canonical JSON. */
export function signatureValid(publicKey: KeyObject, value: unknown, signature: string): boolean {
  if (!/^[A-Za-z0-9+/]{86}==$/.test(signature)) return false;
  try {
    return verify(
      null,
      Buffer.from(canonicalJson(value), 'utf8'),
      publicKey,
      Buffer.from(signature, 'base64'),
    );
  } catch {
    return false;
  }
}
