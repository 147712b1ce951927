// Evidence in an S3-compatible object store, named by CORDON_EVIDENCE_URL:
//
//   s3://ACCESS_KEY_ID:SECRET_ACCESS_KEY@HOST[:PORT]/BUCKET[/PREFIX]?region=REGION   (HTTPS)
//   s3+http://…                                                                    (plain HTTP: local servers)
//
// Credentials percent-encoded in the URL, else AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)
// from the environment; the region from ?region=, else AWS_REGION / AWS_DEFAULT_REGION, else us-east-1.
// Objects are named PREFIX + reference (opaque: no personal data) and hold the same sealed bytes as the local
// folder's files (client-side encryption: the object store only ever sees ciphertext).
import { evidenceRef } from './seal';
import { sealerOf, type EvidenceSealer } from './sealer';
import { S3Client, type S3Credentials, type S3Location } from './s3-client';
import {
  EVIDENCE_REF,
  type EvidenceKey,
  type EvidenceMeta,
  type EvidenceStore,
  type ResealableEvidence,
  type SealedEvidenceTarget,
  type StoredEvidence,
} from './types';

export interface EvidenceUrl extends S3Location {
  /** Prepended to every reference: empty, or ending in `/`. */
  prefix: string;
  /** The URL without its credentials: what may be logged. */
  display: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX = /^[A-Za-z0-9!_.*'()/-]*$/;
const REGION = /^[a-z0-9-]{1,32}$/;

/** Parses CORDON_EVIDENCE_URL; errors name the variable and what is wrong, never the URL (it may hold a secret). */
export function parseEvidenceUrl(text: string, env: NodeJS.ProcessEnv = process.env): EvidenceUrl {
  const bad = (what: string) => new Error(`invalid configuration: CORDON_EVIDENCE_URL ${what}`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad(
      'is not a URL: expected s3://KEY_ID:SECRET@HOST[:PORT]/BUCKET[/PREFIX]?region=REGION, with / + @ : in ' +
        'the secret percent-encoded',
    );
  }
  const scheme = { 's3:': 'https:', 's3+http:': 'http:' }[url.protocol];
  if (!scheme) throw bad('must start with s3:// (HTTPS) or s3+http:// (plain HTTP)');
  if (!url.hostname) throw bad('names no host');
  const [bucket = '', ...rest] = url.pathname.replace(/^\//, '').split('/');
  if (!BUCKET.test(bucket)) throw bad('must name a bucket (3-63 lower-case letters, digits, dots, hyphens)');
  let prefix = decodeURIComponent(rest.join('/'));
  if (!PREFIX.test(prefix)) throw bad('has a prefix with characters S3 keys should not hold');
  if (prefix && !prefix.endsWith('/')) prefix += '/';
  for (const name of url.searchParams.keys())
    if (name !== 'region') throw bad(`has an unknown parameter "${name}" (only region is known)`);
  const region = url.searchParams.get('region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  if (!REGION.test(region)) throw bad('has a region that is not a region name');
  let credentials: S3Credentials;
  if (url.username || url.password) {
    if (!url.username || !url.password)
      throw bad('must give both the access key ID and the secret, or neither');
    credentials = {
      accessKeyId: decodeURIComponent(url.username),
      secretAccessKey: decodeURIComponent(url.password),
    };
  } else if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    credentials = {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
  } else throw bad('has no credentials, and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set');
  const endpoint = `${scheme}//${url.host}`;
  return {
    endpoint,
    bucket,
    prefix,
    region,
    credentials,
    display: `${url.protocol}//${url.host}/${bucket}/${prefix} (region ${region})`,
  };
}

export class S3EvidenceStore implements EvidenceStore, SealedEvidenceTarget, ResealableEvidence {
  readonly client: S3Client;
  private readonly prefix: string;
  private readonly sealer: EvidenceSealer;

  constructor(
    at: EvidenceUrl,
    keys: readonly EvidenceKey[] | EvidenceSealer,
    private readonly clock: () => number = Date.now,
  ) {
    this.sealer = sealerOf(keys);
    this.client = new S3Client(at);
    this.prefix = at.prefix;
  }

  /** The object a reference is kept in. */
  objectKey(ref: string): string {
    return `${this.prefix}${ref}`;
  }

  async put(
    content: Buffer,
    meta: Omit<EvidenceMeta, 'size' | 'createdAt'>,
    o: { idempotencyKey?: string } = {},
  ): Promise<{ ref: string; created: boolean }> {
    const ref = evidenceRef(this.sealer.keys, content, o.idempotencyKey);
    const full: EvidenceMeta = { ...meta, size: content.length, createdAt: this.clock() };
    const created = await this.putSealed(ref, await this.sealer.seal(ref, content, full));
    return { ref, created };
  }

  /**
   * A conditional write (If-None-Match: *): a reference already kept (a form sent twice) is left as it is.
   * A server without conditional writes would replace it with an equal file, which is as good.
   */
  async putSealed(ref: string, sealed: Buffer): Promise<boolean> {
    if (!EVIDENCE_REF.test(ref)) throw new Error('not an evidence reference');
    return this.client.putObject(this.objectKey(ref), sealed, { ifAbsent: true });
  }

  async get(ref: string): Promise<StoredEvidence | null> {
    if (!EVIDENCE_REF.test(ref)) return null;
    const file = await this.client.getObject(this.objectKey(ref));
    return file && this.sealer.open(ref, file);
  }

  async getSealed(ref: string): Promise<Buffer | null> {
    return EVIDENCE_REF.test(ref) ? this.client.getObject(this.objectKey(ref)) : null;
  }

  /** An object store has no compare-and-swap: the bytes are compared, then the object written over. */
  async replaceSealed(ref: string, sealed: Buffer, previous: Buffer): Promise<boolean> {
    if (!(await this.getSealed(ref))?.equals(previous)) return false;
    await this.client.putObject(this.objectKey(ref), sealed);
    return true;
  }

  async *allRefs(): AsyncGenerator<string> {
    for await (const { key } of this.client.listObjects(this.prefix)) {
      const ref = key.slice(this.prefix.length);
      if (EVIDENCE_REF.test(ref)) yield ref;
    }
  }

  async delete(ref: string): Promise<void> {
    if (!EVIDENCE_REF.test(ref)) return;
    await this.client.deleteObject(this.objectKey(ref));
  }

  /**
   * The listing gives each object's time; its case is inside the sealed bytes, so each old object is read
   * (an object store has no column to ask). Objects under the prefix that are not references are left alone.
   */
  async *listBefore(before: number): AsyncGenerator<{ ref: string; caseId?: string }> {
    for await (const { key, lastModified } of this.client.listObjects(this.prefix)) {
      const ref = key.slice(this.prefix.length);
      if (!EVIDENCE_REF.test(ref) || !(lastModified < before)) continue;
      const file = await this.client.getObject(key);
      if (!file) continue; // removed meanwhile
      const caseId = await this.sealer.caseIdOf(ref, file);
      yield { ref, ...(caseId ? { caseId } : {}) };
    }
  }
}
