// The policies' features computed in a second thread while this one parses and scores (`backtest --threads 2`
// with a policy that has features). Exact: the worker (lab/backtest-feature-worker.ts) sees every event in file
// order and records and reads it as core/feature-decide.ts does, so each event gets the values it would get in
// one thread; this thread scores each event only once its values are back, in the same order. Batches take
// turns: while the worker computes one, this thread parses the next and scores the one before (shared memory,
// lab/backtest-feature-codec.ts; the waits are Atomics.wait, so the backtest stays synchronous).
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import type { FeatureEvent, FeatureValues } from '../core/features';
import type { LoadedPolicy } from '../core/policy';
import { BATCH, Batches, DONE, HANDED, READY, readsOf, sharedFor } from './backtest-feature-codec';
import type { FeatureWorkerInput } from './backtest-feature-worker';

/** How long the worker may stay silent (starting, or on one batch) before the backtest gives up. */
const PATIENCE_MS = 120_000;

export class FeatureThread<T> {
  private readonly batches: Batches;
  private readonly worker: Worker;
  /** The items of the batch being filled and of the one handed over, by batch (0 or 1). */
  private readonly items: [T[], T[]] = [[], []];
  /** Batches handed over so far; the one being filled is number `handed`. */
  private handed = 0;
  private ended = false;
  /** Each policy's values for the item being settled (one array, reused). */
  private readonly values: (FeatureValues | undefined)[];

  /**
   * `settle` gets each item, in the order added, with each policy's values (undefined: scored without
   * features), once they are computed (the array is reused: read it, do not keep it).
   */
  constructor(
    private readonly policies: LoadedPolicy[],
    private readonly settle: (item: T, values: (FeatureValues | undefined)[]) => void,
  ) {
    this.values = policies.map(() => undefined);
    const reads = readsOf(policies);
    const shared = sharedFor(reads);
    this.batches = new Batches(reads, shared);
    const entry = join(__dirname, 'backtest-feature-worker.ts');
    // The worker runs TypeScript through tsx like this thread (resolved here: an eval'd worker resolves from the
    // working directory).
    const tsx = require.resolve('tsx/cjs');
    this.worker = new Worker(`require(${JSON.stringify(tsx)}); require(${JSON.stringify(entry)});`, {
      eval: true,
      workerData: { policies, reads, shared } satisfies FeatureWorkerInput,
    });
    // Never keeps the process alive; a failure is read from shared memory (this thread is blocked when waiting).
    this.worker.unref();
    this.worker.on('error', (err) => this.batches.fail(`the feature thread failed: ${err.message}`));
  }

  /** Adds an event (and what to settle it with) after those before it. */
  add(event: FeatureEvent, item: T): void {
    if (this.ended) throw new Error("the backtest's feature thread has ended");
    const b = this.handed % 2;
    if (!this.batches.write(b, event)) {
      this.handOver();
      this.batches.write(this.handed % 2, event);
    }
    this.items[this.handed % 2]!.push(item);
    if (this.batches.size === BATCH) this.handOver();
  }

  /** Settles every event added; the worker ends. */
  finish(): void {
    if (this.ended) return;
    if (this.batches.size > 0) this.handOver();
    this.settleBatch(this.handed - 1);
    this.ended = true;
    Atomics.store(this.batches.control, HANDED, -1);
    Atomics.notify(this.batches.control, HANDED);
  }

  /** Hands the batch being filled to the worker, then settles the one before it (waiting for it if need be). */
  private handOver(): void {
    const b = this.handed % 2;
    this.batches.seal(b);
    this.handed++;
    Atomics.store(this.batches.control, HANDED, this.handed);
    Atomics.notify(this.batches.control, HANDED);
    // The other batch is filled next: its values must be read first.
    this.settleBatch(this.handed - 2);
  }

  /** Waits for batch k's values and settles its items (nothing for a batch already settled or none). */
  private settleBatch(k: number): void {
    if (k < 0) return;
    const b = k % 2;
    const items = this.items[b]!;
    if (items.length === 0) return;
    this.waitFor(k + 1);
    const values = this.values;
    for (let i = 0; i < items.length; i++) {
      for (let p = 0; p < values.length; p++) values[p] = this.batches.get(b, i, p);
      this.settle(items[i]!, values);
    }
    this.items[b] = [];
  }

  /** Blocks until the worker has computed `count` batches. */
  private waitFor(count: number): void {
    const control = this.batches.control;
    let waited = 0;
    for (;;) {
      const failure = this.batches.failed();
      if (failure !== undefined) throw new Error(failure);
      const done = Atomics.load(control, DONE);
      if (done >= count) return;
      if (Atomics.wait(control, DONE, done, 1000) === 'timed-out') {
        waited += 1000;
        if (waited >= PATIENCE_MS)
          throw new Error(
            `the feature thread has not answered in ${PATIENCE_MS / 1000} s (${Atomics.load(control, READY) ? 'on a batch' : 'starting'})`,
          );
      } else waited = 0;
    }
  }
}
