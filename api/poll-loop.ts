// A background loop of an API process over jobs kept in Cordon's database (the linker's, the guards' notes):
// it drains what it can claim, waits, and drains again; a failed round is logged and the job is taken again once
// its lease ends. Stopping waits for the round in flight. Subclasses say how to drain.
import type { Logger } from '../infra/logger';

export abstract class PollLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  protected constructor(
    private readonly loop: { logger: Logger; what: string; pollMs?: number | undefined },
  ) {}

  /** Works every job it can claim; answers how many. */
  abstract drain(): Promise<number>;

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.drain()
        .then(() => undefined)
        .catch((err: unknown) =>
          this.loop.logger.warn(`${this.loop.what}: a job failed; it is taken again once its lease ends`, {
            error: (err as Error).name,
            message: (err as Error).message,
          }),
        )
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.loop.pollMs ?? 1_000);
        });
    };
    this.timer = setTimeout(tick, this.loop.pollMs ?? 1_000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
