// A background loop of an API process over jobs kept in Cordon's database (the linker's, the guards' notes):
// it drains what it can claim, waits, and drains again; a failed round is logged and the job is taken again once
// its lease ends. Stopping waits for the round in flight.
import type { Logger } from '../infra/logger';

export class PollLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly drain: () => Promise<unknown>,
    private readonly o: { logger: Logger; what: string; pollMs?: number },
  ) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.drain()
        .then(() => undefined)
        .catch((err: unknown) =>
          this.o.logger.warn(`${this.o.what}: a job failed; it is taken again once its lease ends`, {
            error: (err as Error).name,
            message: (err as Error).message,
          }),
        )
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.o.pollMs ?? 1_000);
        });
    };
    this.timer = setTimeout(tick, this.o.pollMs ?? 1_000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
