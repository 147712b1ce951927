// The audit chain in the pure core (core/audit-chain.ts, hooked into core/case-step.ts): RFC 8785 canonical JSON
// against the RFC's own examples; every entry of a rules-4 case hashed as it is written, words by their digests
// only; cases of earlier rules untouched; the chain surviving the JSON the workflow carries its state in and an
// erasure of the words; and, as a property, that no entry can be changed, removed, reordered or added without
// the head changing. Server-free.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  canonicalJson,
  chainedFormOf,
  chainedInClear,
  chainEntry,
  CHAINED_IN_CLEAR,
  checkChain,
  digestOf,
  genesisOf,
  hashOf,
  isDigestMap,
  withDigests,
  type ChainedEntry,
} from '../core/audit-chain';
import { recordEffect, transition } from '../core/case-machine';
import type { CaseState, TimelineEntry } from '../core/case-types';
import type { CaseTerms } from '../core/model';
import { stripEntry } from '../infra/erasure-strip';
import {
  appeal,
  claim,
  decide,
  explanation,
  go,
  open,
  RULES1,
  RULES2,
  T0,
  TERMS,
  user,
} from './helpers/case-steps';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const CASE_ID = 'acct-t.00000000000c';

/** The export's view of a timeline: each entry as chained, with its stored hash. */
const listed = (timeline: readonly TimelineEntry[]) =>
  timeline.map((e) => ({ entry: chainedFormOf(e), hash: e.hash }));

/** The head a list of chained entries leads to when hashed afresh from the case's genesis. */
const rehashed = (entries: readonly ChainedEntry[]) =>
  entries.reduce((previous, entry) => hashOf(previous, entry), genesisOf(CASE_ID));

/** A whole rules-4 case: opened, appealed with a file, asked and answered, decided with an explanation, effects. */
function wholeCase(terms: CaseTerms = TERMS): CaseState {
  let s = open('FREEZE', { note: 'the staff member saw a forged ID' }, terms).state;
  recordEffect(s, T0 + 10, { type: 'RESTRICTION_APPLIED', tier: 'FREEZE', lockout: false });
  s = go(
    s,
    { kind: 'APPEAL', statement: 'I renewed my passport', evidence: ['ev_abc'], actor: user },
    T0 + 1_000,
  ).state;
  s = go(s, claim(), T0 + 2_000).state;
  s = go(s, decide('REQUEST_INFO', { question: 'Which branch issued it?' }), T0 + 3_000).state;
  s = go(s, { kind: 'INFO', answer: 'Chengdu, in May', evidence: ['ev_def'], actor: user }, T0 + 4_000).state;
  s = go(s, claim(), T0 + 5_000).state;
  s = go(s, decide('UNLOCK', { rationale: 'the passport matches', explanation }), T0 + 6_000).state;
  recordEffect(s, T0 + 6_010, { type: 'RESTRICTION_LIFTED' });
  return s;
}

describe('audit chain: RFC 8785 canonical JSON', () => {
  it("writes the RFC's example of primitive values (section 3.2.2) byte for byte", () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
        ' "literals": [null, true, false]}',
    );
    assert.equal(
      canonicalJson(input),
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts members by UTF-16 code units (section 3.2.3), recursively, arrays kept in order', () => {
    const input = JSON.parse(
      '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh",' +
        ' "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control",' +
        ' "\\u00f6": "Latin Small Letter O With Diaeresis"}',
    );
    // The RFC's order: \r, 1, \u0080, \u00f6, \u20ac, \ud83d\ude00, \ufb33 (the emoji's high surrogate sorts
    // before U+FB33, though its code point is larger).
    assert.equal(
      canonicalJson(input),
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
    assert.equal(
      canonicalJson({ b: [3, { z: 1, a: [true] }], a: { y: null, x: -0 } }),
      '{"a":{"x":0,"y":null},"b":[3,{"a":[true],"z":1}]}',
    );
  });

  it("writes numbers as the RFC's Appendix B lists them (ECMAScript's shortest round trip)", () => {
    const cases: [string, string][] = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [ieee, text] of cases)
      assert.equal(canonicalJson(Buffer.from(ieee, 'hex').readDoubleBE(0)), text, ieee);
  });

  it('refuses what JSON has no form for; leaves out undefined members, as JSON does', () => {
    for (const bad of [NaN, Infinity, -Infinity]) assert.throws(() => canonicalJson(bad), /not finite/);
    assert.throws(() => canonicalJson({ f: () => 1 }), /no form for a function/);
    assert.throws(() => canonicalJson(10n), /no form for a bigint/);
    assert.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}');
    assert.equal(canonicalJson([undefined]), '[null]');
    assert.equal(canonicalJson('</script>\u2028'), JSON.stringify('</script>\u2028'));
  });
});

describe('audit chain: entries hashed as they are written', () => {
  it('every entry of a rules-4 case carries the hash of its chained form after the one before it', () => {
    const s = wholeCase();
    assert.ok(s.timeline.length >= 10, `a whole case (${s.timeline.length} entries)`);
    let previous = genesisOf(CASE_ID);
    for (const [i, e] of s.timeline.entries()) {
      // Recomputed here from the definition: SHA-256 over the previous hash's hex and the canonical JSON.
      const expected = sha256(previous + canonicalJson(chainedFormOf(e)));
      assert.equal(e.hash, expected, `entry ${i} (${e.type})`);
      previous = expected;
    }
    assert.equal(genesisOf(CASE_ID), sha256(`cordon-audit-1:${CASE_ID}`));
    assert.deepEqual(checkChain(CASE_ID, listed(s.timeline)), {
      ok: true,
      headHash: s.timeline.at(-1)!.hash,
      entryCount: s.timeline.length,
    });
  });

  it('words enter by their digest only; codes, times and IDs as they are', () => {
    const s = wholeCase();
    const byType = (type: string) => s.timeline.find((e) => e.type === type)!;
    const a = byType('APPEAL');
    assert.deepEqual(a.digests, {
      statement: sha256('"I renewed my passport"'),
      evidence: sha256('["ev_abc"]'),
    });
    assert.equal(a.statement, 'I renewed my passport', 'the timeline keeps the words for reviewers');
    const chained = chainedFormOf(a);
    assert.deepEqual(Object.keys(chained).sort(), ['actor', 'at', 'digests', 'type']);
    const decisions = s.timeline.filter((e) => e.type === 'DECISION');
    assert.deepEqual(
      decisions.map((d) => Object.keys(d.digests ?? {}).sort()),
      [
        ['question', 'rationale'],
        ['explanation', 'rationale'],
      ],
    );
    assert.equal(decisions[1]!.digests!.explanation, digestOf(explanation));
    assert.deepEqual(Object.keys(byType('INFO_PROVIDED').digests ?? {}).sort(), ['answer', 'evidence']);
    assert.deepEqual(Object.keys(byType('RISK_EVENT').digests ?? {}), ['note']);
    const risk = chainedFormOf(byType('RISK_EVENT'));
    assert.equal(risk.tier, 'FREEZE');
    assert.deepEqual(risk.reasons, ['IDENTITY_MISMATCH']);
    // No chained form holds a word anyone wrote.
    const words = /passport|branch|Chengdu|matches|forged|ev_abc|ev_def|name on file/;
    for (const e of s.timeline) assert.doesNotMatch(JSON.stringify(chainedFormOf(e)), words, e.type);
  });

  it('cases opened under rules 1 to 3 keep plain entries: no hash, no digests', () => {
    for (const terms of [RULES1, RULES2, { ...TERMS, rulesVersion: 3 }] as CaseTerms[]) {
      const s = wholeCase(terms);
      for (const e of s.timeline) {
        assert.equal('hash' in e, false, `${e.type} under rules ${terms.rulesVersion ?? 1}`);
        assert.equal('digests' in e, false);
      }
    }
  });

  it('no entry changes after it is written: the chain holds after every transition, and across JSON', () => {
    // The workflow's state crosses continue-as-new and queries as JSON: a chain read back that way goes on.
    let s = JSON.parse(JSON.stringify(go(open('FREEZE').state, appeal, T0 + 1_000).state)) as CaseState;
    const before = structuredClone(s.timeline);
    s = go(s, claim(), T0 + 2_000).state;
    s = go(s, decide('UPHOLD', { explanation }), T0 + 3_000).state;
    assert.deepEqual(s.timeline.slice(0, before.length), before, 'earlier entries untouched');
    assert.equal(checkChain(CASE_ID, listed(s.timeline)).ok, true);
    // A refused input adds nothing.
    const refused = transition(s, appeal, T0 + 4_000);
    assert.equal(refused.ok, false);
  });

  it('an erasure of the words leaves every hash verifiable, and keeps the digests', () => {
    const s = wholeCase();
    const erased = s.timeline.map(stripEntry);
    for (const [i, e] of erased.entries()) {
      assert.equal(e.hash, s.timeline[i]!.hash, `${e.type} keeps its hash`);
      assert.deepEqual(e.digests, s.timeline[i]!.digests, `${e.type} keeps its digests`);
    }
    assert.equal(erased.find((e) => e.type === 'APPEAL')!.statement, undefined, 'the words are gone');
    assert.deepEqual(checkChain(CASE_ID, listed(erased)), checkChain(CASE_ID, listed(s.timeline)));
    assert.equal(checkChain(CASE_ID, listed(erased)).ok, true);
  });

  it('every detail chained in clear is one an erasure keeps (else an erasure would break the chain)', () => {
    for (const key of CHAINED_IN_CLEAR) {
      const entry = { at: 'x', actor: { kind: 'system', id: 'cordon' }, type: 'NOTIFIED', [key]: 'A_CODE' };
      assert.equal(stripEntry(entry as TimelineEntry)[key], 'A_CODE', `the eraser keeps ${key}`);
      assert.equal(chainEntry(genesisOf(CASE_ID), entry as TimelineEntry).digests, undefined, key);
    }
    // A retraction's reason in words is digested, and removed by an erasure; a code stays.
    const words = chainEntry(genesisOf(CASE_ID), {
      at: 'x',
      actor: { kind: 'backend', id: 'b' },
      type: 'EVENT_RETRACTED',
      reason: 'reported in error by Mrs Lin',
    });
    assert.deepEqual(Object.keys(words.digests ?? {}), ['reason']);
    assert.equal(stripEntry(words).reason, undefined);
  });
});

describe('audit chain: what is chained in clear, and what a check refuses', () => {
  const entry = (details: Record<string, unknown>): TimelineEntry => ({
    at: '2026-12-04T09:00:00.000Z',
    actor: { kind: 'system', id: 'cordon' },
    type: 'NOTIFIED',
    ...details,
  });

  it('codes, numbers, flags, times, IDs and lists of them in clear; objects, lists of objects and words by digest', () => {
    for (const [key, value] of [
      ['tier', 'FREEZE'],
      ['score', 62.5],
      ['passed', false],
      ['holder', null],
      ['reasons', ['IDENTITY_MISMATCH', 'REGULATORY_HOLD']],
      ['channels', []],
      ['reason', 'IDLE'],
      ['reason', 'X'],
      ['reason', `A${'B'.repeat(63)}`],
    ] as const)
      assert.equal(chainedInClear(key, value), true, `${key}: ${JSON.stringify(value)}`);
    for (const [key, value] of [
      ['tier', { code: 'FREEZE' }],
      ['reasons', [{ code: 'IDENTITY_MISMATCH' }]],
      ['reasons', [['nested']]],
      ['statement', 'IDLE'],
      ['rationale', 'because'],
      ['question', null],
      ['reason', 'reported in error'],
      ['reason', 'Idle'],
      ['reason', '1DLE'],
      ['reason', 'ID LE'],
      ['reason', 'ID-LE'],
      ['reason', `A${'B'.repeat(64)}`],
      ['reason', 5],
      ['reason', ['IDLE']],
    ] as const)
      assert.equal(chainedInClear(key, value), false, `${key}: ${JSON.stringify(value)}`);
  });

  it('digests are a map of 64 lowercase hex characters, nothing else', () => {
    const hex = 'ab'.repeat(32);
    assert.equal(isDigestMap({}), true);
    assert.equal(isDigestMap({ statement: hex, evidence: hex }), true);
    for (const bad of [
      null,
      [hex],
      hex,
      { statement: hex.toUpperCase() },
      { statement: hex.slice(1) },
      { statement: `${hex}0` },
      { statement: `x${hex}` },
      { statement: `${hex}\n` },
      { statement: hex, evidence: 'nope' },
      { statement: 7 },
    ])
      assert.equal(isDigestMap(bad), false, JSON.stringify(bad));
  });

  it("an entry's chained form: actor by kind and ID, without the words its digests stand for or what the chain and an erasure add", () => {
    const digests = { statement: 'cd'.repeat(32) };
    const stored = {
      ...entry({ tier: 'FREEZE', statement: 'words', missing: undefined }),
      actor: { kind: 'user', id: 'acct-t', name: 'Mei Lin' },
      digests,
      hash: 'ef'.repeat(32),
      erasedFields: ['statement'],
    } as TimelineEntry;
    assert.deepEqual(chainedFormOf(stored), {
      at: '2026-12-04T09:00:00.000Z',
      actor: { kind: 'user', id: 'acct-t' },
      type: 'NOTIFIED',
      tier: 'FREEZE',
      digests,
    });
    assert.deepEqual(Object.keys(chainedFormOf(entry({ digests: {} }))), ['at', 'actor', 'type']);
    assert.deepEqual(Object.keys(chainedFormOf(entry({ tier: 'LIMIT' }))), ['at', 'actor', 'type', 'tier']);
    // Digests not of the right form are not digests: the field they would stand for stays in clear.
    assert.equal(chainedFormOf(entry({ statement: 'w', digests: { statement: 'short' } })).statement, 'w');
  });

  it('digesting again leaves what the chain and an erasure added as it is', () => {
    const chained = chainEntry(genesisOf(CASE_ID), entry({ statement: 'words', tier: 'FREEZE' }));
    const again = withDigests({ ...chained, erasedFields: ['answer'] });
    assert.deepEqual(again.digests, chained.digests);
    assert.deepEqual(again.erasedFields, ['answer']);
    assert.equal(again.hash, chained.hash);
  });

  it('a check names an entry without a hash, with a malformed one, or that cannot be hashed', () => {
    const e = chainedFormOf(chainEntry(genesisOf(CASE_ID), entry({ tier: 'FREEZE' })));
    const good = hashOf(genesisOf(CASE_ID), e);
    assert.deepEqual(checkChain(CASE_ID, [{ entry: e, hash: good }]), {
      ok: true,
      headHash: good,
      entryCount: 1,
    });
    for (const hash of [undefined, null, good.toUpperCase(), good.slice(2), `${good}00`, ` ${good}`])
      assert.deepEqual(
        checkChain(CASE_ID, [
          { entry: e, hash: good },
          { entry: e, hash },
        ]),
        { ok: false, index: 1, reason: 'it carries no hash' },
        String(hash),
      );
    assert.deepEqual(checkChain(CASE_ID, [{ entry: { ...e, score: NaN }, hash: good }]), {
      ok: false,
      index: 0,
      reason: 'its content is not JSON that can be hashed',
    });
    assert.deepEqual(checkChain(CASE_ID, [{ entry: { ...e, tier: 'LIMIT' }, hash: good }]), {
      ok: false,
      index: 0,
      reason:
        'its hash is not that of its content after the entries before it (changed, removed, reordered or added)',
    });
    assert.deepEqual(checkChain(CASE_ID, []), { ok: true, headHash: genesisOf(CASE_ID), entryCount: 0 });
  });
});

describe('audit chain: no entry can change unseen (property)', () => {
  const base = wholeCase();
  const chained = base.timeline.map(chainedFormOf);
  const head = base.timeline.at(-1)!.hash!;

  type Mutation =
    | { kind: 'alter'; index: number; key: string; value: unknown }
    | { kind: 'remove'; index: number }
    | { kind: 'swap'; index: number; other: number }
    | { kind: 'insert'; index: number; from: number };

  const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({
      kind: fc.constant('alter' as const),
      index: fc.nat(chained.length - 1),
      key: fc.constantFrom('at', 'type', 'tier', 'decision', 'digests', 'actor', 'extra'),
      value: fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)),
    }),
    fc.record({ kind: fc.constant('remove' as const), index: fc.nat(chained.length - 1) }),
    fc.record({
      kind: fc.constant('swap' as const),
      index: fc.nat(chained.length - 1),
      other: fc.nat(chained.length - 1),
    }),
    fc.record({
      kind: fc.constant('insert' as const),
      index: fc.nat(chained.length),
      from: fc.nat(chained.length - 1),
    }),
  );

  /** The mutated list (null when the mutation changes nothing: a swap of an entry with itself, a same value). */
  function mutate(m: Mutation): { entries: { entry: ChainedEntry; hash: unknown }[]; first: number } | null {
    const entries = chained.map((entry, i) => ({
      entry: structuredClone(entry),
      hash: base.timeline[i]!.hash,
    }));
    switch (m.kind) {
      case 'alter': {
        const target = entries[m.index]!.entry;
        if (canonicalJson(target[m.key] ?? null) === canonicalJson(m.value) && m.key in target) return null;
        target[m.key] = m.value;
        return { entries, first: m.index };
      }
      case 'remove':
        entries.splice(m.index, 1);
        return { entries, first: m.index };
      case 'swap': {
        if (canonicalJson(chained[m.index]) === canonicalJson(chained[m.other])) return null;
        const [a, b] = [entries[m.index]!, entries[m.other]!];
        entries[m.index] = b;
        entries[m.other] = a;
        return { entries, first: Math.min(m.index, m.other) };
      }
      case 'insert':
        entries.splice(m.index, 0, { ...entries[m.from]!, entry: structuredClone(chained[m.from]!) });
        // A copy put just before its original still follows the entry before it: the original no longer does.
        return { entries, first: m.index === m.from ? m.index + 1 : m.index };
    }
  }

  it('any change, removal, reordering or insertion changes the head, and the check names the first bad entry', () => {
    fc.assert(
      fc.property(mutationArb, (m) => {
        const mutated = mutate(m);
        if (!mutated) return;
        // Hashed afresh, the mutated entries never lead to the head that was signed...
        assert.notEqual(rehashed(mutated.entries.map((e) => e.entry)), head, JSON.stringify(m));
        // ...and against their listed hashes the check stops at the first entry that moved or changed.
        const checked = checkChain(CASE_ID, mutated.entries);
        if (m.kind === 'remove' && m.index === chained.length - 1) {
          // The last entry removed: what is left still chains; only the head's count and hash tell.
          assert.equal(checked.ok && checked.headHash !== head, true);
          return;
        }
        if (m.kind === 'insert' && m.index === chained.length) {
          // A copy appended: its hash does not follow the last one.
          assert.deepEqual(checked.ok ? -1 : checked.index, chained.length);
          return;
        }
        assert.equal(checked.ok, false, JSON.stringify(m));
        assert.equal(checked.ok ? -1 : checked.index, mutated.first, JSON.stringify(m));
      }),
      { numRuns: 500 },
    );
  });

  it('the untouched chain leads to the head', () => {
    assert.equal(rehashed(chained), head);
  });
});
