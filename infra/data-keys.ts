// Per-account data keys: everything personal Cordon keeps in its own database (and evidence files) is sealed under
// a random 32-byte key of the account it belongs to, and only that key's wrapped form is stored (table
// account_keys, one row per account). Destroying an account's row makes all of its sealed data unreadable
// wherever it is copied: what erasure relies on. (A database backup holds the wrapped key too, until every codec
// key that wrapped it is rotated away: docs/security.md, "Erasure and backups".)
//
//   CORDON_CODEC_KEYS (id:key, newest first)            configured, never stored
//     └─ wrapping key  = HKDF-SHA256(codec key, "cordon-data-keys/v1"), same ID
//          └─ account data key (random, per account)    stored wrapped: AES-256-GCM, AAD = wrap key ID, account,
//               │                                        data key ID
//               └─ sealed fields "cdk1:<dataKeyId>:<base64 IV ‖ ciphertext ‖ tag>", AAD = account, data key ID,
//                  field name (so a value moved to another account or column fails instead of decrypting)
//
// Wrapping keys rotate like the codec's: new data keys are wrapped with the newest, older wraps stay readable
// while their key is listed, and `npm run keys -- rewrap` moves every wrap to the newest key (the sealed data
// itself does not change). Unwrapped keys are cached per process, bounded and for minutes only, so a key
// destroyed by another process stops being used soon.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { CodecKey } from './codec';
import type { Database } from './database';
import { devSecret } from './dev-secrets';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
/** The envelope of a sealed field. A value without it is plaintext as written before 0.5 (still read). */
export const SEALED_PREFIX = 'cdk1:';

export interface WrapKey {
  id: string;
  key: Buffer;
}

export interface DataKey {
  accountId: string;
  /** Random, per key: names the key a value was sealed with, so one sealed under a destroyed key says so. */
  id: string;
  key: Buffer;
}

/** Wrapping keys derived from the payload codec's (one label per purpose, as evidence keys are). */
export function wrapKeysFrom(codecKeys: readonly CodecKey[]): WrapKey[] {
  return codecKeys.map(({ id, key }) => ({
    id,
    key: Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'cordon-data-keys/v1', KEY_BYTES)),
  }));
}

/** CORDON_CODEC_KEYS when given; otherwise (development) the codec key created once in the data folder. */
export function wrapKeysOf(o: { codecKeys?: readonly CodecKey[]; dataDir: string }): WrapKey[] {
  return wrapKeysFrom(
    o.codecKeys?.length ? o.codecKeys : [{ id: 'dev', key: devSecret(o.dataDir, 'codec-key') }],
  );
}

let processLocal: WrapKey[] | undefined;
/**
 * For a Store made on a bare database handle (tests that own their database): a wrapping key that lives as long
 * as this process and is never stored. Every configured process goes through openStore, which never uses it.
 */
export function processLocalWrapKeys(): WrapKey[] {
  processLocal ??= [{ id: 'process', key: randomBytes(KEY_BYTES) }];
  return processLocal;
}

/** AES-256-GCM as the codec does it: a random 12-byte IV ‖ ciphertext ‖ 16-byte tag. */
export function gcmSeal(key: Buffer, aad: string, plain: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  return Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

/** Opens what gcmSeal sealed; null when it does not (altered, another key, another AAD). */
export function gcmOpen(key: Buffer, aad: string, sealed: Buffer): Buffer | null {
  if (sealed.length < IV_BYTES + TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    return null;
  }
}

/** A data key that cannot be had. Names the account and key IDs only (account IDs are no secret here). */
export class DataKeyError extends Error {
  override readonly name = 'DataKeyError';
  constructor(
    readonly reason: 'GONE' | 'WRAP_KEY_UNKNOWN' | 'DOES_NOT_OPEN',
    readonly accountId: string,
    message: string,
  ) {
    super(message);
  }
}

interface KeyRow {
  account_id: string;
  data_key_id: string;
  wrap_key_id: string;
  wrapped: string;
  [k: string]: unknown;
}

const wrapAad = (wrapKeyId: string, accountId: string, dataKeyId: string) =>
  `cdk-wrap|${wrapKeyId}|${accountId}|${dataKeyId}`;
const fieldAad = (accountId: string, dataKeyId: string, field: string) =>
  `cdk1|${accountId}|${dataKeyId}|${field}`;

export interface RewrapProgress {
  /** Rows wrapped with an older key when the run began. */
  total: number;
  rewrapped: number;
  /** Accounts whose key is wrapped with a key no longer configured: left as they are. */
  unreadable: string[];
}

/** One handle per database: the Store registers its keys, so the evidence store shares them (and their cache). */
const byDatabase = new WeakMap<Database, DataKeys>();
export function registeredDataKeys(db: Database): DataKeys | undefined {
  return byDatabase.get(db);
}

export class DataKeys {
  private readonly wrapKeys: ReadonlyMap<string, WrapKey>;
  private readonly newest: WrapKey;
  private readonly cache = new Map<string, { key: DataKey; until: number }>();
  private readonly loading = new Map<string, Promise<DataKey | null>>();
  private readonly maxCached: number;
  private readonly ttlMs: number;

  constructor(
    readonly db: Database,
    wrapKeys: readonly WrapKey[],
    o: { maxCached?: number; ttlMs?: number; register?: boolean } = {},
  ) {
    const newest = wrapKeys[0];
    if (!newest) throw new Error('data keys need at least one wrapping key');
    this.newest = newest;
    this.wrapKeys = new Map(wrapKeys.map((k) => [k.id, k]));
    this.maxCached = o.maxCached ?? 10_000;
    this.ttlMs = o.ttlMs ?? 5 * 60_000;
    if (o.register) byDatabase.set(db, this);
  }

  /** The key ID new data keys are wrapped with. */
  get newestWrapKeyId(): string {
    return this.newest.id;
  }

  /** The account's data key, created on first use (by whichever process inserts first; the others read it). */
  async current(accountId: string): Promise<DataKey> {
    const cached = this.cached(accountId);
    if (cached) return cached;
    const found = await this.load(accountId);
    if (found) return found;
    const id = randomBytes(6).toString('base64url');
    const key = randomBytes(KEY_BYTES);
    const wrapped = gcmSeal(this.newest.key, wrapAad(this.newest.id, accountId, id), key);
    const now = Date.now();
    await this.db.run(
      `INSERT INTO account_keys (account_id, data_key_id, wrap_key_id, wrapped, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id) DO NOTHING`,
      [accountId, id, this.newest.id, wrapped.toString('base64'), now, now],
    );
    const winner = await this.load(accountId);
    if (!winner)
      throw new DataKeyError('GONE', accountId, `account ${accountId}: its data key was removed meanwhile`);
    return winner;
  }

  /** The key a value names; DataKeyError GONE when the account's key is not that one any more (destroyed). */
  async byId(accountId: string, id: string): Promise<DataKey> {
    const cached = this.cached(accountId);
    if (cached?.id === id) return cached;
    // A cached key of another ID may be stale (destroyed and made again elsewhere): read the row.
    if (cached) this.cache.delete(accountId);
    const found = await this.load(accountId);
    if (found?.id === id) return found;
    throw new DataKeyError(
      'GONE',
      accountId,
      `account ${accountId}: data key ${id} no longer exists (erased?)`,
    );
  }

  /** Loads the keys of many accounts in a few queries (pages of a report, a batch of messages). */
  async preload(accountIds: Iterable<string>): Promise<void> {
    const missing = [...new Set(accountIds)].filter((a) => !this.cached(a));
    for (let i = 0; i < missing.length; i += 100) {
      const chunk = missing.slice(i, i + 100);
      const rows = await this.db.query<KeyRow>(
        `SELECT account_id, data_key_id, wrap_key_id, wrapped FROM account_keys
         WHERE account_id IN (${chunk.map(() => '?').join(', ')})`,
        chunk,
      );
      for (const row of rows) this.remember(this.unwrap(row));
    }
  }

  /** Drops an account's key from this process's cache (its row is being destroyed). */
  forget(accountId: string): void {
    this.cache.delete(accountId);
  }

  /**
   * Destroys the account's data key (erasure): everything sealed under it, wherever a copy is, no longer opens
   * (DataKeyError GONE). Other processes stop using a cached copy within the cache's lifetime (5 minutes).
   * Answers whether there was a key.
   */
  async destroy(accountId: string): Promise<boolean> {
    this.forget(accountId);
    const removed = await this.db.run('DELETE FROM account_keys WHERE account_id = ?', [accountId]);
    this.forget(accountId); // a read that raced the delete may have cached it again
    return removed > 0;
  }

  /** Seals a field's text under the account's key. */
  async seal(accountId: string, field: string, plain: string): Promise<string> {
    const k = await this.current(accountId);
    const sealed = gcmSeal(k.key, fieldAad(accountId, k.id, field), Buffer.from(plain, 'utf8'));
    return `${SEALED_PREFIX}${k.id}:${sealed.toString('base64')}`;
  }

  /** The text of a sealed field; a value without the envelope is returned as it is (written before 0.5). */
  async open(accountId: string, field: string, stored: string): Promise<string> {
    if (!stored.startsWith(SEALED_PREFIX)) return stored;
    const colon = stored.indexOf(':', SEALED_PREFIX.length);
    const id = stored.slice(SEALED_PREFIX.length, colon);
    const k = colon > 0 ? await this.byId(accountId, id) : undefined;
    const plain =
      k && gcmOpen(k.key, fieldAad(accountId, id, field), Buffer.from(stored.slice(colon + 1), 'base64'));
    if (!plain)
      throw new DataKeyError(
        'DOES_NOT_OPEN',
        accountId,
        `account ${accountId}: a sealed ${field} does not decrypt`,
      );
    return plain.toString('utf8');
  }

  /**
   * Re-wraps every data key wrapped with an older key under the newest one, a page at a time. Idempotent and
   * resumable: a row already under the newest key is not selected, and each update names the wrap it replaces.
   */
  async rewrap(
    o: { batch?: number; onProgress?: (p: RewrapProgress) => void } = {},
  ): Promise<RewrapProgress> {
    const newest = this.newest.id;
    const [count] = await this.db.query<{ n: number }>(
      'SELECT COUNT(*) AS n FROM account_keys WHERE wrap_key_id <> ?',
      [newest],
    );
    const progress: RewrapProgress = { total: Number(count?.n ?? 0), rewrapped: 0, unreadable: [] };
    let after = '';
    for (;;) {
      const rows = await this.db.query<KeyRow>(
        `SELECT account_id, data_key_id, wrap_key_id, wrapped FROM account_keys
         WHERE wrap_key_id <> ? AND account_id > ? ORDER BY account_id LIMIT ?`,
        [newest, after, o.batch ?? 500],
      );
      if (rows.length === 0) return progress;
      for (const row of rows) {
        let key: DataKey;
        try {
          key = this.unwrap(row);
        } catch {
          progress.unreadable.push(row.account_id);
          continue;
        }
        const wrapped = gcmSeal(this.newest.key, wrapAad(newest, key.accountId, key.id), key.key);
        progress.rewrapped += await this.db.run(
          `UPDATE account_keys SET wrap_key_id = ?, wrapped = ?, updated_at = ?
           WHERE account_id = ? AND data_key_id = ? AND wrap_key_id = ?`,
          [newest, wrapped.toString('base64'), Date.now(), row.account_id, row.data_key_id, row.wrap_key_id],
        );
      }
      after = rows[rows.length - 1]!.account_id;
      o.onProgress?.(progress);
    }
  }

  private cached(accountId: string): DataKey | undefined {
    const entry = this.cache.get(accountId);
    if (!entry) return undefined;
    this.cache.delete(accountId);
    if (entry.until <= Date.now()) return undefined;
    this.cache.set(accountId, entry); // most recently used last
    return entry.key;
  }

  private remember(key: DataKey): DataKey {
    this.cache.delete(key.accountId);
    if (this.cache.size >= this.maxCached) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key.accountId, { key, until: Date.now() + this.ttlMs });
    return key;
  }

  /** The account's stored key, unwrapped (null: none yet). Concurrent callers share one read. */
  private load(accountId: string): Promise<DataKey | null> {
    let pending = this.loading.get(accountId);
    if (!pending) {
      pending = this.db
        .query<KeyRow>(
          'SELECT account_id, data_key_id, wrap_key_id, wrapped FROM account_keys WHERE account_id = ?',
          [accountId],
        )
        .then((rows) => (rows[0] ? this.remember(this.unwrap(rows[0])) : null))
        .finally(() => this.loading.delete(accountId));
      this.loading.set(accountId, pending);
    }
    return pending;
  }

  private unwrap(row: KeyRow): DataKey {
    const w = this.wrapKeys.get(row.wrap_key_id);
    if (!w)
      throw new DataKeyError(
        'WRAP_KEY_UNKNOWN',
        row.account_id,
        `account ${row.account_id}: its data key is wrapped with key ID "${row.wrap_key_id}", which is not ` +
          'configured: add that key to CORDON_CODEC_KEYS',
      );
    const key = gcmOpen(
      w.key,
      wrapAad(w.id, row.account_id, row.data_key_id),
      Buffer.from(row.wrapped, 'base64'),
    );
    if (!key || key.length !== KEY_BYTES)
      throw new DataKeyError(
        'DOES_NOT_OPEN',
        row.account_id,
        `account ${row.account_id}: its data key does not unwrap with key ID "${w.id}" (another key with that ID?)`,
      );
    return { accountId: row.account_id, id: row.data_key_id, key };
  }
}
