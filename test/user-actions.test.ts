// What the account holder may do on a case (core/user-actions.ts), checked against the case machine itself:
// in every state of random cases, an action is offered exactly when `transition` accepts it. Server-free and
// fast (the user's page built on it is checked end to end in test/portal-next-steps.test.ts).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { openCase, transition } from '../core/case-machine';
import type { CaseInput, CaseState } from '../core/case-types';
import { caseViewOf } from '../core/case-view';
import { OPEN_STATUSES, type Decision, type RestrictiveTier } from '../core/model';
import { caseTermsOf } from '../core/policy';
import { userActionsOf } from '../core/user-actions';
import { play, walkArb } from './helpers/case-walks';
import { defaultPolicy } from './helpers/deps';

const T0 = Date.parse('2026-12-03T10:00:00Z');
const TERMS = caseTermsOf(defaultPolicy());
const backend = { kind: 'backend' as const, id: 'backend' };
const user = { kind: 'user' as const, id: 'acct-u' };

function decision(tier: RestrictiveTier, extra: Partial<Decision> = {}): Decision {
  return {
    tier,
    score: 60,
    reasons: [{ code: 'IDENTITY_MISMATCH', contribution: 60, ruleId: 'r' }],
    policyVersion: 'v1',
    policyHash: 'h',
    lockout: false,
    verificationAllowed: true,
    unavailableSources: [],
    ...extra,
  };
}

const verify: CaseInput = { kind: 'VERIFICATION', method: 'OTP', passed: true, actor: user };
const appeal: CaseInput = { kind: 'APPEAL', statement: 'it was me', actor: user };
const info: CaseInput = { kind: 'INFO', answer: 'here', actor: user };

/** The user's three actions as the machine answers them at `at`. */
function accepted(s: CaseState, at: number) {
  return {
    verification: transition(s, verify, at).ok,
    appeal: transition(s, appeal, at).ok,
    info: transition(s, info, at).ok,
  };
}

/** Checks that what is offered in this state is what the machine accepts in it. */
function agree(s: CaseState, at: number): void {
  const offered = userActionsOf(caseViewOf(s));
  const machine = accepted(s, at);
  const where = `${s.status} ${s.tier} rules ${s.terms.rulesVersion} appealed ${s.appealed}`;
  assert.equal(offered.appeal, machine.appeal, `appeal in ${where}`);
  assert.equal(offered.info !== null, machine.info, `info in ${where}`);
  assert.equal(offered.info === 'answer', s.status === 'AWAITING_INFO', `answer in ${where}`);
  if (s.status === 'PROTECTIVE_HOLD') {
    assert.equal(offered.verify, false, `verify in ${where}`);
    // Offered from the end of cooling-off: accepted from then on, refused before.
    const from = s.deadlines.coolingOffEndsAt!;
    assert.equal(offered.confirmFrom, offered.confirm ? new Date(from).toISOString() : null, where);
    assert.equal(offered.confirm, transition(s, verify, Math.max(at, from)).ok, `confirm in ${where}`);
    if (at < from) assert.equal(machine.verification, false, `confirm before cooling-off ends in ${where}`);
  } else {
    assert.equal(offered.confirm, false, `confirm in ${where}`);
    assert.equal(offered.confirmFrom, null, where);
    assert.equal(offered.verify, machine.verification, `verify in ${where}`);
  }
}

describe('what the user may do: offered exactly when the case machine accepts it', () => {
  it('property: in every state of random cases (rules 1 to 3), at random times', () => {
    const reached = new Set<string>();
    fc.assert(
      fc.property(walkArb([undefined, 2, 3]), (walk) => {
        play(walk, TERMS, (s, at) => {
          agree(s, at);
          reached.add(s.status);
        });
      }),
      { numRuns: 300, seed: 20261206 },
    );
    assert.deepEqual(
      OPEN_STATUSES.filter((status) => !reached.has(status)),
      [],
      'the walks reach every open status',
    );
  });

  it('an ended case offers nothing', () => {
    const s = openCase({
      caseId: 'acct-u.00000000000b',
      accountId: 'acct-u',
      locale: 'en',
      terms: TERMS,
      at: T0,
      eventId: 'e1',
      eventType: 'TEST',
      decision: decision('FREEZE'),
      actor: backend,
    }).state;
    const ended = transition(s, verify, T0 + 1);
    assert.ok(ended.ok && ended.state.outcome === 'RESTORED');
    assert.deepEqual(userActionsOf(caseViewOf(ended.state)), {
      verify: false,
      confirm: false,
      confirmFrom: null,
      appeal: false,
      info: null,
    });
  });

  it('a view archived before 0.4 (no rules version) of a case in review offers to add information', () => {
    const view = {
      status: 'IN_REVIEW' as const,
      tier: 'FREEZE' as const,
      outcome: null,
      appealed: true,
      verificationAllowed: true,
      deadlines: {},
    };
    assert.equal(userActionsOf(view).info, 'add');
    assert.equal(userActionsOf({ ...view, rulesVersion: 2 }).info, null);
    assert.equal(userActionsOf({ ...view, rulesVersion: 3 }).info, 'add');
  });
});
