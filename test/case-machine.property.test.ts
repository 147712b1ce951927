// Property-based tests of the pure case machine: random cases (random tier, random or default terms) fed
// random input sequences (risk events, verifications, appeals, claims, decisions, approvals, answers, timers)
// at times that only move forward, with the machine's promises checked after every step.
//
// Runs: CORDON_PROPERTY_RUNS (default 3000 sequences for the main property, half that for the focused ones).
// Replay a failure with the seed and path fast-check prints, for that test only:
//   CORDON_PROPERTY_SEED=… CORDON_PROPERTY_PATH=… npx mocha test/case-machine.property.test.ts --grep '…'
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { isRestricted, openCase, transition } from '../core/case-machine';
import { nextTimer } from '../core/case-timers';
import {
  REFUSAL_CODES,
  type CaseInput,
  type CaseState,
  type Effect,
  type TimerKind,
  type Transition,
} from '../core/case-types';
import {
  DECISIONS,
  isMoreSevere,
  OPEN_STATUSES,
  OUTCOMES,
  REASON_CODES,
  REVIEW_STATUSES,
  TIERS,
  type CaseStatus,
  type CaseTerms,
  type Decision,
  type Outcome,
  type RestrictiveTier,
  type ReviewDecision,
  type Tier,
  type TierTerms,
} from '../core/model';
import { CASE_RULES_VERSION, caseTermsOf } from '../core/policy';
import { loadPolicy } from '../infra/policy-loader';
import {
  appliedBefore,
  carriedCount,
  eligibleReviewer,
  checkOpenedSecondReview,
  checkSecondReviewAllowed,
  checkSecondReviewRefusal,
  checkSecondReviewTimeline,
  checkSeniorFlagIgnored,
  openSecond,
  REVIEWERS,
  SECOND_REVIEW_MILESTONES,
  secondReviewMilestone,
  secondReviewPlanArb,
  seniorFlag,
  type SecondReviewPlan,
} from './helpers/second-review-arbs';

const MIN = 60_000;
const H = 60 * MIN;
const D = 24 * H;
const T0 = Date.parse('2026-11-23T10:00:00Z');

const RUNS = Math.max(1, Number(process.env.CORDON_PROPERTY_RUNS ?? 3000) || 3000);
const SEED = process.env.CORDON_PROPERTY_SEED;
const PATH = process.env.CORDON_PROPERTY_PATH;

function params(runs: number, examples: [Scenario][] = []): fc.Parameters<[Scenario]> {
  return {
    numRuns: Math.max(1, Math.round(runs)),
    examples,
    ...(SEED !== undefined ? { seed: Number(SEED) } : {}),
    ...(PATH !== undefined ? { path: PATH } : {}),
  };
}

const DEFAULT_TERMS = caseTermsOf(loadPolicy(join(__dirname, '..', 'policy', 'default.json')));

const TIMER_KINDS = [
  'REMINDER',
  'USER_DEADLINE',
  'COOLING_OFF_END',
  'LOCKOUT_LIFT',
  'MONITOR_END',
  'REVIEW_SLA',
  'INFO_DEADLINE',
  'CLAIM_IDLE',
  'APPROVAL_SLA',
] as const satisfies readonly TimerKind[];
// Fails to compile when the machine grows a timer kind this file does not generate.
const _everyTimerKind: [Exclude<TimerKind, (typeof TIMER_KINDS)[number]>] extends [never] ? true : never =
  true;

const RESTRICTIVE_TIERS = TIERS.filter((t): t is RestrictiveTier => t !== 'NONE');
/** Where the account is restricted: every open status but MONITORING (a lifted lockout), and UPHELD/CLOSED. */
const RESTRICTED_STATUSES: ReadonlySet<CaseStatus> = new Set<CaseStatus>([
  ...OPEN_STATUSES.filter((s) => s !== 'MONITORING'),
  'UPHELD',
  'CLOSED',
]);

const backend = { kind: 'backend' as const, id: 'backend' };
const user = { kind: 'user' as const, id: 'acct-1' };

// ---------------------------------------------------------------------------------------------------------
// Generators

/** `eligible`: on a second review, a senior who may act on it (second-review-arbs.ts); elsewhere as `other`. */
type Who = 'r1' | 'r2' | 'r3' | 'assignee' | 'other' | 'decider' | 'eligible';
type Action =
  | { kind: 'RISK_EVENT'; decision: Decision }
  | { kind: 'VERIFICATION'; passed: boolean }
  | { kind: 'APPEAL' }
  /** `plain`: a senior acting without the senior role this time (it matters on a second review only). */
  | { kind: 'CLAIM'; who: Who; plain: boolean }
  /** `seen`: the evidence version the reviewer names (current, stale, or none). */
  | { kind: 'DECISION'; who: Who; decision: ReviewDecision; seen: Seen; plain: boolean }
  | { kind: 'APPROVAL'; who: Who; approve: boolean; seen: Seen; plain: boolean }
  | { kind: 'INFO' }
  | { kind: 'BREAK_GLASS'; action: 'LIFT' | 'CLOSE' }
  /** Retracts a recorded event (by its index among the case's recorded events), or one it never saw. */
  | { kind: 'RETRACT'; which: number | 'unknown' }
  /** A timer of the given kind fires now, due or not. */
  | { kind: 'TIMER'; timer: TimerKind }
  /** Time jumps to the next due timer (if it is not already late) and it fires. */
  | { kind: 'NEXT_TIMER' };
type Seen = 'current' | 'stale' | 'none';
type Ending = Exclude<ReviewDecision, 'REQUEST_INFO'>;
const OUTCOME_OF: Record<Ending, Outcome> = { UNLOCK: 'RESTORED', UPHOLD: 'UPHELD', CLOSE: 'CLOSED' };
interface Scenario {
  terms: 'default' | CaseTerms;
  opening: Decision;
  steps: { dt: number; action: Action }[];
  /** How the liveness driver's reviewer decides. */
  ending: Ending;
  /** Opens as the second review of an ended case instead (the opening gives its score and reasons). */
  second?: SecondReviewPlan | undefined;
}

const durationArb = fc.oneof(
  fc.constantFrom(0, MIN, 15 * MIN, H, D, 7 * D, 30 * D),
  fc.integer({ min: 0, max: 30 * D }),
);
const tierTermsArb: fc.Arbitrary<TierTerms> = fc.record({
  userDeadlineMs: durationArb,
  // The policy loader sorts reminders from the earliest (largest offset) to the latest.
  remindBeforeMs: fc.array(durationArb, { maxLength: 3 }).map((a) => [...a].sort((x, y) => y - x)),
  onUserDeadline: fc.constantFrom('REVIEW' as const, 'UPHOLD' as const),
  appealAllowed: fc.boolean(),
  verificationRestores: fc.boolean(),
  coolingOffMs: durationArb,
  reviewSlaMs: durationArb,
  infoDeadlineMs: durationArb,
  fourEyesClose: fc.boolean(),
});
const termsArb: fc.Arbitrary<CaseTerms> = fc.record({
  policyVersion: fc.constant('random'),
  policyHash: fc.constant('0'),
  tiers: fc.record({
    STEP_UP: tierTermsArb,
    LIMIT: tierTermsArb,
    PROTECT: tierTermsArb,
    FREEZE: tierTermsArb,
    CLOSE: tierTermsArb,
  }),
  lockout: fc.record({
    waitsMs: fc.array(durationArb, { minLength: 1, maxLength: 3 }),
    permanentAfter: fc.integer({ min: 0, max: 4 }),
    memoryMs: durationArb,
  }),
  // Cases opened under today's rules, sometimes under 0.2's (so their behaviour stays covered); with or
  // without an idle time for claims.
  claimIdleMs: fc.option(durationArb, { nil: undefined }),
  rulesVersion: fc.oneof(
    { weight: 3, arbitrary: fc.constant(CASE_RULES_VERSION) },
    { weight: 1, arbitrary: fc.constant(2) },
  ),
  approvalSlaMs: fc.option(durationArb, { nil: undefined }),
  unlockApprovalAboveScore: fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }),
  retractionRestores: fc.boolean(),
  failedVerificationWeight: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }),
});

function decisionArb(tiers: readonly Tier[]): fc.Arbitrary<Decision> {
  return fc
    .record({
      tier: fc.constantFrom(...tiers),
      lockout: fc.boolean(),
      proof: fc.integer({ min: 0, max: 5 }),
      codes: fc.subarray([...REASON_CODES], { maxLength: 2 }),
      score: fc.integer({ min: 0, max: 300 }),
      sources: fc.subarray(['credit-bureau', 'device-intel', 'ledger'], { maxLength: 2 }),
    })
    .map(({ tier, lockout, proof, codes, score, sources }) => ({
      tier,
      score,
      reasons: codes.map((code) => ({ code, contribution: score, ruleId: `rule-${code.toLowerCase()}` })),
      policyVersion: 'v1',
      policyHash: 'h',
      // Only a FREEZE can be a self-lifting lockout (see the scorer).
      lockout: tier === 'FREEZE' && lockout,
      // One decision in six carries a reason that verification cannot resolve (e.g. a regulatory hold);
      // shrinking goes towards 0, an ordinary decision.
      verificationAllowed: proof !== 5,
      unavailableSources: sources,
    }));
}

const reviewerArb = fc.constantFrom<Who>('r1', 'r2', 'r3');
/** Mostly the reviewer who can act, sometimes anyone (so the refusals are exercised too). */
const claimerArb = fc.oneof(reviewerArb, fc.constant<Who>('assignee'), fc.constant<Who>('eligible'));
const deciderArb = fc.oneof({ weight: 3, arbitrary: fc.constant<Who>('assignee') }, reviewerArb);
const approverArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Who>('other') },
  { weight: 1, arbitrary: fc.constant<Who>('eligible') },
  { weight: 1, arbitrary: fc.constant<Who>('decider') },
  reviewerArb,
);
/** Mostly the version the reviewer sees now, sometimes an older one, sometimes none (as before 0.3). */
const seenArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Seen>('current') },
  { weight: 1, arbitrary: fc.constant<Seen>('stale') },
  { weight: 2, arbitrary: fc.constant<Seen>('none') },
);
const plainArb = fc.oneof(
  { weight: 5, arbitrary: fc.constant(false) },
  { weight: 1, arbitrary: fc.constant(true) },
);
// CLOSE twice as often: with four eyes it is the one way into PENDING_APPROVAL.
const decisionKindArb = fc.constantFrom<ReviewDecision>(...DECISIONS, 'CLOSE');
/** Weights of RISK_EVENT, VERIFICATION, APPEAL, CLAIM, DECISION, APPROVAL, INFO, BREAK_GLASS, RETRACT, TIMER and
 * NEXT_TIMER, in that order. */
type ActionWeights = [number, number, number, number, number, number, number, number, number, number, number];
function actionsArb(w: ActionWeights): fc.Arbitrary<Action> {
  return fc.oneof(
    {
      weight: w[0],
      arbitrary: decisionArb(TIERS).map((decision): Action => ({ kind: 'RISK_EVENT', decision })),
    },
    {
      weight: w[1],
      arbitrary: fc.boolean().map((passed): Action => ({ kind: 'VERIFICATION', passed })),
    },
    { weight: w[2], arbitrary: fc.constant<Action>({ kind: 'APPEAL' }) },
    {
      weight: w[3],
      arbitrary: fc
        .record({ who: claimerArb, plain: plainArb })
        .map((r): Action => ({ kind: 'CLAIM', ...r })),
    },
    {
      weight: w[4],
      arbitrary: fc
        .record({ who: deciderArb, decision: decisionKindArb, seen: seenArb, plain: plainArb })
        .map((r): Action => ({ kind: 'DECISION', ...r })),
    },
    {
      weight: w[5],
      arbitrary: fc
        .record({ who: approverArb, approve: fc.boolean(), seen: seenArb, plain: plainArb })
        .map((r): Action => ({ kind: 'APPROVAL', ...r })),
    },
    { weight: w[6], arbitrary: fc.constant<Action>({ kind: 'INFO' }) },
    {
      weight: w[7],
      arbitrary: fc
        .constantFrom('LIFT' as const, 'CLOSE' as const)
        .map((action): Action => ({ kind: 'BREAK_GLASS', action })),
    },
    {
      weight: w[8],
      arbitrary: fc
        .oneof(fc.integer({ min: 0, max: 3 }), fc.constant('unknown' as const))
        .map((which): Action => ({ kind: 'RETRACT', which })),
    },
    {
      weight: w[9],
      arbitrary: fc.constantFrom(...TIMER_KINDS).map((timer): Action => ({ kind: 'TIMER', timer })),
    },
    { weight: w[10], arbitrary: fc.constant<Action>({ kind: 'NEXT_TIMER' }) },
  );
}
const actionArb = actionsArb([3, 2, 2, 2, 3, 3, 1, 1, 1, 1, 3]);
/** A second review is in review from the start: mostly reviewers act; the user's inputs are refused there. */
const reviewActionArb = actionsArb([2, 1, 1, 4, 5, 5, 1, 1, 1, 1, 2]);
/** Time between inputs: often none or a little, sometimes hours or days (so deadlines pass unattended). */
const dtOf = (w: [number, number, number, number]) =>
  fc.oneof(
    { weight: w[0], arbitrary: fc.constant(0) },
    { weight: w[1], arbitrary: fc.integer({ min: 1, max: MIN }) },
    { weight: w[2], arbitrary: fc.integer({ min: MIN, max: 6 * H }) },
    { weight: w[3], arbitrary: fc.integer({ min: 6 * H, max: 10 * D }) },
  );
const dtArb = dtOf([1, 2, 2, 1]);
/** On a second review, more often a reviewer acting before the claim goes idle. */
const reviewDtArb = dtOf([2, 4, 2, 1]);
const scenarioOf = (
  second: fc.Arbitrary<SecondReviewPlan | undefined>,
  actions: fc.Arbitrary<Action>,
  dt: fc.Arbitrary<number>,
) =>
  fc.record({
    terms: fc.oneof(
      { weight: 3, arbitrary: fc.constant('default' as const) },
      { weight: 2, arbitrary: termsArb },
    ),
    opening: decisionArb(RESTRICTIVE_TIERS),
    ending: fc.constantFrom<Ending>('UNLOCK', 'UPHOLD', 'CLOSE'),
    second,
    steps: fc.array(fc.record({ dt, action: actions }), {
      minLength: 1,
      maxLength: 40,
      size: 'medium',
    }),
  });
/** One scenario in five opens as a second review. */
const scenarioArb: fc.Arbitrary<Scenario> = fc.oneof(
  { weight: 4, arbitrary: scenarioOf(fc.constant(undefined), actionArb, dtArb) },
  { weight: 1, arbitrary: scenarioOf(secondReviewPlanArb, reviewActionArb, reviewDtArb) },
);

// ---------------------------------------------------------------------------------------------------------
// Running a scenario with every check

interface StepInfo {
  prev: CaseState;
  input: CaseInput;
  at: number;
  result: Transition;
}
interface RunOptions {
  /** Fire every timer at its due time before a later input arrives, as a punctual workflow would. */
  prompt?: boolean;
  /** From every reachable open state, drive the case to an outcome on a copy, ending reviews this way. */
  liveness?: Ending;
  /** An extra check after every transition (of the scenario; not of the liveness driver). */
  onStep?: (step: StepInfo) => void;
}
/** The account's restriction as the effects so far have left it with the ledger. */
type Applied = { tier: RestrictiveTier; closed: boolean } | null;

const iso = (at: number) => new Date(at).toISOString();
const effectiveTier = (s: CaseState): Tier => (s.status === 'MONITORING' ? 'NONE' : s.tier);

function describeInput(input: CaseInput): string {
  switch (input.kind) {
    case 'RISK_EVENT': {
      const d = input.decision;
      return `RISK_EVENT ${d.tier}${d.lockout ? ' lockout' : ''}${d.verificationAllowed ? '' : ' verification-proof'}`;
    }
    case 'VERIFICATION':
      return `VERIFICATION ${input.passed ? 'passed' : 'failed'}`;
    case 'CLAIM':
      return `CLAIM ${input.reviewer}${input.senior ? ' (senior)' : ''}`;
    case 'DECISION':
      return `DECISION ${input.decision} by ${input.reviewer}${input.senior ? ' (senior)' : ''}`;
    case 'APPROVAL':
      return `APPROVAL ${input.approve ? 'yes' : 'no'} by ${input.reviewer}${input.senior ? ' (senior)' : ''}`;
    case 'TIMER':
      return `TIMER ${input.timer}`;
    default:
      return input.kind;
  }
}

function applyEffects(applied: Applied, effects: Effect[]): Applied {
  for (const e of effects) {
    if (e.kind === 'APPLY_RESTRICTION') applied = { tier: e.tier, closed: false };
    else if (e.kind === 'LIFT_RESTRICTION') applied = null;
    else if (e.kind === 'CLOSE_ACCOUNT') applied = { tier: 'CLOSE', closed: true };
  }
  return applied;
}

/** What happened, formatted only when a check fails. */
interface TraceEntry {
  dt: number;
  input: CaseInput;
  from: CaseStatus;
  to: string;
}

class Run {
  state: CaseState;
  now: number;
  applied: Applied;
  readonly trace: TraceEntry[] = [];

  constructor(
    readonly options: RunOptions,
    from: { state: CaseState; now: number; applied: Applied },
    /** The run this one continues (for the liveness driver). */
    readonly parent?: Run,
    readonly title = '',
  ) {
    this.state = from.state;
    this.now = from.now;
    this.applied = from.applied;
  }

  static title(sc: Scenario): string {
    const d = sc.opening;
    const terms = sc.terms === 'default' ? 'default terms' : 'random terms';
    if (sc.second) {
      const { tier, excluded, seniors, carried } = sc.second;
      return `second review of ${tier} (excluded [${excluded.join()}], seniors [${seniors.join()}], carried: ${carried}), ${terms}`;
    }
    return `open ${d.tier}${d.lockout ? ' lockout' : ''}${d.verificationAllowed ? '' : ' verification-proof'}, ${terms}`;
  }

  /** What led here: the opening, the scenario's steps, and the liveness driver's if this is the driver. */
  formatTrace(): string {
    const lines = (this.parent ? [this.parent.formatTrace(), '-- liveness driver --'] : [this.title]).concat(
      this.trace.map((t) => `+${t.dt}ms ${describeInput(t.input)}: ${t.from} → ${t.to}`),
    );
    return lines.join('\n  ');
  }

  static open(sc: Scenario, options: RunOptions): Run {
    const terms = sc.terms === 'default' ? DEFAULT_TERMS : sc.terms;
    const opened = sc.second
      ? openSecond(sc.second, sc.opening, terms, T0)
      : openCase({
          caseId: 'acct-1.000000000001',
          accountId: 'acct-1',
          locale: 'en',
          terms,
          at: T0,
          eventId: 'e0',
          eventType: 'TEST',
          decision: sc.opening,
          actor: backend,
        });
    const before = sc.second ? appliedBefore(sc.second) : null;
    const run = new Run(
      options,
      { state: opened.state, now: T0, applied: applyEffects(before, opened.effects) },
      undefined,
      Run.title(sc),
    );
    if (sc.second) checkOpenedSecondReview(sc.second, opened);
    else assert.equal(opened.state.timeline[0]?.type, 'RISK_EVENT', 'a case opens with its risk event');
    run.checkState();
    if (options.prompt) run.checkNoPastTimer(T0);
    if (options.liveness) run.checkCanEnd(sc.ending);
    return run;
  }

  /** Applies one input at `at` (never earlier than the last one) and checks the step. */
  apply(input: CaseInput, at: number, quiet = false): Transition {
    assert.ok(at >= this.now, 'the test only moves time forward');
    const prev = this.state;
    // The state is JSON by design (it is the continue-as-new payload): its JSON is a deep snapshot.
    const snapshot = JSON.stringify(prev);
    const result = transition(prev, input, at);
    this.trace.push({
      dt: at - this.now,
      input,
      from: prev.status,
      to: result.ok ? result.state.status : `refused ${result.refusal.code}`,
    });
    // Pure: neither a refusal nor an allowed step touches the state it was given.
    if (JSON.stringify(prev) !== snapshot)
      assert.deepStrictEqual(prev, JSON.parse(snapshot), 'transition mutated its input state');
    checkSeniorFlagIgnored(prev, input, at, result);
    if (!result.ok) this.checkRefusal(prev, input, at, result.refusal.code, result.refusal.message);
    else {
      this.checkAllowed(prev, input, at, result.state, result.effects);
      this.state = result.state;
      this.now = at;
      this.applied = applyEffects(this.applied, result.effects);
      this.checkState();
      this.checkRestriction();
    }
    if (!quiet) this.options.onStep?.({ prev, input, at, result });
    if (result.ok && this.options.prompt) this.checkNoPastTimer(at);
    if (result.ok && this.options.liveness) this.checkCanEnd(this.options.liveness);
    return result;
  }

  private checkRefusal(prev: CaseState, input: CaseInput, at: number, code: string, message: string) {
    assert.ok((REFUSAL_CODES as readonly string[]).includes(code), `unknown refusal ${code}`);
    assert.ok(message.length > 0, 'a refusal says why');
    assert.equal(
      code === 'CASE_CLOSED',
      prev.outcome !== null,
      'CASE_CLOSED exactly when the case has ended',
    );
    if (prev.outcome !== null) return;
    checkSecondReviewRefusal(prev, input, code);
    if (code === 'NO_SUCH_TIMER')
      assert.equal(input.kind, 'TIMER', 'only timers are refused as NO_SUCH_TIMER');
    if (input.kind === 'TIMER') {
      const due = nextTimer(prev);
      assert.ok(
        !(due && due.kind === input.timer && due.at <= at),
        `the due ${input.timer} timer was refused (${code})`,
      );
    }
    assert.notEqual(input.kind, 'RISK_EVENT', 'an open case takes every risk event');
  }

  private checkAllowed(prev: CaseState, input: CaseInput, at: number, next: CaseState, effects: Effect[]) {
    assert.equal(prev.outcome, null, 'an ended case allows nothing');
    checkSecondReviewAllowed(prev, input, next);

    // The timeline only grows, by appending entries stamped with the time of the step.
    assert.ok(next.timeline.length >= prev.timeline.length, 'the timeline never shrinks');
    for (let i = 0; i < prev.timeline.length; i++)
      if (next.timeline[i] !== prev.timeline[i])
        assert.deepStrictEqual(next.timeline[i], prev.timeline[i], `timeline entry ${i} was changed`);
    for (const entry of next.timeline.slice(prev.timeline.length))
      assert.equal(entry.at, iso(at), `a ${entry.type} entry is stamped with the time of its step`);

    if (input.kind === 'TIMER') {
      const due = nextTimer(prev);
      assert.ok(due && due.kind === input.timer && due.at <= at, `${input.timer} fired while not due`);
    }

    // Only risk events change the tier; escalation never goes down; events that are not more severe change
    // neither the restriction nor the clock.
    if (input.kind !== 'RISK_EVENT') assert.equal(next.tier, prev.tier, `${input.kind} changed the tier`);
    else {
      const d = input.decision;
      assert.ok(
        !isMoreSevere(effectiveTier(prev), effectiveTier(next)),
        `de-escalated from ${effectiveTier(prev)} to ${effectiveTier(next)} on a ${d.tier} event`,
      );
      if (prev.status !== 'MONITORING')
        assert.ok(!isMoreSevere(prev.tier, next.tier), `tier went down from ${prev.tier} to ${next.tier}`);
      const hardensLockout = prev.deadlines.lockoutLiftsAt !== undefined && d.tier === 'FREEZE' && !d.lockout;
      if (d.tier !== 'NONE' && isMoreSevere(d.tier, effectiveTier(prev))) {
        assert.equal(next.tier, d.tier, 'a more severe event escalates to its tier');
        assert.equal(effectiveTier(next), d.tier);
        assert.ok(
          effects.some((e) => e.kind === 'APPLY_RESTRICTION' && e.tier === d.tier),
          'an escalation applies the new restriction',
        );
      } else if (!hardensLockout && !voided(prev, next)) {
        assert.deepEqual(effects, [], 'an event that is not more severe has no effect');
        const clock = (s: CaseState) => [
          s.status,
          s.tier,
          s.deadlines,
          s.remindersSent,
          s.lockoutCount,
          s.assignee,
          s.appealed,
          s.pendingClose,
          s.slaBreached,
          s.coolingOffNotified,
        ];
        assert.deepStrictEqual(clock(next), clock(prev), 'an event that is not more severe changes nothing');
      }
      for (const src of [...prev.missingSources, ...d.unavailableSources])
        assert.ok(next.missingSources.includes(src), `missing source ${src} forgotten`);
    }

    // What a case learns sticks.
    if (prev.appealed) assert.ok(next.appealed, 'an appeal was forgotten');
    if (!prev.verificationAllowed)
      assert.ok(!next.verificationAllowed, 'a verification-proof reason was lost');
    assert.ok(next.lockoutCount >= prev.lockoutCount, 'the lockout count went down');
    assert.ok(next.score >= prev.score, 'the score went down');
    for (const r of prev.reasons)
      assert.ok(
        next.reasons.some((n) => n.code === r.code && n.contribution >= r.contribution),
        `reason ${r.code} was lost`,
      );

    // A review, once started, carries on until the case ends.
    if (REVIEW_STATUSES.includes(prev.status) && next.outcome === null)
      assert.ok(REVIEW_STATUSES.includes(next.status), `left review for ${next.status}`);

    // A step never sets a deadline that has already passed.
    for (const [k, v] of Object.entries(next.deadlines) as [string, number | undefined][])
      if (v !== undefined && v !== prev.deadlines[k as keyof CaseState['deadlines']])
        assert.ok(v >= at, `${k} set ${at - v}ms in the past`);

    // Four eyes: a CLOSE decision in a tier that needs them closes only with another reviewer's approval.
    if (next.outcome === 'CLOSED' && input.kind !== 'BREAK_GLASS') {
      if (input.kind === 'DECISION')
        assert.ok(!prev.terms.tiers[prev.tier].fourEyesClose, 'closed without the second approval');
      else {
        assert.equal(input.kind, 'APPROVAL', `closed by ${input.kind}`);
        if (input.kind === 'APPROVAL') {
          assert.ok(input.approve, 'closed by a rejection');
          assert.notEqual(input.reviewer, prev.pendingClose?.by, 'closed on the decider’s own approval');
        }
      }
    }
    if (input.kind === 'APPROVAL')
      assert.notEqual(input.reviewer, prev.pendingClose?.by, 'the decider approved their own CLOSE');

    // Rules 3 and the inputs added with them.
    const rules = prev.terms.rulesVersion ?? 1;
    if (rules < 3) {
      assert.ok(
        !effects.some((e) => e.kind === 'NOTIFY_BACKEND' && e.event === 'ESCALATED'),
        'rules 2 escalate',
      );
      assert.equal(next.deadlines.approvalDueAt, undefined, 'rules 2 have no approval SLA');
    }
    if (input.kind === 'BREAK_GLASS')
      assert.equal(
        next.outcome,
        input.action === 'LIFT' ? 'RESTORED' : 'CLOSED',
        'break glass ends the case',
      );
    if (input.kind === 'RETRACT')
      assert.ok(next.retractedEvents?.includes(input.eventId), 'retraction recorded');
    if ((input.kind === 'DECISION' || input.kind === 'APPROVAL') && input.evidenceVersion !== undefined)
      assert.equal(
        input.evidenceVersion,
        prev.evidenceVersion ?? 0,
        'a decision on stale evidence was taken',
      );
    if (input.kind === 'DECISION' && input.decision === 'UNLOCK' && next.outcome === null)
      assert.ok(
        (rules >= 3 &&
          prev.terms.unlockApprovalAboveScore !== undefined &&
          prev.score > prev.terms.unlockApprovalAboveScore) ||
          (prev.secondReview !== undefined && prev.tier === 'CLOSE'),
        'an UNLOCK waits for approval only above the score, or overturning a CLOSE on second review',
      );
    if (prev.status === 'PENDING_APPROVAL' && next.status === 'IN_REVIEW')
      assert.ok(
        ['APPROVAL', 'RISK_EVENT', 'APPEAL', 'INFO', 'RETRACT'].includes(input.kind),
        `${input.kind} took the case out of PENDING_APPROVAL`,
      );

    // Confirmation of a held operation opens only after the cooling-off period.
    if (input.kind === 'VERIFICATION' && prev.status === 'PROTECTIVE_HOLD')
      assert.ok(at >= (prev.deadlines.coolingOffEndsAt ?? 0), 'confirmed during the cooling-off period');

    // A lockout lifts itself after the wait for its number; from `permanentAfter` on it does not.
    const lifts = next.deadlines.lockoutLiftsAt;
    if (lifts !== undefined && lifts !== prev.deadlines.lockoutLiftsAt) {
      const { waitsMs, permanentAfter } = next.terms.lockout;
      assert.ok(next.lockoutCount <= permanentAfter, `lockout ${next.lockoutCount} lifts itself`);
      assert.equal(lifts - at, waitsMs[Math.min(next.lockoutCount - 1, waitsMs.length - 1)], 'lockout wait');
    }

    // The backend hears of every change of restriction and of the outcome (once); the user of every new
    // restriction.
    const outcomeNotices = effects.filter((e) => e.kind === 'NOTIFY_BACKEND' && e.event === 'OUTCOME').length;
    assert.equal(outcomeNotices, next.outcome === null ? 0 : 1, 'the backend hears of the outcome once');
    if (JSON.stringify(applyEffects(this.applied, effects)) !== JSON.stringify(this.applied))
      assert.ok(
        effects.some((e) => e.kind === 'NOTIFY_BACKEND'),
        'the restriction changed without telling the backend',
      );
    if (effects.some((e) => e.kind === 'APPLY_RESTRICTION'))
      assert.ok(
        effects.some((e) => e.kind === 'NOTIFY_USER' && e.template === 'RESTRICTED'),
        'a restriction applied without telling the user',
      );
  }

  /** Invariants of every state. */
  checkState(): void {
    const s = this.state;
    if (s.outcome === null) {
      assert.ok((OPEN_STATUSES as readonly string[]).includes(s.status), `open case in status ${s.status}`);
      assert.equal(
        s.pendingClose !== null,
        s.status === 'PENDING_APPROVAL',
        'a pending CLOSE ⇔ PENDING_APPROVAL',
      );
      if (nextTimer(s) === null)
        assert.ok(REVIEW_STATUSES.includes(s.status), `${s.status} waits with no timer and no reviewer`);
      // Rules 3: a decision waiting for approval is always on the evidence the case has now.
      if (s.pendingClose && (s.terms.rulesVersion ?? 1) >= 3)
        assert.equal(
          s.pendingClose.evidenceVersion,
          s.evidenceVersion ?? 0,
          'approval pending on old evidence',
        );
      if (s.deadlines.lockoutLiftsAt !== undefined)
        assert.ok(s.status === 'AWAITING_USER' && s.tier === 'FREEZE', 'only a FREEZE lockout lifts itself');
    } else {
      assert.ok(OUTCOMES.includes(s.outcome), `unknown outcome ${String(s.outcome)}`);
      assert.equal(s.status, s.outcome, 'an ended case has its outcome as status');
      assert.deepEqual(s.deadlines, {}, 'an ended case keeps no deadlines');
      assert.equal(nextTimer(s), null, 'an ended case waits for no timer');
      const last = s.timeline.at(-1);
      assert.equal(last?.type, 'OUTCOME', 'the outcome is the last entry of the timeline');
      assert.equal(last?.outcome, s.outcome);
    }
    assert.equal(isRestricted(s), RESTRICTED_STATUSES.has(s.status), `isRestricted in ${s.status}`);
    checkSecondReviewTimeline(s);
    const times = s.timeline.map((t) => Date.parse(t.at));
    // A second review's own entries follow those it carried from the case it reviews again.
    const carried = carriedCount(s);
    assert.equal(times[carried], s.openedAt, 'the timeline starts when the case opens');
    for (let i = 1; i < times.length; i++)
      assert.ok(times[i]! >= times[i - 1]!, `timeline goes back at entry ${i}: ${s.timeline[i]!.type}`);
    assert.ok(times.at(-1)! <= this.now, 'no timeline entry in the future');
    // A second review's request is its appeal: it takes none of its own.
    assert.equal(
      s.timeline.slice(carried).filter((t) => t.type === 'APPEAL').length,
      s.appealed && !s.secondReview ? 1 : 0,
      'one appeal at most, recorded',
    );
  }

  /** The restriction the effects left in place is the one the state claims. */
  private checkRestriction(): void {
    const s = this.state;
    assert.equal(this.applied !== null, isRestricted(s), `effects left ${JSON.stringify(this.applied)}`);
    if (s.outcome === null && this.applied)
      assert.equal(this.applied.tier, s.tier, 'the applied restriction is the case tier');
    if (s.outcome === 'CLOSED') assert.ok(this.applied?.closed, 'a CLOSED case closed the account');
  }

  checkNoPastTimer(at: number): void {
    const due = nextTimer(this.state);
    if (due) assert.ok(due.at >= at, `${due.kind} due ${at - due.at}ms before the step that left it`);
  }

  /**
   * Liveness: some finite sequence of allowed inputs ends the case. A small driver, on a copy: a reviewer
   * claims and decides (`ending`), a second reviewer approves a CLOSE, the user answers a question; anywhere
   * else the next timer fires when due. Every step it takes is checked like the scenario's own.
   */
  checkCanEnd(ending: Ending): void {
    const driver = new Run({}, this, this);
    try {
      driver.driveToOutcome(ending);
    } catch (err) {
      throw withContext(err, `trace:\n  ${driver.formatTrace()}`);
    }
  }

  private driveToOutcome(ending: Ending): void {
    let decided = false;
    for (let i = 0; this.state.outcome === null; i++) {
      assert.ok(i < 20, 'no outcome within 20 driver steps');
      const s = this.state;
      let input: CaseInput;
      let at = this.now;
      // On a second review the driver's reviewers are seniors who had no part in the first outcome.
      const senior = s.secondReview ? { senior: true } : {};
      const excluded = s.secondReview?.excludedReviewers ?? [];
      if (s.status === 'IN_REVIEW' && s.assignee === null)
        input = { kind: 'CLAIM', reviewer: 'driver', ...senior };
      else if (s.status === 'IN_REVIEW') {
        input = { kind: 'DECISION', reviewer: s.assignee!, decision: ending, rationale: 'driver', ...senior };
        decided = true;
      } else if (s.status === 'PENDING_APPROVAL') {
        const approver = ['r1', 'r2', 'r3', 'driver-2'].find(
          (r) => r !== s.pendingClose?.by && !excluded.includes(r),
        )!;
        input = { kind: 'APPROVAL', reviewer: approver, approve: true, rationale: 'driver', ...senior };
      } else if (s.status === 'AWAITING_INFO') input = { kind: 'INFO', answer: 'driver', actor: user };
      else {
        const due = nextTimer(s);
        if (!due) assert.fail(`stuck in ${s.status}: nothing to do and no timer`);
        input = { kind: 'TIMER', timer: due.kind };
        at = Math.max(at, due.at);
      }
      const result = this.apply(input, at, true);
      if (!result.ok) assert.fail(`the driver's ${describeInput(input)} was refused: ${result.refusal.code}`);
    }
    if (decided)
      assert.equal(this.state.outcome, OUTCOME_OF[ending], `the reviewer's ${ending} ends the case so`);
  }
}

function resolve(who: Who, s: CaseState, seniors: readonly string[]): string {
  switch (who) {
    case 'eligible':
      return eligibleReviewer(s, seniors) ?? resolve('other', s, seniors);
    case 'assignee':
      return s.assignee ?? 'r1';
    case 'decider':
      return s.pendingClose?.by ?? s.assignee ?? 'r1';
    case 'other':
      return REVIEWERS.find((r) => r !== s.assignee && r !== s.pendingClose?.by)!;
    default:
      return who;
  }
}

function seenOf(seen: Seen, s: CaseState): { evidenceVersion?: number } {
  const current = s.evidenceVersion ?? 0;
  if (seen === 'none') return {};
  return { evidenceVersion: seen === 'current' ? current : current - 1 };
}

function inputOf(
  action: Action,
  s: CaseState,
  now: number,
  seq: number,
  seniors: readonly string[] = [],
): { input: CaseInput; at: number } {
  switch (action.kind) {
    case 'RISK_EVENT':
      return {
        input: {
          kind: 'RISK_EVENT',
          eventId: `e${seq}`,
          eventType: 'TEST',
          decision: action.decision,
          actor: backend,
        },
        at: now,
      };
    case 'VERIFICATION':
      return { input: { kind: 'VERIFICATION', method: 'OTP', passed: action.passed, actor: user }, at: now };
    case 'APPEAL':
      return { input: { kind: 'APPEAL', statement: 'it was me', actor: user }, at: now };
    case 'CLAIM': {
      const reviewer = resolve(action.who, s, seniors);
      return {
        input: { kind: 'CLAIM', reviewer, ...seniorFlag(s, reviewer, seniors, action.plain) },
        at: now,
      };
    }
    case 'DECISION':
      return {
        input: {
          kind: 'DECISION',
          reviewer: resolve(action.who, s, seniors),
          ...seniorFlag(s, resolve(action.who, s, seniors), seniors, action.plain),
          decision: action.decision,
          rationale: 'r',
          ...(action.decision === 'REQUEST_INFO' ? { question: 'Which city?' } : {}),
          ...(action.decision !== 'REQUEST_INFO'
            ? { explanation: { code: 'IDENTITY_MISMATCH', text: 'why' } }
            : {}),
          ...seenOf(action.seen, s),
        },
        at: now,
      };
    case 'APPROVAL':
      return {
        input: {
          kind: 'APPROVAL',
          reviewer: resolve(action.who, s, seniors),
          ...seniorFlag(s, resolve(action.who, s, seniors), seniors, action.plain),
          approve: action.approve,
          rationale: 'r',
          ...seenOf(action.seen, s),
        },
        at: now,
      };
    case 'BREAK_GLASS':
      return { input: { kind: 'BREAK_GLASS', by: 'senior', action: action.action, rationale: 'r' }, at: now };
    case 'RETRACT': {
      const recorded = s.timeline.filter((t) => t.type === 'RISK_EVENT').map((t) => t.eventId as string);
      // A second review records no event until one arrives.
      const eventId =
        action.which === 'unknown' || recorded.length === 0
          ? 'never-seen'
          : recorded[Math.min(action.which, recorded.length - 1)]!;
      return { input: { kind: 'RETRACT', eventId, reason: 'reported in error', actor: backend }, at: now };
    }
    case 'INFO':
      return { input: { kind: 'INFO', answer: 'here', actor: user }, at: now };
    case 'TIMER':
      return { input: { kind: 'TIMER', timer: action.timer }, at: now };
    case 'NEXT_TIMER': {
      const due = nextTimer(s);
      return {
        input: { kind: 'TIMER', timer: due?.kind ?? 'REVIEW_SLA' },
        at: Math.max(now, due?.at ?? now),
      };
    }
  }
}

/** Adds context to a failed check's message (and to its stack, which is what mocha and fast-check print). */
function withContext(err: unknown, context: string): unknown {
  if (!(err instanceof Error)) return err;
  err.message += `\n${context}`;
  const frames = err.stack?.indexOf('\n    at ') ?? -1;
  if (err.stack && frames >= 0)
    err.stack = `${err.stack.slice(0, frames)}\n${context}${err.stack.slice(frames)}`;
  return err;
}

/** Rules 3: new evidence voided a decision waiting for approval (recorded, back to review). */
function voided(prev: CaseState, next: CaseState): boolean {
  const was = prev.status === 'PENDING_APPROVAL' && next.status === 'IN_REVIEW';
  return was && next.timeline.some((t, i) => i >= prev.timeline.length && t.type === 'DECISION_VOIDED');
}

/** Plays a scenario with every check; returns the run (its final state) for further checks. */
function play(sc: Scenario, options: RunOptions = {}): Run {
  let run: Run | undefined;
  try {
    run = Run.open(sc, options);
    let afterEnd = 0;
    for (const [i, { dt, action }] of sc.steps.entries()) {
      // An ended case refuses everything (checked twice); the rest of the sequence has nothing to say.
      if (run.state.outcome !== null && afterEnd++ === 2) break;
      const t = run.now + dt;
      if (options.prompt) {
        // A punctual workflow fires every due timer before the next input arrives.
        for (let due = nextTimer(run.state), n = 0; due && due.at <= t; due = nextTimer(run.state), n++) {
          assert.ok(n < 100, 'timers keep firing at the same time');
          assert.ok(run.apply({ kind: 'TIMER', timer: due.kind }, Math.max(run.now, due.at)).ok, 'due timer');
        }
      }
      const { input, at } = inputOf(action, run.state, Math.max(t, run.now), i + 1, sc.second?.seniors);
      run.apply(input, at);
    }
    return run;
  } catch (err) {
    if (err instanceof Error && err.message.includes('\ntrace:\n')) throw err; // the driver's, complete
    throw withContext(err, `trace:\n  ${run?.formatTrace() ?? `${Run.title(sc)}\n  (while opening)`}`);
  }
}

// ---------------------------------------------------------------------------------------------------------

/** A plain decision for hand-written examples. */
function plain(tier: Tier, extra: Partial<Decision> = {}): Decision {
  return {
    tier,
    score: 80,
    reasons: tier === 'NONE' ? [] : [{ code: 'IDENTITY_MISMATCH', contribution: 80, ruleId: 'r' }],
    policyVersion: 'v1',
    policyHash: 'h',
    lockout: false,
    verificationAllowed: true,
    unavailableSources: [],
    ...extra,
  };
}

describe('case machine: properties (fast-check)', function () {
  if (process.env.CORDON_PROPERTY_RUNS) this.timeout(0);

  it('every step keeps the invariants, refusals change nothing, and every open case can still end', () => {
    fc.assert(
      fc.property(scenarioArb, (sc) => {
        play(sc, { liveness: sc.ending });
      }),
      params(RUNS),
    );
  });

  it('with timers fired when due, no step leaves a timer due before it', () => {
    fc.assert(
      fc.property(scenarioArb, (sc) => {
        play(sc, { prompt: true, liveness: sc.ending });
      }),
      params(RUNS / 2),
    );
  });

  it('a verification-proof reason sticks: verification never restores a case it joined', () => {
    // The design: a decision with verificationAllowed=false (e.g. a regulatory hold) means user verification
    // cannot resolve the case ("Verification cannot lift it"). Checked for proof events of any tier.
    const regulatoryHoldOnFreeze: Scenario = {
      terms: 'default',
      opening: plain('FREEZE'),
      ending: 'UNLOCK',
      steps: [
        {
          dt: 1_000,
          action: {
            kind: 'RISK_EVENT',
            decision: plain('FREEZE', {
              reasons: [{ code: 'REGULATORY_HOLD', contribution: 0, ruleId: 'regulatory-hold' }],
              score: 0,
              verificationAllowed: false,
            }),
          },
        },
        { dt: 1_000, action: { kind: 'VERIFICATION', passed: true } },
      ],
    };
    fc.assert(
      fc.property(scenarioArb, (sc) => {
        let proof = !sc.opening.verificationAllowed;
        play(sc, {
          onStep: ({ prev, input, result }) => {
            if (!result.ok || prev.outcome !== null) return;
            if (
              input.kind === 'RISK_EVENT' &&
              input.decision.tier !== 'NONE' &&
              !input.decision.verificationAllowed
            )
              proof = true;
            if (input.kind === 'VERIFICATION' && proof)
              assert.notEqual(
                result.state.outcome,
                'RESTORED',
                'verification restored a verification-proof case',
              );
          },
        });
      }),
      params(RUNS / 2, [[regulatoryHoldOnFreeze]]),
    );
  });

  it('the generators reach every status, outcome, refusal and timer', () => {
    const statuses = new Set<string>();
    const refusals = new Set<string>();
    const timers = new Set<string>();
    const seconds = new Set<string>();
    fc.assert(
      fc.property(scenarioArb, (sc) => {
        const run = play(sc, {
          onStep: ({ prev, input, result }) => {
            const milestone = secondReviewMilestone(prev, input, result);
            if (milestone) seconds.add(milestone);
            if (!result.ok) refusals.add(result.refusal.code);
            else {
              statuses.add(result.state.status);
              if (input.kind === 'TIMER') timers.add(input.timer);
            }
          },
        });
        statuses.add(run.state.status);
      }),
      // About the generators, not one case: a fixed count and a fixed seed, so that a rare refusal missed by
      // chance (SAME_REVIEWER was, once in a CI run) cannot fail the run; a generator change that loses one still does.
      { numRuns: 1000, seed: 20261125 },
    );
    const missing = [
      ...[...OPEN_STATUSES, ...OUTCOMES].filter((s) => !statuses.has(s)),
      ...REFUSAL_CODES.filter((c) => !refusals.has(c)),
      ...TIMER_KINDS.filter((t) => !timers.has(t)),
      ...SECOND_REVIEW_MILESTONES.filter((m) => !seconds.has(m)).map((m) => `second review: ${m}`),
    ];
    assert.deepEqual(missing, [], 'coverage of the generated sequences');
  });
});
