// The load for the hot paths (harmless events, restriction checks), shared by `npm run bench` and
// `npm run profile`.
import { Worker as Thread } from 'node:worker_threads';

export interface Run {
  latencies: number[];
  perSecond: number;
}

/**
 * Generated on a thread of its own: on the API's event loop, the load generator
 * would take half the time it measures. Plain JavaScript, so the thread needs no TypeScript loader.
 */
const LOAD_THREAD = `
const { parentPort, workerData: w } = require('node:worker_threads');
(async () => {
  let next = 0;
  const latencies = [];
  const request = (i) => {
    if (w.kind === 'check') {
      const account = i % 2 && w.restricted.length ? w.restricted[i % w.restricted.length] : 'calm-' + w.run + '-' + i;
      return { method: 'GET', path: '/v1/accounts/' + account + '/restriction' };
    }
    return {
      method: 'POST',
      path: '/v1/risk-events',
      body: JSON.stringify({
        eventId: 'h-' + w.run + '-' + i,
        accountId: 'calm-' + w.run + '-' + i,
        type: 'LOGIN',
        occurredAt: new Date().toISOString(),
        attributes: { newDevice: false },
      }),
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
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(r.method + ' answered ' + res.status);
      latencies.push(performance.now() - s);
      if (latencies.length % 200 === 0) parentPort.postMessage({ done: latencies.length });
    }
  }));
  parentPort.postMessage({ latencies, perSecond: w.n / ((performance.now() - t0) / 1000) });
})().catch((err) => parentPort.postMessage({ error: String(err) }));
`;

export function driveOnThread(
  load: {
    base: string;
    run: string;
    kind: 'harmless' | 'check';
    n: number;
    concurrency: number;
    restricted?: string[];
  },
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
