// Rule guards on the live path (core/guards.ts decides, infra/stores/guards.ts counts across API processes).
// After each answered decision the guarded rules that fired on a restricted account count a match; a count past
// the rule's hourly cap or its baseline multiple trips the guard once, whichever process sees it. Before each
// decision the rules tripped with `capAtStepUp` are read (cached for a second: a trip in another process is seen
// here within that), so that scoring caps them (core/scoring.ts).
import { baselinePerHour, tripCause } from '../core/guards';
import type { RiskEventResult } from '../core/contracts';
import type { LoadedPolicy, Rule } from '../core/policy';
import type { Logger } from '../infra/logger';
import type { Metrics } from '../infra/metrics';
import type { Store } from '../infra/store';
import type { GuardTrip } from '../infra/stores/guards';
import { Problem } from '../web/problems';

const CACHE_MS = 1_000;

export interface GuardView {
  ruleId: string;
  guard: NonNullable<Rule['guard']>;
  /** Matches in the sliding hour, and the trailing 7-day hourly mean (at least the floor). */
  hourCount: number;
  baselinePerHour: number;
  /** The open trip, if the guard is tripped. */
  trip: TripView | null;
}

export interface TripView {
  ruleId: string;
  trippedAt: string;
  hourCount: number;
  baselinePerHour: number;
  onTrip: 'alert' | 'capAtStepUp';
  rearmedAt: string | null;
  rearmedBy: string | null;
}

export const tripView = (t: GuardTrip): TripView => ({
  ruleId: t.ruleId,
  trippedAt: new Date(t.trippedAt).toISOString(),
  hourCount: t.hourCount,
  baselinePerHour: t.baselinePerHour,
  onTrip: t.onTrip,
  rearmedAt: t.rearmedAt === null ? null : new Date(t.rearmedAt).toISOString(),
  rearmedBy: t.rearmedBy,
});

export class RuleGuards {
  private cached: { at: number; trips: Promise<GuardTrip[]> } | undefined;

  constructor(
    private readonly o: {
      store: Store;
      logger: Logger;
      metrics?: Metrics | undefined;
      clock?: () => number;
      /** Called once a message is queued (a dispatcher in this process may look at once). */
      onEnqueued?: () => void;
    },
  ) {}

  private now(): number {
    return (this.o.clock ?? Date.now)();
  }

  private openTrips(): Promise<GuardTrip[]> {
    const now = this.now();
    if (!this.cached || now - this.cached.at > CACHE_MS) {
      const trips = this.o.store.guards.open();
      this.cached = { at: now, trips };
      // A failed read is not kept: the next decision asks again.
      trips.catch(() => (this.cached = undefined));
    }
    return this.cached.trips;
  }

  /** The rules of this policy tripped with capAtStepUp: scoring caps them. Empty without guards (no read). */
  async capped(policy: LoadedPolicy): Promise<ReadonlySet<string>> {
    const capping = policy.policy.rules.filter((r) => r.guard?.onTrip === 'capAtStepUp');
    if (capping.length === 0) return new Set();
    const tripped = new Set((await this.openTrips()).map((t) => t.ruleId));
    return new Set(capping.filter((r) => tripped.has(r.id)).map((r) => r.id));
  }

  /**
   * Counts the decision's matches of guarded rules (a decision in which the rule fired and the account was
   * restricted; a retried event counts once) and trips a guard its count has crossed.
   */
  async afterDecision(policy: LoadedPolicy, result: RiskEventResult): Promise<void> {
    const d = result.decision;
    if (result.duplicate || d.tier === 'NONE' || d.policyHash !== policy.hash) return;
    for (const reason of d.reasons) {
      const rule = policy.policy.rules.find((r) => r.id === reason.ruleId);
      if (!rule?.guard) continue;
      const now = this.now();
      const counted = await this.o.store.guards.match({
        ruleId: rule.id,
        accountId: result.accountId,
        eventId: result.eventId,
        caseId: result.caseId,
        at: now,
      });
      if (!counted || (await this.openTrips()).some((t) => t.ruleId === rule.id)) continue;
      const { hour, trailing } = await this.o.store.guards.counts(rule.id, now);
      const baseline = baselinePerHour(trailing);
      const cause = tripCause(rule.guard, hour, baseline);
      if (!cause) continue;
      const trip = { ruleId: rule.id, trippedAt: now, hourCount: hour, baselinePerHour: baseline };
      if (!(await this.o.store.guards.trip({ ...trip, onTrip: rule.guard.onTrip }))) continue;
      this.cached = undefined;
      this.o.metrics?.guardTripped(rule.id);
      this.o.logger.warn('rule guard tripped', { ...trip, cause, onTrip: rule.guard.onTrip });
      // The cases its rule restricted in the hour note it in their timelines (api/guard-notes.ts).
      await this.o.store.guards.queueNotes(rule.id, now, await this.o.store.guards.casesInHour(rule.id, now));
      // The backend hears of it through its webhook and change feed (a message of Cordon's own, no case).
      await this.o.store.outbox.enqueue([
        {
          kind: 'NOTIFY_BACKEND',
          event: {
            type: 'guard.tripped',
            accountId: null,
            caseId: null,
            ruleId: rule.id,
            onTrip: rule.guard.onTrip,
            hourCount: hour,
            baselinePerHour: baseline,
            at: new Date(now).toISOString(),
            idempotencyKey: `guard.tripped:${rule.id}:${now}`,
          },
        },
      ]);
      this.o.onEnqueued?.();
    }
  }

  /** Every guarded rule of the policy with its counts and open trip. */
  async list(policy: LoadedPolicy): Promise<{ guards: GuardView[]; recentTrips: TripView[] }> {
    const now = this.now();
    const open = await this.o.store.guards.open();
    const guards: GuardView[] = [];
    for (const rule of policy.policy.rules) {
      if (!rule.guard) continue;
      const { hour, trailing } = await this.o.store.guards.counts(rule.id, now);
      const trip = open.find((t) => t.ruleId === rule.id);
      guards.push({
        ruleId: rule.id,
        guard: rule.guard,
        hourCount: hour,
        baselinePerHour: baselinePerHour(trailing),
        trip: trip ? tripView(trip) : null,
      });
    }
    return { guards, recentTrips: (await this.o.store.guards.recent(20)).map(tripView) };
  }

  /** A senior re-arms a tripped guard: its rule restricts as written again. Logged. */
  async rearm(policy: LoadedPolicy, ruleId: string, by: string): Promise<TripView> {
    const done = await this.o.store.guards.rearm(ruleId, by, this.now());
    if (!done) {
      const known = policy.policy.rules.some((r) => r.id === ruleId && r.guard);
      throw known
        ? new Problem(409, 'Not tripped', "this rule's guard is not tripped", { code: 'GUARD_NOT_TRIPPED' })
        : new Problem(404, 'No such guard', 'no rule of the running policy has a guard by this ID', {
            code: 'GUARD_NOT_FOUND',
          });
    }
    this.cached = undefined;
    this.o.logger.info('rule guard re-armed', { ruleId, by });
    return tripView(done);
  }
}
