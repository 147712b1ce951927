// Streams an event file through the backtest: lines split from a file stream (constant memory whatever the
// size), with a progress line on stderr when stderr is a terminal.
import { createReadStream, statSync } from 'node:fs';
import type { LoadedPolicy } from '../core/policy';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  Backtest,
  mergeReports,
  parsedAccountId,
  quickAccountId,
  shardOf,
  type BacktestReport,
} from '../lab/backtest';
import type { FromWorker, ToWorker, WorkerInput } from './backtest-worker';
import { fmt } from '../lab/format';
import { hasFeatures } from '../core/feature-decide';
import { CliError } from './io';

export interface RunOptions {
  policy: LoadedPolicy;
  against?: LoadedPolicy;
  listMalformed?: number;
  examples?: number;
  /** Where the progress line goes; default: stderr when it is a terminal, else nowhere. */
  progress?: NodeJS.WriteStream | null;
  /**
   * Worker threads sharing the accounts (every line of an account goes to the same one); 1: in this thread.
   * Default: 2 when the machine has 2 or more cores.
   */
  threads?: number;
}

/** Lines handed out by account to worker threads, with flow control (at most a few batches in flight each). */
class Pool {
  private readonly workers: Worker[];
  private readonly texts: string[][];
  private readonly numbers: number[][];
  private readonly inFlight: number[];
  private readonly reports: (BacktestReport | undefined)[];
  private wake: (() => void) | null = null;
  private failure: Error | null = null;
  static readonly BATCH = 2048;
  static readonly MAX_IN_FLIGHT = 8;

  constructor(n: number, data: WorkerInput) {
    const entry = join(__dirname, 'backtest-worker.ts');
    // The worker runs TypeScript through tsx like this thread (resolved here: an eval'd worker resolves from
    // the working directory).
    const tsx = require.resolve('tsx/cjs');
    this.workers = Array.from(
      { length: n },
      () =>
        new Worker(`require(${JSON.stringify(tsx)}); require(${JSON.stringify(entry)});`, {
          eval: true,
          workerData: data,
        }),
    );
    this.texts = this.workers.map(() => []);
    this.numbers = this.workers.map(() => []);
    this.inFlight = this.workers.map(() => 0);
    this.reports = this.workers.map(() => undefined);
    this.workers.forEach((w, i) => {
      w.on('message', (m: FromWorker) => {
        if (m.kind === 'ack') this.inFlight[i]!--;
        else this.reports[i] = m.report;
        this.poke();
      });
      w.on('error', (err) => {
        this.failure = err;
        this.poke();
      });
    });
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private async until(done: () => boolean): Promise<void> {
    while (!done()) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.failure) throw this.failure;
  }

  /** Queues a line for its account's worker; waits when that worker is too far behind. */
  async add(text: string, line: number): Promise<void> {
    const n = this.workers.length;
    const account = quickAccountId(text) ?? parsedAccountId(text);
    const i = account === undefined ? line % n : shardOf(account, n);
    this.texts[i]!.push(text);
    this.numbers[i]!.push(line);
    if (this.texts[i]!.length >= Pool.BATCH) {
      this.flush(i);
      if (this.inFlight[i]! > Pool.MAX_IN_FLIGHT)
        await this.until(() => this.inFlight[i]! <= Pool.MAX_IN_FLIGHT / 2);
    }
  }

  private flush(i: number): void {
    if (!this.texts[i]!.length) return;
    this.inFlight[i]!++;
    this.workers[i]!.postMessage({
      kind: 'lines',
      texts: this.texts[i]!,
      numbers: this.numbers[i]!,
    } satisfies ToWorker);
    this.texts[i] = [];
    this.numbers[i] = [];
  }

  async finish(): Promise<BacktestReport[]> {
    this.workers.forEach((w, i) => {
      this.flush(i);
      w.postMessage({ kind: 'end' } satisfies ToWorker);
    });
    await this.until(() => this.reports.every((r) => r !== undefined));
    await Promise.all(this.workers.map((w) => w.terminate()));
    return this.reports as BacktestReport[];
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export async function runBacktest(file: string, o: RunOptions): Promise<BacktestReport> {
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new Error('not a file');
    size = stat.size;
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const settings: WorkerInput = {
    policy: o.policy,
    ...(o.against ? { against: o.against } : {}),
    ...(o.listMalformed !== undefined ? { listMalformed: o.listMalformed } : {}),
    ...(o.examples !== undefined ? { examples: o.examples } : {}),
  };
  // By default a second thread only for files worth it (4 MiB and more) and when a core is free (on a busy
  // machine the hand-off costs more than the second thread gains); an explicit number of threads is obeyed.
  const cores = availableParallelism();
  // A policy with features reads every account's past (and, by entity, other accounts'): the file is one
  // stream in file order, so it is never shared out by account (an entity's events would be split across
  // threads, and each thread's clock, what counts as too late, would differ from the file's). Its second thread
  // computes the feature windows instead while this one parses and scores (lab/backtest-feature-thread.ts: the
  // same values in the same order).
  const features = hasFeatures(o.policy) || (o.against !== undefined && hasFeatures(o.against));
  const wanted = o.threads ?? (cores >= 2 && size > 4 << 20 && loadavg()[0]! < cores - 1 ? 2 : 1);
  if (features && o.threads !== undefined && o.threads > 2)
    process.stderr.write(
      'backtest: the policy declares features: two threads (one computes the features, one scores)\n',
    );
  const threads = features ? 1 : wanted;
  const pool = threads > 1 ? new Pool(threads, settings) : null;
  const backtest = pool ? null : new Backtest({ ...settings, featureThread: features && wanted > 1 });
  const progress = o.progress === undefined ? (process.stderr.isTTY ? process.stderr : null) : o.progress;
  const started = process.hrtime.bigint();
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err) => reject(new CliError(`cannot read ${file}: ${err.message}`)));
  });
  await opened;
  let n = 0;
  let timer: NodeJS.Timeout | undefined;
  if (progress) {
    const show = () => {
      const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
      const rate = n / Math.max(elapsed, 1e-3);
      const fraction = size > 0 ? stream.bytesRead / size : 1;
      const left = fraction > 0 ? (elapsed / fraction) * (1 - fraction) : Infinity;
      progress.write(
        `\r${fmt(n)} lines, ${fmt(Math.round(rate))}/s, ${(fraction * 100).toFixed(1)}%, ${duration(left)} left   `,
      );
    };
    show();
    timer = setInterval(show, 250);
    timer.unref();
  }
  try {
    // Lines are split here rather than by node:readline (a third faster, the same constant memory): the
    // stream decodes UTF-8 across chunk boundaries, and "\r\n" endings lose their "\r".
    stream.setEncoding('utf8');
    let rest = '';
    const take = (raw: string): void | Promise<void> => {
      n++;
      const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (backtest) backtest.addLine(text, n);
      else return pool!.add(text, n);
    };
    for await (const chunk of stream as AsyncIterable<string>) {
      let start = 0;
      let end = chunk.indexOf('\n');
      if (end >= 0 && rest) {
        await take(rest + chunk.slice(0, end));
        rest = '';
        start = end + 1;
        end = chunk.indexOf('\n', start);
      }
      while (end >= 0) {
        const waiting = take(chunk.slice(start, end));
        if (waiting) await waiting;
        start = end + 1;
        end = chunk.indexOf('\n', start);
      }
      rest += chunk.slice(start);
    }
    if (rest) await take(rest);
  } catch (err) {
    await pool?.close();
    throw err;
  } finally {
    if (timer) clearInterval(timer);
    if (progress) progress.write('\r\x1b[K');
  }
  const report = backtest
    ? backtest.report()
    : mergeReports(await pool!.finish(), { listMalformed: o.listMalformed, examples: o.examples });
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  return {
    ...report,
    file,
    elapsedMs: Math.round(elapsedMs),
    eventsPerSecond: report.events / Math.max(elapsedMs / 1000, 1e-6),
  };
}
