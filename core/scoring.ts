import type { RiskEvent } from './events';
import { FEATURE_PREFIX, type FeatureValues } from './features';
import { cappedWeight } from './guards';
import { isMoreSevere, type Decision, type ReasonContribution, type Tier } from './model';
import type { Condition, LoadedPolicy, Rule } from './policy';

type Fact = number | boolean | string;

/** What one external data source said about the event, or that it could not be reached. */
export interface SourceResult {
  source: string;
  available: boolean;
  signals: Record<string, Fact>;
}

/**
 * Event attributes plus data-source signals, as "source.<name>.<signal>" and "source.<name>.available", plus the
 * policy's features at the decision as "feature.<name>" (a feature the event has no key for is missing).
 */
function factsOf(
  event: RiskEvent,
  sources: SourceResult[],
  features: FeatureValues | undefined,
): Record<string, Fact | undefined> {
  // No prototype: a field named like an Object method is just a missing fact.
  const facts: Record<string, Fact | undefined> = Object.assign(
    Object.create(null) as Record<string, Fact | undefined>,
    event.attributes,
  );
  for (const s of sources) {
    facts[`source.${s.source}.available`] = s.available;
    for (const [name, value] of Object.entries(s.signals)) facts[`source.${s.source}.${name}`] = value;
  }
  if (features) for (const name in features) facts[FEATURE_PREFIX + name] = features[name];
  return facts;
}

function compare(op: 'gt' | 'gte' | 'lt' | 'lte', a: number, b: number): boolean {
  switch (op) {
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
  }
}

export function conditionHolds(condition: Condition, facts: Record<string, Fact | undefined>): boolean {
  const actual = facts[condition.field];
  if (actual === undefined) return false;
  if ('ref' in condition) {
    const other = facts[condition.ref];
    if (typeof actual !== 'number' || typeof other !== 'number') return false;
    return compare(condition.op, actual, other * condition.factor);
  }
  switch (condition.op) {
    case 'eq':
      return actual === condition.value;
    case 'ne':
      return actual !== condition.value;
    default:
      return (
        typeof actual === 'number' &&
        typeof condition.value === 'number' &&
        compare(condition.op, actual, condition.value)
      );
  }
}

function ruleMatches(rule: Rule, event: RiskEvent, facts: Record<string, Fact | undefined>): boolean {
  return (
    (rule.eventType === '*' || rule.eventType === event.type) &&
    rule.when.every((c) => conditionHolds(c, facts))
  );
}

export function tierForScore(thresholds: LoadedPolicy['policy']['thresholds'], score: number): Tier {
  if (score >= thresholds.CLOSE) return 'CLOSE';
  if (score >= thresholds.FREEZE) return 'FREEZE';
  if (score >= thresholds.LIMIT) return 'LIMIT';
  if (score >= thresholds.STEP_UP) return 'STEP_UP';
  return 'NONE';
}

/**
 * Scores one risk event: the sum of the weights of matching rules maps to a tier on the score ladder, and
 * hard rules raise it to their minimum tier. Pure: the same inputs always give the same decision.
 */
export function scoreEvent(
  loaded: LoadedPolicy,
  event: RiskEvent,
  sources: SourceResult[] = [],
  /** The policy's features at this event (core/feature-decide.ts); recorded on the decision when given. */
  features?: FeatureValues,
  /**
   * Rules whose guard tripped with `capAtStepUp` (core/guards.ts): their minimum tier drops out and their weight
   * is capped at STEP_UP's threshold; the decision names those that matched as `guardedRules`.
   */
  guarded?: ReadonlySet<string>,
): Decision {
  const { policy, hash } = loaded;
  if (event.type === 'STAFF_REPORT') {
    // A person decided the tier: no rule is consulted, and only a step-up can be resolved by verifying.
    const { tier, reason, rationale } = event.attributes;
    return {
      tier,
      score: 0,
      reasons: [{ code: reason, contribution: 0, ruleId: 'staff-report' }],
      policyVersion: policy.version,
      policyHash: hash,
      lockout: false,
      verificationAllowed: tier === 'STEP_UP',
      unavailableSources: [],
      note: rationale,
    };
  }
  const facts = factsOf(event, sources, features);
  const fired = policy.rules.filter((rule) => ruleMatches(rule, event, facts));
  const guardedRules = guarded?.size ? fired.filter((r) => guarded.has(r.id)).map((r) => r.id) : [];
  const matched = guardedRules.length
    ? fired.map((r) =>
        guarded!.has(r.id)
          ? { ...r, minTier: undefined, weight: cappedWeight(r.weight, policy.thresholds.STEP_UP) }
          : r,
      )
    : fired;

  const score = matched.reduce((sum, rule) => sum + rule.weight, 0);
  const ladderTier = tierForScore(policy.thresholds, score);
  let tier = ladderTier;
  for (const rule of matched) if (rule.minTier && isMoreSevere(rule.minTier, tier)) tier = rule.minTier;

  // A lockout is a FREEZE that only lockout rules forced: any other reason to freeze makes it a real freeze.
  const freezeForcers = matched.filter((r) => r.minTier === 'FREEZE');
  const lockout =
    tier === 'FREEZE' &&
    ladderTier !== 'FREEZE' &&
    freezeForcers.length > 0 &&
    freezeForcers.every((r) => r.lockout);

  const reasons: ReasonContribution[] = matched.map((r) => ({
    code: r.reason,
    contribution: r.weight,
    ruleId: r.id,
  }));
  const unavailableSources = sources.filter((s) => !s.available).map((s) => s.source);
  if (event.type === 'DATA_SOURCE_ERROR' && !unavailableSources.includes(event.attributes.source)) {
    unavailableSources.push(event.attributes.source);
  }

  return {
    tier,
    score,
    reasons,
    policyVersion: policy.version,
    policyHash: hash,
    lockout,
    verificationAllowed: matched.every((r) => r.verificationAllowed),
    unavailableSources,
    ...(features ? { features: { ...features } } : {}),
    ...(guardedRules.length ? { guardedRules } : {}),
  };
}
