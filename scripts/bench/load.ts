// The load for the benchmark: in-process for the restricting paths, and on a thread of its own for the hot
// paths (harmless events, restriction checks), shared by `npm run bench` and `npm run profile`.
import { Worker as Thread } from 'node:worker_threads';

export interface Run {
  latencies: number[];
  perSecond: number;
}

/** n operations, `concurrency` at a time; the latency of each and the rate of the whole. */
export async function drive(
  n: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
  progress?: { tick(done: number, total: number): void },
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

/** Runs of one series measured in several rounds, as one: every latency, and all the operations over all the time. */
export function combine(runs: Run[]): Run {
  const latencies = runs.flatMap((r) => r.latencies);
  const seconds = runs.reduce((s, r) => s + r.latencies.length / r.perSecond, 0);
  return { latencies, perSecond: latencies.length / seconds };
}

/**
 * Generated on a thread of its own: on the API's event loop, the load generator
 * would take half the time it measures. Plain JavaScript, so the thread needs no TypeScript loader.
 *
 * Harmless events with entities (w.entities) are the mix a policy's features work on: logins and failed logins
 * from a device, small transfers to a payee known to the account, each harmless under the default policy. The
 * accounts, devices and payees are drawn from pools (about 4 events an account, 3 accounts a device), so
 * windows by account and by device hold more than the event being decided, and distinct counts see several
 * values. Without entities: a login for an account of its own, as always.
 */
const LOAD_THREAD = `
const { parentPort, workerData: w } = require('node:worker_threads');
(async () => {
  let next = 0;
  const latencies = [];
  const pool = (per) => Math.max(1, Math.floor(w.n / per)) | 1;
  const accounts = pool(4), devices = pool(3), payees = pool(16);
  const harmless = (i) => {
    if (!w.entities)
      return { accountId: 'calm-' + w.run + '-' + i, type: 'LOGIN', attributes: { newDevice: false } };
    const accountId = 'calm-' + w.run + '-' + (i % accounts);
    const device = 'dev-' + w.run + '-' + (i % devices);
    switch (i % 4) {
      case 0:
      case 1:
        return { accountId, type: 'LOGIN', attributes: { newDevice: false }, entities: { device } };
      case 2:
        return {
          accountId,
          type: 'TRANSFER_ATTEMPT',
          attributes: { toNewPayee: false, amount: 50 + (i % 40) * 10 },
          entities: { device, payee: 'payee-' + w.run + '-' + (i % payees) },
        };
      default:
        return { accountId, type: 'LOGIN_FAILED', attributes: { consecutiveFailures: 1 }, entities: { device } };
    }
  };
  const request = (i) => {
    if (w.kind === 'check') {
      const account = i % 2 && w.restricted.length ? w.restricted[i % w.restricted.length] : 'calm-' + w.run + '-' + i;
      return { method: 'GET', path: '/v1/accounts/' + account + '/restriction' };
    }
    return {
      method: 'POST',
      path: '/v1/risk-events',
      body: JSON.stringify({ eventId: 'h-' + w.run + '-' + i, occurredAt: new Date().toISOString(), ...harmless(i) }),
    };
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: w.concurrency }, async () => {
    while (next < w.n) {
      const r = request(next++);
      const s = performance.now();
      const res = await fetch(w.base + r.path, {
        method: r.method,
        headers: r.body
          ? { authorization: 'Bearer dev-backend', 'content-type': 'application/json' }
          : { authorization: 'Bearer dev-backend' },
        body: r.body,
      });
      const answer = await res.arrayBuffer();
      if (res.status !== 200)
        throw new Error(r.method + ' answered ' + res.status + ': ' + Buffer.from(answer).toString().slice(0, 300));
      latencies.push(performance.now() - s);
      if (latencies.length % 200 === 0) parentPort.postMessage({ done: latencies.length });
    }
  }));
  parentPort.postMessage({ latencies, perSecond: w.n / ((performance.now() - t0) / 1000) });
})().catch((err) => parentPort.postMessage({ error: String(err) }));
`;

export interface ThreadLoad {
  base: string;
  /** Tells this load's accounts (and devices, payees) from every other's. */
  run: string;
  kind: 'harmless' | 'check';
  n: number;
  concurrency: number;
  /** Accounts with a restriction, for half of the checks. */
  restricted?: string[];
  /** Harmless events: the mix with entities (above), else logins without any. */
  entities?: boolean;
}

export function driveOnThread(
  load: ThreadLoad,
  progress?: { tick(done: number, total: number): void },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const thread = new Thread(LOAD_THREAD, { eval: true, workerData: { restricted: [], ...load } });
    thread.on('message', (m: { done?: number; error?: string } & Partial<Run>) => {
      if (m.error) reject(new Error(m.error));
      else if (m.latencies) resolve({ latencies: m.latencies, perSecond: m.perSecond! });
      else if (m.done) progress?.tick(m.done, load.n);
      if (m.error || m.latencies) void thread.terminate();
    });
    thread.once('error', reject);
  });
}
