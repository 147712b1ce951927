// The backtest's report (what lab/backtest.ts sums, lab/format.ts prints, lab/html.ts draws) and the merge of the
// reports of backtests that each saw a disjoint set of accounts (cli/run-backtest.ts's threads).
import type { RestrictiveTier, Tier } from '../core/model';
import { replayGuards, type GuardReport } from './guard-trips';
import { precision, recall } from './stats';

export interface RuleStats {
  ruleId: string;
  reason: string;
  hits: number;
  /** The sum of the rule's contributions (its weight at every hit). */
  contribution: number;
  /** Hits on events labelled fraud / legitimate (labelled events only). */
  truePositives: number;
  falsePositives: number;
  precision: number | null;
  recall: number | null;
}

export interface Confusion {
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  trueNegatives: number;
  precision: number | null;
  recall: number | null;
}

export interface PolicySummary {
  version: string;
  hash: string;
  /** Events per decided tier. */
  tiers: Record<Tier, number>;
  /** Cases the events would open, per tier, and escalations of open cases (see lab/cases.ts). */
  casesOpened: Record<RestrictiveTier, number>;
  escalations: Record<RestrictiveTier, number>;
  /** Distinct accounts with at least one restrictive decision. */
  restrictedAccounts: number;
  rules: RuleStats[];
  /** Restrictive decision (tier other than NONE) against the label, over labelled events; null if none. */
  overall: Confusion | null;
  /** The policy's guards and when they would trip (lab/guard-trips.ts); absent when it has none. */
  guards?: GuardReport;
}

export interface DayStats {
  day: string;
  events: number;
  policy: { opened: Record<RestrictiveTier, number>; escalations: number };
  against?: { opened: Record<RestrictiveTier, number>; escalations: number };
}

export interface EventDifference {
  line: number;
  eventId: string;
  accountId: string;
  type: string;
  policyTier: Tier;
  againstTier: Tier;
  policyScore: number;
  againstScore: number;
}

export interface AccountDifference {
  accountId: string;
  /** The first event on which the restricting policy restricted it. */
  eventId: string;
  line: number;
  tier: Tier;
}

export interface PolicyDiffSummary {
  /** Events the two policies put in different tiers. */
  changedEvents: number;
  /** Events with the same tier but other rules matched. */
  sameTierOtherRules: number;
  tierChanges: { from: Tier; to: Tier; count: number }[];
  examples: EventDifference[];
  accounts: {
    /** Restricted by --policy and not by --against, and the reverse. */
    onlyPolicy: number;
    onlyAgainst: number;
    both: number;
    examplesOnlyPolicy: AccountDifference[];
    examplesOnlyAgainst: AccountDifference[];
  };
}

export interface MalformedLine {
  line: number;
  problems: string[];
}

export interface BacktestReport {
  file?: string;
  lines: number;
  events: number;
  malformed: { count: number; listed: MalformedLine[] };
  labelled: { events: number; fraud: number; legitimate: number; patterns: Record<string, number> };
  eventTypes: Record<string, number>;
  policy: PolicySummary;
  against?: PolicySummary;
  diff?: PolicyDiffSummary;
  days: DayStats[];
  elapsedMs?: number;
  eventsPerSecond?: number;
}

export function tierCounts(): Record<Tier, number> {
  return { NONE: 0, STEP_UP: 0, LIMIT: 0, PROTECT: 0, FREEZE: 0, CLOSE: 0 };
}
export function restrictiveCounts(): Record<RestrictiveTier, number> {
  return { STEP_UP: 0, LIMIT: 0, PROTECT: 0, FREEZE: 0, CLOSE: 0 };
}

/** The same counts with keys in sorted order (reports compare equal however they were summed). */
export function sortedRecord(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function sumRecord<K extends string>(into: Record<K, number>, add: Record<K, number>): void {
  for (const k of Object.keys(add) as K[]) into[k] = (into[k] ?? 0) + add[k];
}

function mergeSummaries(parts: PolicySummary[], fraudEvents: number, labelled: boolean): PolicySummary {
  const first = parts[0]!;
  const out: PolicySummary = {
    version: first.version,
    hash: first.hash,
    tiers: tierCounts(),
    casesOpened: restrictiveCounts(),
    escalations: restrictiveCounts(),
    restrictedAccounts: 0,
    rules: [],
    overall: null,
  };
  const rules = new Map<string, RuleStats>();
  let overall: Confusion | null = null;
  for (const p of parts) {
    sumRecord(out.tiers, p.tiers);
    sumRecord(out.casesOpened, p.casesOpened);
    sumRecord(out.escalations, p.escalations);
    out.restrictedAccounts += p.restrictedAccounts;
    for (const r of p.rules) {
      const m = rules.get(r.ruleId);
      if (!m) rules.set(r.ruleId, { ...r });
      else {
        m.hits += r.hits;
        m.contribution += r.contribution;
        m.truePositives += r.truePositives;
        m.falsePositives += r.falsePositives;
      }
    }
    if (p.overall) {
      overall ??= {
        truePositives: 0,
        falsePositives: 0,
        falseNegatives: 0,
        trueNegatives: 0,
        precision: null,
        recall: null,
      };
      overall.truePositives += p.overall.truePositives;
      overall.falsePositives += p.overall.falsePositives;
      overall.falseNegatives += p.overall.falseNegatives;
      overall.trueNegatives += p.overall.trueNegatives;
    }
  }
  out.rules = [...rules.values()].map((r) => ({
    ...r,
    precision: labelled ? precision(r.truePositives, r.falsePositives) : null,
    recall: labelled ? recall(r.truePositives, fraudEvents) : null,
  }));
  if (labelled && overall)
    out.overall = {
      ...overall,
      precision: precision(overall.truePositives, overall.falsePositives),
      recall: recall(overall.truePositives, overall.truePositives + overall.falseNegatives),
    };
  const guards = replayGuards(parts.map((p) => p.guards));
  if (guards) out.guards = guards;
  return out;
}

/**
 * Merges the reports of backtests that each saw a disjoint set of accounts (all of an account's events in the
 * same part, so the account-case model and the restricted-account counts stay exact).
 */
export function mergeReports(
  parts: BacktestReport[],
  o: { listMalformed?: number; examples?: number } = {},
): BacktestReport {
  if (parts.length === 1) return withoutMatches(parts[0]!);
  const listMalformed = o.listMalformed ?? 20;
  const keep = o.examples ?? 10;
  const byLine = <T extends { line: number }>(xs: T[], n: number) =>
    xs.sort((a, b) => a.line - b.line).slice(0, n);
  const labelled = { events: 0, fraud: 0, legitimate: 0, patterns: {} as Record<string, number> };
  const eventTypes: Record<string, number> = {};
  const days = new Map<string, DayStats>();
  let lines = 0;
  let events = 0;
  let malformed = 0;
  for (const p of parts) {
    lines = Math.max(lines, p.lines);
    events += p.events;
    malformed += p.malformed.count;
    labelled.events += p.labelled.events;
    labelled.fraud += p.labelled.fraud;
    labelled.legitimate += p.labelled.legitimate;
    sumRecord(labelled.patterns, p.labelled.patterns);
    sumRecord(eventTypes, p.eventTypes);
    for (const d of p.days) {
      const m = days.get(d.day);
      if (!m) {
        days.set(d.day, JSON.parse(JSON.stringify(d)) as DayStats);
        continue;
      }
      m.events += d.events;
      sumRecord(m.policy.opened, d.policy.opened);
      m.policy.escalations += d.policy.escalations;
      if (m.against && d.against) {
        sumRecord(m.against.opened, d.against.opened);
        m.against.escalations += d.against.escalations;
      }
    }
  }
  const isLabelled = labelled.events > 0;
  const first = parts[0]!;
  const report: BacktestReport = {
    ...(first.file !== undefined ? { file: first.file } : {}),
    lines,
    events,
    malformed: {
      count: malformed,
      listed: byLine(
        parts.flatMap((p) => p.malformed.listed),
        listMalformed,
      ),
    },
    labelled: { ...labelled, patterns: sortedRecord(labelled.patterns) },
    eventTypes: sortedRecord(eventTypes),
    policy: mergeSummaries(
      parts.map((p) => p.policy),
      labelled.fraud,
      isLabelled,
    ),
    days: [...days.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0)),
  };
  if (first.against && first.diff) {
    report.against = mergeSummaries(
      parts.map((p) => p.against!),
      labelled.fraud,
      isLabelled,
    );
    const diffs = parts.map((p) => p.diff!);
    const changes = new Map<string, number>();
    for (const d of diffs)
      for (const c of d.tierChanges)
        changes.set(`${c.from}>${c.to}`, (changes.get(`${c.from}>${c.to}`) ?? 0) + c.count);
    const sum = (f: (d: PolicyDiffSummary) => number) => diffs.reduce((s, d) => s + f(d), 0);
    report.diff = {
      changedEvents: sum((d) => d.changedEvents),
      sameTierOtherRules: sum((d) => d.sameTierOtherRules),
      tierChanges: [...changes.entries()]
        .map(([k, count]) => {
          const [from, to] = k.split('>') as [Tier, Tier];
          return { from, to, count };
        })
        .sort((x, y) => y.count - x.count),
      examples: byLine(
        diffs.flatMap((d) => d.examples),
        keep,
      ),
      accounts: {
        onlyPolicy: sum((d) => d.accounts.onlyPolicy),
        onlyAgainst: sum((d) => d.accounts.onlyAgainst),
        both: sum((d) => d.accounts.both),
        examplesOnlyPolicy: byLine(
          diffs.flatMap((d) => d.accounts.examplesOnlyPolicy),
          keep,
        ),
        examplesOnlyAgainst: byLine(
          diffs.flatMap((d) => d.accounts.examplesOnlyAgainst),
          keep,
        ),
      },
    };
  }
  return report;
}

/** A lone part's report without the matches kept for a merge (its own trips are the whole file's). */
function withoutMatches(r: BacktestReport): BacktestReport {
  const strip = (p: PolicySummary): PolicySummary => {
    if (!p.guards?.matches) return p;
    const { matches: _matches, ...guards } = p.guards;
    return { ...p, guards };
  };
  return { ...r, policy: strip(r.policy), ...(r.against ? { against: strip(r.against) } : {}) };
}
