// The bare Temporal floor for the benchmark, shaped like Cordon's hot path: an update-with-start whose handler
// runs one activity and answers; the workflow then ends.
import {
  allHandlersFinished,
  condition,
  defineUpdate,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';

const { touch } = proxyActivities<{ touch(id: string): Promise<string> }>({ startToCloseTimeout: '10s' });

export const touchUpdate = defineUpdate<string, [string]>('touch');

export async function floorWorkflow(): Promise<void> {
  let answered = false;
  setHandler(touchUpdate, async (id) => {
    const result = await touch(id);
    answered = true;
    return result;
  });
  await condition(() => answered && allHandlersFinished());
}
