// `npm run profile -- <restrict|check|harmless> [N]`: where the time of one hot path goes. Runs the path N times
// in a child Node process under V8's CPU profiler (every thread: the API's event loop, the worker's workflow
// threads), then prints each busy thread's top functions and packages by self time. The .cpuprofile files stay
// in the printed folder for Chrome DevTools (Performance → Load profile).
//
//   restrict  sequential restricting events: dev server, worker and API in one process (N=150)
//   check     restriction checks, 20 concurrent from a load thread, API only (N=20000)
//   harmless  harmless events for accounts without a case, the same way (N=20000)
//   features  harmless events with entities under the benchmark's policy with four features, the same way
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { startApi } from '../api/main';
import { parseConfig } from '../infra/config';
import { createLogger } from '../infra/logger';
import { createCaseWorker } from '../worker/create';
import { startWorkerRuntime } from '../worker/deps';
import { writeFeaturesPolicy } from './bench/features-policy';
import { driveOnThread } from './bench/load';
import { freePort, startDevServer } from './dev-server';
import { ensureTemporalCli } from './temporal-tools';

type Mode = 'restrict' | 'check' | 'harmless' | 'features';
const MODES: Mode[] = ['restrict', 'check', 'harmless', 'features'];

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function and per package (node_modules name, Node internal, or the project's top folder). */
export function summarise(
  profile: CpuProfile,
  top = 15,
): { busyMs: number; functions: string[]; packages: string[] } {
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let busy = 0;
  for (const n of profile.nodes) {
    const us = self.get(n.id) ?? 0;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)' || us === 0) continue;
    busy += us;
    const where = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(?=[^/]+\/[^/]+$)/, '');
    const fn = `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    const pkg =
      url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1] ??
      (url.startsWith('node:') ? 'node (internal)' : url ? 'cordon' : functionName || '(native)');
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
  }
  const rank = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => `${((v / busy) * 100).toFixed(1).padStart(5)}%  ${k}`);
  return { busyMs: busy / 1000, functions: rank(byFunction), packages: rank(byPackage) };
}

/** The profiled run (in the child process). */
async function child(mode: Mode, n: number): Promise<void> {
  const quiet = createLogger('profile', { level: 'error' });
  const dir = mkdtempSync(join(tmpdir(), 'cordon-profile-'));
  if (mode !== 'restrict') {
    // No Temporal: these paths must not need it (a lazy connection to nowhere proves it).
    const config = parseConfig({ PORT: '0', CORDON_DATA_DIR: dir });
    const policyFile =
      mode === 'features'
        ? writeFeaturesPolicy(config.policyFile, dir, config.database.eventIdWindowMs / 86_400_000).path
        : config.policyFile;
    const api = await startApi(
      parseConfig({ PORT: '0', CORDON_DATA_DIR: dir, CORDON_POLICY_FILE: policyFile }),
      quiet,
      Connection.lazy({ address: '127.0.0.1:1' }),
    );
    const { perSecond } = await driveOnThread({
      base: api.url,
      run: randomUUID(),
      kind: mode === 'check' ? 'check' : 'harmless',
      n,
      concurrency: 20,
      entities: mode === 'features',
    });
    process.stdout.write(`${n} ${mode} requests: ${Math.round(perSecond)}/s\n`);
    await api.close();
    return;
  }
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const server = await startDevServer({ cli: await ensureTemporalCli(), port: await freePort() });
  const connection = await NativeConnection.connect({ address: server.address });
  const config = parseConfig({
    PORT: '0',
    TEMPORAL_ADDRESS: server.address,
    CORDON_TASK_QUEUE: 'profile',
    CORDON_DATA_DIR: dir,
  });
  const runtime = await startWorkerRuntime(config, quiet);
  const worker = await createCaseWorker({
    connection,
    namespace: 'default',
    taskQueue: 'profile',
    deps: runtime.deps,
    codec: runtime.codec,
  });
  const api = await startApi(config, quiet, connection, runtime.store);
  const running = worker.run();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await fetch(`${api.url}/v1/risk-events`, {
      method: 'POST',
      headers: { authorization: 'Bearer dev-backend', 'content-type': 'application/json' },
      body: JSON.stringify({
        eventId: randomUUID(),
        accountId: `profile-${randomUUID().slice(0, 8)}`,
        type: 'IDENTITY_CHECK',
        occurredAt: new Date().toISOString(),
        attributes: { matched: false },
      }),
    });
    await res.text();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  process.stdout.write(
    `${n} restricting events, sequential: p50 ${times[Math.floor(n / 2)]!.toFixed(1)} ms (under the profiler)\n`,
  );
  worker.shutdown();
  await running;
  await api.close();
  await runtime.close();
  await connection.close();
  await server.stop();
}

function main(): void {
  const [mode, count, flag] = process.argv.slice(2);
  if (!MODES.includes(mode as Mode)) {
    process.stderr.write(`usage: npm run profile -- <${MODES.join('|')}> [N]\n`);
    process.exit(2);
  }
  const n = Number(count ?? (mode === 'restrict' ? 150 : 20_000));
  if (flag === '--child') {
    child(mode as Mode, n).catch((err: unknown) => {
      process.stderr.write(`profile run failed: ${(err as Error).stack}\n`);
      process.exit(1);
    });
    return;
  }
  const out = mkdtempSync(join(tmpdir(), `cordon-profile-${mode}-`));
  const run = spawnSync(
    process.execPath,
    ['--cpu-prof', `--cpu-prof-dir=${out}`, '--import', 'tsx', __filename, mode!, String(n), '--child'],
    { stdio: 'inherit' },
  );
  if (run.status !== 0) process.exit(run.status ?? 1);
  for (const file of readdirSync(out).filter((f) => f.endsWith('.cpuprofile'))) {
    const s = summarise(JSON.parse(readFileSync(join(out, file), 'utf8')) as CpuProfile);
    if (s.busyMs < 500) continue; // threads that only loaded modules
    process.stdout.write(
      `\n== ${file}: ${Math.round(s.busyMs)} ms busy (self time)\n-- functions\n${s.functions.join('\n')}\n-- packages\n${s.packages.join('\n')}\n`,
    );
  }
  process.stdout.write(`\nprofiles: ${out}\n`);
}

if (require.main === module) main();
