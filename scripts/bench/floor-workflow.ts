// The bare Temporal floor for the benchmark: start a workflow that runs one activity and returns.
import { proxyActivities } from '@temporalio/workflow';

const { touch } = proxyActivities<{ touch(id: string): Promise<string> }>({ startToCloseTimeout: '10s' });

export async function floorWorkflow(id: string): Promise<string> {
  return touch(id);
}
