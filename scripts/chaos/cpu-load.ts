// `--cpu-load N`: N processes that keep a core busy for the length of the run, so the worker, the API and the
// dev server compete for the CPU as they do on a loaded machine (a neighbour, a batch job, a noisy node). Each
// spins until its own deadline, so none outlives the run even if this process dies without stopping them.
import { spawn, type ChildProcess } from 'node:child_process';

/** A busy loop that ends at `end` (ms since the epoch): plain arithmetic, no I/O, no memory growth. */
const SPIN = `const end = Number(process.argv[1]); let x = 0; while (Date.now() < end) for (let i = 0; i < 1e6; i++) x = (x * 31 + i) | 0;`;

export class CpuLoad {
  private readonly children: ChildProcess[] = [];

  /** Starts `processes` busy processes that stop by themselves at `untilMs`. */
  constructor(processes: number, untilMs: number) {
    for (let i = 0; i < processes; i++)
      this.children.push(spawn(process.execPath, ['-e', SPIN, String(untilMs)], { stdio: 'ignore' }));
  }

  get running(): number {
    return this.children.filter((c) => c.exitCode === null && c.signalCode === null).length;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGKILL');
          }),
      ),
    );
  }
}
