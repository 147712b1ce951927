// `npm start` killed hard (SIGKILL: no handler runs) must not leave the next `npm start` facing "port in use":
// the dev server it detached is stopped by its watchdog, and whatever still runs of the same data folder is
// found through the pid file there and stopped by the next start. Linux only (it reads /proc).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertPortFree, freePort } from '../scripts/dev-server';
import { startCordon, stopCordon, type Started } from './helpers/cordon-process';
import { riskEvent, uniqueAccount } from './helpers/events';
import { requires } from './helpers/requirements';

const started: Started[] = [];

function start(env: Record<string, string>): Started {
  const s = startCordon(env);
  started.push(s);
  return s;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function healthy(s: Started, api: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (s.child.exitCode !== null) throw new Error(`exited early with ${s.child.exitCode}:\n${s.output()}`);
    const status = await fetch(`${api}/healthz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`GET /healthz: no 200 within 120 s:\n${s.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function processes(): { pid: number; ppid: number; state: string; args: string[] }[] {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      found.push({ pid: Number(entry), ppid: Number(ppid), state: state!, args });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Live `temporal server start-dev` processes on this SQLite file. */
function devServersOf(dbFile: string): number[] {
  return processes()
    .filter(
      (p) =>
        p.state !== 'Z' &&
        p.args.includes('start-dev') &&
        p.args[p.args.indexOf('--db-filename') + 1] === dbFile,
    )
    .map((p) => p.pid);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const stop = stopCordon;

async function report(api: string): Promise<Response> {
  return fetch(`${api}/v1/risk-events`, {
    method: 'POST',
    headers: { authorization: 'Bearer dev-backend', 'content-type': 'application/json' },
    body: JSON.stringify(riskEvent(uniqueAccount(), 'IDENTITY_CHECK', { matched: false })),
  });
}

describe('npm start after a crash', function () {
  requires('temporal');
  this.timeout(240_000);
  let dataDir: string;
  let dbFile: string;
  let env: Record<string, string>;
  let api: string;
  let temporalPort: number;

  before(function () {
    if (process.platform !== 'linux') this.skip();
  });

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cordon-crash-'));
    dbFile = join(dataDir, 'temporal.sqlite');
    temporalPort = await freePort();
    const port = await freePort();
    env = {
      CORDON_DATA_DIR: dataDir,
      PORT: String(port),
      TEMPORAL_PORT: String(temporalPort),
      TEMPORAL_UI_PORT: String(await freePort()),
    };
    api = `http://127.0.0.1:${port}`;
  });

  afterEach(async function () {
    this.timeout(30_000);
    if (process.platform !== 'linux') return;
    for (const s of started.splice(0))
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    for (const pid of devServersOf(dbFile)) process.kill(pid, 'SIGKILL');
    await until('leftover dev servers gone', 10_000, async () =>
      devServersOf(dbFile).length ? undefined : true,
    );
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stops the dev server an earlier, SIGKILLed start left running, and comes up on the same ports and data', async () => {
    const first = start(env);
    await healthy(first, api);
    const reported = await report(api);
    assert.equal(reported.status, 200, await reported.clone().text());
    const { caseId } = (await reported.json()) as { caseId: string };
    const [orphan] = devServersOf(dbFile);
    assert.ok(orphan, `a dev server runs on ${dbFile}`);

    // The crash takes Cordon and every helper it spawned, but not the detached dev server.
    const pid = first.child.pid!;
    for (const p of processes()) if (p.ppid === pid && p.pid !== orphan) process.kill(p.pid, 'SIGKILL');
    process.kill(pid, 'SIGKILL');
    await first.exited;
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(alive(orphan), 'the dev server outlives the crashed start');
    await assert.rejects(assertPortFree(temporalPort, 'Temporal frontend'), /already in use/);

    const second = start(env);
    await healthy(second, api);
    assert.match(second.output(), /stopped a Temporal dev server left running/);
    assert.ok(!alive(orphan), 'the orphan is gone');
    // The case's workflow was cached by the crashed worker: until its sticky queue times out on the server (about
    // 10 s) a read may answer 503 with Retry-After, as any client is told to retry it.
    const found = await getRetryingAfter503(`${api}/v1/cases/${caseId}`, 60_000);
    assert.equal(found.status, 200, 'the case of the crashed run is still there');
    const again = await report(api);
    assert.equal(again.status, 200, await again.text());

    assert.equal(await stop(second), 0, second.output());
    assert.deepEqual(devServersOf(dbFile), [], 'no dev server of this data folder remains');
    assert.ok(!existsSync(join(dataDir, 'temporal.pid')), 'a clean stop removes the pid file');
  });

  it('a SIGKILLed start takes its dev server down with it', async () => {
    const first = start(env);
    await healthy(first, api);
    const [server] = devServersOf(dbFile);
    assert.ok(server, `a dev server runs on ${dbFile}`);

    first.child.kill('SIGKILL');
    await first.exited;
    await until('the dev server stops once its parent is gone', 20_000, async () =>
      alive(server) ? undefined : true,
    );
    // A zombie leader can briefly outlive the threads that still close its sockets.
    await until('the Temporal port is free', 5_000, () =>
      assertPortFree(temporalPort, 'Temporal frontend').then(() => true),
    );
    assert.ok(existsSync(join(dataDir, 'temporal.pid')), 'the crash left the pid file behind');

    const second = start(env);
    await healthy(second, api);
    assert.equal((await report(api)).status, 200);
    assert.equal(await stop(second), 0, second.output());
    assert.deepEqual(devServersOf(dbFile), []);
  });
});

/** GET as a client should: a 503 is retried after its Retry-After, until `withinMs` has passed. */
async function getRetryingAfter503(url: string, withinMs: number): Promise<Response> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const res = await fetch(url, { headers: { authorization: 'Bearer dev-backend' } });
    if (res.status !== 503 || Date.now() > deadline) return res;
    const retryAfter = Number(res.headers.get('retry-after'));
    assert.ok(retryAfter > 0, 'a 503 says when to retry');
    await res.arrayBuffer();
    await new Promise((r) => setTimeout(r, retryAfter * 1000));
  }
}
