// Human actions as the case machine and the idempotency of requests see them (core/actions.ts,
// core/idempotency.ts): who asked, for what, with which body; and how each update becomes a machine input.
// Server-free.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  appealInput,
  approvalInput,
  breakGlassInput,
  decisionInput,
  identityOf,
  infoInput,
  retractInput,
  verificationInput,
} from '../core/actions';
import { canonicalJson, fingerprint, requestIdentity, requestKey, updateIdOf } from '../core/idempotency';

/** FNV-1a, 32 bits, over UTF-16 code units: the reference the first half of a fingerprint follows. */
function fnv1a32(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

const user = { kind: 'user' as const, id: 'acct-r' };
const caseId = 'acct-r.0123456789ab';

describe('request identity: canonical JSON', () => {
  it('sorts object keys at every depth, keeps array order and drops undefined fields', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' }, u: undefined }),
      '{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}',
    );
    assert.equal(canonicalJson([2, 1]), '[2,1]');
    assert.equal(canonicalJson('a"b'), '"a\\"b"');
    assert.equal(canonicalJson(null), 'null');
    assert.equal(canonicalJson(undefined), 'null');
  });

  it('property: the same value gives the same text whatever the order of its keys, and parses back to it', () => {
    fc.assert(
      // Keys that are not array indexes, so that JSON.parse keeps them in the order of the text.
      fc.property(
        fc.dictionary(
          fc.string().map((k) => `k${k}`),
          fc.jsonValue(),
        ),
        (value) => {
          const reversed = Object.fromEntries(Object.entries(value).reverse());
          const text = canonicalJson(value);
          assert.equal(canonicalJson(reversed), text);
          assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(value)));
          const keys = Object.keys(JSON.parse(text) as object);
          assert.deepEqual(keys, [...keys].sort(), 'keys in code-unit order');
        },
      ),
      { numRuns: 300, seed: 20261206 },
    );
  });
});

describe('request identity: fingerprints', () => {
  it('the first half is FNV-1a of the canonical JSON (checked against its published values)', () => {
    // Published FNV-1a 32-bit test values, so the reference itself is right.
    assert.equal(fnv1a32(''), '811c9dc5');
    assert.equal(fnv1a32('a'), 'e40c292c');
    assert.equal(fnv1a32('foobar'), 'bf9cf968');
    for (const body of [{}, { b: 2, a: 1 }, 'a', [1, 'two', null], { statement: '我没有' }])
      assert.equal(fingerprint(body).slice(0, 8), fnv1a32(canonicalJson(body)));
  });

  it('property: always 16 hex digits, equal for equal bodies, different for a changed field', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const f = fingerprint({ statement: a });
        assert.match(f, /^[0-9a-f]{16}$/);
        assert.equal(fingerprint({ statement: a }), f);
        if (a !== b) assert.notEqual(fingerprint({ statement: b }), f);
      }),
      { numRuns: 500, seed: 20261206 },
    );
  });

  it('an update ID is the fingerprint of the request key, marked as a request', () => {
    const key = requestKey(caseId, 'appeal', 'acct-r', 'req-1');
    assert.equal(updateIdOf(key), `req-${fingerprint(key)}`);
  });

  it('a request key names case, action, principal and request ID, and cannot be forged by moving text', () => {
    const key = requestKey('c', 'appeal', 'p', 'r1');
    assert.deepEqual(JSON.parse(key), ['c', 'appeal', 'p', 'r1']);
    assert.notEqual(requestKey('c', 'appeal', 'p', 'r1'), requestKey('c', 'appeal', 'pr', '1'));
    assert.deepEqual(requestIdentity('c', 'appeal', 'p', 'r1', { statement: 's' }), {
      key,
      fingerprint: fingerprint({ statement: 's' }),
    });
  });
});

describe('request identity: what a repeat must carry unchanged', () => {
  const verification = { caseId, method: 'OTP', passed: true, requestId: 'v1', actor: user };
  const appeal = { caseId, statement: 'it was me', requestId: 'a1', actor: user };
  const decision = {
    caseId,
    reviewer: 'r1',
    decision: 'REQUEST_INFO' as const,
    rationale: 'need more',
    requestId: 'd1',
  };

  it('no request ID: no identity (each call is applied or refused on its own)', () => {
    assert.equal(
      identityOf('approval', { caseId, reviewer: 'r2', approve: true, rationale: 'ok' }),
      undefined,
    );
  });

  it('the key names the action and the principal: the token principal, else the reviewer, else who acted', () => {
    const key = (name: string, principal: string, requestId: string) =>
      requestKey(caseId, name, principal, requestId);
    assert.equal(identityOf('verification', verification)!.key, key('verification', 'acct-r', 'v1'));
    assert.equal(
      identityOf('verification', { ...verification, principal: 'portal' })!.key,
      key('verification', 'portal', 'v1'),
    );
    assert.equal(identityOf('decision', decision)!.key, key('decision', 'r1', 'd1'));
    assert.equal(
      identityOf('decision', { ...decision, principal: 'token-r9' })!.key,
      key('decision', 'token-r9', 'd1'),
    );
    const glass = { caseId, by: 'senior-1', action: 'LIFT' as const, rationale: 'mistake', requestId: 'b1' };
    assert.equal(identityOf('breakGlass', glass)!.key, key('breakGlass', 'senior-1', 'b1'));
    const retract = { caseId, eventId: 'e1', reason: 'sent in error', requestId: 'x1', actor: user };
    assert.equal(identityOf('retract', retract)!.key, key('retract', 'acct-r', 'x1'));
  });

  it('each action fingerprints exactly the fields that make it what it is', () => {
    const fp = (body: Record<string, unknown>) => fingerprint(body);
    assert.equal(identityOf('verification', verification)!.fingerprint, fp({ method: 'OTP', passed: true }));
    // An appeal or an answer without evidence is the same request as one with none.
    assert.equal(identityOf('appeal', appeal)!.fingerprint, fp({ statement: 'it was me', evidence: [] }));
    assert.equal(
      identityOf('appeal', { ...appeal, evidence: ['ev-1'] })!.fingerprint,
      fp({ statement: 'it was me', evidence: ['ev-1'] }),
    );
    const info = { caseId, answer: 'here', requestId: 'i1', actor: user };
    assert.equal(identityOf('info', info)!.fingerprint, fp({ answer: 'here', evidence: [] }));
    assert.equal(
      identityOf('info', { ...info, evidence: ['ev-2'] })!.fingerprint,
      fp({ answer: 'here', evidence: ['ev-2'] }),
    );
    assert.equal(
      identityOf('retract', { caseId, eventId: 'e1', reason: 'error', requestId: 'x', actor: user })!
        .fingerprint,
      fp({ eventId: 'e1', reason: 'error' }),
    );
    assert.equal(
      identityOf('approval', { caseId, reviewer: 'r2', approve: false, rationale: 'no', requestId: 'p1' })!
        .fingerprint,
      fp({ approve: false, rationale: 'no' }),
    );
    assert.equal(
      identityOf('approval', {
        caseId,
        reviewer: 'r2',
        approve: true,
        rationale: 'ok',
        requestId: 'p1',
        evidenceVersion: 3,
      })!.fingerprint,
      fp({ approve: true, rationale: 'ok', evidenceVersion: 3 }),
    );
    const glass = { caseId, by: 's', action: 'CLOSE' as const, rationale: 'fraud', requestId: 'b1' };
    assert.equal(identityOf('breakGlass', glass)!.fingerprint, fp({ action: 'CLOSE', rationale: 'fraud' }));
    const explanation = { code: 'IDENTITY_MISMATCH' as const, text: 'the name differs' };
    assert.equal(
      identityOf('breakGlass', { ...glass, explanation })!.fingerprint,
      fp({ action: 'CLOSE', rationale: 'fraud', explanation }),
    );
  });

  it('a decision recorded before 0.3 keeps its fingerprint: fields added since count only when given', () => {
    const before = fingerprint({ decision: 'REQUEST_INFO', rationale: 'need more' });
    assert.equal(identityOf('decision', decision)!.fingerprint, before);
    assert.equal(
      identityOf('decision', { ...decision, question: undefined, evidenceVersion: undefined })!.fingerprint,
      before,
    );
    const explanation = { code: 'IDENTITY_MISMATCH' as const, text: 'why' };
    assert.equal(
      identityOf('decision', { ...decision, question: 'who?', explanation, evidenceVersion: 2 })!.fingerprint,
      fingerprint({
        decision: 'REQUEST_INFO',
        rationale: 'need more',
        question: 'who?',
        explanation,
        evidenceVersion: 2,
      }),
    );
  });
});

describe('human actions as machine inputs', () => {
  it('each update becomes the input of its kind with its own fields, and nothing of the request', () => {
    const explanation = { code: 'IDENTITY_MISMATCH' as const, text: 'why' };
    assert.deepEqual(
      verificationInput({ caseId, method: 'OTP', passed: false, requestId: 'v', actor: user }),
      {
        kind: 'VERIFICATION',
        method: 'OTP',
        passed: false,
        actor: user,
      },
    );
    assert.deepEqual(appealInput({ caseId, statement: 's', evidence: ['e'], requestId: 'a', actor: user }), {
      kind: 'APPEAL',
      statement: 's',
      evidence: ['e'],
      actor: user,
    });
    assert.deepEqual(
      decisionInput({
        caseId,
        reviewer: 'r1',
        decision: 'UNLOCK',
        rationale: 'ok',
        requestId: 'd',
        question: 'q',
        explanation,
        evidenceVersion: 4,
      }),
      {
        kind: 'DECISION',
        reviewer: 'r1',
        decision: 'UNLOCK',
        rationale: 'ok',
        question: 'q',
        explanation,
        evidenceVersion: 4,
      },
    );
    assert.deepEqual(
      approvalInput({ caseId, reviewer: 'r2', approve: true, rationale: 'yes', evidenceVersion: 1 }),
      { kind: 'APPROVAL', reviewer: 'r2', approve: true, rationale: 'yes', evidenceVersion: 1 },
    );
    assert.deepEqual(
      breakGlassInput({ caseId, by: 's', action: 'LIFT', rationale: 'r', requestId: 'b', explanation }),
      { kind: 'BREAK_GLASS', by: 's', action: 'LIFT', rationale: 'r', explanation },
    );
    assert.deepEqual(retractInput({ caseId, eventId: 'e9', reason: 'oops', requestId: 'x', actor: user }), {
      kind: 'RETRACT',
      eventId: 'e9',
      reason: 'oops',
      actor: user,
    });
    assert.deepEqual(infoInput({ caseId, answer: 'a', evidence: ['f'], requestId: 'i', actor: user }), {
      kind: 'INFO',
      answer: 'a',
      evidence: ['f'],
      actor: user,
    });
  });
});
