// Shadow mode: a candidate policy (CORDON_SHADOW_POLICY) scores every live event after its answer has gone,
// over the same data-source answers, with no effect on anything. Where it decides differently from the live
// policy (another tier, or the same tier for other reasons) the disagreement is kept in Cordon's database for
// GET /v1/reports/shadow and `cordon report shadow`.
import type { RiskEvent } from '../core/events';
import type { Decision } from '../core/model';
import type { LoadedPolicy } from '../core/policy';
import { scoreEvent, type SourceResult } from '../core/scoring';
import type { Logger } from '../infra/logger';
import type { Store } from '../infra/store';
import type { ShadowDisagreement } from '../infra/stores/shadow';
import { shadowCompare } from '../lab/shadow';
import { compileFeatures } from '../core/features';
import { featureId } from '../infra/stores/feature-store';
import type { LiveFeatures } from './live-features';

/** One of the candidate's features in the shadow report. */
export interface CandidateFeature {
  name: string;
  /** The live policy declares the same definition: they share rows, so it is as warm as the live one. */
  sharedWithLive: boolean;
  recordingSince: string | null;
  /** Before this (event time), the candidate's decisions that read it undercount: disagreements may be spurious. */
  warmFrom: string | null;
  warm: boolean;
}

/** The disagreement between two decisions on one event, or null when they agree on tier and reason codes. */
export function disagreement(
  event: RiskEvent,
  live: Decision,
  candidate: Decision,
): ShadowDisagreement | null {
  const d = shadowCompare(live, candidate);
  if (!d) return null;
  return {
    accountId: event.accountId,
    eventId: event.eventId,
    eventType: event.type,
    liveTier: d.liveTier,
    candidateTier: d.candidateTier,
    liveScore: d.liveScore,
    candidateScore: d.candidateScore,
    liveReasons: d.liveReasons,
    candidateReasons: d.candidateReasons,
  };
}

export class ShadowScoring {
  private pending = new Set<Promise<void>>();

  constructor(
    private readonly o: {
      /** The candidate, read when each event is scored (it may be reloaded from its file meanwhile). */
      candidate: () => LoadedPolicy;
      store: Store;
      logger: Logger;
      clock?: () => number;
      /**
       * The candidate's features, recorded and read like the live policy's: a definition both declare shares its
       * rows; one only the candidate declares starts recording when the candidate is loaded, and warms up over
       * its window (GET /v1/reports/shadow says when).
       */
      features?: LiveFeatures;
    },
  ) {}

  get candidateVersion(): string {
    return this.o.candidate().policy.version;
  }

  /** The candidate's features: whether the live policy declares the same definition, and how warm each is. */
  async candidateFeatures(live: LoadedPolicy): Promise<CandidateFeature[]> {
    const candidate = this.o.candidate();
    if (!this.o.features) return [];
    const liveIds = new Set(compileFeatures(live.policy.features).map((spec) => featureId(spec)));
    const ids = new Map(
      compileFeatures(candidate.policy.features).map((spec) => [spec.name, featureId(spec)]),
    );
    return (await this.o.features.warmth(candidate)).map((w) => ({
      name: w.name,
      sharedWithLive: liveIds.has(ids.get(w.name)!),
      recordingSince: w.since === null ? null : new Date(w.since).toISOString(),
      warmFrom: w.warmFrom === null ? null : new Date(w.warmFrom).toISOString(),
      warm: w.warm,
    }));
  }

  /** Scores the event in shadow once the caller has moved on; never throws, never delays the caller. */
  observe(event: RiskEvent, live: Decision, sources: SourceResult[]): void {
    const work = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.record(event, live, sources))
      .catch((err: unknown) =>
        // The event and account stay out of the log: the error's name and the policy versions suffice.
        this.o.logger.warn('shadow scoring failed', {
          error: (err as Error).name,
          message: (err as Error).message,
          candidateVersion: this.candidateVersion,
        }),
      )
      .finally(() => this.pending.delete(work));
    this.pending.add(work);
  }

  /** Waits for the shadow work in flight (shutdown, tests). */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private async record(event: RiskEvent, live: Decision, sources: SourceResult[]): Promise<void> {
    const policy = this.o.candidate();
    const values = await this.o.features?.decide(policy, event);
    const candidate = scoreEvent(policy, event, sources, values);
    await this.o.store.shadow.record({
      at: (this.o.clock ?? Date.now)(),
      liveVersion: live.policyVersion,
      candidateVersion: candidate.policyVersion,
      disagreement: disagreement(event, live, candidate) ?? undefined,
    });
  }
}
