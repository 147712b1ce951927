// `npm run bench -- --open [N]`: N open cases held at once: memory, visibility, appeals on cached and evicted
// cases, and the dev server's SQLite per case.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Client } from '@temporalio/client';
import { CASE_WORKFLOW_TYPE } from '../../core/contracts';
import type { CordonClient } from './cordon';
import { drive, type Run } from './load';
import type { Options } from './options';
import { quantile, round, rssMb, type Figure, type Progress } from './report';

const GROUP = 'open cases (default policy)';

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

export async function openCaseFigures(
  o: Options,
  progress: Progress,
  cordon: CordonClient,
  temporal: Client,
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
        cases[i] = (await cordon.freeze(cordon.account('open', i), i)).caseId;
      },
      progress,
    );
    const openSeconds = (performance.now() - t0) / 1000;
    progress.phase('counting the open cases in visibility');
    const query = `WorkflowType = '${CASE_WORKFLOW_TYPE}' AND TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`;
    let running = 0;
    for (let tries = 0; tries < 60; tries++) {
      running = (await temporal.workflow.count(query)).count;
      if (running >= total) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const rssOpen = rssMb();
    // Actions on cases still in the worker's cache (the newest), then on evicted ones (the oldest).
    const samples = Math.min(30, Math.floor(total / 4));
    progress.phase('appeals on cached cases');
    const cached = await drive(samples, 1, (i) => cordon.appeal(cases[total - 1 - i]!), progress);
    progress.phase('appeals on evicted cases');
    const evicted = await drive(samples, 1, (i) => cordon.appeal(cases[i]!), progress);
    const rssAfter = rssMb();
    const bytes = m.dbFile ? sqliteBytes(m.dbFile) : undefined;
    const p50 = (r: Run) => quantile(r.latencies, 0.5);
    const rssPeak = Math.max(peak, rssOpen, rssAfter);
    const figures: Figure[] = [
      {
        group: GROUP,
        figure: 'cases open (Temporal visibility)',
        unit: 'cases',
        cordon: running,
        target: `${total}`,
        pass: running >= total,
      },
      {
        group: GROUP,
        figure: `process RSS with ${total} open cases (peak)`,
        unit: 'MB',
        floor: rssIdle,
        floorName: 'idle',
        cordon: rssPeak,
        ratio: rssPeak / rssIdle,
        target: '≤ 1024 MB',
        pass: rssPeak <= 1024,
      },
      {
        group: GROUP,
        figure: 'appeal on an evicted case, p50',
        unit: 'ms',
        floor: p50(cached),
        floorName: 'cached',
        cordon: p50(evicted),
        ratio: p50(evicted) / p50(cached),
        target: '≤ 5× cached p50',
        pass: p50(evicted) <= 5 * p50(cached),
      },
    ];
    if (bytes !== undefined)
      figures.push({
        group: GROUP,
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
