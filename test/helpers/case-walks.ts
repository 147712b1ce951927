// Random walks through the case machine for property tests: a case opened with random terms and decision, then
// random inputs (users, reviewers, risk events, the next timer when due) at random times. Refused inputs leave
// the state as it was, as they do in the workflow.
import fc from 'fast-check';
import { openCase, transition } from '../../core/case-machine';
import { nextTimer } from '../../core/case-timers';
import type { CaseInput, CaseState } from '../../core/case-types';
import type { CaseTerms, Decision, RestrictiveTier } from '../../core/model';

const T0 = Date.parse('2026-12-03T10:00:00Z');
const backend = { kind: 'backend' as const, id: 'backend' };
const user = { kind: 'user' as const, id: 'acct-w' };
const TIERS: RestrictiveTier[] = ['STEP_UP', 'LIMIT', 'PROTECT', 'FREEZE', 'CLOSE'];

export function walkDecision(tier: RestrictiveTier, extra: Partial<Decision> = {}): Decision {
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

type Step = (s: CaseState) => CaseInput | null;

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc
    .boolean()
    .map((passed) => (): CaseInput => ({ kind: 'VERIFICATION', method: 'OTP', passed, actor: user })),
  fc.constant((): CaseInput => ({ kind: 'APPEAL', statement: 'it was me', actor: user })),
  fc.constant((): CaseInput => ({ kind: 'INFO', answer: 'here', actor: user })),
  fc.constantFrom('r1', 'r2').map((reviewer) => (): CaseInput => ({ kind: 'CLAIM', reviewer })),
  fc.constantFrom('r1', 'r2').map((reviewer) => (): CaseInput => ({ kind: 'RELEASE', reviewer })),
  fc
    .constantFrom('UNLOCK', 'UPHOLD', 'CLOSE', 'REQUEST_INFO')
    .map((decision) => (s: CaseState): CaseInput => ({
      kind: 'DECISION',
      reviewer: s.assignee ?? 'r1',
      decision: decision as 'UNLOCK',
      rationale: 'r',
    })),
  fc
    .boolean()
    .map((approve) => (): CaseInput => ({ kind: 'APPROVAL', reviewer: 'r2', approve, rationale: 'r' })),
  fc.constant((): CaseInput => ({ kind: 'RETRACT', eventId: 'e1', reason: 'error', actor: backend })),
  fc
    .record({ tier: fc.constantFrom(...TIERS), lockout: fc.boolean(), verificationAllowed: fc.boolean() })
    .map(({ tier, lockout, verificationAllowed }) => (): CaseInput => ({
      kind: 'RISK_EVENT',
      eventId: `e-${tier}`,
      eventType: 'TEST',
      decision: walkDecision(tier, { lockout: lockout && tier === 'FREEZE', verificationAllowed }),
      actor: backend,
    })),
  // The next timer, when it is due.
  fc.constant((s: CaseState): CaseInput | null => {
    const due = nextTimer(s);
    return due ? { kind: 'TIMER', timer: due.kind } : null;
  }),
);

export interface Walk {
  rules: number | undefined;
  tier: RestrictiveTier;
  lockout: boolean;
  verificationAllowed: boolean;
  steps: [Step, number][];
}

/** Walks under the given rules versions (undefined: a case opened before rules had versions). */
export function walkArb(rules: (number | undefined)[]): fc.Arbitrary<Walk> {
  return fc.record({
    rules: fc.constantFrom(...rules),
    tier: fc.constantFrom(...TIERS),
    lockout: fc.boolean(),
    verificationAllowed: fc.boolean(),
    steps: fc.array(fc.tuple(stepArb, fc.integer({ min: 0, max: 3 * 86_400_000 })), {
      minLength: 4,
      maxLength: 24,
      size: 'max',
    }),
  });
}

/** Plays a walk; `visit` sees the opened case and the state after every step, with the time of that step. */
export function play(walk: Walk, terms: CaseTerms, visit: (s: CaseState, at: number) => void): void {
  const { rulesVersion: _omit, ...unversioned } = terms;
  let s = openCase({
    caseId: 'acct-w.00000000000d',
    accountId: 'acct-w',
    locale: 'en',
    // An UNLOCK needs a second reviewer too (score 60 > 50), so walks reach PENDING_APPROVAL often.
    terms: {
      ...unversioned,
      ...(walk.rules !== undefined ? { rulesVersion: walk.rules } : {}),
      unlockApprovalAboveScore: 50,
    },
    at: T0,
    eventId: 'e1',
    eventType: 'TEST',
    decision: walkDecision(walk.tier, {
      lockout: walk.lockout && walk.tier === 'FREEZE',
      verificationAllowed: walk.verificationAllowed,
    }),
    actor: backend,
  }).state;
  let at = T0;
  visit(s, at);
  for (const [next, dt] of walk.steps) {
    if (s.outcome !== null) break;
    const input = next(s);
    if (input === null) continue;
    at = input.kind === 'TIMER' ? Math.max(at, nextTimer(s)!.at) : at + dt;
    const r = transition(s, input, at);
    if (r.ok) s = r.state;
    visit(s, at);
  }
}
