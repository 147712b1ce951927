// Linked accounts, the pure part (core/linked.ts): whom a closure signals, under the policy's window, kinds and
// crowd limit, never transitively; the policy's `linked` section and its refusals; which case ends leave a job.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { linkJobOf } from '../activities/index';
import { ENTITY_KINDS, type EntityKind } from '../core/events';
import { closureLinks, linkTargets, type Linked, type Sighting } from '../core/linked';
import { PolicySchema } from '../core/policy';
import { defaultPolicy } from './helpers/deps';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-01T00:00:00Z');
const LINKED: Linked = {
  fromReasons: ['EXTERNAL_FRAUD_REPORT'],
  entities: ['device', 'payee'],
  window: '30d',
  maxAccountsPerEntity: 3,
};
const seen = (kind: EntityKind, value: string, accountId: string, daysAgo = 1): Sighting => ({
  kind,
  value,
  accountId,
  lastAt: NOW - daysAgo * DAY,
});

describe('linked accounts: whom a closure signals (core/linked.ts)', () => {
  it('the accounts that shared a declared entity with the closed one, with the first shared kind in policy order', () => {
    const targets = linkTargets(
      LINKED,
      'src',
      [
        seen('device', 'd1', 'src'),
        seen('device', 'd1', 'a'),
        seen('payee', 'p1', 'src'),
        seen('payee', 'p1', 'b'),
        seen('payee', 'p1', 'a'),
      ],
      NOW,
    );
    assert.deepEqual(targets, [
      { accountId: 'a', entityKind: 'device' },
      { accountId: 'b', entityKind: 'payee' },
    ]);
  });

  it('no link through an entity on more accounts than maxAccountsPerEntity, an undeclared kind, or outside the window', () => {
    const crowd = ['src', 'c1', 'c2', 'c3'].map((a) => seen('device', 'shared-ip-like', a));
    assert.deepEqual(linkTargets(LINKED, 'src', crowd, NOW), [], 'four accounts > 3');
    assert.equal(linkTargets(LINKED, 'src', crowd.slice(0, 3), NOW).length, 2, 'three accounts link');
    assert.deepEqual(
      linkTargets(LINKED, 'src', [seen('ip', 'i1', 'src'), seen('ip', 'i1', 'x')], NOW),
      [],
      'ip is not declared',
    );
    assert.deepEqual(
      linkTargets(LINKED, 'src', [seen('device', 'd', 'src', 40), seen('device', 'd', 'x')], NOW),
      [],
      'the closed account used it 40 days ago',
    );
    assert.deepEqual(
      linkTargets(LINKED, 'src', [seen('device', 'd', 'src'), seen('device', 'd', 'x', 31)], NOW),
      [],
      'the other account used it 31 days ago',
    );
    assert.deepEqual(
      linkTargets(LINKED, 'src', [seen('device', 'd', 'src'), seen('device', 'd', 'x', -1)], NOW),
      [],
      'seen after the closure: not what the closure knew',
    );
  });

  it('property: never the closed account, never transitive, never through a crowded entity; sorted, each once', () => {
    const accounts = fc.constantFrom('src', 'a', 'b', 'c', 'd', 'e');
    const sighting = fc.record({
      kind: fc.constantFrom<EntityKind>(...ENTITY_KINDS),
      value: fc.constantFrom('v1', 'v2', 'v3'),
      accountId: accounts,
      lastAt: fc.integer({ min: NOW - 40 * DAY, max: NOW + DAY }),
    });
    fc.assert(
      fc.property(fc.array(sighting, { maxLength: 30 }), fc.integer({ min: 2, max: 4 }), (rows, max) => {
        const linked = { ...LINKED, maxAccountsPerEntity: max };
        const targets = linkTargets(linked, 'src', rows, NOW);
        const ids = targets.map((t) => t.accountId);
        assert.deepEqual(ids, [...new Set(ids)].sort());
        assert.ok(!ids.includes('src'));
        const inWindow = (s: Sighting) => s.lastAt > NOW - 30 * DAY && s.lastAt <= NOW;
        for (const t of targets) {
          // Some declared entity both used within the window, used by at most `max` accounts within it.
          const witness = rows.some(
            (s) =>
              s.accountId === 'src' &&
              linked.entities.includes(s.kind) &&
              inWindow(s) &&
              rows.some(
                (o) => o.accountId === t.accountId && o.kind === s.kind && o.value === s.value && inWindow(o),
              ) &&
              new Set(
                rows
                  .filter((o) => o.kind === s.kind && o.value === s.value && inWindow(o))
                  .map((o) => o.accountId),
              ).size <= max &&
              s.kind === t.entityKind,
          );
          assert.ok(witness, `${t.accountId} via ${t.entityKind}`);
        }
        // And every account with such a witness is signalled.
        for (const other of ['a', 'b', 'c', 'd', 'e']) {
          const shares = rows.some(
            (s) =>
              s.accountId === 'src' &&
              linked.entities.includes(s.kind) &&
              inWindow(s) &&
              rows.some(
                (o) => o.accountId === other && o.kind === s.kind && o.value === s.value && inWindow(o),
              ) &&
              new Set(
                rows
                  .filter((o) => o.kind === s.kind && o.value === s.value && inWindow(o))
                  .map((o) => o.accountId),
              ).size <= max,
          );
          assert.equal(ids.includes(other), shares, other);
        }
      }),
    );
  });

  it('only a closure for one of fromReasons links; a policy without `linked` never does', () => {
    assert.equal(closureLinks(LINKED, ['IDENTITY_MISMATCH', 'EXTERNAL_FRAUD_REPORT']), true);
    assert.equal(closureLinks(LINKED, ['IDENTITY_MISMATCH']), false);
    assert.equal(closureLinks(undefined, ['EXTERNAL_FRAUD_REPORT']), false);
  });

  it('a CLOSED case leaves a LINK job; a second review that restores leaves a WITHDRAW of the first case; others nothing', () => {
    const base = {
      caseId: 'c2',
      accountId: 'acct',
      reasons: [{ code: 'EXTERNAL_FRAUD_REPORT' as const, contribution: 100, ruleId: 'r' }],
    };
    assert.deepEqual(linkJobOf({ ...base, outcome: 'CLOSED' }, NOW), {
      caseId: 'c2',
      kind: 'LINK',
      accountId: 'acct',
      reasons: ['EXTERNAL_FRAUD_REPORT'],
      endedAt: NOW,
    });
    assert.equal(
      linkJobOf({ ...base, outcome: 'RESTORED', secondReview: true, previousCaseId: 'c1' }, NOW)?.caseId,
      'c1',
    );
    assert.equal(linkJobOf({ ...base, outcome: 'RESTORED' }, NOW), null);
    assert.equal(
      linkJobOf({ ...base, outcome: 'UPHELD', secondReview: true, previousCaseId: 'c1' }, NOW),
      null,
    );
    assert.equal(linkJobOf({ ...base, outcome: null }, NOW), null);
  });

  it('the policy section: refused by path without a rule for the signal, or with unknown reasons, kinds and bounds', () => {
    const raw = JSON.parse(JSON.stringify(defaultPolicy().policy));
    raw.linked = LINKED;
    const problems = (p: unknown) =>
      PolicySchema.safeParse(p).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    assert.deepEqual(problems(raw), [
      'linked: no rule has eventType "LINKED_ACCOUNT_RISK": the signals would change nothing',
    ]);
    raw.rules.push({ id: 'linked', eventType: 'LINKED_ACCOUNT_RISK', reason: 'LINKED_ACCOUNT', weight: 30 });
    assert.deepEqual(problems(raw), []);
    for (const [field, value, path] of [
      ['fromReasons', ['NOT_A_REASON'], 'linked.fromReasons.0'],
      ['entities', ['email'], 'linked.entities.0'],
      ['window', 'soon', 'linked.window'],
      ['maxAccountsPerEntity', 1, 'linked.maxAccountsPerEntity'],
    ] as const) {
      const bad = { ...raw, linked: { ...LINKED, [field]: value } };
      assert.ok(
        problems(bad).some((p) => p.startsWith(`${path}:`)),
        `${field}: ${problems(bad).join('; ')}`,
      );
    }
  });
});
