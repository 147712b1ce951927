import type { RiskEvent } from '../core/events';
import type { Config } from '../infra/config';
import { loadPolicy } from '../infra/policy-loader';
import { caseTermsOf, type LoadedPolicy } from '../core/policy';
import { scoreEvent, type SourceResult } from '../core/scoring';
import type { ScoreResult } from '../core/activity-contract';

type Fact = number | boolean | string;

/** An external data source consulted while scoring (device reputation, bureau, watchlist...). */
export interface DataSource {
  name: string;
  lookup(event: RiskEvent, signal: AbortSignal): Promise<Record<string, Fact>>;
}

export interface Scorer {
  score(event: RiskEvent): Promise<ScoreResult>;
  readonly policy: LoadedPolicy;
}

/**
 * Scoring as the workflow's activity and the API's fast path both use it: consult every data source with a
 * timeout (a slow or failing one is recorded as unavailable and never counts as risk), then the pure rules.
 */
export function createScorer(policy: LoadedPolicy, sources: DataSource[] = [], timeoutMs = 2_000): Scorer {
  const terms = caseTermsOf(policy);
  return {
    policy,
    async score(event) {
      const consulted = event.type === 'STAFF_REPORT' ? [] : sources;
      const results = await Promise.all(consulted.map((s) => consult(s, event, timeoutMs)));
      return { decision: scoreEvent(policy, event, results), terms };
    },
  };
}

/** The scorer the worker and the API both use: the policy file and data sources from configuration. */
export function scorerFromConfig(config: Config): Scorer {
  return createScorer(
    loadPolicy(config.policyFile),
    config.dataSources.map((s) => httpDataSource(s.name, s.url)),
    config.sourceTimeoutMs,
  );
}

async function consult(source: DataSource, event: RiskEvent, timeoutMs: number): Promise<SourceResult> {
  try {
    const signals = await source.lookup(event, AbortSignal.timeout(timeoutMs));
    return { source: source.name, available: true, signals };
  } catch {
    return { source: source.name, available: false, signals: {} };
  }
}

/** A data source behind an HTTP endpoint: POST {accountId, type} and read a flat JSON object of signals. */
export function httpDataSource(name: string, url: string): DataSource {
  return {
    name,
    async lookup(event, signal) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ accountId: event.accountId, type: event.type }),
        signal,
      });
      if (!response.ok) throw new Error(`${name} answered ${response.status}`);
      const body = (await response.json()) as Record<string, unknown>;
      return Object.fromEntries(
        Object.entries(body).filter(([, v]) => ['number', 'boolean', 'string'].includes(typeof v)),
      ) as Record<string, Fact>;
    },
  };
}
