// The backtest's aggregation: every line of an event file is checked (lab/event-validator.ts), scored with
// the live scorer (core/scoring.ts scoreEvent, the very function the API and the worker call) under one or two
// policies, with the policy's features over the file in file order (core/feature-decide.ts: each event recorded,
// then its features read, then scored, as the live path does), run through the account-case model
// (lab/cases.ts), and summed into a report (lab/backtest-report.ts), with when the policy's guards would trip
// (lab/guard-trips.ts). Pure: the command line feeds it lines; it keeps counters, a few examples, and one entry
// per account restricted by either policy, so memory does not grow with the number of events (the feature
// windows and the guards keep what their windows need).
import { caseTermsOf, type LoadedPolicy } from '../core/policy';
import { decideWithFeatures, hasFeatures } from '../core/feature-decide';
import { FeatureWindows, instantMs } from '../core/feature-windows';
import type { FeatureStore, FeatureValues, RecordOutcome } from '../core/features';
import { FeatureThread } from './backtest-feature-thread';
import { TIERS, type Decision, type RestrictiveTier, type Tier } from '../core/model';
import type { RiskEvent } from '../core/events';
import { CaseTracker } from './cases';
import { GuardTrips } from './guard-trips';
import { checkEvent, pathText } from './event-validator';
import { precision, recall } from './stats';
import {
  restrictiveCounts,
  sortedRecord,
  tierCounts,
  type AccountDifference,
  type BacktestReport,
  type EventDifference,
  type MalformedLine,
  type PolicySummary,
} from './backtest-report';

// The report's types and merge, and the sharing out by account, where the command line and tests import them.
export {
  mergeReports,
  type AccountDifference,
  type BacktestReport,
  type Confusion,
  type DayStats,
  type EventDifference,
  type MalformedLine,
  type PolicyDiffSummary,
  type PolicySummary,
  type RuleStats,
} from './backtest-report';
export { parsedAccountId, quickAccountId, shardOf } from './backtest-shard';
export type { GuardReport, LabTrip } from './guard-trips';

const RESTRICTIVE = TIERS.filter((t) => t !== 'NONE') as RestrictiveTier[];

export interface BacktestOptions {
  policy: LoadedPolicy;
  against?: LoadedPolicy;
  /** How many malformed lines are listed (all are counted). Default 20. */
  listMalformed?: number;
  /** How many examples of differences are kept. Default 10. */
  examples?: number;
  /**
   * Compute the policies' features in a second thread while this one parses and scores (the same values: see
   * lab/backtest-feature-thread.ts). For a policy without features, nothing changes.
   */
  featureThread?: boolean;
  /**
   * Keep every guarded match in the report (a worker thread's share of the accounts: mergeReports replays them
   * all in file order, lab/guard-trips.ts).
   */
  keepGuardMatches?: boolean;
}

interface RuleAcc {
  ruleId: string;
  reason: string;
  hits: number;
  contribution: number;
  tp: number;
  fp: number;
}

/**
 * The values the feature thread computed for the event being scored, as a store: recording is done (there),
 * reading gives them. decideWithFeatures asks it exactly when the thread computed values.
 */
class ComputedFeatures implements FeatureStore {
  values: FeatureValues | undefined;
  record(): RecordOutcome {
    return 'RECORDED';
  }
  valuesFor(): FeatureValues {
    if (!this.values) throw new Error('no feature values computed for this event');
    return this.values;
  }
}

/** Items waiting for their features in the feature thread. */
interface Pending {
  event: RiskEvent;
  line: number;
  fraud: boolean | undefined;
  pattern: string | undefined;
}

/** Running totals for one policy. */
class PolicyAcc {
  readonly tiers = tierCounts();
  readonly opened = restrictiveCounts();
  readonly escalations = restrictiveCounts();
  readonly rules = new Map<string, RuleAcc>();
  readonly tracker: CaseTracker;
  /** The policy's feature windows, or their values from the feature thread (null: it declares none). */
  readonly features: FeatureWindows | ComputedFeatures | null;
  /** When the policy's guards would trip (null: it has none, and nothing is spent on them). */
  readonly guards: GuardTrips | null;
  tp = 0;
  fp = 0;
  fn = 0;
  tn = 0;

  constructor(
    readonly loaded: LoadedPolicy,
    inThread: boolean,
    keepGuardMatches: boolean,
  ) {
    this.tracker = new CaseTracker(caseTermsOf(loaded));
    const guards = new GuardTrips(loaded.policy, { keepMatches: keepGuardMatches });
    this.guards = guards.active ? guards : null;
    this.features = !hasFeatures(loaded)
      ? null
      : inThread
        ? new ComputedFeatures()
        : new FeatureWindows(loaded.policy.features);
    for (const r of loaded.policy.rules)
      this.rules.set(r.id, { ruleId: r.id, reason: r.reason, hits: 0, contribution: 0, tp: 0, fp: 0 });
  }

  add(
    event: RiskEvent,
    line: number,
    at: number,
    decision: Decision,
    fraud: boolean | undefined,
    day: DayAcc['policy'],
  ): void {
    this.tiers[decision.tier]++;
    if (this.guards !== null) this.guards.observeAt(decision, at, line);
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
      ...(this.guards ? { guards: this.guards.report() } : {}),
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

  /** The features computed in a second thread (null: in this one, or none). */
  private readonly thread: FeatureThread<Pending> | null;

  constructor(o: BacktestOptions) {
    const policies = o.against ? [o.policy, o.against] : [o.policy];
    const inThread = o.featureThread === true && policies.some(hasFeatures);
    const keep = o.keepGuardMatches === true;
    this.a = new PolicyAcc(o.policy, inThread, keep);
    if (o.against) this.b = new PolicyAcc(o.against, inThread, keep);
    this.listMalformed = o.listMalformed ?? 20;
    this.keepExamples = o.examples ?? 10;
    this.thread = inThread
      ? new FeatureThread<Pending>(policies, (p, values) => {
          if (this.a.features instanceof ComputedFeatures) this.a.features.values = values[0];
          if (this.b?.features instanceof ComputedFeatures) this.b.features.values = values[1];
          this.settle(p.event, p.line, p.fraud, p.pattern);
        })
      : null;
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
    if (this.thread) this.thread.add(event, { event, line, fraud, pattern });
    else this.settle(event, line, fraud, pattern);
  }

  /** Scores one event (its features recorded and read, here or in the feature thread) and counts it. */
  private settle(
    event: RiskEvent,
    line: number,
    fraud: boolean | undefined,
    pattern: string | undefined,
  ): void {
    this.events++;
    this.types[event.type] = (this.types[event.type] ?? 0) + 1;
    if (fraud !== undefined) {
      this.labelledEvents++;
      if (fraud) this.fraudEvents++;
      const p = pattern ?? (fraud ? 'fraud' : 'legitimate');
      this.patterns[p] = (this.patterns[p] ?? 0) + 1;
    }
    const at = instantMs(event.occurredAt);
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
    this.a.add(event, line, at, da, fraud, day.policy);
    let mask = da.tier !== 'NONE' ? POLICY : 0;
    let againstTier: Tier = 'NONE';
    if (this.b) {
      const db = decideWithFeatures(this.b.loaded, this.b.features, event);
      againstTier = db.tier;
      this.b.add(event, line, at, db, fraud, day.against);
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
    this.thread?.finish();
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
