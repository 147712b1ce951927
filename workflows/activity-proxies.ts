// How the case workflow calls its activities (core/activity-contract.ts): timeouts and retries per kind of call.
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/common';
import type { CaseActivities } from '../core/activity-contract';

// Scoring is a local activity: it runs in the worker that handles the update, saving a server round trip on
// the path the API waits for. Data-source lookups inside have their own timeouts.
export const scoring = proxyLocalActivities<CaseActivities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '200ms', maximumInterval: '10s', maximumAttempts: 10 },
});
// Restrictions and messages must happen eventually: retried durably until they succeed or fail for good.
export const EFFECT_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '5m' },
};
export const effects = proxyActivities<CaseActivities>(EFFECT_OPTIONS);
// 0.3: restriction changes run as local activities in the worker that decided them, saving the round trip
// through the server's task queue on the path the API waits for. Still durable before the answer: the update
// completes with the workflow task that records the local activity's result. Retried (with timers after the
// first minute) until they succeed or fail for good.
export const localEffects = proxyLocalActivities<CaseActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5m' },
});
// Writes to Cordon's own database are ordinary activities, retried until they succeed: they are scheduled only
// once the workflow task that decided them is committed. (A local activity would write first; a task lost with
// its worker could then be redone differently and the row would say what never happened.)
export const RECORD_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '10s' },
};
export const records = proxyActivities<CaseActivities>(RECORD_OPTIONS);
