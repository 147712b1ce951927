// The one way an event is decided under a policy with features, shared by the lab (backtest, whatif) and, later,
// the API: the event is recorded first, then its features are read over (occurredAt − window, occurredAt] with the
// event itself included, then it is scored. A policy without features is scored exactly as before (no record, no
// `features` on the decision).
import type { RiskEvent } from './events';
import type { FeatureStore } from './features';
import type { Decision } from './model';
import type { LoadedPolicy } from './policy';
import { scoreEvent, type SourceResult } from './scoring';

export function hasFeatures(loaded: LoadedPolicy): boolean {
  return loaded.policy.features !== undefined && Object.keys(loaded.policy.features).length > 0;
}

/** Records the event in `store` and scores it with its features (or without, for a policy that has none). */
export function decideWithFeatures(
  loaded: LoadedPolicy,
  store: FeatureStore | null,
  event: RiskEvent,
  sources: SourceResult[] = [],
): Decision {
  if (!hasFeatures(loaded) || event.type === 'STAFF_REPORT') return scoreEvent(loaded, event, sources);
  if (!store) throw new Error(`policy ${loaded.policy.version} declares features: it needs a feature store`);
  store.record(event);
  return scoreEvent(loaded, event, sources, store.valuesFor(event));
}
