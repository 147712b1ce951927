// The what-if: from the cases a policy would open each day (the backtest's per-day counts) and a lifecycle
// model, forecast per day the verifications, appeals, reviews, reviewer hours, reviewers needed for the review
// SLAs and the breaches expected with a given number of reviewers. Pure and deterministic (expected values).
//
// The model, per case opened on day d in tier t (tier terms from the policy):
// - if the tier's verification restores (verificationRestores): a share `verifyRate` of users try to verify;
//   a share `passRate` of those pass (restored on day d); the others fail and go to review on day d.
// - of the rest, a share `appealRate` appeal (when the tier allows appeals) and go to review on day d;
// - the others wait out the user deadline: review on day d + deadline (cooling-off included) when the tier
//   says onUserDeadline REVIEW, nothing when it says UPHOLD.
// - each review takes `reviewMinutes` of one reviewer's time; a reviewer works `shiftHours` a day.
// - breaches: the reviews queue earliest due first, `reviewers * shiftHours` of work done each day; a review
//   due on day d + floor(slaHours / 24) - 1 (a 24 h SLA: the same day) and not done by then is a breach.
// - reviewers needed on day d: the fewest reviewers who, working every day from the first, leave no review
//   due on day d undone; the totals give the fewest with no breach on any day.
import { TIERS, type CaseTerms, type RestrictiveTier } from '../core/model';
import type { DayStats, GuardReport, PolicySummary } from './backtest';

export interface LifecycleParameters {
  /** Share of verifiable cases whose user tries to verify. */
  verifyRate: number;
  /** Share of verifications that pass. */
  passRate: number;
  /** Share of the remaining cases whose user appeals. */
  appealRate: number;
  /** Reviewer minutes per reviewed case. */
  reviewMinutes: number;
  /** Reviewers available each day. */
  reviewers: number;
  /** Working hours of one reviewer per day. */
  shiftHours: number;
}

/** The documented defaults, used when neither an option nor the case records give a value. */
export const DEFAULT_PARAMETERS: LifecycleParameters = {
  verifyRate: 0.7,
  passRate: 0.6,
  appealRate: 0.3,
  reviewMinutes: 12,
  reviewers: 5,
  shiftHours: 8,
};

export type ParameterSource = 'option' | 'database' | 'default';

export interface SourcedParameters {
  values: LifecycleParameters;
  sources: Record<keyof LifecycleParameters, { source: ParameterSource; detail?: string }>;
}

export interface WhatIfDay {
  day: string;
  opened: Record<RestrictiveTier, number>;
  restrictions: number;
  verifications: number;
  restoredByVerification: number;
  appeals: number;
  reviews: number;
  reviewerHours: number;
  reviewersNeeded: number;
  slaBreaches: number;
  /** Reviews still waiting at the end of the day. */
  backlog: number;
}

export interface WhatIfForecast {
  policyVersion: string;
  parameters: LifecycleParameters;
  days: WhatIfDay[];
  /** peakReviewersNeeded: the fewest reviewers (every day) with no SLA breach at all. */
  totals: Omit<WhatIfDay, 'day' | 'reviewersNeeded' | 'backlog'> & { peakReviewersNeeded: number };
  /** When the policy's guards would trip over the events (absent: it has none). */
  guards?: GuardReport;
}

const DAY_MS = 86_400_000;
const RESTRICTIVE = TIERS.filter((t) => t !== 'NONE') as RestrictiveTier[];
const zero = (): Record<RestrictiveTier, number> => ({
  STEP_UP: 0,
  LIMIT: 0,
  PROTECT: 0,
  FREEZE: 0,
  CLOSE: 0,
});

function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

interface QueueItem {
  due: string;
  cases: number;
}

/** The forecast for one policy: `opened` are the backtest's days with the cases opened per tier. */
export function forecast(
  days: { day: string; opened: Record<RestrictiveTier, number> }[],
  terms: CaseTerms,
  p: LifecycleParameters,
): WhatIfForecast {
  if (days.length === 0)
    return { policyVersion: terms.policyVersion, parameters: p, days: [], totals: emptyTotals() };
  const sorted = [...days].sort((a, b) => (a.day < b.day ? -1 : 1));
  const first = sorted[0]!.day;
  const last = sorted[sorted.length - 1]!.day;
  const rows = new Map<string, WhatIfDay>();
  const row = (day: string): WhatIfDay => {
    let r = rows.get(day);
    if (!r) {
      r = {
        day,
        opened: zero(),
        restrictions: 0,
        verifications: 0,
        restoredByVerification: 0,
        appeals: 0,
        reviews: 0,
        reviewerHours: 0,
        reviewersNeeded: 0,
        slaBreaches: 0,
        backlog: 0,
      };
      rows.set(day, r);
    }
    return r;
  };
  // Review work arriving per day and tier (in cases).
  const arrivals = new Map<string, Record<RestrictiveTier, number>>();
  const arrive = (day: string, tier: RestrictiveTier, n: number) => {
    if (n <= 0) return;
    let a = arrivals.get(day);
    if (!a) arrivals.set(day, (a = zero()));
    a[tier] += n;
  };
  for (const d of sorted) {
    const r = row(d.day);
    for (const tier of RESTRICTIVE) {
      const c = d.opened[tier] ?? 0;
      if (!c) continue;
      const t = terms.tiers[tier];
      r.opened[tier] += c;
      r.restrictions += c;
      const verifications = t.verificationRestores ? c * p.verifyRate : 0;
      const passed = verifications * p.passRate;
      r.verifications += verifications;
      r.restoredByVerification += passed;
      arrive(d.day, tier, verifications - passed);
      const rest = c - verifications;
      const appeals = t.appealAllowed ? rest * p.appealRate : 0;
      r.appeals += appeals;
      arrive(d.day, tier, appeals);
      if (t.onUserDeadline === 'REVIEW')
        arrive(addDays(d.day, Math.ceil((t.coolingOffMs + t.userDeadlineMs) / DAY_MS)), tier, rest - appeals);
    }
  }
  const slaDays = (tier: RestrictiveTier) => Math.max(1, Math.floor(terms.tiers[tier].reviewSlaMs / DAY_MS));
  const lastArrival = [...arrivals.keys()].sort().pop() ?? last;
  // Until the last review is due.
  const lastDue = addDays(lastArrival, Math.max(...RESTRICTIVE.map(slaDays)) - 1);
  const end = lastDue > last ? lastDue : last;
  const calendar: string[] = [];
  for (let day = first; day <= end; day = addDays(day, 1)) calendar.push(day);
  // The reviews arriving each day, with the day each is due.
  const incoming = calendar.map((day) => {
    const a = arrivals.get(day);
    const items: QueueItem[] = [];
    const r = row(day);
    if (a)
      for (const tier of RESTRICTIVE) {
        if (!a[tier]) continue;
        r.reviews += a[tier];
        r.reviewerHours += (a[tier] * p.reviewMinutes) / 60;
        items.push({ due: addDays(day, slaDays(tier) - 1), cases: a[tier] });
      }
    return items;
  });
  /** The review queue worked earliest-due first by `reviewers` every day: breaches and backlog per day. */
  const simulate = (reviewers: number) => {
    const perDay = reviewers * p.shiftHours * 60;
    const capacityCases = p.reviewMinutes > 0 ? perDay / p.reviewMinutes : Infinity;
    let queue: QueueItem[] = [];
    return calendar.map((day, k) => {
      queue.push(...incoming[k]!.map((x) => ({ ...x })));
      queue.sort((x, y) => (x.due < y.due ? -1 : x.due > y.due ? 1 : 0));
      let capacity = capacityCases;
      for (const item of queue) {
        if (capacity <= 0) break;
        const done = Math.min(item.cases, capacity);
        item.cases -= done;
        capacity -= done;
      }
      queue = queue.filter((x) => x.cases > 1e-9);
      const breaches = queue.filter((x) => x.due === day).reduce((n, x) => n + x.cases, 0);
      return { breaches, backlog: queue.reduce((n, x) => n + x.cases, 0) };
    });
  };
  calendar.forEach((day, k) => {
    const r = row(day);
    const sim = simulate(p.reviewers)[k]!;
    r.slaBreaches = sim.breaches;
    r.backlog = sim.backlog;
  });
  // Reviewers needed on a day: the fewest reviewers who, working every day so far, leave no review due that day
  // undone (binary search; enough reviewers to do everything on its first day always suffice).
  const totalMinutes =
    calendar.reduce((n, _d, k) => n + incoming[k]!.reduce((m, x) => m + x.cases, 0), 0) * p.reviewMinutes;
  const enough = p.shiftHours > 0 ? Math.ceil(totalMinutes / (p.shiftHours * 60)) + 1 : 0;
  const runs = new Map<number, ReturnType<typeof simulate>>();
  const run = (r: number) => {
    let result = runs.get(r);
    if (!result) runs.set(r, (result = simulate(r)));
    return result;
  };
  let minimumForAll = 0;
  calendar.forEach((day, k) => {
    let lo = 0;
    let hi = enough;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (run(mid)[k]!.breaches > 1e-9) lo = mid + 1;
      else hi = mid;
    }
    row(day).reviewersNeeded = lo;
  });
  {
    let lo = 0;
    let hi = enough;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (run(mid).some((d) => d.breaches > 1e-9)) lo = mid + 1;
      else hi = mid;
    }
    minimumForAll = lo;
  }
  // Every day of the events, and after them the days something happens (reviews after a user deadline).
  const out = [...rows.values()]
    .filter(
      (r) => r.day <= last || r.reviews > 0 || r.backlog > 0 || r.slaBreaches > 0 || r.reviewersNeeded > 0,
    )
    .sort((a, b) => (a.day < b.day ? -1 : 1));
  const totals = emptyTotals();
  for (const r of out) {
    for (const tier of RESTRICTIVE) totals.opened[tier] += r.opened[tier];
    totals.restrictions += r.restrictions;
    totals.verifications += r.verifications;
    totals.restoredByVerification += r.restoredByVerification;
    totals.appeals += r.appeals;
    totals.reviews += r.reviews;
    totals.reviewerHours += r.reviewerHours;
    totals.slaBreaches += r.slaBreaches;
  }
  totals.peakReviewersNeeded = minimumForAll;
  return { policyVersion: terms.policyVersion, parameters: p, days: out, totals };
}

function emptyTotals(): WhatIfForecast['totals'] {
  return {
    opened: zero(),
    restrictions: 0,
    verifications: 0,
    restoredByVerification: 0,
    appeals: 0,
    reviews: 0,
    reviewerHours: 0,
    slaBreaches: 0,
    peakReviewersNeeded: 0,
  };
}

/** The forecast with the guard trips of the backtest it was made from (its summary of the same policy). */
export function withGuards(f: WhatIfForecast, summary: PolicySummary | undefined): WhatIfForecast {
  return summary?.guards ? { ...f, guards: summary.guards } : f;
}

/** The backtest's days for one side ("policy" or "against") as forecast input. */
export function openedPerDay(days: DayStats[], side: 'policy' | 'against') {
  return days.flatMap((d) => {
    const s = d[side];
    return s ? [{ day: d.day, opened: s.opened }] : [];
  });
}

/** What archived case records say about the lifecycle (each figure null when too few records show it). */
export interface ObservedParameters {
  verifyRate: { value: number; n: number } | null;
  passRate: { value: number; n: number } | null;
  appealRate: { value: number; n: number } | null;
  reviewMinutes: { value: number; n: number } | null;
  reviewers: { value: number; n: number } | null;
}

/** The parts of an archived case view read here (core/contracts.ts CaseView is one). */
export interface LifecycleCase {
  tier: string;
  timeline: { at: string; type: string; actor: { kind: string; id: string }; [k: string]: unknown }[];
}

/**
 * Estimates the lifecycle parameters from ended cases: the share of verifiable cases with a verification and
 * of verifications that passed, the share of cases appealed, the median minutes from a reviewer's claim to
 * their decision (under 8 hours: a longer gap is a claim left waiting), and the distinct reviewers who decided.
 * A rate needs at least `minSample` observations.
 */
export function observeParameters(
  cases: Iterable<LifecycleCase>,
  verifiableTiers: ReadonlySet<string>,
  minSample = 10,
): ObservedParameters {
  let verifiable = 0;
  let verifiedCases = 0;
  let verifications = 0;
  let passed = 0;
  let total = 0;
  let appealed = 0;
  const reviewTimes: number[] = [];
  const reviewers = new Set<string>();
  let decisions = 0;
  for (const c of cases) {
    total++;
    if (verifiableTiers.has(c.tier)) verifiable++;
    let hasVerification = false;
    let hasAppeal = false;
    const claims = new Map<string, number>();
    for (const e of c.timeline) {
      if (e.type === 'VERIFICATION') {
        hasVerification = true;
        verifications++;
        if (e.passed === true) passed++;
      } else if (e.type === 'APPEAL') hasAppeal = true;
      else if (e.type === 'CLAIM') claims.set(e.actor.id, Date.parse(e.at));
      else if (e.type === 'DECISION') {
        decisions++;
        reviewers.add(e.actor.id);
        const claimed = claims.get(e.actor.id);
        if (claimed !== undefined) {
          const minutes = (Date.parse(e.at) - claimed) / 60_000;
          if (minutes >= 0 && minutes <= 480) reviewTimes.push(minutes);
        }
      }
    }
    if (hasVerification && verifiableTiers.has(c.tier)) verifiedCases++;
    if (hasAppeal) appealed++;
  }
  const rate = (x: number, n: number) => (n >= minSample ? { value: x / n, n } : null);
  reviewTimes.sort((a, b) => a - b);
  const median =
    reviewTimes.length === 0
      ? 0
      : reviewTimes.length % 2
        ? reviewTimes[(reviewTimes.length - 1) / 2]!
        : (reviewTimes[reviewTimes.length / 2 - 1]! + reviewTimes[reviewTimes.length / 2]!) / 2;
  return {
    verifyRate: rate(verifiedCases, verifiable),
    passRate: rate(passed, verifications),
    appealRate: rate(appealed, total),
    reviewMinutes:
      reviewTimes.length >= minSample ? { value: Math.max(median, 0.1), n: reviewTimes.length } : null,
    reviewers: decisions >= minSample && reviewers.size > 0 ? { value: reviewers.size, n: decisions } : null,
  };
}

/** Options first, then what the records show, then the defaults; says where each value came from. */
export function resolveParameters(
  options: Partial<LifecycleParameters>,
  observed: ObservedParameters | null,
  observedFrom = 'case records in the database',
): SourcedParameters {
  const values = { ...DEFAULT_PARAMETERS };
  const sources = {} as SourcedParameters['sources'];
  for (const key of Object.keys(DEFAULT_PARAMETERS) as (keyof LifecycleParameters)[]) {
    const option = options[key];
    const seen = key in (observed ?? {}) ? observed?.[key as keyof ObservedParameters] : null;
    if (option !== undefined) {
      values[key] = option;
      sources[key] = { source: 'option' };
    } else if (seen) {
      values[key] = seen.value;
      sources[key] = { source: 'database', detail: `${observedFrom}, n=${seen.n}` };
    } else {
      sources[key] = {
        source: 'default',
        detail: observed ? 'too few case records show it' : 'no case records available',
      };
    }
  }
  return { values, sources };
}
