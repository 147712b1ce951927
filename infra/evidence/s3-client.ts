// The few S3 calls the evidence store makes (PUT, GET, DELETE an object; ListObjectsV2; create a
// bucket), signed with AWS Signature Version 4 on Node's fetch, path-style (http(s)://host/bucket/key), so any
// S3-compatible server works without a virtual-host DNS name per bucket. No SDK: these calls are all it needs.
// Credentials go into the signature only: never into an error message or a log line.
import { createHash, createHmac } from 'node:crypto';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials (AWS_SESSION_TOKEN) come with one. */
  sessionToken?: string;
}

export interface S3Location {
  /** `https://host[:port]` or `http://host[:port]`. */
  endpoint: string;
  bucket: string;
  region: string;
  credentials: S3Credentials;
}

/** An answer S3 gave that was not what was asked for: the status and S3's error code, nothing else. */
export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    what: string,
  ) {
    super(`S3 ${what} answered ${status}${code ? ` ${code}` : ''}`);
  }
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 percent-encoding, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
const encode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Time-outs and retries: a slow or briefly failing server is retried, a refusal is not. */
const TIMEOUT_MS = 30_000;
const ATTEMPTS = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface S3Answer {
  status: number;
  headers: Headers;
  body: Buffer;
}

export class S3Client {
  private readonly endpoint: URL;

  constructor(private readonly at: S3Location) {
    this.endpoint = new URL(at.endpoint);
  }

  /**
   * One signed request; answers any status in `ok`, else throws S3Error. Network failures and 5xx/429 are tried
   * again (every call here is idempotent); the last failure keeps its cause, so an unreachable server shows as
   * the socket error it is.
   */
  async send(
    method: 'GET' | 'PUT' | 'DELETE',
    key: string | undefined,
    o: { query?: Record<string, string>; body?: Buffer; headers?: Record<string, string>; ok: number[] },
  ): Promise<S3Answer> {
    const what = `${method} ${key === undefined ? `bucket ${this.at.bucket}` : 'object'}`;
    for (let attempt = 1; ; attempt++) {
      let answer: S3Answer | undefined;
      try {
        answer = await this.once(method, key, o);
      } catch (err) {
        if (attempt >= ATTEMPTS)
          throw new Error(`S3 ${what} failed: ${(err as Error).message}`, { cause: err });
      }
      if (answer) {
        if (o.ok.includes(answer.status)) return answer;
        const retry = answer.status >= 500 || answer.status === 429;
        if (!retry || attempt >= ATTEMPTS) throw new S3Error(answer.status, errorCode(answer.body), what);
      }
      await sleep(100 * 4 ** (attempt - 1));
    }
  }

  private async once(
    method: string,
    key: string | undefined,
    o: { query?: Record<string, string>; body?: Buffer; headers?: Record<string, string> },
  ): Promise<S3Answer> {
    const path = `/${encode(this.at.bucket)}${key === undefined ? '' : `/${key.split('/').map(encode).join('/')}`}`;
    // Sorted by encoded name, as the signature's canonical form wants (names are unique here).
    const query = Object.entries(o.query ?? {})
      .map(([k, v]) => [encode(k), encode(v)] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const body = o.body ?? Buffer.alloc(0);
    const now = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, ''); // 20260101T000000Z
    const day = now.slice(0, 8);
    const signed: Record<string, string> = {
      host: this.endpoint.host,
      'x-amz-content-sha256': sha256(body),
      'x-amz-date': now,
      ...(this.at.credentials.sessionToken
        ? { 'x-amz-security-token': this.at.credentials.sessionToken }
        : {}),
    };
    const names = Object.keys(signed).sort();
    const canonical = [
      method,
      path,
      query,
      ...names.map((n) => `${n}:${signed[n]!.trim()}`),
      '',
      names.join(';'),
      signed['x-amz-content-sha256'],
    ].join('\n');
    const scope = `${day}/${this.at.region}/s3/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', now, scope, sha256(canonical)].join('\n');
    let signingKey = hmac(`AWS4${this.at.credentials.secretAccessKey}`, day);
    for (const part of [this.at.region, 's3', 'aws4_request']) signingKey = hmac(signingKey, part);
    const signature = createHmac('sha256', signingKey).update(toSign).digest('hex');
    const { host: _host, ...sent } = signed; // fetch sets Host itself, from the same URL
    const res = await fetch(`${this.endpoint.origin}${path}${query ? `?${query}` : ''}`, {
      method,
      headers: {
        ...sent,
        ...o.headers,
        authorization:
          `AWS4-HMAC-SHA256 Credential=${this.at.credentials.accessKeyId}/${scope}, ` +
          `SignedHeaders=${names.join(';')}, Signature=${signature}`,
      },
      body: method === 'PUT' ? body : undefined,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  }

  /** Writes an object; with `ifAbsent`, only when the key is free (answers false when it was taken). */
  async putObject(key: string, body: Buffer, o: { ifAbsent?: boolean } = {}): Promise<boolean> {
    const answer = await this.send('PUT', key, {
      body,
      headers: {
        'content-type': 'application/octet-stream',
        ...(o.ifAbsent ? { 'if-none-match': '*' } : {}),
      },
      ok: [200, 412],
    });
    return answer.status === 200;
  }

  /** The object's bytes, or null when there is none (a missing bucket is an error, not an empty one). */
  async getObject(key: string): Promise<Buffer | null> {
    const answer = await this.send('GET', key, { ok: [200, 404] });
    if (answer.status === 200) return answer.body;
    const code = errorCode(answer.body);
    if (code !== 'NoSuchKey') throw new S3Error(404, code, 'GET object');
    return null;
  }

  /** S3 answers 204 for a key that is not there too. */
  async deleteObject(key: string): Promise<void> {
    await this.send('DELETE', key, { ok: [200, 204] });
  }

  /** Every object under a prefix with its last-modified time, a page (up to 1,000) at a time. */
  async *listObjects(prefix: string): AsyncGenerator<{ key: string; lastModified: number }> {
    let token: string | undefined;
    do {
      const answer = await this.send('GET', undefined, {
        query: { 'list-type': '2', prefix, ...(token ? { 'continuation-token': token } : {}) },
        ok: [200],
      });
      const xml = answer.body.toString('utf8');
      for (const [, item] of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
        const key = /<Key>([^<]*)<\/Key>/.exec(item!)?.[1];
        const modified = /<LastModified>([^<]*)<\/LastModified>/.exec(item!)?.[1];
        if (key !== undefined && modified)
          yield { key: unescapeXml(key), lastModified: Date.parse(modified) };
      }
      const truncated = /<IsTruncated>true<\/IsTruncated>/.test(xml);
      token = truncated
        ? unescapeXml(/<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml)?.[1] ?? '')
        : undefined;
    } while (token);
  }

  /** Creates the bucket (tests, and a first start against an empty server); one that is already ours is fine. */
  async createBucket(): Promise<void> {
    const body =
      this.at.region === 'us-east-1'
        ? undefined
        : Buffer.from(
            `<CreateBucketConfiguration><LocationConstraint>${this.at.region}</LocationConstraint></CreateBucketConfiguration>`,
          );
    const answer = await this.send('PUT', undefined, { body, ok: [200, 409] });
    const code = errorCode(answer.body);
    if (answer.status === 409 && code !== 'BucketAlreadyOwnedByYou')
      throw new S3Error(409, code, `PUT bucket ${this.at.bucket}`);
  }
}

/** S3's error code (NoSuchKey, AccessDenied, …) from an error answer's XML. */
function errorCode(body: Buffer): string | undefined {
  return /<Code>([A-Za-z0-9.]{1,64})<\/Code>/.exec(body.toString('utf8'))?.[1];
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}
