// Prometheus metrics for operators (prom-client). Counters are kept by the process that sees the event (the
// API); gauges are read at scrape time from where the truth is kept (Temporal visibility for open cases,
// Cordon's database for messages), so they agree across several API and worker processes. Labels are codes
// and statuses only: never an account, case or person.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CaseStatus } from '../core/model';

export interface GaugeSources {
  /** Open cases (running case workflows) with this status, from visibility. */
  openCases(status: CaseStatus): Promise<number>;
  /** Cases waiting for a reviewer whose review deadline has passed. */
  reviewBreached(): Promise<number>;
  /** Outbox messages by delivery status. */
  messagesByStatus(): Promise<{ status: string; kind: string; count: number }[]>;
}

export interface Metrics {
  registry: Registry;
  /** A risk event answered by the API. */
  eventReported(tier: string, duplicate: boolean, seconds: number): void;
  /** A human action answered: `result` is `applied`, `repeat` or the refusal code. */
  actionAnswered(action: string, result: string): void;
  /** A reviewer's decision applied. */
  decisionApplied(decision: string): void;
}

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

export function createMetrics(sources: GaugeSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'cordon_process_' });

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

  new Gauge({
    name: 'cordon_open_cases',
    help: 'Open cases by status (Temporal visibility: eventually consistent)',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const counts = await Promise.all(OPEN_STATUSES.map((s) => sources.openCases(s)));
      OPEN_STATUSES.forEach((s, i) => this.set({ status: s }, counts[i]!));
    },
  });
  new Gauge({
    name: 'cordon_review_queue_depth',
    help: 'Cases waiting for reviewers (in review, awaiting information, pending approval)',
    registers: [registry],
    async collect() {
      const counts = await Promise.all(REVIEW_STATUSES.map((s) => sources.openCases(s)));
      this.set(counts.reduce((a, b) => a + b, 0));
    },
  });
  new Gauge({
    name: 'cordon_review_sla_breached',
    help: 'Cases waiting for reviewers whose review deadline has passed',
    registers: [registry],
    async collect() {
      this.set(await sources.reviewBreached());
    },
  });
  new Gauge({
    name: 'cordon_messages',
    help: 'Outbox messages by kind and delivery status (FAILED: given up, shown in the case)',
    labelNames: ['kind', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await sources.messagesByStatus()) this.set({ kind: r.kind, status: r.status }, r.count);
    },
  });

  return {
    registry,
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
  };
}

/** The Temporal SDK's own metrics, served by its Prometheus exporter, appended to Cordon's when configured. */
export async function sdkMetricsText(address: string | undefined): Promise<string> {
  if (!address) return '';
  try {
    const res = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(2_000) });
    return res.ok ? await res.text() : '';
  } catch {
    return '';
  }
}
