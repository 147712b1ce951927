// Temporal answers that mean "not now" rather than "no": a server shedding load, a case whose workflow tasks
// keep failing or timing out while the worker is starved of CPU, a call that ran out of time. Overload may make
// Cordon slow; it never makes it answer 500. These become 503 with Retry-After: the request changed nothing the
// caller cannot safely repeat (events and actions are idempotent by their IDs).
import { WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { ActivityFailure, TimeoutFailure } from '@temporalio/common';
import { Problem } from '../web/problems';

/** Seconds a client should wait before retrying while the case engine is busy. */
export const BUSY_RETRY_AFTER_S = 2;

/**
 * gRPC status codes of a refusal for the moment: CANCELLED (a query whose worker went away while it answered,
 * seen under chaos), RESOURCE_EXHAUSTED, ABORTED. (A server out of reach, UNAVAILABLE or DEADLINE_EXCEEDED, is
 * the error handler's TEMPORAL_UNAVAILABLE.)
 */
const TRANSIENT_CODES = new Set([1, 8, 10]);
/**
 * FAILED_PRECONDITION is transient when it is about the case's workflow task: it failed a few times in a row
 * (under CPU starvation: it timed out) and the server refuses updates and queries until one succeeds, or one
 * task failed and took the updates in flight with it (a continue-as-new that raced new updates: the server
 * refuses such a completion and the next task continues).
 */
const TASK_TROUBLE = /workflow task in failed state|unexpected workflow task failure|not ready/i;

/** A case's workflow task failed under the update or query: transient (see TASK_TROUBLE). */
export function workflowTaskTrouble(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; depth < 10 && e instanceof Error; depth++) {
    if ((e as { code?: unknown }).code === 9 && TASK_TROUBLE.test(e.message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Why a Temporal error is transient (a short name for logs), or undefined when it is not. */
export function temporalBusy(err: unknown): string | undefined {
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return 'UPDATE_TIMEOUT';
  // An update whose handler could not reach Cordon's database (a local activity that ran out of retries or time).
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ActivityFailure)
    return 'ACTIVITY_FAILED';
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof TimeoutFailure) return 'TIMEOUT';
  if (workflowTaskTrouble(err)) return 'WORKFLOW_TASK_FAILED';
  let e: unknown = err;
  for (let depth = 0; depth < 10 && e instanceof Error; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number' && TRANSIENT_CODES.has(code)) return `GRPC_${code}`;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function busyProblem(
  detail = 'the case engine is busy just now; it is safe to retry after Retry-After seconds',
) {
  return new Problem(503, 'Service busy', detail, {
    code: 'TEMPORAL_BUSY',
    headers: { 'Retry-After': String(BUSY_RETRY_AFTER_S) },
  });
}

/** Runs a Temporal call; a transient failure becomes a 503 problem, anything else passes unchanged. */
export async function orBusy<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof Problem || !temporalBusy(err)) throw err;
    throw busyProblem();
  }
}
