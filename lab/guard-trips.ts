// When a policy's guards would trip over a file of events (core/guards.ts, the same thresholds as the live
// path): each decision in which a guarded rule fired and the account was restricted is a match, at the event's
// occurredAt (the lab's clock is the file's); a rule trips when its matches in the sliding hour pass its cap or
// its baseline multiple, the baseline being its trailing 7-day hourly mean within the file (with the live floor).
// A trip is reported once per rule, as the live guard stays tripped until a senior re-arms it; the lab does not
// cap the decisions after it (it shows when operators would be alerted, and from when a capAtStepUp rule would
// ask users to verify instead).
//
// A backtest shared out by account across threads (cli/run-backtest.ts) cannot decide trips in each thread: a
// sliding hour counts every account's matches. Each thread then keeps its matches (line and time; only guarded,
// restricting decisions, so it stays small) and the merge replays them all in file order (replayGuards): the
// very observations one thread would have made, so the same trips.
import { baselinePerHour, tripCause, type Guard, type TripCause } from '../core/guards';
import type { Decision } from '../core/model';

const HOUR_MS = 3_600_000;
const WEEK_MS = 7 * 24 * HOUR_MS;

export interface LabTrip {
  ruleId: string;
  /** The occurredAt of the match that tripped it. */
  at: string;
  cause: TripCause;
  hourCount: number;
  baselinePerHour: number;
  onTrip: Guard['onTrip'];
}

/** A shard's matches per guarded rule: their line numbers and times (ms), in the order it saw them. */
export type GuardMatches = Record<string, { lines: number[]; times: number[] }>;

/** What a backtest reports about a policy's guards (absent from the report when the policy has none). */
export interface GuardReport {
  /** The policy's guarded rules, in policy order. */
  rules: { ruleId: string; guard: Guard }[];
  /** When each guard would trip, in time order (a rule at most once); empty: none would. */
  trips: LabTrip[];
  /** Only in a shard's report (a worker thread's), for the merge to replay; never in the merged report. */
  matches?: GuardMatches;
}

/** The part of a policy read here (a Policy is one). */
interface GuardedPolicy {
  rules: readonly { id: string; guard?: Guard | undefined }[];
}

/** One guarded rule's matches still read by a window: times[head..] sorted, older ones dropped. */
interface RuleMatches {
  times: number[];
  head: number;
}

export class GuardTrips {
  private readonly guards: Map<string, Guard>;
  private readonly matches = new Map<string, RuleMatches>();
  private readonly tripped = new Map<string, LabTrip>();
  /** Every match kept for a merge (keepMatches), else null. */
  private readonly log: GuardMatches | null;

  constructor(policy: GuardedPolicy, o: { keepMatches?: boolean } = {}) {
    this.guards = new Map(policy.rules.flatMap((r) => (r.guard ? [[r.id, r.guard] as const] : [])));
    this.log = o.keepMatches ? {} : null;
  }

  get active(): boolean {
    return this.guards.size > 0;
  }

  /** One decided event. Events out of time order are counted where their time puts them. */
  observe(decision: Decision, occurredAt: string): void {
    this.observeAt(decision, Date.parse(occurredAt), 0);
  }

  /** One decided event at `t` (ms), from line `line` of the file (kept only for a merge). */
  observeAt(decision: Decision, t: number, line: number): void {
    if (decision.tier === 'NONE' || this.guards.size === 0) return;
    for (const reason of decision.reasons) {
      if (!this.guards.has(reason.ruleId)) continue;
      if (this.log) {
        let kept = this.log[reason.ruleId];
        if (!kept) this.log[reason.ruleId] = kept = { lines: [], times: [] };
        kept.lines.push(line);
        kept.times.push(t);
      }
      this.observeMatch(reason.ruleId, t);
    }
  }

  /** One match of a guarded rule at `t` (ms): a restricting decision it fired in (not kept for a merge). */
  observeMatch(ruleId: string, t: number): void {
    const guard = this.guards.get(ruleId);
    // Nothing reads a rule's matches once it tripped.
    if (!guard || this.tripped.has(ruleId)) return;
    let m = this.matches.get(ruleId);
    if (!m) this.matches.set(ruleId, (m = { times: [], head: 0 }));
    insertSorted(m, t);
    // Drop what no window reads any more (older than the baseline's week before the hour).
    while (m.head < m.times.length && m.times[m.head]! <= t - HOUR_MS - WEEK_MS) m.head++;
    if (m.head > 1024 && m.head * 2 > m.times.length) {
      m.times = m.times.slice(m.head);
      m.head = 0;
    }
    const hour = countIn(m, t - HOUR_MS, t);
    const trailing = countIn(m, t - HOUR_MS - WEEK_MS, t - HOUR_MS);
    const baseline = baselinePerHour(trailing);
    const cause = tripCause(guard, hour, baseline);
    if (cause)
      this.tripped.set(ruleId, {
        ruleId,
        at: new Date(t).toISOString(),
        cause,
        hourCount: hour,
        baselinePerHour: baseline,
        onTrip: guard.onTrip,
      });
  }

  /** The trips, in the order they happened. */
  trips(): LabTrip[] {
    return [...this.tripped.values()].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }

  /** The report's guard section (a backtest leaves it out when the policy has no guard). */
  report(): GuardReport {
    return {
      rules: [...this.guards.entries()].map(([ruleId, guard]) => ({ ruleId, guard })),
      trips: this.trips(),
      ...(this.log ? { matches: this.log } : {}),
    };
  }
}

/**
 * The guard section of backtests that each saw a disjoint set of accounts: their matches replayed in file order
 * (by line number), so the trips are those of one backtest over the whole file. Undefined when the policy has no
 * guard.
 */
export function replayGuards(parts: (GuardReport | undefined)[]): GuardReport | undefined {
  const first = parts.find((p) => p !== undefined);
  if (!first) return undefined;
  const trips = new GuardTrips({ rules: first.rules.map((r) => ({ id: r.ruleId, guard: r.guard })) });
  for (const { ruleId } of first.rules) {
    const matches: { line: number; t: number }[] = [];
    for (const p of parts) {
      const kept = p?.matches?.[ruleId];
      if (!kept) continue;
      for (let i = 0; i < kept.lines.length; i++) matches.push({ line: kept.lines[i]!, t: kept.times[i]! });
    }
    // Each part's matches are in line order already; a stable sort keeps a line's own order.
    matches.sort((a, b) => a.line - b.line);
    // Rules are counted independently: one rule's matches in file order are what one backtest observed of it.
    for (const m of matches) trips.observeMatch(ruleId, m.t);
  }
  return { rules: first.rules, trips: trips.trips() };
}

function insertSorted(m: RuleMatches, t: number): void {
  const times = m.times;
  let i = times.length;
  while (i > m.head && times[i - 1]! > t) i--;
  if (i === times.length) times.push(t);
  else times.splice(i, 0, t);
}

/** The first index in times[head..] whose time is after x (the times are sorted). */
function after(m: RuleMatches, x: number): number {
  let lo = m.head;
  let hi = m.times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (m.times[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** How many of the rule's kept times are in (from, to]. */
function countIn(m: RuleMatches, from: number, to: number): number {
  return after(m, to) - after(m, from);
}
