// The object store behind CORDON_EVIDENCE_URL: the URL's form and its errors (which never show a secret), and
// against a real S3-compatible server (moto's, with its signature checks on): a wrong secret is refused, a
// missing bucket is an error rather than an empty store, a prefix keeps Cordon's objects apart.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { parseConfig } from '../infra/config';
import { S3Error } from '../infra/evidence/s3-client';
import { S3EvidenceStore, parseEvidenceUrl } from '../infra/evidence/s3-store';
import { evidenceKeysFrom } from '../infra/evidence/seal';
import { s3OrSkip, type TestS3 } from './helpers/s3';
import { requires } from './helpers/requirements';

const keys = evidenceKeysFrom([{ id: 'k1', key: randomBytes(32) }]);
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCY';

describe('CORDON_EVIDENCE_URL', () => {
  it('names endpoint, bucket, prefix, region and credentials; s3+http:// is plain HTTP', () => {
    const at = parseEvidenceUrl(
      `s3://AKIDEXAMPLE:${encodeURIComponent(SECRET)}@objects.example.com/cordon-evidence/prod/files?region=eu-central-1`,
      {},
    );
    assert.deepEqual(
      { endpoint: at.endpoint, bucket: at.bucket, prefix: at.prefix, region: at.region },
      {
        endpoint: 'https://objects.example.com',
        bucket: 'cordon-evidence',
        prefix: 'prod/files/',
        region: 'eu-central-1',
      },
    );
    assert.deepEqual(at.credentials, { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET });
    assert.ok(!at.display.includes(SECRET) && !at.display.includes('AKIDEXAMPLE'), at.display);
    const local = parseEvidenceUrl('s3+http://k:s@127.0.0.1:9000/bucket', {});
    assert.deepEqual(
      [local.endpoint, local.prefix, local.region],
      ['http://127.0.0.1:9000', '', 'us-east-1'],
    );
  });

  it('takes credentials and region from the AWS variables when the URL has none', () => {
    const at = parseEvidenceUrl('s3://s3.eu-west-1.amazonaws.com/cordon-evidence', {
      AWS_ACCESS_KEY_ID: 'AKIDENV',
      AWS_SECRET_ACCESS_KEY: SECRET,
      AWS_SESSION_TOKEN: 'token',
      AWS_REGION: 'eu-west-1',
    });
    assert.deepEqual(at.credentials, {
      accessKeyId: 'AKIDENV',
      secretAccessKey: SECRET,
      sessionToken: 'token',
    });
    assert.equal(at.region, 'eu-west-1');
  });

  it('refuses a wrong URL naming the variable and the fault, never the secret', () => {
    const secret = encodeURIComponent(SECRET);
    const cases: [string, RegExp][] = [
      [`s3://k:${secret}@host`, /must name a bucket/],
      [`s3://k:${secret}@host/UPPER`, /must name a bucket/],
      [`s3://k:${secret}@host/bucket?tls=false`, /unknown parameter "tls"/],
      [`s3://k:${secret}@host/bucket?region=Bad%20Region`, /not a region name/],
      [`s3://k@host/bucket`, /both the access key ID and the secret/],
      ['s3://host/bucket', /no credentials, and AWS_ACCESS_KEY_ID/],
      [`https://k:${secret}@host/bucket`, /must start with s3:\/\//],
      // The secret as it came, unencoded: its "/" breaks the URL.
      [`s3://k:${SECRET}@host/bucket`, /is not a URL.*percent-encoded/],
    ];
    for (const [url, why] of cases) {
      assert.throws(
        () => parseEvidenceUrl(url, {}),
        (err: Error) => {
          assert.match(err.message, /^invalid configuration: CORDON_EVIDENCE_URL /);
          assert.match(err.message, why);
          assert.ok(!err.message.includes(SECRET) && !err.message.includes(secret), err.message);
          return true;
        },
        url,
      );
    }
    // The configuration itself takes only s3:// and s3+http:// URLs, and does not echo them either.
    assert.throws(
      () => parseConfig({ CORDON_EVIDENCE_URL: `ftp://k:${SECRET}@host/b` }),
      (err: Error) => /CORDON_EVIDENCE_URL: an s3:\/\//.test(err.message) && !err.message.includes(SECRET),
    );
    assert.equal(parseConfig({ CORDON_EVIDENCE_URL: 's3://k:s@host/b' }).evidenceUrl, 's3://k:s@host/b');
  });
});

describe('evidence in an S3-compatible store (moto, signatures checked)', function () {
  requires('python');
  this.timeout(120_000);
  let s3: TestS3 | undefined;
  let bucket: string;
  const store = (prefix?: string, url?: string) =>
    new S3EvidenceStore(parseEvidenceUrl(url ?? s3!.evidenceUrl(bucket, prefix), {}), keys);
  const meta = { type: 'text/plain' as const, caseId: 'acct-s3.0123456789ab', name: 'note.txt' };

  before(async function () {
    this.timeout(900_000); // a first run installs moto from PyPI
    s3 = await s3OrSkip(this);
    bucket = `cordon-s3-${randomBytes(4).toString('hex')}`;
    await store().client.createBucket();
    await store().client.createBucket(); // already ours: no error
  });
  after(() => s3?.stop());

  it('is refused by the server with a wrong secret, and the error shows neither key nor secret', async () => {
    const { ref } = await store().put(Buffer.from('kept'), meta);
    const wrongSecret = `s3+http://${s3!.accessKeyId}:wrong-${encodeURIComponent(s3!.secretAccessKey)}@${new URL(s3!.endpoint).host}/${bucket}?region=eu-west-1`;
    await assert.rejects(store(undefined, wrongSecret).get(ref), (err: Error) => {
      assert.ok(err instanceof S3Error);
      assert.equal(err.status, 403);
      assert.equal(err.code, 'SignatureDoesNotMatch');
      assert.ok(!err.message.includes(s3!.secretAccessKey) && !err.message.includes(s3!.accessKeyId));
      return true;
    });
    assert.deepEqual((await store().get(ref))?.content, Buffer.from('kept'));
  });

  it('reports a missing bucket as an error, not as a missing file', async () => {
    const gone = new S3EvidenceStore(parseEvidenceUrl(s3!.evidenceUrl('no-such-bucket-here'), {}), keys);
    await assert.rejects(gone.get(`ev_${'A'.repeat(32)}`), /answered 404 NoSuchBucket/);
  });

  it('keeps objects under the prefix, named by reference only, and lists only those', async function () {
    const prefixed = store('cordon/evidence');
    const { ref } = await prefixed.put(Buffer.from('under a prefix'), meta);
    assert.equal(prefixed.objectKey(ref), `cordon/evidence/${ref}`);
    assert.ok(await prefixed.client.getObject(`cordon/evidence/${ref}`), 'the object is where its name says');
    assert.equal(await store().get(ref), null, 'not at the bucket root');
    await prefixed.client.putObject('cordon/evidence/README.txt', Buffer.from('not evidence'));
    await prefixed.client.putObject(`elsewhere/${ref}`, Buffer.from('not ours'));
    // moto cannot check the signature of a listing whose prefix holds "/" (see test/helpers/s3.ts).
    await s3!.signatureChecks(false);
    try {
      const listed: string[] = [];
      for await (const item of prefixed.listBefore(Date.now() + 3_600_000)) listed.push(item.ref);
      assert.deepEqual(listed, [ref]);
    } finally {
      await s3!.signatureChecks(true);
    }
  });
});
