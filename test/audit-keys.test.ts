// The audit keys (infra/audit-keys.ts): CORDON_AUDIT_KEYS in each form an operator may give a key, errors that
// name the entry and never the key, production refusing to start without it, development's key created once in
// the data folder, the public halves published for verifiers, and a rotation after which an export signed by the
// old key still checks. Server-free.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson } from '../core/audit-chain';
import {
  AuditKeyRing,
  auditKeysFromConfig,
  parseAuditKeys,
  publishedKeysOf,
  signatureValid,
} from '../infra/audit-keys';
import { parseConfig } from '../infra/config';
import { containerOf, podEnv } from './helpers/deploy-files';

const seed = () => randomBytes(32).toString('base64');
const head = { caseId: 'acct-1.0123456789ab', chained: true, entryCount: 3, headHash: 'a'.repeat(64) };

/** A ring's signature checked the way a verifier does: with the public key the ring publishes under the ID. */
function checks(ring: AuditKeyRing, published: AuditKeyRing, value: unknown): boolean {
  const keys = publishedKeysOf(JSON.parse(JSON.stringify(published.published())));
  const key = keys.get(ring.signingKeyId);
  return key !== undefined && signatureValid(key, value, ring.sign(value));
}

describe('audit keys', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'cordon-audit-keys-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('takes a key as a base64 seed, base64 PKCS#8 DER or PEM; a retired one as its public half', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const der = privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const spki = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    const pubPem = publicKey.export({ format: 'pem', type: 'spki' }).toString().replace(/\n/g, '\\n');
    const keys = parseAuditKeys(`now:${seed()},der:${der},pem:${pem},old:${spki},oldpem:${pubPem}`);
    assert.deepEqual(
      keys.map((k) => [k.keyId, Boolean(k.privateKey)]),
      [
        ['now', true],
        ['der', true],
        ['pem', true],
        ['old', false],
        ['oldpem', false],
      ],
    );
    // The same key in every form: the DER, the PEM and the public halves are one key pair.
    const jwk = (i: number) => JSON.stringify(keys[i]!.publicKey.export({ format: 'jwk' }));
    assert.equal(jwk(1), jwk(2));
    assert.equal(jwk(1), jwk(3));
    assert.equal(jwk(1), jwk(4));
  });

  it('refuses what is not an Ed25519 key, a repeated ID, a public first key, naming the entry and never the key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ format: 'der', type: 'pkcs8' })
      .toString('base64');
    const x25519 = generateKeyPairSync('x25519')
      .privateKey.export({ format: 'der', type: 'pkcs8' })
      .toString('base64');
    const leaked = randomBytes(20).toString('base64');
    const spki = generateKeyPairSync('ed25519')
      .publicKey.export({ format: 'der', type: 'spki' })
      .toString('base64');
    for (const [value, entry] of [
      [`a:${leaked}`, 1],
      [`a:${seed()},b:${rsa}`, 2],
      [`a:${seed()},b:${x25519}`, 2],
      [`a:${seed()},a:${seed()}`, 2],
      [`${seed()}`, 1],
      [`bad id:${seed()}`, 1],
      [`a:not base64!`, 1],
      [`old:${spki}`, 1],
    ] as const)
      assert.throws(
        () => parseAuditKeys(value),
        (err: Error) =>
          err.message.includes(`CORDON_AUDIT_KEYS entry ${entry}`) &&
          !value
            .split(',')
            .map((e) => e.slice(e.indexOf(':') + 1))
            .some((key) => key.length > 8 && err.message.includes(key)),
        value.slice(0, 20),
      );
  });

  it('production refuses to start without CORDON_AUDIT_KEYS; development creates one key, once, 0600', () => {
    assert.throws(
      () => auditKeysFromConfig({ mode: 'production', dataDir }),
      /production mode needs CORDON_AUDIT_KEYS/,
    );
    const first = auditKeysFromConfig({ mode: 'development', dataDir });
    const again = auditKeysFromConfig({ mode: 'development', dataDir });
    assert.match(first.signingKeyId, /^dev-[0-9a-f]{12}$/);
    assert.equal(again.signingKeyId, first.signingKeyId, 'the same key after a restart');
    assert.equal(statSync(join(dataDir, 'audit-signing-key')).mode & 0o777, 0o600);
    const other = auditKeysFromConfig({
      mode: 'development',
      dataDir: mkdtempSync(join(tmpdir(), 'cordon-ak-')),
    });
    assert.notEqual(other.signingKeyId, first.signingKeyId, "another data folder's key has another ID");
    // What the data folder holds is the seed of the published key.
    const fromFile = parseAuditKeys(`x:${readFileSync(join(dataDir, 'audit-signing-key'), 'utf8').trim()}`);
    assert.deepEqual(
      fromFile[0]!.publicKey.export({ format: 'jwk' }),
      first.keys[0]!.publicKey.export({ format: 'jwk' }),
    );
    // Configured, the variable wins over the data folder.
    const configured = auditKeysFromConfig({ mode: 'development', dataDir, auditKeys: `k9:${seed()}` });
    assert.equal(configured.signingKeyId, 'k9');
  });

  it("the deployment's Secret template gives the API a key it starts with", () => {
    const config = parseConfig(podEnv(containerOf('cordon-api')));
    assert.equal(config.mode, 'production');
    assert.equal(auditKeysFromConfig(config).signingKeyId, 'a1');
  });

  it('publishes every key (PEM and JWK), the first marked signing; private halves never', () => {
    const ring = new AuditKeyRing(parseAuditKeys(`new:${seed()},old:${seed()}`));
    const published = ring.published();
    assert.deepEqual(
      published.keys.map((k) => [k.keyId, k.algorithm, k.signing, k.publicKeyJwk.kty, k.publicKeyJwk.crv]),
      [
        ['new', 'Ed25519', true, 'OKP', 'Ed25519'],
        ['old', 'Ed25519', false, 'OKP', 'Ed25519'],
      ],
    );
    const text = JSON.stringify(published);
    assert.doesNotMatch(text, /PRIVATE/);
    assert.equal('d' in published.keys[0]!.publicKeyJwk, false, 'no private part in the JWK');
    assert.match(published.keys[0]!.publicKey, /^-----BEGIN PUBLIC KEY-----/);
  });

  it('signs the canonical JSON: any change to the value, or another key, and the signature fails', () => {
    const ring = new AuditKeyRing(parseAuditKeys(`k:${seed()}`));
    const signature = ring.sign(head);
    const key = ring.keys[0]!.publicKey;
    assert.ok(signatureValid(key, head, signature));
    // Member order does not matter (canonical JSON), content does.
    assert.ok(signatureValid(key, JSON.parse(canonicalJson({ ...head })) as unknown, signature));
    assert.ok(
      signatureValid(
        key,
        { headHash: head.headHash, entryCount: 3, chained: true, caseId: head.caseId },
        signature,
      ),
    );
    assert.equal(signatureValid(key, { ...head, entryCount: 4 }, signature), false);
    const other = new AuditKeyRing(parseAuditKeys(`k:${seed()}`));
    assert.equal(signatureValid(other.keys[0]!.publicKey, head, signature), false);
    assert.equal(signatureValid(key, head, 'not a signature'), false);
  });

  it('after a rotation, an export signed by the old key still checks with the keys published then', () => {
    const oldSeed = seed();
    const before = new AuditKeyRing(parseAuditKeys(`2026-01:${oldSeed}`));
    const spki = before.keys[0]!.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    // The old private key may be destroyed: its public half keeps old exports checkable.
    const afterRotation = new AuditKeyRing(parseAuditKeys(`2026-07:${seed()},2026-01:${spki}`));
    assert.equal(afterRotation.signingKeyId, '2026-07');
    assert.ok(checks(before, afterRotation, head), "the old key's signature checks after the rotation");
    assert.ok(checks(afterRotation, afterRotation, head));
    const withoutOld = new AuditKeyRing(parseAuditKeys(`2026-07:${seed()}`));
    assert.equal(checks(before, withoutOld, head), false, 'an unpublished key checks nothing');
  });

  it("a verifier's keys file: only Ed25519 public keys, by ID; anything else is refused", () => {
    const ring = new AuditKeyRing(parseAuditKeys(`k:${seed()}`));
    const published = ring.published();
    assert.ok(publishedKeysOf(published).get('k'));
    // JWK alone will do.
    const jwkOnly = { keys: [{ keyId: 'k', publicKeyJwk: published.keys[0]!.publicKeyJwk }] };
    assert.ok(signatureValid(publishedKeysOf(jwkOnly).get('k')!, head, ring.sign(head)));
    const rsaPem = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .publicKey.export({ format: 'pem', type: 'spki' })
      .toString();
    for (const bad of [
      null,
      {},
      { keys: [] },
      { keys: [{ keyId: 'k' }] },
      { keys: [{ keyId: 'k', publicKey: rsaPem }] },
      { keys: [{ keyId: '', publicKey: published.keys[0]!.publicKey }] },
    ])
      assert.throws(() => publishedKeysOf(bad), JSON.stringify(bad));
  });
});
