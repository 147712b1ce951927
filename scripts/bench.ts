// `npm run bench`: Cordon's hot paths against a real Temporal server (a tuned dev server of its own, or
// TEMPORAL_ADDRESS / --address), next to the bare Temporal floor measured in the same run on the same server: an
// update-with-start whose handler runs one activity. Prints every target of issue 9 as a ratio with pass/fail
// (`--json` for machines); it measures, it asserts nothing, and its exit code is 0 whatever the figures.
//
//   npm run bench                       the speed figures
//   npm run bench -- --open [N]         N open cases (10,000 by default): memory, evicted cases, SQLite per case
//   npm run bench -- --json             the same as one JSON document on stdout (progress stays on stderr)
//   BENCH_N=200 npm run bench           more samples per figure (default 100)
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Client, WithStartWorkflowOperation } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { startApi, type RunningApi } from '../api/main';
import { CASE_WORKFLOW_TYPE, caseWorkflowId } from '../core/contracts';
import { caseStatsQuery } from '../workflows/definitions';
import { codecDataConverter, codecFromConfig } from '../infra/codec';
import { parseConfig } from '../infra/config';
import { envValue } from '../infra/config-schema';
import { createLogger } from '../infra/logger';
import { createCaseWorker, workflowCacheSizeFromEnv } from '../worker/create';
import { startWorkerRuntime } from '../worker/deps';
import { touchUpdate } from './bench/floor-workflow';
import { driveOnThread, type Run } from './bench/load';
import { freePort, startDevServer, type DevServer } from './dev-server';
import { ensureTemporalCli } from './temporal-tools';

interface Options {
  json: boolean;
  /** Open cases to hold for the memory figures; undefined: the speed figures. */
  open?: number;
  address?: string;
  n: number;
  concurrency: number;
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    json: false,
    n: envValue('BENCH_N'),
    concurrency: envValue('BENCH_CONCURRENCY'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      i++;
      return v;
    };
    if (a === '--json') o.json = true;
    else if (a === '--open') o.open = /^\d+$/.test(argv[i + 1] ?? '') ? Number(argv[++i]) : 10_000;
    else if (a.startsWith('--open=')) o.open = Number(a.slice('--open='.length));
    else if (a === '--address') o.address = value();
    else if (a === '--n') o.n = Number(value());
    else if (a === '--concurrency') o.concurrency = Number(value());
    else throw new Error(`unknown option ${a} (see the head of scripts/bench.ts)`);
  }
  for (const [name, v] of [
    ['n', o.n],
    ['concurrency', o.concurrency],
    ['open', o.open ?? 1],
  ] as const)
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return o;
}

/** One line that rewrites itself on a terminal; on a pipe, one line when a phase starts. */
class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private label = '';
  private last = 0;
  phase(label: string): void {
    this.end();
    this.label = label;
    if (!this.tty) process.stderr.write(`[bench] ${label}...\n`);
  }
  tick(done: number, total: number): void {
    const now = Date.now();
    if (!this.tty || (now - this.last < 200 && done < total)) return;
    this.last = now;
    process.stderr.write(`\r\x1b[2K[bench] ${this.label}: ${done}/${total}`);
  }
  end(): void {
    if (this.tty && this.label) process.stderr.write('\r\x1b[2K');
    this.label = '';
  }
}

const quantile = (ms: number[], p: number): number => {
  const s = [...ms].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
};

/** n operations, `concurrency` at a time; the latency of each and the rate of the whole. */
async function drive(
  n: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
  progress?: Progress,
): Promise<Run> {
  let next = 0;
  let done = 0;
  const latencies: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) {
        const i = next++;
        const s = performance.now();
        await op(i);
        latencies.push(performance.now() - s);
        progress?.tick(++done, n);
      }
    }),
  );
  return { latencies, perSecond: n / ((performance.now() - t0) / 1000) };
}

interface Figure {
  figure: string;
  unit: string;
  floor?: number;
  cordon: number;
  target: string;
  /** cordon / floor where there is a floor. */
  ratio?: number;
  pass?: boolean;
}

const round = (x: number, digits = 1) => Number(x.toFixed(digits));

function table(figures: Figure[]): string {
  const rows = figures.map((f) => [
    f.figure,
    f.floor === undefined ? '—' : `${round(f.floor)} ${f.unit}`,
    `${round(f.cordon)} ${f.unit}`,
    f.ratio === undefined ? '' : `${round(f.ratio, 2)}×`,
    f.target,
    f.pass === undefined ? '' : f.pass ? 'PASS' : 'FAIL',
  ]);
  const head = ['figure', 'floor', 'cordon', 'ratio', 'target', ''];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const rssMb = () => process.memoryUsage().rss / 1024 / 1024;
/**
 * The main thread's V8 heap: used (live objects and garbage not yet collected) and retained (live objects only,
 * after a full collection), so growth per open case can be told from garbage. The case workflows themselves live
 * in the SDK's workflow threads, whose heaps these do not include.
 */
const heapNote = () => {
  const m = process.memoryUsage();
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  const retained = process.memoryUsage().heapUsed;
  const mb = (x: number) => `${Math.round(x / 1024 / 1024)} MB`;
  return `main thread V8 heap used ${mb(m.heapUsed)} of ${mb(m.heapTotal)}, ${mb(retained)} retained after a full collection; external ${mb(m.external)}, array buffers ${mb(m.arrayBuffers)}`;
};

/** The dev server's SQLite file with its WAL and shared-memory files. */
function sqliteBytes(dbFile: string): number {
  const dir = join(dbFile, '..');
  const base = dbFile.slice(dir.length + 1);
  return readdirSync(dir)
    .filter((f) => f.startsWith(base))
    .reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const progress = new Progress();
  const quiet = createLogger('bench', { level: 'error' });
  const run = randomUUID().slice(0, 8);
  // Its own data folder: Cordon's database, the development codec key, and the dev server's SQLite file.
  const benchDir = mkdtempSync(join(tmpdir(), 'cordon-bench-'));
  const dbFile = join(benchDir, 'temporal.sqlite');
  let server: DevServer | undefined;
  const address = o.address ?? process.env.TEMPORAL_ADDRESS;
  if (!address) {
    progress.phase('starting a tuned Temporal dev server');
    server = await startDevServer({
      cli: await ensureTemporalCli(),
      port: await freePort(),
      ...(o.open ? { dbFile } : {}),
    });
  }
  const temporalAddress = address ?? server!.address;
  const connection = await NativeConnection.connect({ address: temporalAddress });
  const config = parseConfig({
    ...process.env,
    PORT: '0',
    TEMPORAL_ADDRESS: temporalAddress,
    CORDON_TASK_QUEUE: `cordon-${run}`,
    CORDON_DATA_DIR: benchDir,
  });
  // The floor pays for the same payload encryption as Cordon, so the ratio compares like with like.
  const codec = codecFromConfig(config);
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: codecDataConverter(codec),
  });
  const cacheSize = workflowCacheSizeFromEnv();
  const rssIdleBefore = rssMb();
  const runtime = await startWorkerRuntime(
    { ...config, database: { ...config.database, sqliteFile: join(benchDir, 'cordon.sqlite') } },
    quiet,
  );
  const caseWorker = await createCaseWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.taskQueue,
    deps: runtime.deps,
    codec: runtime.codec,
    maxCachedWorkflows: cacheSize,
  });
  // The API on its own client connection, as in production, so its calls to Temporal can be counted.
  const api = await startApi(config, quiet, undefined, runtime.store);
  const floorWorker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: `floor-${run}`,
    workflowsPath: require.resolve('./bench/floor-workflow'),
    activities: { touch: async (id: string) => id },
    dataConverter: codecDataConverter(codec),
  });
  const floorOp = (i: number) =>
    client.workflow.executeUpdateWithStart(touchUpdate, {
      args: [`x${i}`],
      startWorkflowOperation: new WithStartWorkflowOperation('floorWorkflow', {
        taskQueue: `floor-${run}`,
        workflowId: `floor-${run}-${i}-${randomUUID()}`,
        workflowIdConflictPolicy: 'USE_EXISTING',
      }),
    });

  const bench = new Bench(api, run);
  let output: { figures: Figure[]; notes: string[] } | undefined;
  try {
    await Promise.all([
      floorWorker.run(),
      caseWorker.run(),
      (async () => {
        try {
          output = o.open
            ? await bench.openCases(o, progress, client, `cordon-${run}`, {
                cacheSize,
                rssIdleBefore,
                dbFile: server ? dbFile : undefined,
              })
            : await bench.speed(o, progress, floorOp, client);
        } finally {
          progress.end();
          floorWorker.shutdown();
          caseWorker.shutdown();
        }
      })(),
    ]);
  } finally {
    await api.close();
    await runtime.close();
    await connection.close();
    await server?.stop();
    rmSync(benchDir, { recursive: true, force: true });
  }
  if (!output) return;
  const where = server ? `a tuned Temporal dev server of its own (${server.address})` : temporalAddress;
  if (o.json) {
    process.stdout.write(
      `${JSON.stringify({ temporal: where, options: o, workflowCacheSize: cacheSize, ...output }, null, 2)}\n`,
    );
    return;
  }
  process.stdout.write(
    `Temporal: ${where}; ${o.n} sequential samples, concurrency ${o.concurrency}, workflow cache ${cacheSize}\n\n`,
  );
  process.stdout.write(`${table(output.figures)}\n\n${output.notes.join('\n')}\n`);
}

class Bench {
  constructor(
    private readonly api: RunningApi,
    private readonly run: string,
  ) {}

  private async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.api.url}${path}`, {
      method,
      headers: {
        authorization: 'Bearer dev-backend',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== 200)
      throw new Error(`${method} ${path.split('/').slice(0, 3).join('/')} answered ${res.status}`);
    return JSON.parse(text);
  }

  /** A restricting event for a fresh account: a case opens and the account is frozen before the answer. */
  freeze = async (account: string) =>
    (await this.call('POST', '/v1/risk-events', {
      eventId: `e-${randomUUID()}`,
      accountId: account,
      type: 'IDENTITY_CHECK',
      occurredAt: new Date().toISOString(),
      attributes: { matched: false },
    })) as { caseId: string };

  harmless = (account: string, eventId = `h-${randomUUID()}`) =>
    this.call('POST', '/v1/risk-events', {
      eventId,
      accountId: account,
      type: 'LOGIN',
      occurredAt: new Date().toISOString(),
      attributes: { newDevice: false },
    });

  account = (kind: string, i: number) => `${kind}-${this.run}-${i}-${randomUUID().slice(0, 6)}`;

  async speed(
    o: Options,
    progress: Progress,
    floorOp: (i: number) => Promise<unknown>,
    client: Client,
  ): Promise<{ figures: Figure[]; notes: string[] }> {
    const n = o.n;
    progress.phase('warming up');
    await drive(10, 1, floorOp);
    await drive(10, 1, (i) => this.freeze(this.account('warm', i)));

    progress.phase('floor, sequential');
    const floorSeq = await drive(n, 1, floorOp, progress);
    const restricted: string[] = [];
    progress.phase('restricting events, sequential');
    const cordonSeq = await drive(
      n,
      1,
      (i) => {
        const a = this.account('seq', i);
        restricted.push(a);
        return this.freeze(a);
      },
      progress,
    );
    progress.phase(`floor, ${o.concurrency} concurrent`);
    const floorRate = await drive(n * 2, o.concurrency, floorOp, progress);
    progress.phase(`restricting events, ${o.concurrency} concurrent`);
    const cordonRate = await drive(
      n * 2,
      o.concurrency,
      (i) => this.freeze(this.account('par', i)),
      progress,
    );

    const hot = Math.max(2_000, n * 20);
    let calls = this.api.temporalCalls();
    progress.phase(`harmless events for accounts without a case, ${o.concurrency} concurrent`);
    const load = { base: this.api.url, run: this.run, n: hot, concurrency: o.concurrency };
    const harmless = await driveOnThread({ ...load, kind: 'harmless' }, progress);
    const harmlessCalls = this.api.temporalCalls() - calls;

    calls = this.api.temporalCalls();
    progress.phase(`restriction checks, ${o.concurrency} concurrent`);
    const checks = await driveOnThread({ ...load, n: hot * 2, kind: 'check', restricted }, progress);
    const checkCalls = this.api.temporalCalls() - calls;

    // The HTTP floor for the hot paths: a bare node:http server on the same event loop answering a fixed JSON
    // body, driven by the same load thread. What the API cannot beat, whatever Cordon does.
    const bare = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
    });
    await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
    progress.phase(`bare node:http server, ${o.concurrency} concurrent`);
    const httpFloor = await driveOnThread(
      {
        ...load,
        base: `http://127.0.0.1:${(bare.address() as AddressInfo).port}`,
        n: hot * 2,
        kind: 'check',
        restricted,
      },
      progress,
    );
    await new Promise((r) => bare.close(r));

    // One open case under a stream of harmless events: latency early and late, and what the case carries.
    const busy = this.account('busy', 0);
    await this.freeze(busy);
    progress.phase('harmless events into one open case');
    const early = await drive(30, 1, () => this.harmless(busy));
    const many = envValue('BENCH_HARMLESS');
    await drive(many, 5, () => this.harmless(busy), progress);
    const late = await drive(30, 1, () => this.harmless(busy));
    const stats = await client.workflow.getHandle(caseWorkflowId(busy)).query(caseStatsQuery);

    const p50 = (r: Run) => quantile(r.latencies, 0.5);
    const p99 = (r: Run) => quantile(r.latencies, 0.99);
    const vsFloor = (
      figure: string,
      unit: string,
      floor: number,
      cordon: number,
      bound: number,
      lowerIsBetter: boolean,
    ): Figure => ({
      figure,
      unit,
      floor,
      cordon,
      ratio: cordon / floor,
      target: `${lowerIsBetter ? '≤' : '≥'} ${bound}× floor`,
      pass: lowerIsBetter ? cordon / floor <= bound : cordon / floor >= bound,
    });
    const absolute = (
      figure: string,
      unit: string,
      cordon: number,
      bound: number,
      atMost: boolean,
      floor?: number,
    ): Figure => ({
      figure,
      unit,
      floor,
      cordon,
      ratio: floor === undefined ? undefined : cordon / floor,
      target: `${atMost ? '≤' : '≥'} ${bound} ${unit}`,
      pass: atMost ? cordon <= bound : cordon >= bound,
    });
    return {
      figures: [
        vsFloor('restricting event, sequential p50', 'ms', p50(floorSeq), p50(cordonSeq), 1.3, true),
        vsFloor(
          `restricting events/s, ${o.concurrency} concurrent`,
          '/s',
          floorRate.perSecond,
          cordonRate.perSecond,
          0.8,
          false,
        ),
        absolute('harmless event (no case) p99', 'ms', p99(harmless), 10, true, p99(httpFloor)),
        absolute(
          `harmless events/s, ${o.concurrency} concurrent`,
          '/s',
          harmless.perSecond,
          1_000,
          false,
          httpFloor.perSecond,
        ),
        absolute('harmless events: calls to Temporal', 'calls', harmlessCalls, 0, true),
        absolute(
          `restriction checks/s, ${o.concurrency} concurrent`,
          '/s',
          checks.perSecond,
          3_000,
          false,
          httpFloor.perSecond,
        ),
        absolute('restriction check p99', 'ms', p99(checks), 5, true, p99(httpFloor)),
        absolute('restriction checks: calls to Temporal', 'calls', checkCalls, 0, true),
      ],
      notes: [
        `restricting event, sequential: floor p95 ${round(quantile(floorSeq.latencies, 0.95))} ms, cordon p95 ${round(quantile(cordonSeq.latencies, 0.95))} ms`,
        `restricting events, ${o.concurrency} concurrent: floor p50 ${round(p50(floorRate))} ms, cordon p50 ${round(p50(cordonRate))} ms`,
        `harmless event (no case): p50 ${round(p50(harmless))} ms over ${hot}; restriction check p50 ${round(p50(checks))} ms over ${hot * 2}`,
        `floor for the hot paths (harmless events, restriction checks): a bare node:http server answering fixed JSON on the API's event loop, same load thread: ${round(httpFloor.perSecond)}/s, p50 ${round(p50(httpFloor))} ms, p99 ${round(p99(httpFloor))} ms`,
        `harmless event into one open case: p50 ${round(p50(early))} ms for the first 30, ${round(p50(late))} ms after ${many} more; the case carries ${stats.carriedBytes} bytes, ${stats.timelineEntries} timeline entries, ${stats.seenEvents} remembered event IDs`,
        `process RSS (worker + API + floor worker + load generator thread): ${round(rssMb())} MB`,
      ],
    };
  }

  async openCases(
    o: Options,
    progress: Progress,
    client: Client,
    taskQueue: string,
    m: { cacheSize: number; rssIdleBefore: number; dbFile?: string },
  ): Promise<{ figures: Figure[]; notes: string[] }> {
    const total = o.open!;
    const rssIdle = rssMb();
    let peak = rssIdle;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb())), 500);
    const cases: string[] = [];
    const t0 = performance.now();
    try {
      progress.phase(`opening ${total} cases (restricting events, ${o.concurrency} concurrent)`);
      const opened = await drive(
        total,
        o.concurrency,
        async (i) => {
          cases[i] = (await this.freeze(this.account('open', i))).caseId;
        },
        progress,
      );
      const openSeconds = (performance.now() - t0) / 1000;
      progress.phase('counting the open cases in visibility');
      const query = `WorkflowType = '${CASE_WORKFLOW_TYPE}' AND TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`;
      let running = 0;
      for (let tries = 0; tries < 60; tries++) {
        running = (await client.workflow.count(query)).count;
        if (running >= total) break;
        await new Promise((r) => setTimeout(r, 1_000));
      }
      const rssOpen = rssMb();
      // Actions on cases still in the worker's cache (the newest), then on evicted ones (the oldest).
      const samples = Math.min(30, Math.floor(total / 4));
      const appeal = (caseId: string) =>
        this.call('POST', `/v1/cases/${caseId}/appeal`, {
          statement: 'benchmark appeal',
          evidence: [],
          requestId: `bench-${randomUUID()}`,
        });
      progress.phase('appeals on cached cases');
      const cached = await drive(samples, 1, (i) => appeal(cases[total - 1 - i]!), progress);
      progress.phase('appeals on evicted cases');
      const evicted = await drive(samples, 1, (i) => appeal(cases[i]!), progress);
      const rssAfter = rssMb();
      const bytes = m.dbFile ? sqliteBytes(m.dbFile) : undefined;
      const p50 = (r: Run) => quantile(r.latencies, 0.5);
      const figures: Figure[] = [
        {
          figure: 'cases open (Temporal visibility)',
          unit: 'cases',
          cordon: running,
          target: `${total}`,
          pass: running >= total,
        },
        {
          figure: `process RSS with ${total} open cases (peak)`,
          unit: 'MB',
          floor: rssIdle,
          cordon: Math.max(peak, rssOpen, rssAfter),
          ratio: Math.max(peak, rssOpen, rssAfter) / rssIdle,
          target: '≤ 1024 MB',
          pass: Math.max(peak, rssOpen, rssAfter) <= 1024,
        },
        {
          figure: 'appeal on an evicted case, p50',
          unit: 'ms',
          floor: p50(cached),
          cordon: p50(evicted),
          ratio: p50(evicted) / p50(cached),
          target: '≤ 5× cached p50',
          pass: p50(evicted) <= 5 * p50(cached),
        },
      ];
      if (bytes !== undefined)
        figures.push({
          figure: 'dev server SQLite per open case',
          unit: 'KiB',
          cordon: bytes / total / 1024,
          target: 'reported',
        });
      return {
        figures,
        notes: [
          `opened ${total} cases in ${round(openSeconds)} s (${round(opened.perSecond)}/s; p50 ${round(p50(opened))} ms, p99 ${round(quantile(opened.latencies, 0.99))} ms)`,
          `process RSS (worker + API + load generator): ${round(m.rssIdleBefore)} MB before the worker, ${round(rssIdle)} MB idle with it, ${round(rssOpen)} MB with ${total} open cases, peak ${round(peak)} MB; workflow cache ${m.cacheSize} (CORDON_WORKFLOW_CACHE_SIZE)`,
          `memory with ${total} open cases: ${heapNote()}`,
          `appeals: cached p50 ${round(p50(cached))} ms, p99 ${round(quantile(cached.latencies, 0.99))} ms; evicted p50 ${round(p50(evicted))} ms, p99 ${round(quantile(evicted.latencies, 0.99))} ms (${samples} each)`,
          ...(total <= m.cacheSize
            ? [`note: ${total} cases fit the workflow cache (${m.cacheSize}), so none was evicted`]
            : []),
          ...(bytes !== undefined
            ? [`dev server SQLite: ${round(bytes / 1024 / 1024)} MB for ${total} open cases`]
            : []),
        ],
      };
    } finally {
      clearInterval(sampler);
    }
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
