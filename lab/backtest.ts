// The backtest's aggregation: every line of an event file is checked (lab/event-validator.ts), scored with
// the live scorer (core/scoring.ts scoreEvent, the very function the API and the worker call) under one or two
// policies, with the policy's features over the file in file order (core/feature-decide.ts: each event recorded,
// then its features read, then scored, as the live path does), run through the account-case model (lab/cases.ts), and summed into a report. Pure: the command
// line feeds it lines; it keeps counters, a few examples, and one entry per account restricted by either
// policy, so memory does not grow with the number of events.
import { caseTermsOf, type LoadedPolicy } from '../core/policy';
import { decideWithFeatures, hasFeatures } from '../core/feature-decide';
import { FeatureWindows } from '../core/feature-windows';
import { TIERS, type Decision, type RestrictiveTier, type Tier } from '../core/model';
import type { RiskEvent } from '../core/events';
import { CaseTracker } from './cases';
import { checkEvent, pathText } from './event-validator';
import { precision, recall } from './stats';

const RESTRICTIVE = TIERS.filter((t) => t !== 'NONE') as RestrictiveTier[];

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

export interface BacktestOptions {
  policy: LoadedPolicy;
  against?: LoadedPolicy;
  /** How many malformed lines are listed (all are counted). Default 20. */
  listMalformed?: number;
  /** How many examples of differences are kept. Default 10. */
  examples?: number;
}

function tierCounts(): Record<Tier, number> {
  return { NONE: 0, STEP_UP: 0, LIMIT: 0, PROTECT: 0, FREEZE: 0, CLOSE: 0 };
}
function restrictiveCounts(): Record<RestrictiveTier, number> {
  return { STEP_UP: 0, LIMIT: 0, PROTECT: 0, FREEZE: 0, CLOSE: 0 };
}

interface RuleAcc {
  ruleId: string;
  reason: string;
  hits: number;
  contribution: number;
  tp: number;
  fp: number;
}

/** Running totals for one policy. */
class PolicyAcc {
  readonly tiers = tierCounts();
  readonly opened = restrictiveCounts();
  readonly escalations = restrictiveCounts();
  readonly rules = new Map<string, RuleAcc>();
  readonly tracker: CaseTracker;
  /** The policy's feature windows (null: it declares none). */
  readonly features: FeatureWindows | null;
  tp = 0;
  fp = 0;
  fn = 0;
  tn = 0;

  constructor(readonly loaded: LoadedPolicy) {
    this.tracker = new CaseTracker(caseTermsOf(loaded));
    this.features = hasFeatures(loaded) ? new FeatureWindows(loaded.policy.features) : null;
    for (const r of loaded.policy.rules)
      this.rules.set(r.id, { ruleId: r.id, reason: r.reason, hits: 0, contribution: 0, tp: 0, fp: 0 });
  }

  add(
    event: RiskEvent,
    at: number,
    decision: Decision,
    fraud: boolean | undefined,
    day: DayAcc['policy'],
  ): void {
    this.tiers[decision.tier]++;
    for (const reason of decision.reasons) {
      let r = this.rules.get(reason.ruleId);
      if (!r) {
        r = { ruleId: reason.ruleId, reason: reason.code, hits: 0, contribution: 0, tp: 0, fp: 0 };
        this.rules.set(reason.ruleId, r);
      }
      r.hits++;
      r.contribution += reason.contribution;
      if (fraud === true) r.tp++;
      else if (fraud === false) r.fp++;
    }
    if (fraud !== undefined) {
      const flagged = decision.tier !== 'NONE';
      if (flagged && fraud) this.tp++;
      else if (flagged) this.fp++;
      else if (fraud) this.fn++;
      else this.tn++;
    }
    const effect = this.tracker.apply(event.accountId, at, decision);
    if (effect.kind === 'OPENED') {
      this.opened[effect.tier]++;
      day.opened[effect.tier]++;
    } else if (effect.kind === 'ESCALATED') {
      this.escalations[effect.tier]++;
      day.escalations++;
    }
  }

  summary(restrictedAccounts: number, fraudEvents: number, labelled: boolean): PolicySummary {
    const { policy, hash } = this.loaded;
    return {
      version: policy.version,
      hash,
      tiers: { ...this.tiers },
      casesOpened: { ...this.opened },
      escalations: { ...this.escalations },
      restrictedAccounts,
      rules: [...this.rules.values()].map((r) => ({
        ruleId: r.ruleId,
        reason: r.reason,
        hits: r.hits,
        contribution: r.contribution,
        truePositives: r.tp,
        falsePositives: r.fp,
        precision: labelled ? precision(r.tp, r.fp) : null,
        recall: labelled ? recall(r.tp, fraudEvents) : null,
      })),
      overall: labelled
        ? {
            truePositives: this.tp,
            falsePositives: this.fp,
            falseNegatives: this.fn,
            trueNegatives: this.tn,
            precision: precision(this.tp, this.fp),
            recall: recall(this.tp, this.tp + this.fn),
          }
        : null,
    };
  }
}

interface DayAcc {
  events: number;
  policy: { opened: Record<RestrictiveTier, number>; escalations: number };
  against: { opened: Record<RestrictiveTier, number>; escalations: number };
}

const POLICY = 1;
const AGAINST = 2;

/** Feeds lines of a JSONL event file, then read the report. */
export class Backtest {
  private lines = 0;
  private events = 0;
  private malformedCount = 0;
  private readonly malformed: MalformedLine[] = [];
  private readonly types: Record<string, number> = {};
  private labelledEvents = 0;
  private fraudEvents = 0;
  private readonly patterns: Record<string, number> = {};
  private readonly a: PolicyAcc;
  private readonly b?: PolicyAcc;
  private readonly days = new Map<string, DayAcc>();
  private lastDay: DayAcc | undefined;
  private lastDayKey = '';
  /**
   * Accounts restricted by either policy (bit 1 the policy, bit 2 the one it is compared with), with the first
   * event that restricted each: one entry per restricted account, never per event.
   */
  private readonly restricted = new Map<string, { mask: number; first: AccountDifference }>();
  private changedEvents = 0;
  private sameTierOtherRules = 0;
  private readonly tierChanges = new Map<string, number>();
  private readonly examples: EventDifference[] = [];
  private readonly listMalformed: number;
  private readonly keepExamples: number;

  constructor(o: BacktestOptions) {
    this.a = new PolicyAcc(o.policy);
    if (o.against) this.b = new PolicyAcc(o.against);
    this.listMalformed = o.listMalformed ?? 20;
    this.keepExamples = o.examples ?? 10;
  }

  /** One line of the file (1-based number). Blank lines are skipped. */
  addLine(text: string, line: number): void {
    this.lines = line > this.lines ? line : this.lines;
    // Blank lines are skipped (checked without copying the line: trim() only when it starts with a blank).
    if (text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim().length === 0)) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      this.addMalformed(line, [`not JSON: ${(err as Error).message}`]);
      return;
    }
    this.addValue(value, line);
  }

  /** One parsed line: a bare event or {event, label}. */
  addValue(value: unknown, line: number): void {
    let raw = value;
    let fraud: boolean | undefined;
    let pattern: string | undefined;
    if (typeof value === 'object' && value !== null && 'event' in value && !('type' in value)) {
      const wrapped: { event: unknown; label?: unknown } = value;
      raw = wrapped.event;
      if (wrapped.label !== undefined) {
        const label = wrapped.label;
        if (
          typeof label !== 'object' ||
          label === null ||
          !('fraud' in label) ||
          typeof label.fraud !== 'boolean' ||
          ('pattern' in label && label.pattern !== undefined && typeof label.pattern !== 'string')
        ) {
          this.addMalformed(line, ['label: expected {"fraud": true|false, "pattern"?: "..."}']);
          return;
        }
        fraud = label.fraud;
        pattern = 'pattern' in label && typeof label.pattern === 'string' ? label.pattern : undefined;
      }
    }
    const checked = checkEvent(raw);
    if (!checked.ok) {
      const prefix = raw === value ? '' : 'event.';
      this.addMalformed(
        line,
        checked.problems.map(
          (p) =>
            `${p.path.length ? prefix + pathText(p.path) : raw === value ? '(event)' : 'event'}: ${p.message}`,
        ),
      );
      return;
    }
    this.addEvent(checked.event, line, fraud, pattern);
  }

  addMalformed(line: number, problems: string[]): void {
    this.malformedCount++;
    if (this.malformed.length < this.listMalformed) this.malformed.push({ line, problems });
  }

  addEvent(event: RiskEvent, line: number, fraud?: boolean, pattern?: string): void {
    this.events++;
    this.types[event.type] = (this.types[event.type] ?? 0) + 1;
    if (fraud !== undefined) {
      this.labelledEvents++;
      if (fraud) this.fraudEvents++;
      const p = pattern ?? (fraud ? 'fraud' : 'legitimate');
      this.patterns[p] = (this.patterns[p] ?? 0) + 1;
    }
    const at = Date.parse(event.occurredAt);
    // Events come in time order: the day of the previous event is nearly always this one's.
    let day =
      this.lastDay !== undefined && event.occurredAt.startsWith(this.lastDayKey) ? this.lastDay : undefined;
    const dayKey = day ? this.lastDayKey : event.occurredAt.slice(0, 10);
    if (!day) day = this.days.get(dayKey);
    if (!day) {
      day = {
        events: 0,
        policy: { opened: restrictiveCounts(), escalations: 0 },
        against: { opened: restrictiveCounts(), escalations: 0 },
      };
      this.days.set(dayKey, day);
    }
    day.events++;
    this.lastDay = day;
    this.lastDayKey = dayKey;

    const da = decideWithFeatures(this.a.loaded, this.a.features, event);
    this.a.add(event, at, da, fraud, day.policy);
    let mask = da.tier !== 'NONE' ? POLICY : 0;
    let againstTier: Tier = 'NONE';
    if (this.b) {
      const db = decideWithFeatures(this.b.loaded, this.b.features, event);
      againstTier = db.tier;
      this.b.add(event, at, db, fraud, day.against);
      if (db.tier !== 'NONE') mask |= AGAINST;
      if (da.tier !== db.tier) {
        this.changedEvents++;
        const key = `${da.tier}>${db.tier}`;
        this.tierChanges.set(key, (this.tierChanges.get(key) ?? 0) + 1);
        if (this.examples.length < this.keepExamples)
          this.examples.push({
            line,
            eventId: event.eventId,
            accountId: event.accountId,
            type: event.type,
            policyTier: da.tier,
            againstTier: db.tier,
            policyScore: da.score,
            againstScore: db.score,
          });
      } else if (!sameRules(da, db)) this.sameTierOtherRules++;
    }
    if (mask) {
      const known = this.restricted.get(event.accountId);
      if (known) known.mask |= mask;
      else
        this.restricted.set(event.accountId, {
          mask,
          first: {
            accountId: event.accountId,
            eventId: event.eventId,
            line,
            tier: mask & POLICY ? da.tier : againstTier,
          },
        });
    }
  }

  report(): BacktestReport {
    let onlyPolicy = 0;
    let onlyAgainst = 0;
    let both = 0;
    let restrictedA = 0;
    let restrictedB = 0;
    const exA: AccountDifference[] = [];
    const exB: AccountDifference[] = [];
    for (const { mask, first } of this.restricted.values()) {
      if (mask & POLICY) restrictedA++;
      if (mask & AGAINST) restrictedB++;
      if (mask === (POLICY | AGAINST)) both++;
      else if (mask === POLICY) {
        onlyPolicy++;
        if (exA.length < this.keepExamples) exA.push(first);
      } else {
        onlyAgainst++;
        if (exB.length < this.keepExamples) exB.push(first);
      }
    }
    const labelled = this.labelledEvents > 0;
    const days = [...this.days.entries()]
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
      .map(([day, d]) => ({
        day,
        events: d.events,
        policy: d.policy,
        ...(this.b ? { against: d.against } : {}),
      }));
    return {
      lines: this.lines,
      events: this.events,
      malformed: { count: this.malformedCount, listed: this.malformed },
      labelled: {
        events: this.labelledEvents,
        fraud: this.fraudEvents,
        legitimate: this.labelledEvents - this.fraudEvents,
        patterns: sortedRecord(this.patterns),
      },
      eventTypes: sortedRecord(this.types),
      policy: this.a.summary(restrictedA, this.fraudEvents, labelled),
      ...(this.b
        ? {
            against: this.b.summary(restrictedB, this.fraudEvents, labelled),
            diff: {
              changedEvents: this.changedEvents,
              sameTierOtherRules: this.sameTierOtherRules,
              tierChanges: [...this.tierChanges.entries()]
                .map(([k, count]) => {
                  const [from, to] = k.split('>') as [Tier, Tier];
                  return { from, to, count };
                })
                .sort((x, y) => y.count - x.count),
              examples: this.examples,
              accounts: {
                onlyPolicy,
                onlyAgainst,
                both,
                examplesOnlyPolicy: exA,
                examplesOnlyAgainst: exB,
              },
            },
          }
        : {}),
      days,
    };
  }
}

function sameRules(a: Decision, b: Decision): boolean {
  if (a.reasons.length !== b.reasons.length) return false;
  for (let i = 0; i < a.reasons.length; i++) if (a.reasons[i]!.ruleId !== b.reasons[i]!.ruleId) return false;
  return true;
}

export { RESTRICTIVE };

/** The same counts with keys in sorted order (reports compare equal however they were summed). */
function sortedRecord(r: Record<string, number>): Record<string, number> {
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
  if (parts.length === 1) return parts[0]!;
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

/**
 * The account ID of a JSONL line without parsing it (`"accountId":"…"` as JSON.stringify writes it), so lines
 * can be shared out by account; undefined when the quick look fails (then parse, or any part will do).
 */
export function quickAccountId(text: string): string | undefined {
  const at = text.indexOf('"accountId":"');
  if (at < 0) return undefined;
  const start = at + 13;
  const end = text.indexOf('"', start);
  if (end < 0) return undefined;
  // Account IDs are [A-Za-z0-9_-]: a backslash means an escape the quick look does not read.
  const id = text.slice(start, end);
  return id.includes('\\') ? undefined : id;
}

/** The account ID by parsing the line (the slow path), or undefined for a line that has none. */
export function parsedAccountId(text: string): string | undefined {
  try {
    const v = JSON.parse(text) as { accountId?: unknown; event?: { accountId?: unknown } } | null;
    const id = v?.accountId ?? v?.event?.accountId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Which of `parts` an account's lines go to (FNV-1a). */
export function shardOf(accountId: string, parts: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < accountId.length; i++) h = Math.imul(h ^ accountId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % parts;
}
