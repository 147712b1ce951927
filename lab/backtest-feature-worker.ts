// The backtest's feature thread (lab/backtest-feature-thread.ts starts it): it keeps the policies' feature
// windows and, batch after batch in file order, records each event and reads its features exactly as
// core/feature-decide.ts does for the scoring thread, writing the values back into shared memory.
import { workerData } from 'node:worker_threads';
import { recordAndRead } from '../core/feature-decide';
import { FeatureWindows } from '../core/feature-windows';
import type { LoadedPolicy } from '../core/policy';
import { Batches, DONE, HANDED, READY, type Reads, type Shared } from './backtest-feature-codec';

export interface FeatureWorkerInput {
  policies: LoadedPolicy[];
  reads: Reads;
  shared: Shared;
}

const input = workerData as FeatureWorkerInput;
const batches = new Batches(input.reads, input.shared);
const control = batches.control;

try {
  const stores = input.policies.map((p) => new FeatureWindows(p.policy.features));
  Atomics.store(control, READY, 1);
  Atomics.notify(control, DONE);
  for (let next = 0; ; next++) {
    // Wait for batch `next` (the parsing thread hands over a count; -1 ends the thread).
    for (;;) {
      const handed = Atomics.load(control, HANDED);
      if (handed < 0) process.exit(0);
      if (handed > next) break;
      Atomics.wait(control, HANDED, handed);
    }
    const b = next % 2;
    const n = batches.begin(b);
    for (let i = 0; i < n; i++) {
      const event = batches.read(b, i);
      for (let p = 0; p < stores.length; p++)
        batches.put(b, i, p, recordAndRead(input.policies[p]!, stores[p]!, event));
    }
    Atomics.store(control, DONE, next + 1);
    Atomics.notify(control, DONE);
  }
} catch (err) {
  batches.fail(`the feature thread failed: ${(err as Error).stack ?? String(err)}`);
}
