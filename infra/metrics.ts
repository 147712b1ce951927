// Prometheus metrics for operators (prom-client). Counters are kept by the process that sees the event (the
// API); gauges are read at scrape time from where the truth is kept (Temporal visibility for open cases,
// Cordon's database for messages), so they agree across several API and worker processes. Labels are codes
// and statuses only: never an account, case or person.
//
// A scrape never waits on a source that is down: each source gets SOURCE_TIMEOUT_MS, `cordon_source_up` says
// which answered, and a gauge whose source did not is left out (no zero, no stale value stands in for it).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CaseStatus } from '../core/model';
import { routeOf } from './trace-context';

export interface GaugeSources {
  /** Open cases (running case workflows) with this status, from visibility, by the deadline (epoch ms). */
  openCases(status: CaseStatus, deadline: number): Promise<number>;
  /** Cases waiting for a reviewer whose review deadline has passed, by the deadline (epoch ms). */
  reviewBreached(deadline: number): Promise<number>;
  /** Outbox messages by delivery status. */
  messagesByStatus(deadline: number): Promise<{ status: string; kind: string; count: number }[]>;
  /** The rules whose guard is tripped (Cordon's database). */
  trippedGuards?(): Promise<string[]>;
}

export interface Metrics {
  /** The counters and the process's own figures; the gauges are added by `scrape`. */
  registry: Registry;
  /** Everything /metrics serves, in the registry's text format: answers within about SOURCE_TIMEOUT_MS. */
  scrape(): Promise<string>;
  /** A risk event answered by the API. */
  eventReported(tier: string, duplicate: boolean, seconds: number): void;
  /** A human action answered: `result` is `applied`, `repeat` or the refusal code. */
  actionAnswered(action: string, result: string): void;
  /** A reviewer's decision applied. */
  decisionApplied(decision: string): void;
  /** This process tripped a rule's guard (core/guards.ts). */
  guardTripped(ruleId: string): void;
  /** An HTTP request answered: its method, route template (never its URL), status code and duration. */
  httpAnswered(method: string, route: string, status: number, seconds: number): void;
}

/** How long a scrape waits for each source of gauges (read in parallel): well under a scraper's timeout. */
export const SOURCE_TIMEOUT_MS = 400;

const OPEN_STATUSES: CaseStatus[] = [
  'VERIFICATION_REQUIRED',
  'AWAITING_USER',
  'LIMITED',
  'PROTECTIVE_HOLD',
  'MONITORING',
  'IN_REVIEW',
  'AWAITING_INFO',
  'PENDING_APPROVAL',
];
const REVIEW_STATUSES: CaseStatus[] = ['IN_REVIEW', 'AWAITING_INFO', 'PENDING_APPROVAL'];

/** The value by the deadline, or undefined: the source failed or did not answer in time. */
async function byDeadline<T>(deadline: number, read: () => Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([
      Promise.resolve()
        .then(read)
        .catch(() => undefined),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const known = <T>(values: (T | undefined)[]): values is T[] => values.every((v) => v !== undefined);

/** The gauges of one scrape, in a registry of their own: only what the sources answered. */
async function readGauges(sources: GaugeSources, timeoutMs: number): Promise<Registry> {
  const deadline = Date.now() + timeoutMs;
  const [open, breached, messages, tripped] = await Promise.all([
    Promise.all(OPEN_STATUSES.map((s) => byDeadline(deadline, () => sources.openCases(s, deadline)))),
    byDeadline(deadline, () => sources.reviewBreached(deadline)),
    byDeadline(deadline, () => sources.messagesByStatus(deadline)),
    byDeadline(deadline, async () => (sources.trippedGuards ? sources.trippedGuards() : undefined)),
  ]);
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  const openRead = known(open);
  if (openRead) {
    const g = gauge(
      'cordon_open_cases',
      'Open cases by status (Temporal visibility: eventually consistent)',
      ['status'],
    );
    open.forEach((n, i) => g.set({ status: OPEN_STATUSES[i]! }, n));
  }
  const inReview = REVIEW_STATUSES.map((s) => open[OPEN_STATUSES.indexOf(s)]);
  if (known(inReview))
    gauge(
      'cordon_review_queue_depth',
      'Cases waiting for reviewers (in review, awaiting information, pending approval)',
    ).set(inReview.reduce((a, b) => a + b, 0));
  if (breached !== undefined)
    gauge('cordon_review_sla_breached', 'Cases waiting for reviewers whose review deadline has passed').set(
      breached,
    );
  if (messages !== undefined) {
    const g = gauge(
      'cordon_messages',
      'Outbox messages by kind and delivery status (FAILED: given up, shown in the case)',
      ['kind', 'status'],
    );
    for (const r of messages) g.set({ kind: r.kind, status: r.status }, r.count);
  }
  if (tripped !== undefined) {
    const g = gauge(
      'cordon_guard_tripped',
      'Rules whose guard is tripped (1) until a senior re-arms it; a rule re-armed or never tripped is absent',
      ['rule'],
    );
    for (const rule of tripped) g.set({ rule }, 1);
  }
  const up = gauge(
    'cordon_source_up',
    `Whether a source of the gauges answered this scrape within ${timeoutMs} ms (1) or not (0); the gauges of a source that did not are left out`,
    ['source'],
  );
  up.set({ source: 'temporal' }, openRead && breached !== undefined ? 1 : 0);
  up.set({ source: 'database' }, messages !== undefined ? 1 : 0);
  return registry;
}

export function createMetrics(sources: GaugeSources, options: { sourceTimeoutMs?: number } = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'cordon_process_' });
  const timeoutMs = options.sourceTimeoutMs ?? SOURCE_TIMEOUT_MS;

  const events = new Counter({
    name: 'cordon_risk_events_total',
    help: 'Risk events answered, by decided tier; duplicate="true" for a repeated event ID',
    labelNames: ['tier', 'duplicate'],
    registers: [registry],
  });
  const timeToRestrict = new Histogram({
    name: 'cordon_time_to_restrict_seconds',
    help: 'From a restricting event reaching the API to its answer (the restriction is in force by then)',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const actions = new Counter({
    name: 'cordon_actions_total',
    help: 'Human actions answered, by action and result (applied, repeat, or the refusal code)',
    labelNames: ['action', 'result'],
    registers: [registry],
  });
  const decisions = new Counter({
    name: 'cordon_decisions_total',
    help: "Reviewers' decisions applied, by decision",
    labelNames: ['decision'],
    registers: [registry],
  });

  const guardTrips = new Counter({
    name: 'cordon_guard_trips_total',
    help: 'Rule guards tripped by this process, by rule (each trip is counted once, by the process that saw it)',
    labelNames: ['rule'],
    registers: [registry],
  });

  // Labels stay few: methods are folded to HTTP's usual ones, routes are the app's templates (or `unmatched`),
  // statuses the codes Cordon answers; the histogram leaves the status out.
  const httpRequests = new Counter({
    name: 'cordon_http_requests_total',
    help: 'HTTP requests answered, by method, route template (`unmatched`: no route) and status code',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'cordon_http_request_duration_seconds',
    help: 'From an HTTP request reaching the API to its answer being sent, by method and route template',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  return {
    registry,
    async scrape() {
      // The gauges after the counters, as one registry would list them.
      const gauges = await readGauges(sources, timeoutMs);
      return Registry.merge([registry, gauges]).metrics();
    },
    eventReported(tier, duplicate, seconds) {
      events.inc({ tier, duplicate: String(duplicate) });
      if (tier !== 'NONE' && !duplicate) timeToRestrict.observe(seconds);
    },
    actionAnswered(action, result) {
      actions.inc({ action, result });
    },
    decisionApplied(decision) {
      decisions.inc({ decision });
    },
    guardTripped(ruleId) {
      guardTrips.inc({ rule: ruleId });
    },
    httpAnswered(method, route, status, seconds) {
      const m = HTTP_METHODS.has(method) ? method : 'OTHER';
      httpRequests.inc({ method: m, route, status: String(status) });
      httpDuration.observe({ method: m, route }, seconds);
    },
  };
}

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The middleware that counts every request the app answers (mounted first, so the time is the whole request's):
 * counted when the answer has been sent, under the route that answered it; a request whose caller left before
 * its answer may go uncounted.
 */
export function countHttpRequests(metrics: Metrics) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const started = performance.now();
    res.once('finish', () =>
      metrics.httpAnswered(
        req.method ?? 'GET',
        routeOf(req),
        res.statusCode,
        (performance.now() - started) / 1000,
      ),
    );
    next();
  };
}

/**
 * The Temporal SDK's own metrics, served by its Prometheus exporter, appended to Cordon's when configured; left
 * out if the exporter does not answer in time, so that a scrape still answers within a second.
 */
export async function sdkMetricsText(address: string | undefined): Promise<string> {
  if (!address) return '';
  try {
    const res = await fetch(`http://${address}/metrics`, {
      signal: AbortSignal.timeout(2 * SOURCE_TIMEOUT_MS),
    });
    return res.ok ? await res.text() : '';
  } catch {
    return '';
  }
}
