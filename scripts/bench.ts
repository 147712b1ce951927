// `npm run bench`: latency from POST /v1/risk-events to the restriction being applied, and sustained events per
// second, against a real Temporal dev server (tuned as `npm start` runs it), next to the bare Temporal floor
// (start a workflow + one activity) measured in the same run on the same server. Prints figures; asserts nothing.
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { startApi } from '../api/main';
import { caseStatsQuery, caseWorkflowId } from '../core/contracts';
import { codecDataConverter, codecFromConfig } from '../infra/codec';
import { parseConfig } from '../infra/config';
import { createLogger } from '../infra/logger';
import { createCaseWorker } from '../worker/create';
import { startWorkerRuntime } from '../worker/deps';
import { freePort, startDevServer } from './dev-server';
import { ensureTemporalCli } from './temporal-tools';

const N = Number(process.env.BENCH_N ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
/** Harmless events sent into one open case, to show that what it carries and its latency stay flat. */
const HARMLESS_INTO_CASE = Number(process.env.BENCH_HARMLESS ?? 2_000);

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(1);
  return `p50 ${q(0.5)} ms  p95 ${q(0.95)} ms  p99 ${q(0.99)} ms  (n=${s.length})`;
}

async function sequential(n: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await op(i);
    times.push(performance.now() - t0);
  }
  return times;
}

async function throughput(
  n: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await op(next++);
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const quiet = createLogger('bench', { level: 'error' });
  const server = await startDevServer({ cli: await ensureTemporalCli(), port: await freePort() });
  const connection = await NativeConnection.connect({ address: server.address });
  const run = randomUUID().slice(0, 8);
  // Its own data folder: Cordon's database and (without CORDON_CODEC_KEYS) the development codec key.
  const benchDir = mkdtempSync(join(tmpdir(), 'cordon-bench-'));
  const config = parseConfig({
    ...process.env,
    PORT: '0',
    TEMPORAL_ADDRESS: server.address,
    CORDON_TASK_QUEUE: `cordon-${run}`,
    CORDON_DATA_DIR: benchDir,
  });
  // The floor pays for the same payload encryption as Cordon, so the ratio compares like with like.
  const codec = codecFromConfig(config);
  const client = new Client({ connection, dataConverter: codecDataConverter(codec) });
  try {
    // The floor: one workflow, one activity, same server, same process layout.
    const floorWorker = await Worker.create({
      connection,
      taskQueue: `floor-${run}`,
      workflowsPath: require.resolve('./bench/floor-workflow'),
      activities: { touch: async (id: string) => id },
      dataConverter: codecDataConverter(codec),
    });
    const floorOp = (i: number) =>
      client.workflow.execute('floorWorkflow', {
        taskQueue: `floor-${run}`,
        workflowId: `floor-${run}-${i}-${randomUUID()}`,
        args: ['x'],
      });

    const runtime = await startWorkerRuntime(
      { ...config, database: { ...config.database, sqliteFile: join(benchDir, 'db') } },
      quiet,
    );
    const caseWorker = await createCaseWorker({
      connection,
      namespace: 'default',
      taskQueue: config.taskQueue,
      deps: runtime.deps,
      codec: runtime.codec,
    });
    const api = await startApi(config, quiet, connection, runtime.store);
    const post = async (body: unknown) => {
      const res = await fetch(`${api.url}/v1/risk-events`, {
        method: 'POST',
        headers: { authorization: 'Bearer dev-backend', 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status !== 200) throw new Error(`POST answered ${res.status}`);
      return res.json();
    };
    const freeze = (i: number) =>
      post({
        eventId: `e-${run}-${i}-${randomUUID()}`,
        accountId: `bench-${run}-${i}-${randomUUID().slice(0, 8)}`,
        type: 'IDENTITY_CHECK',
        occurredAt: new Date().toISOString(),
        attributes: { matched: false },
      });
    const harmless = (i: number) =>
      post({
        eventId: `h-${run}-${i}`,
        accountId: `calm-${run}-${i}`,
        type: 'LOGIN',
        occurredAt: new Date().toISOString(),
        attributes: { newDevice: false },
      });

    const measure = async (): Promise<void> => {
      await sequential(10, floorOp); // warm-up
      await sequential(10, freeze);
      const floorLatency = await sequential(N, floorOp);
      const cordonLatency = await sequential(N, freeze);
      const noneLatency = await sequential(N, harmless);
      const floorRate = await throughput(N * 2, CONCURRENCY, floorOp);
      const cordonRate = await throughput(N * 2, CONCURRENCY, freeze);
      const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      // One open case under a stream of harmless events: latency early and late, and what the case carries.
      const busy = `busy-${run}`;
      await post({
        eventId: `b-${run}`,
        accountId: busy,
        type: 'IDENTITY_CHECK',
        occurredAt: new Date().toISOString(),
        attributes: { matched: false },
      });
      const intoCase = (i: number) =>
        post({
          eventId: `bh-${run}-${i}`,
          accountId: busy,
          type: 'LOGIN',
          occurredAt: new Date().toISOString(),
          attributes: { newDevice: false },
        });
      const early = await sequential(30, (i) => intoCase(-1 - i));
      process.stderr.write(`sending ${HARMLESS_INTO_CASE} harmless events into one open case...\n`);
      await throughput(HARMLESS_INTO_CASE, 5, intoCase);
      const late = await sequential(30, (i) => intoCase(-100 - i));
      const caseStats = await client.workflow.getHandle(caseWorkflowId(busy)).query(caseStatsQuery);
      const lines = [
        `Temporal dev server ${server.address} (tuned), ${N} sequential, ${N * 2} at concurrency ${CONCURRENCY}`,
        `floor   start workflow + 1 activity, until result : ${stats(floorLatency)}`,
        `cordon  POST risk event → restriction applied      : ${stats(cordonLatency)}   ratio p50 ${(p50(cordonLatency) / p50(floorLatency)).toFixed(2)}× floor`,
        `cordon  POST harmless event (NONE, no workflow)     : ${stats(noneLatency)}`,
        `floor   sustained                                  : ${floorRate.toFixed(1)} workflows/s`,
        `cordon  sustained restricting events               : ${cordonRate.toFixed(1)} events/s   ratio ${(cordonRate / floorRate).toFixed(2)}× floor`,
        `cordon  harmless event into an open case, first 30  : ${stats(early)}`,
        `cordon  the same after ${HARMLESS_INTO_CASE} more                 : ${stats(late)}   ratio p50 ${(p50(late) / p50(early)).toFixed(2)}×`,
        `cordon  that case carries ${caseStats.carriedBytes} bytes, ${caseStats.timelineEntries} timeline entries, ${caseStats.seenEvents} remembered event IDs`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    };
    await Promise.all([
      floorWorker.run(),
      caseWorker.run(),
      measure().finally(() => {
        floorWorker.shutdown();
        caseWorker.shutdown();
      }),
    ]);
    await api.close();
    await runtime.close();
  } finally {
    await connection.close();
    await server.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
