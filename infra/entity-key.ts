// Entity values (a device ID, an IP, a payee's account…) are personal data. The API replaces each with a keyed
// hash (HMAC-SHA256 under CORDON_ENTITY_KEY) the moment an event is accepted, before anything counts, stores or
// logs it: features and linked accounts only ever need to know that two events named the same value, never
// what it was. Without the key a stored hash cannot be tested against guesses (an IP's 2^32 values would
// otherwise fall to a plain hash in seconds). docs/features.md.
import { createHmac } from 'node:crypto';
import { ENTITY_KINDS, type Entities, type EntityKind } from '../core/events';
import { devSecret } from './dev-secrets';

const VARIABLE = 'CORDON_ENTITY_KEY';
/** 128 bits of the MAC, base64url: collisions stay out of reach, and a row stays small. */
const HASH_CHARS = 22;

export class EntityHasher {
  constructor(private readonly key: Buffer) {
    if (key.length < 32) throw new Error(`invalid configuration: ${VARIABLE} must be 32 or more bytes`);
  }

  /** The kind is part of the MAC: one value as a device and as a payee names two different things. */
  hash(kind: EntityKind, value: string): string {
    return createHmac('sha256', this.key)
      .update(`${kind}\u0000${value}`)
      .digest('base64url')
      .slice(0, HASH_CHARS);
  }

  /** Every value of an event's entities hashed, in the same shape (undefined stays undefined). */
  hashAll(entities: Entities | undefined): Entities | undefined {
    if (!entities) return undefined;
    const out: Entities = {};
    for (const kind of ENTITY_KINDS) {
      const value = entities[kind];
      if (value !== undefined) out[kind] = this.hash(kind, value);
    }
    return out;
  }
}

/**
 * The API's hasher: CORDON_ENTITY_KEY (base64, 32+ bytes); unset in development, a key created once in the data
 * folder. Production refuses to start without it. Errors name the variable, never the key.
 */
export function entityHasherFromConfig(config: {
  mode: string;
  dataDir: string;
  entityKey?: string | undefined;
}): EntityHasher {
  if (config.entityKey) {
    const material = config.entityKey.trim();
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(material))
      throw new Error(`invalid configuration: ${VARIABLE} must be base64 of 32 or more random bytes`);
    return new EntityHasher(Buffer.from(material, 'base64'));
  }
  if (config.mode === 'production')
    throw new Error(`invalid configuration: production mode needs ${VARIABLE} (base64 of 32+ random bytes)`);
  return new EntityHasher(devSecret(config.dataDir, 'entity-key', 32));
}
