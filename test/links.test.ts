// Signed links to the user's case page: valid until they expire, and nothing else is.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { linkKeysFromConfig, signLink, verifyLink, type LinkKey } from '../infra/links';

const key = (id: string): LinkKey => ({ id, secret: randomBytes(32) });

describe('signed links', () => {
  const now = 1_800_000_000_000;
  const claims = { caseId: 'acct-1.0123456789ab', purpose: 'case' as const, expiresAt: now + 60_000 };

  it('verifies its own token until the expiry, and not after', () => {
    const keys = [key('k1')];
    const token = signLink(keys, claims);
    assert.deepEqual(verifyLink(keys, token, now), claims);
    assert.equal(verifyLink(keys, token, claims.expiresAt), null);
  });

  it('refuses every altered part, an unknown key and garbage', () => {
    const keys = [key('k1')];
    const token = signLink(keys, claims);
    const parts = token.split('.');
    for (let i = 0; i < parts.length; i++) {
      const altered = [...parts];
      altered[i] = i === 1 ? Buffer.from('acct-2.0123456789ab').toString('base64url') : `${parts[i]}x`;
      assert.equal(verifyLink(keys, altered.join('.'), now), null, `part ${i}`);
    }
    assert.equal(verifyLink([key('k1')], token, now), null, 'another secret under the same ID');
    for (const junk of ['', '....', 'a.b.c.d.e', '__proto__', token + '.x'])
      assert.equal(verifyLink(keys, junk, now), null, JSON.stringify(junk));
  });

  it('opens only as written: a trailing "=" or a last character that decodes to the same bytes is refused', () => {
    const keys = [key('k1')];
    const token = signLink(keys, claims);
    const parts = token.split('.');
    const signature = parts[4]!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // 32 bytes in 43 characters: the last one's two low bits are not used, so its siblings decode alike.
    const last = alphabet.indexOf(signature.at(-1)!);
    const sibling = `${signature.slice(0, -1)}${alphabet[last ^ 1]}`;
    const caseIdPart = parts[1]!;
    const variants = [
      `${token}=`,
      `${token}==`,
      [...parts.slice(0, 4), sibling].join('.'),
      [parts[0], `${caseIdPart}=`, ...parts.slice(2)].join('.'),
      [parts[0], `${caseIdPart.slice(0, 2)}*${caseIdPart.slice(2)}`, ...parts.slice(2)].join('.'),
      [...parts.slice(0, 3), `0${parts[3]}`, parts[4]].join('.'),
    ];
    for (const variant of variants) {
      // Each says the same as the genuine token to a lenient reader: the HMAC alone would hold.
      const v = variant.split('.');
      assert.deepEqual(Buffer.from(v[4]!, 'base64url'), Buffer.from(signature, 'base64url'), variant);
      assert.equal(Buffer.from(v[1]!, 'base64url').toString(), claims.caseId, variant);
      assert.equal(parseInt(v[3]!, 36), claims.expiresAt, variant);
      assert.equal(verifyLink(keys, variant, now), null, variant);
    }
    assert.deepEqual(verifyLink(keys, token, now), claims, 'the token as written still opens');
  });

  it('rotates: new links use the newest key, old links stay valid while their key is configured', () => {
    const old = key('old');
    const fresh = key('new');
    const before = signLink([old], claims);
    const rotated = [fresh, old];
    assert.ok(signLink(rotated, claims).startsWith('new.'));
    assert.deepEqual(verifyLink(rotated, before, now), claims);
    assert.equal(verifyLink([fresh], before, now), null, 'its key removed');
  });

  it('reads keys from the configuration and names the variable, never the key', () => {
    const secret = randomBytes(32).toString('base64');
    const keys = linkKeysFromConfig({
      mode: 'production',
      dataDir: '/nonexistent',
      linkKeys: `a:${secret},b:${secret}`,
    });
    assert.deepEqual(
      keys.map((k) => k.id),
      ['a', 'b'],
    );
    assert.throws(() => linkKeysFromConfig({ mode: 'production', dataDir: '/x' }), /CORDON_LINK_KEYS/);
    assert.throws(
      () => linkKeysFromConfig({ mode: 'production', dataDir: '/x', linkKeys: 'a:c2hvcnQ=' }),
      (err: Error) => /CORDON_LINK_KEYS entry 1/.test(err.message) && !err.message.includes('c2hvcnQ'),
    );
  });
});
