// A real S3-compatible server for the tests: moto's server (scripts/moto.ts installs it from PyPI into .tools/)
// on a free port of 127.0.0.1, with its IAM checks on, so every request must carry a valid SigV4 signature
// from an access key it issued, allowed by that key's policy: a signing mistake fails as it would on AWS.
import { freePort } from '../../scripts/dev-server';
import { MotoUnavailable, startMoto, type MotoServer } from '../../scripts/moto';

export interface TestS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** CORDON_EVIDENCE_URL for a bucket (and prefix) on this server, credentials in the URL. */
  evidenceUrl(bucket: string, prefix?: string): string;
  /**
   * moto decodes a query before checking its signature, so a listing whose prefix holds "/" (signed as %2F, as
   * S3 requires) fails its check only; a test of such a listing turns the check off meanwhile.
   */
  signatureChecks(on: boolean): Promise<void>;
  stop(): Promise<void>;
}

/** IAM's query API, answered by moto before its checks are on (nothing to sign yet). */
async function iam(endpoint: string, params: Record<string, string>): Promise<string> {
  const res = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      // moto routes by the service the credential scope names.
      authorization:
        'AWS4-HMAC-SHA256 Credential=setup/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: new URLSearchParams({ ...params, Version: '2010-05-08' }).toString(),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`moto IAM ${params.Action} answered ${res.status}: ${text.slice(0, 300)}`);
  return text;
}

async function resetAuth(endpoint: string, count: string): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/reset-auth`, { method: 'POST', body: count });
  if (!res.ok) throw new Error(`moto reset-auth answered ${res.status}`);
}

export async function startS3(): Promise<TestS3> {
  const moto: MotoServer = await startMoto(await freePort());
  try {
    await iam(moto.endpoint, { Action: 'CreateUser', UserName: 'cordon' });
    const created = await iam(moto.endpoint, { Action: 'CreateAccessKey', UserName: 'cordon' });
    await iam(moto.endpoint, {
      Action: 'PutUserPolicy',
      UserName: 'cordon',
      PolicyName: 'evidence',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
      }),
    });
    const accessKeyId = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(created)?.[1];
    const secretAccessKey = /<SecretAccessKey>([^<]+)<\/SecretAccessKey>/.exec(created)?.[1];
    if (!accessKeyId || !secretAccessKey) throw new Error('moto issued no access key');
    await resetAuth(moto.endpoint, '0');
    const host = new URL(moto.endpoint).host;
    return {
      endpoint: moto.endpoint,
      accessKeyId,
      secretAccessKey,
      evidenceUrl: (bucket, prefix = '') =>
        `s3+http://${encodeURIComponent(accessKeyId)}:${encodeURIComponent(secretAccessKey)}@${host}/${bucket}` +
        `${prefix ? `/${prefix}` : ''}?region=eu-west-1`,
      signatureChecks: (on) => resetAuth(moto.endpoint, on ? '0' : 'inf'),
      stop: () => moto.stop(),
    };
  } catch (err) {
    await moto.stop();
    throw err;
  }
}

/**
 * For a before() hook: a server (stop it in after()), or a skip naming why it cannot be had here (pip cannot
 * reach PyPI). In CI nothing is skipped: the error fails the run.
 */
export async function s3OrSkip(ctx: Mocha.Context): Promise<TestS3> {
  try {
    return await startS3();
  } catch (err) {
    if (err instanceof MotoUnavailable && !process.env.CI) {
      process.stderr.write(`      skipped: no S3-compatible server here: ${err.message}\n`);
      ctx.skip();
    }
    throw err;
  }
}
