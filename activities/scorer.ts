import { unwatchFile, watchFile, type Stats } from 'node:fs';
import type { RiskEvent } from '../core/events';
import type { Logger } from '../infra/logger';
import type { Config } from '../infra/config';
import { loadPolicy } from '../infra/policy-loader';
import { traceHeaders } from '../infra/trace-context';
import { caseTermsOf, type LoadedPolicy } from '../core/policy';
import { scoreEvent, type SourceResult } from '../core/scoring';
import type { ScoreResult } from '../core/activity-contract';
import type { FeatureValues } from '../core/features';

/**
 * The policy's feature values for the event being scored, asked for with the very policy that scores it (a reload
 * between the two would otherwise read one policy's features into another's rules).
 */
export type FeaturesOf = (policy: LoadedPolicy) => Promise<FeatureValues | undefined>;

type Fact = number | boolean | string;

/** An external data source consulted while scoring (device reputation, bureau, watchlist...). */
export interface DataSource {
  name: string;
  lookup(event: RiskEvent, signal: AbortSignal): Promise<Record<string, Fact>>;
}

export interface Scorer {
  score(event: RiskEvent): Promise<ScoreResult>;
  /**
   * The same, with what each data source answered (a shadow policy scores the same facts without asking again)
   * and, for a policy with features, the values `features` gives.
   */
  scoreDetailed(
    event: RiskEvent,
    features?: FeaturesOf,
    /** Rules whose guard tripped with capAtStepUp (api/guards.ts): capped at STEP_UP. */
    guarded?: ReadonlySet<string>,
  ): Promise<{ result: ScoreResult; sources: SourceResult[] }>;
  readonly policy: LoadedPolicy;
  /** Stops watching the policy file, if this scorer watches one. */
  close?(): void;
}

/**
 * Scoring as the workflow's activity and the API's fast path both use it: consult every data source with a
 * timeout (a slow or failing one is recorded as unavailable and never counts as risk), then the pure rules.
 */
export function createScorer(policy: LoadedPolicy, sources: DataSource[] = [], timeoutMs = 2_000): Scorer {
  const terms = caseTermsOf(policy);
  const scoreDetailed = async (event: RiskEvent, features?: FeaturesOf, guarded?: ReadonlySet<string>) => {
    const consulted = event.type === 'STAFF_REPORT' ? [] : sources;
    const [results, values] = await Promise.all([
      Promise.all(consulted.map((s) => consult(s, event, timeoutMs))),
      features ? features(policy) : undefined,
    ]);
    return {
      result: { decision: scoreEvent(policy, event, results, values, guarded), terms },
      sources: results,
    };
  };
  return {
    policy,
    scoreDetailed,
    score: async (event) => (await scoreDetailed(event)).result,
  };
}

/**
 * The scorer the worker and the API both use: the policy file and data sources from configuration. With a
 * logger, it follows the policy file: a changed file that validates becomes the running policy (new cases open
 * under it; open cases keep the terms they opened with), a file that does not is refused with its problems and
 * the running policy stays.
 */
export function scorerFromConfig(config: Config, logger?: Logger): Scorer {
  const sources = config.dataSources.map((s) => httpDataSource(s.name, s.url));
  const eventIdDays = config.database.eventIdWindowMs / 86_400_000;
  if (!logger)
    return createScorer(loadPolicy(config.policyFile, eventIdDays), sources, config.sourceTimeoutMs);
  return reloadingScorer(
    config.policyFile,
    logger,
    (p) => createScorer(p, sources, config.sourceTimeoutMs),
    1_000,
    eventIdDays,
  );
}

/** A scorer over the policy file at path, rebuilt by make whenever the file changes to a valid policy. */
export function reloadingScorer(
  path: string,
  logger: Logger,
  make: (policy: LoadedPolicy) => Scorer,
  intervalMs = 1_000,
  eventIdDays?: number,
): Scorer {
  let current = make(loadPolicy(path, eventIdDays));
  // Polling, not fs.watch: editors and deploy tools replace the file, which an inode watch loses.
  const onChange = (now: Stats, before: Stats) => {
    if (now.mtimeMs === before.mtimeMs && now.size === before.size) return;
    let next: LoadedPolicy;
    try {
      next = loadPolicy(path, eventIdDays);
    } catch (err) {
      logger.warn('policy file refused: the running policy stays', {
        version: current.policy.policy.version,
        problems: (err as Error).message,
      });
      return;
    }
    if (next.hash === current.policy.hash) return;
    const from = current.policy.policy.version;
    current = make(next);
    logger.info('policy reloaded', { from, to: next.policy.version, hash: next.hash });
  };
  watchFile(path, { interval: intervalMs, persistent: false }, onChange);
  return {
    get policy() {
      return current.policy;
    },
    score: (event) => current.score(event),
    scoreDetailed: (event, features, guarded) => current.scoreDetailed(event, features, guarded),
    close: () => unwatchFile(path, onChange),
  };
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
        headers: { 'content-type': 'application/json', ...traceHeaders() },
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
