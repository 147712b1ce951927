// Delivers the outbox: messages owed to users and the backend, in order per account, retried with backoff
// while a receiver is down, and marked FAILED (never dropped) when a receiver refuses for good or the
// message has waited longer than the give-up period. Runs in every worker process; leases keep two
// dispatchers from sending the same message at once, and receivers deduplicate by idempotency key.
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from '../infra/logger';
import type { StoredMessage, Store } from '../infra/store';
import type { BackendNotifier, NotificationChannel } from './channels';
import { sendBackendEvent, sendNotice } from './index';

export interface DispatcherOptions {
  store: Store;
  channels: NotificationChannel[];
  backend: BackendNotifier;
  logger: Logger;
  /** How often to look for due messages when nothing woke the dispatcher. */
  pollMs?: number;
  /** A message still undelivered after this long is marked FAILED. */
  giveUpAfterMs?: number;
  /** Longest wait between two attempts of one message. */
  maxBackoffMs?: number;
  leaseMs?: number;
  batch?: number;
}

export interface Dispatcher {
  /** Look for due messages now (the enqueue activity calls it in the same process). */
  kick(): void;
  stop(): Promise<void>;
}

export const DEFAULT_GIVE_UP_AFTER_MS = 3 * 24 * 3600_000;

export function startDispatcher(o: DispatcherOptions): Dispatcher {
  const pollMs = o.pollMs ?? 250;
  const giveUpAfterMs = o.giveUpAfterMs ?? DEFAULT_GIVE_UP_AFTER_MS;
  const maxBackoffMs = o.maxBackoffMs ?? 60_000;
  const leaseMs = o.leaseMs ?? 60_000;
  let stopped = false;
  let wake: (() => void) | undefined;
  let kicked = false;

  const deliver = async (m: StoredMessage): Promise<void> => {
    try {
      const channels =
        m.message.kind === 'NOTIFY_USER'
          ? (await sendNotice(o.channels, m.message.notice)).map((d) => d.channel)
          : [(await sendBackendEvent(o.backend, m.message.event)).channel];
      await o.store.markDelivered(m.seq, channels);
    } catch (err) {
      const reason = err instanceof Error ? err.message.slice(0, 200) : 'delivery failed';
      const forGood = err instanceof ApplicationFailure && err.nonRetryable;
      if (forGood || Date.now() - m.createdAt >= giveUpAfterMs) {
        o.logger.error('message failed for good', { caseId: m.caseId, key: m.idempotencyKey, reason });
        await o.store.markFailed(m.seq, reason);
      } else {
        const backoff = Math.min(maxBackoffMs, 250 * 2 ** Math.min(m.attempts, 20));
        o.logger.warn('message delivery will be retried', { key: m.idempotencyKey, attempt: m.attempts + 1 });
        await o.store.markRetry(m.seq, reason, Date.now() + backoff * (0.8 + Math.random() * 0.4));
      }
    }
  };

  const loop = (async () => {
    while (!stopped) {
      kicked = false;
      try {
        const due = await o.store.leaseDue(o.batch ?? 50, leaseMs);
        // One message per account per round (the store leases only heads), accounts in parallel.
        await Promise.all(due.map(deliver));
        if (due.length > 0) continue;
      } catch (err) {
        o.logger.error('dispatcher round failed', { error: (err as Error).message });
      }
      if (stopped || kicked) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => (clearTimeout(timer), resolve());
      });
      wake = undefined;
    }
  })();

  return {
    kick() {
      kicked = true;
      wake?.();
    },
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
