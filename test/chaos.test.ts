// The short variant of `npm run chaos`, on a busy machine: 60 cases (CORDON_CHAOS_CASES; CI runs 300) through
// their whole lifecycle while two processes keep the cores busy (CORDON_CHAOS_CPU_LOAD), the worker is
// SIGKILLed every 8–12 s, the API restarted, the messaging receiver down for 10 s and the dev server restarted
// on its SQLite file. Nothing may be lost or done twice, no answer may be a 500, every history must replay.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT } from '../scripts/temporal-tools';
import type { ChaosReport } from '../scripts/chaos';
import { requires } from './helpers/requirements';

const CASES = Number(process.env.CORDON_CHAOS_CASES ?? 60);
const CPU_LOAD = Number(process.env.CORDON_CHAOS_CPU_LOAD ?? 2);
/** About 1.5 s a case on two loaded cores, and the fixed costs (start, settling, replay), with room. */
const MINUTES = Math.ceil(4 + CASES / 40);

const ARGS = [
  '--cases',
  String(CASES),
  '--cpu-load',
  String(CPU_LOAD),
  '--kill-every-ms',
  '8000-12000',
  '--api-restart-every-ms',
  '25000-35000',
  '--messaging-down-ms',
  '10000',
  '--concurrency',
  '20',
  '--minutes',
  String(MINUTES),
  '--json',
];

describe(`chaos (npm run chaos, ${CASES} cases, ${CPU_LOAD} busy processes beside them)`, function () {
  requires('temporal');
  this.timeout((MINUTES + 1) * 60_000);
  let child: ChildProcess | undefined;

  before(function () {
    if (process.platform === 'win32') this.skip();
  });

  after(async function () {
    this.timeout(30_000);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    // The run tears down its worker, API and dev server on SIGTERM (and they die with it in any case).
    child.kill('SIGTERM');
    const killer = setTimeout(() => child?.kill('SIGKILL'), 15_000);
    await new Promise((r) => child!.once('exit', r));
    clearTimeout(killer);
  });

  it('loses nothing, duplicates nothing and replays every history while everything is being restarted', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'scripts/chaos.ts', ...ARGS], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((r) => child!.once('exit', (c) => r(c)));
    // The progress lines and the table: what a failure shows.
    const log = stderr.split('\n').slice(-80).join('\n');
    const line = stdout.trim().split('\n').pop() ?? '';
    let report: ChaosReport;
    try {
      report = JSON.parse(line) as ChaosReport;
    } catch {
      assert.fail(`no report (exit ${code}):\n${log}`);
    }
    const why = `\n${log}`;
    assert.equal(report.cases.reached, CASES, `every case reached its outcome${why}`);
    assert.equal(report.lost, 0, `nothing lost${why}`);
    assert.equal(report.duplicates.restrictionCommands, 0, `no duplicate restriction command${why}`);
    assert.equal(report.duplicates.notifications, 0, `no duplicate notification${why}`);
    assert.equal(report.outbox.pending, 0, `the outbox drained${why}`);
    assert.equal(report.replay.failed, 0, `every history replays${why}`);
    assert.equal(report.driver.retriesBy['500'] ?? 0, 0, `no answer was a 500${why}`);
    assert.ok(report.replay.clean >= CASES, `a history per case at least (${report.replay.clean})${why}`);
    // The chaos did happen.
    assert.ok(report.chaos.workerKills >= 3, `the worker was killed (${report.chaos.workerKills})`);
    assert.ok(report.chaos.apiRestarts >= 1, 'the API was restarted');
    assert.ok(report.chaos.messagingOutagesMs.length >= 1, 'the messaging receiver was down');
    assert.ok(report.chaos.serverRestartsMs.length >= 1, 'the dev server was restarted');
    assert.ok(report.ok, `the run passed: ${report.failures.join('; ')}${why}`);
    assert.equal(code, 0);
  });
});
