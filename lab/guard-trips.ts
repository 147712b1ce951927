// When a policy's guards would trip over a file of events (core/guards.ts, the same thresholds as the live
// path): each decision in which a guarded rule fired and the account was restricted is a match, at the event's
// occurredAt (the lab's clock is the file's); a rule trips when its matches in the sliding hour pass its cap or
// its baseline multiple, the baseline being its trailing 7-day hourly mean within the file (with the live floor).
// A trip is reported once per rule, as the live guard stays tripped until a senior re-arms it; the lab does not
// cap the decisions after it (it shows when operators would be alerted, and from when a capAtStepUp rule would
// ask users to verify instead).
import { baselinePerHour, tripCause, type Guard, type TripCause } from '../core/guards';
import type { Decision } from '../core/model';
import type { Policy } from '../core/policy';

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

export class GuardTrips {
  /** Per guarded rule: its matches' times (ms), oldest first while the file is in time order. */
  private readonly matches = new Map<string, number[]>();
  private readonly guards: Map<string, Guard>;
  private readonly tripped = new Map<string, LabTrip>();

  constructor(policy: Policy) {
    this.guards = new Map(policy.rules.flatMap((r) => (r.guard ? [[r.id, r.guard] as const] : [])));
  }

  get active(): boolean {
    return this.guards.size > 0;
  }

  /** One decided event. Events out of time order are counted where their time puts them. */
  observe(decision: Decision, occurredAt: string): void {
    if (decision.tier === 'NONE' || this.guards.size === 0) return;
    const t = Date.parse(occurredAt);
    for (const reason of decision.reasons) {
      const guard = this.guards.get(reason.ruleId);
      if (!guard) continue;
      let times = this.matches.get(reason.ruleId);
      if (!times) this.matches.set(reason.ruleId, (times = []));
      insertSorted(times, t);
      if (this.tripped.has(reason.ruleId)) continue;
      // Drop what no window reads any more (older than the baseline's week before the hour).
      while (times.length && times[0]! <= t - HOUR_MS - WEEK_MS) times.shift();
      const hour = countIn(times, t - HOUR_MS, t);
      const trailing = countIn(times, t - HOUR_MS - WEEK_MS, t - HOUR_MS);
      const baseline = baselinePerHour(trailing);
      const cause = tripCause(guard, hour, baseline);
      if (cause)
        this.tripped.set(reason.ruleId, {
          ruleId: reason.ruleId,
          at: new Date(t).toISOString(),
          cause,
          hourCount: hour,
          baselinePerHour: baseline,
          onTrip: guard.onTrip,
        });
    }
  }

  /** The trips, in the order they happened. */
  trips(): LabTrip[] {
    return [...this.tripped.values()].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }
}

function insertSorted(times: number[], t: number): void {
  let i = times.length;
  while (i > 0 && times[i - 1]! > t) i--;
  times.splice(i, 0, t);
}

/** How many of the sorted times are in (from, to]. */
function countIn(times: readonly number[], from: number, to: number): number {
  let n = 0;
  for (let i = times.length - 1; i >= 0 && times[i]! > from; i--) if (times[i]! <= to) n++;
  return n;
}
