// SIGINT and SIGTERM stop a Cordon process once, in order, within a bound, and it exits 0 when all is closed.
import type { Logger } from './logger';

export type StopReason = 'SIGINT' | 'SIGTERM' | (string & {});

export interface StopOnSignalsOptions {
  logger: Logger;
  /** Closes what runs, in order. The process exits with the stop's code once it resolves, 1 if it throws. */
  stop(reason: StopReason): Promise<void>;
  /** How long stop may take; past it the process exits 1 ('exit' handlers still run: child processes die). */
  deadlineMs(reason: StopReason): number;
}

export interface Stopper {
  /** A stop has begun (start-up code checks it between steps and stops starting things). */
  readonly stopping: boolean;
  /** Stops as a signal would, for reasons of the process's own (its worker ended); exit code as given. */
  stop(reason: StopReason, exitCode?: number): void;
}

/**
 * Installs the handlers. A repeated signal while the stop runs is logged and ignored, never the default action:
 * a terminal's Ctrl-C reaches the process twice (from the terminal, and forwarded by npm), and an impatient
 * second SIGTERM must not cut a drain short and orphan child processes. The deadline bounds the stop instead.
 */
export function stopOnSignals(o: StopOnSignalsOptions): Stopper {
  let stopping = false;
  const stopper: Stopper = {
    get stopping() {
      return stopping;
    },
    stop(reason, exitCode = 0) {
      if (stopping) {
        o.logger.info('already stopping', { signal: reason });
        return;
      }
      stopping = true;
      const deadlineMs = o.deadlineMs(reason);
      o.logger.info('stopping', { signal: reason, withinMs: deadlineMs });
      setTimeout(() => {
        o.logger.error('did not stop in time: exiting', { afterMs: deadlineMs });
        process.exit(1);
      }, deadlineMs);
      o.stop(reason).then(
        () => process.exit(exitCode),
        (err: unknown) => {
          o.logger.error('stop failed', { error: (err as Error).message });
          process.exit(1);
        },
      );
    },
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stopper.stop(signal));
  return stopper;
}
