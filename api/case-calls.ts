// How the API's calls into a case are made: under the caller's deadline (then 503), queued per account below
// Temporal's limit of in-flight updates, and retried while the case is momentarily unable to take them.
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Scorer } from '../activities/scorer';
import { REFUSAL_CODES } from '../core/case-types';
import { TASK_QUEUE } from '../core/contracts';
import type { Metrics } from '../infra/metrics';
import type { Logger } from '../infra/logger';
import type { Store } from '../infra/store';
import { busyProblem, orBusy, workflowTaskTrouble } from './overload';
import { Problem } from '../web/problems';
import type { ShadowScoring } from './shadow';
import type { LiveFeatures } from './live-features';
import type { RuleGuards } from './guards';

export interface CaseServiceOptions {
  client: Client;
  scorer: Scorer;
  logger: Logger;
  /** Cordon's database: event and request records, deliveries, archived cases, the change feed. */
  store: Store;
  /** How long an event ID gets its first answer back. */
  eventIdWindowMs: number;
  /** How long an event or an action may wait for its case before the answer is a 503 (default 20 s). */
  temporalCallMs?: number;
  taskQueue?: string;
  metrics?: Metrics;
  /** A candidate policy scoring every live event in shadow, after its answer. */
  shadow?: ShadowScoring;
  /** Policy features over Cordon's database (absent: events are scored without them). */
  features?: LiveFeatures;
  /** Rule guards: matches counted, trips seen, tripped capAtStepUp rules capped (absent: no guard acts). */
  guards?: RuleGuards;
}

/** Every refusal of the case machine means "this case cannot do that now": a 409. So does a reused key. */
export const CONFLICTS = new Set<string>([...REFUSAL_CODES, 'IDEMPOTENCY_KEY_REUSED']);

export const keyReused = () =>
  new Problem(409, 'Idempotency key reused', 'this requestId was already used for a different request', {
    code: 'IDEMPOTENCY_KEY_REUSED',
  });

/**
 * Temporal admits a bounded number of in-flight updates per workflow (10 by default). A burst of events for
 * one account (a takeover attempt is exactly that) queues here per account instead of being refused.
 */
class PerAccountLimit {
  private readonly waiting = new Map<string, { active: number; queue: (() => void)[] }>();
  constructor(private readonly max: number) {}
  async run<T>(accountId: string, fn: () => Promise<T>): Promise<T> {
    let slot = this.waiting.get(accountId);
    if (!slot) this.waiting.set(accountId, (slot = { active: 0, queue: [] }));
    if (slot.active >= this.max) await new Promise<void>((resolve) => slot.queue.push(resolve));
    else slot.active += 1;
    try {
      return await fn();
    } finally {
      const next = slot.queue.shift();
      if (next) next();
      else if (--slot.active === 0) this.waiting.delete(accountId);
    }
  }
}

/**
 * Retries an update the case could not take for the moment: it is moving to a new run (CASE_CONTINUING, a
 * refusal: nothing was applied), or, when sending the same update again is safe (`idempotent`: an event, or
 * an action with its request identity), a workflow task failed under it. Bounded by the caller's deadline
 * (caseCall), after which the answer is a 503.
 */
export async function retryMomentary<T>(fn: () => Promise<T>, idempotent: boolean): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (refusalType(err) !== 'CASE_CONTINUING' && !(idempotent && workflowTaskTrouble(err))) throw err;
      await new Promise((r) => setTimeout(r, Math.min(500, 20 * 2 ** Math.min(attempt, 5))));
    }
  }
}

/** Retries what Temporal refuses for load (in-flight update limit, rate limits): never lost, only later. */
export async function retryWhenBusy<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isResourceExhausted(err) || attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, Math.min(1_000, 25 * 2 ** attempt) * (0.5 + Math.random())));
    }
  }
}

function isResourceExhausted(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === 8 /* RESOURCE_EXHAUSTED */) return true;
    if (e instanceof Error && /in-flight updates|RESOURCE_EXHAUSTED/i.test(e.message)) return true;
  }
  return false;
}

/** The type of the case's refusal of an update (its validator's ApplicationFailure), if that is what failed. */
export function refusalType(err: unknown): string | undefined {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure)
    return err.cause.type ?? undefined;
  return undefined;
}

export function messageOf(err: unknown): string {
  if (err instanceof WorkflowUpdateFailedError && err.cause) return err.cause.message;
  return (err as Error).message;
}

/** The client, the task queue, and the deadlines and per-account queue every call into a case goes through. */
export class CaseCalls {
  readonly client: Client;
  readonly taskQueue: string;
  readonly perAccount = new PerAccountLimit(5);
  private readonly callMs: number;

  constructor(o: CaseServiceOptions) {
    this.client = o.client;
    this.taskQueue = o.taskQueue ?? TASK_QUEUE;
    this.callMs = o.temporalCallMs ?? 20_000;
  }

  /**
   * An update sent to a case, within the time the API waits (then 503: the case is starved or failing, and the
   * update may still be applied later, which a retry with the same ID learns). A transient refusal is a 503 too.
   */
  async caseCall<T>(call: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(busyProblem()), this.callMs);
    });
    try {
      return await Promise.race([
        orBusy(() => this.client.connection.withDeadline(Date.now() + this.callMs, call)),
        late,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A risk event's call into its case: as caseCall, and a reused staff requestId is a 409. */
  async eventCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await this.caseCall(call);
    } catch (err) {
      if (refusalType(err) === 'IDEMPOTENCY_KEY_REUSED') throw keyReused();
      throw err;
    }
  }
}
