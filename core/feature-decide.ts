// The one way an event is decided under a policy with features, shared by the lab (backtest, whatif) and, later,
// the API: the event is recorded first, then its features are read over (occurredAt − window, occurredAt] with the
// event itself included, then it is scored. A policy without features is scored exactly as before (no record, no
// `features` on the decision).
import type { RiskEvent } from './events';
import type { FeatureEvent, FeatureStore, FeatureValues } from './features';
import type { Decision } from './model';
import type { LoadedPolicy } from './policy';
import { scoreEvent, type SourceResult } from './scoring';

export function hasFeatures(loaded: LoadedPolicy): boolean {
  // Asked once per event: a loop that stops at the first name, rather than an array of all of them.
  for (const name in loaded.policy.features)
    if (Object.prototype.hasOwnProperty.call(loaded.policy.features, name)) return true;
  return false;
}

/** Records the event in `store` and scores it with its features (or without, for a policy that has none). */
export function decideWithFeatures(
  loaded: LoadedPolicy,
  store: FeatureStore | null,
  event: RiskEvent,
  sources: SourceResult[] = [],
): Decision {
  const values = recordAndRead(loaded, store, event);
  return values === undefined
    ? scoreEvent(loaded, event, sources)
    : scoreEvent(loaded, event, sources, values);
}

/**
 * The features decideWithFeatures scores `event` with: the event recorded in `store`, then its features read;
 * undefined (nothing recorded) for a policy without features or a staff report. The lab's feature thread
 * (lab/backtest-feature-worker.ts) computes them apart from the scoring this way.
 */
export function recordAndRead(
  loaded: LoadedPolicy,
  store: FeatureStore | null,
  event: FeatureEvent,
): FeatureValues | undefined {
  if (!hasFeatures(loaded) || event.type === 'STAFF_REPORT') return undefined;
  if (!store) throw new Error(`policy ${loaded.policy.version} declares features: it needs a feature store`);
  store.record(event);
  return store.valuesFor(event);
}
