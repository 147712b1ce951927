// What goes wrong during a chaos run: the worker SIGKILLed again and again, the API restarted (SIGTERM and
// SIGKILL in turn), the messaging receiver down for a while, the dev server restarted on its SQLite file.
import { startDevServer, type DevServer, type DevServerOptions } from '../dev-server';
import { between } from './options';
import type { Supervised } from './processes';
import type { Receiver } from './receivers';

export interface MonkeyOptions {
  worker: Supervised;
  api: Supervised;
  messaging: Receiver;
  server: DevServer;
  serverOptions: DevServerOptions;
  killEveryMs: [number, number];
  apiRestartEveryMs: [number, number];
  messagingDownMs: number;
  serverRestarts: number;
  log: (line: string) => void;
}

export interface ChaosDone {
  workerKills: number;
  apiRestarts: number;
  /** Each messaging outage: how long, in ms. */
  messagingOutagesMs: number[];
  /** Each dev server restart: from stop to ready again, in ms. */
  serverRestartsMs: number[];
}

export class Monkey {
  readonly done: ChaosDone = { workerKills: 0, apiRestarts: 0, messagingOutagesMs: [], serverRestartsMs: [] };
  server: DevServer;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private wakeSleepers = new Set<() => void>();
  private messagingOutageStarted = false;
  private serverRestartsStarted = 0;
  private nextApiSignal: NodeJS.Signals = 'SIGTERM';

  constructor(private readonly o: MonkeyOptions) {
    this.server = o.server;
  }

  start(): void {
    this.every(this.o.killEveryMs, () => this.killWorker());
    this.every(this.o.apiRestartEveryMs, () => this.restartApi());
  }

  /** Chaos that waits for a share of the cases to be done, so that even a short run gets all of it. */
  progress(fraction: number): void {
    if (this.stopped) return;
    if (fraction >= 0.1 && this.done.workerKills === 0) void this.spawn(() => this.killWorker());
    if (fraction >= 0.15 && !this.messagingOutageStarted && this.o.messagingDownMs > 0) {
      this.messagingOutageStarted = true;
      void this.spawn(() => this.messagingOutage());
    }
    if (fraction >= 0.3 && this.done.apiRestarts === 0) void this.spawn(() => this.restartApi());
    const n = this.o.serverRestarts;
    if (this.serverRestartsStarted < n && fraction >= ((this.serverRestartsStarted + 1) / (n + 1)) * 0.9) {
      this.serverRestartsStarted += 1;
      void this.spawn(() => this.restartServer());
    }
  }

  /** No more chaos: waits for what is under way, brings the messaging receiver back, and the processes up. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const wake of this.wakeSleepers) wake();
    while (this.running.size) await Promise.allSettled([...this.running]);
    await this.o.messaging.up();
    await Promise.all([this.o.worker.whenReady(60_000), this.o.api.whenReady(60_000)]);
  }

  private every(range: [number, number], action: () => Promise<void>): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.spawn(action).finally(() => this.every(range, action));
    }, between(range));
    this.timers.add(timer);
  }

  private spawn(action: () => Promise<void>): Promise<void> {
    const p = action().catch((err) => this.o.log(`chaos action failed: ${(err as Error).message}`));
    this.running.add(p);
    return p.finally(() => this.running.delete(p));
  }

  /** Sleeps, or less when the run stops. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      const wake = () => {
        clearTimeout(timer);
        this.wakeSleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakeSleepers.add(wake);
    });
  }

  private async killWorker(): Promise<void> {
    if (this.stopped) return;
    this.done.workerKills += 1;
    await this.o.worker.restart('SIGKILL');
  }

  private async restartApi(): Promise<void> {
    if (this.stopped) return;
    const signal = this.nextApiSignal;
    this.nextApiSignal = signal === 'SIGTERM' ? 'SIGKILL' : 'SIGTERM';
    this.done.apiRestarts += 1;
    this.o.log(`API restart (${signal})`);
    await this.o.api.restart(signal, 5_000);
  }

  private async messagingOutage(): Promise<void> {
    const started = Date.now();
    this.o.log(`messaging receiver down for ${this.o.messagingDownMs} ms (503, then connection refused)`);
    this.o.messaging.unavailable();
    await this.sleep(this.o.messagingDownMs / 2);
    await this.o.messaging.down();
    await this.sleep(this.o.messagingDownMs / 2);
    await this.o.messaging.up();
    this.done.messagingOutagesMs.push(Date.now() - started);
    this.o.log('messaging receiver up again');
  }

  private async restartServer(): Promise<void> {
    if (this.stopped) return;
    const started = Date.now();
    this.o.log('dev server stopping (it restarts on its SQLite file)');
    await this.server.stop();
    for (let attempt = 1; ; attempt++) {
      try {
        this.server = await startDevServer(this.o.serverOptions);
        break;
      } catch (err) {
        if (attempt >= 10) throw err;
        this.o.log(`dev server restart attempt ${attempt} failed: ${(err as Error).message.split('\n')[0]}`);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
    this.done.serverRestartsMs.push(Date.now() - started);
    this.o.log(`dev server back after ${Date.now() - started} ms`);
  }
}
