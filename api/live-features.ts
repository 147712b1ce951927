// The live path's policy features: each event is recorded in Cordon's database (shared by every API process)
// before its features are read, so the window (occurredAt − window, occurredAt] includes it and a retried event
// counts once whichever process takes it. The lab computes the same values in memory (core/feature-decide.ts).
// Entities of the kinds the policy links accounts by are kept as sightings too (core/linked.ts).
import { parseDuration } from '../core/durations';
import { hasFeatures } from '../core/feature-decide';
import type { FeatureValues } from '../core/features';
import type { RiskEvent } from '../core/events';
import type { LoadedPolicy } from '../core/policy';
import type { Store } from '../infra/store';
import { peekValues, type DatabaseFeatureWindows, type FeatureWarmth } from '../infra/stores/feature-store';

export class LiveFeatures {
  /** One store per policy hash: a reloaded policy's changed definitions read rows of their own. */
  private readonly windows = new Map<string, DatabaseFeatureWindows>();

  constructor(private readonly store: Store) {}

  private windowsOf(policy: LoadedPolicy): DatabaseFeatureWindows | null {
    if (!hasFeatures(policy)) return null;
    let w = this.windows.get(policy.hash);
    if (!w) {
      w = this.store.features.windows(policy.policy.features);
      // A handful of policies live in a process's lifetime (reloads, a shadow candidate): keep the last few.
      if (this.windows.size >= 8) this.windows.delete(this.windows.keys().next().value!);
      this.windows.set(policy.hash, w);
    }
    return w;
  }

  /**
   * Records the event under the policy's features and answers their values; undefined for a policy without
   * features and for staff openings (a person's judgement, not a signal to count). The event's entities must be
   * keyed-hashed already (infra/entity-key.ts).
   */
  async decide(policy: LoadedPolicy, event: RiskEvent): Promise<FeatureValues | undefined> {
    const w = this.windowsOf(policy);
    if (!w || event.type === 'STAFF_REPORT') return undefined;
    return w.recordAndRead(event);
  }

  /**
   * Linked accounts: the entities of the kinds the policy's `linked` section declares, as this account's
   * sightings, kept for its window (core/linked.ts).
   */
  async sighted(policy: LoadedPolicy, event: RiskEvent): Promise<void> {
    const linked = policy.policy.linked;
    if (!linked || !('entities' in event) || !event.entities) return;
    const used = Object.fromEntries(
      linked.entities.flatMap((kind) => {
        const value = event.entities?.[kind];
        return value === undefined ? [] : [[kind, value]];
      }),
    );
    if (Object.keys(used).length === 0) return;
    await this.store.links.sighted(
      event.accountId,
      used,
      Date.parse(event.occurredAt),
      parseDuration(linked.window)!,
    );
  }

  /** Per feature of the policy: since when it is recorded and whether its windows are whole yet. */
  async warmth(policy: LoadedPolicy): Promise<FeatureWarmth[]> {
    return (await this.windowsOf(policy)?.warmth()) ?? [];
  }

  /** The values `decide` would answer, writing nothing (simulation). */
  async peek(policy: LoadedPolicy, event: RiskEvent): Promise<FeatureValues | undefined> {
    const w = this.windowsOf(policy);
    if (!w || event.type === 'STAFF_REPORT') return undefined;
    return peekValues(this.store.db, w, event);
  }
}
