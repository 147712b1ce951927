// Rule guards: a brake on a rule that suddenly restricts far more accounts than it should (a late data source, a
// wrong threshold). Each guarded rule's matches — decisions in which it fired and the account was restricted —
// are counted over a sliding hour by every API process (infra/stores/guards.ts); past the hourly cap or a multiple
// of the rule's own trailing baseline the guard trips. A trip alerts by default: a guard must never become an
// off-switch an attacker can flip by flooding. `capAtStepUp`, opt-in per rule, makes a tripped rule ask users to
// verify instead of freezing them, until a senior re-arms it. Pure: no I/O, no clock.
import { z } from 'zod';

export const GuardSchema = z
  .strictObject({
    /** Trips when the rule's matches in the last hour exceed this. */
    maxPerHour: z.number().int().min(1).max(1_000_000).optional(),
    /** Trips when the last hour's matches exceed this many times the trailing 7-day hourly mean. */
    maxTimesBaseline: z.number().gt(1).max(1_000).optional(),
    /** `alert`: the rule keeps restricting, operators are told. `capAtStepUp`: opt-in, see below. */
    onTrip: z.enum(['alert', 'capAtStepUp']).default('alert'),
  })
  .refine((g) => g.maxPerHour !== undefined || g.maxTimesBaseline !== undefined, {
    message: 'a guard needs maxPerHour, maxTimesBaseline or both',
  });
export type Guard = z.infer<typeof GuardSchema>;

/**
 * The baseline's floor while a rule has little or no history (a new rule, a new deployment): without it the
 * first few matches of a quiet rule would be "many times its baseline of zero".
 */
export const BASELINE_MIN_PER_HOUR = 10;
const HOURS_IN_BASELINE = 7 * 24;

/** The trailing 7-day hourly mean of a rule's matches (the current hour excluded), at least the floor. */
export function baselinePerHour(matchesInTrailing7Days: number): number {
  return Math.max(matchesInTrailing7Days / HOURS_IN_BASELINE, BASELINE_MIN_PER_HOUR);
}

export type TripCause = 'MAX_PER_HOUR' | 'TIMES_BASELINE';

/** Whether the last hour's count trips the guard, and why (the hourly cap is checked first). */
export function tripCause(guard: Guard, hourCount: number, baseline: number): TripCause | null {
  if (guard.maxPerHour !== undefined && hourCount > guard.maxPerHour) return 'MAX_PER_HOUR';
  if (guard.maxTimesBaseline !== undefined && hourCount > guard.maxTimesBaseline * baseline)
    return 'TIMES_BASELINE';
  return null;
}

type Problem = { path: (string | number)[]; message: string };

interface GuardedRule {
  id: string;
  reason: string;
  minTier?: string | undefined;
  verificationAllowed?: boolean | undefined;
  guard?: Guard | undefined;
}

/**
 * `capAtStepUp` only where asking the user to verify is an answer: never on a regulatory hold (no user action
 * lifts it), a rule that closes accounts, a rule whose finding verification cannot resolve, or in a policy whose
 * STEP_UP tier does not restore on verification.
 */
export function guardProblems(rules: readonly GuardedRule[], stepUpVerificationRestores: boolean): Problem[] {
  const out: Problem[] = [];
  rules.forEach((rule, i) => {
    if (rule.guard?.onTrip !== 'capAtStepUp') return;
    const path = ['rules', i, 'guard', 'onTrip'];
    if (rule.reason === 'REGULATORY_HOLD')
      out.push({ path, message: 'capAtStepUp is refused on a regulatory hold: no verification lifts it' });
    else if (rule.minTier === 'CLOSE')
      out.push({ path, message: 'capAtStepUp is refused on a rule whose tier is CLOSE' });
    else if (rule.verificationAllowed === false)
      out.push({ path, message: 'capAtStepUp is refused where verification is not allowed' });
    else if (!stepUpVerificationRestores)
      out.push({
        path,
        message:
          'capAtStepUp needs tiers.STEP_UP.verificationRestores: the user could not verify their way out',
      });
  });
  return out;
}

/** The weight a tripped capAtStepUp rule adds: alone, it never takes the score past STEP_UP's threshold. */
export function cappedWeight(weight: number, stepUpThreshold: number): number {
  return Math.min(weight, stepUpThreshold);
}
