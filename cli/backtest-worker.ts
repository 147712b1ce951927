// A backtest worker thread: it receives batches of lines (all the lines of its share of the accounts) from
// cli/run-backtest.ts, runs them through its own Backtest, acknowledges each batch (flow control), and sends
// its report when told the file has ended.
import { parentPort, workerData } from 'node:worker_threads';
import type { LoadedPolicy } from '../core/policy';
import { Backtest } from '../lab/backtest';

export interface WorkerInput {
  policy: LoadedPolicy;
  against?: LoadedPolicy;
  listMalformed?: number;
  examples?: number;
}
export type ToWorker = { kind: 'lines'; texts: string[]; numbers: number[] } | { kind: 'end' };
export type FromWorker = { kind: 'ack' } | { kind: 'report'; report: ReturnType<Backtest['report']> };

const input = workerData as WorkerInput;
// Its guarded matches kept: trips are decided over all the threads' matches (mergeReports).
const backtest = new Backtest({ ...input, keepGuardMatches: true });
const port = parentPort!;
port.on('message', (m: ToWorker) => {
  if (m.kind === 'lines') {
    for (let i = 0; i < m.texts.length; i++) backtest.addLine(m.texts[i]!, m.numbers[i]!);
    port.postMessage({ kind: 'ack' } satisfies FromWorker);
  } else {
    port.postMessage({ kind: 'report', report: backtest.report() } satisfies FromWorker);
    port.close();
  }
});
