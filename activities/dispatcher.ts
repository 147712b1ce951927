// Delivers the outbox: messages owed to users and the backend, in order per account, retried with backoff
// while a receiver is down, and marked FAILED (never dropped) when a receiver refuses for good or the
// message has waited longer than the give-up period. Runs in every worker process; leases keep two
// dispatchers from sending the same message at once, and receivers deduplicate by idempotency key.
// A message's delivery record names only the channels that carried it; a user notice that no channel could
// carry (no address for e-mail, no messaging endpoint: only the log) is FAILED with the reason, so neither the
// case's timeline nor its deliveries claim the user was told. A message queued inside a trace is delivered in a
// span of that trace (`deliver <kind>`, a child of the activity that queued it), its outcome on the span.
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from '../infra/logger';
import type { Store } from '../infra/store';
import type { StoredMessage } from '../infra/stores/outbox';
import { inStoredTrace } from '../infra/trace-context';
import { carryNotice, type BackendNotifier, type NotificationChannel } from './channels';

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
/** The start of a FAILED user notice's reason when no channel could carry it (the rest names each channel's why). */
export const NO_CHANNEL = 'no channel reached the account holder';

export function startDispatcher(o: DispatcherOptions): Dispatcher {
  const pollMs = o.pollMs ?? 250;
  const giveUpAfterMs = o.giveUpAfterMs ?? DEFAULT_GIVE_UP_AFTER_MS;
  const maxBackoffMs = o.maxBackoffMs ?? 60_000;
  const leaseMs = o.leaseMs ?? 60_000;
  let stopped = false;
  let wake: (() => void) | undefined;
  let kicked = false;

  /** One attempt; answers how it went (the delivery span's `cordon.delivery.outcome`). */
  const attempt = async (m: StoredMessage): Promise<'DELIVERED' | 'FAILED' | 'RETRY'> => {
    try {
      if (m.message.kind === 'NOTIFY_USER') {
        const { carried, skipped } = await carryNotice(o.channels, m.message.notice);
        if (carried.length > 0) {
          await o.store.outbox.markDelivered(m.seq, carried);
          return 'DELIVERED';
        }
        // Nothing to retry: no channel has a way to this account holder. Recorded as such, never as sent.
        const reason = `${NO_CHANNEL}: ${skipped.join('; ') || 'no channel configured'}`;
        o.logger.warn('user notice reached no one', { caseId: m.caseId, key: m.idempotencyKey, reason });
        await o.store.outbox.markFailed(m.seq, reason);
        return 'FAILED';
      }
      // A case's event, or Cordon's own about the account (account.erased): the same webhook, in the same order.
      await o.backend.send(m.message.event);
      await o.store.outbox.markDelivered(m.seq, [o.backend.name]);
      return 'DELIVERED';
    } catch (err) {
      const reason = err instanceof Error ? err.message.slice(0, 200) : 'delivery failed';
      const forGood = err instanceof ApplicationFailure && err.nonRetryable;
      if (forGood || Date.now() - m.createdAt >= giveUpAfterMs) {
        o.logger.error('message failed for good', { caseId: m.caseId, key: m.idempotencyKey, reason });
        await o.store.outbox.markFailed(m.seq, reason);
        return 'FAILED';
      }
      const backoff = Math.min(maxBackoffMs, 250 * 2 ** Math.min(m.attempts, 20));
      o.logger.warn('message delivery will be retried', { key: m.idempotencyKey, attempt: m.attempts + 1 });
      await o.store.outbox.markRetry(m.seq, reason, Date.now() + backoff * (0.8 + Math.random() * 0.4));
      return 'RETRY';
    }
  };

  const deliver = (m: StoredMessage): Promise<void> =>
    inStoredTrace(
      m.trace,
      `deliver ${m.message.kind}`,
      {
        'cordon.case_id': m.caseId,
        'cordon.message.kind': m.message.kind,
        'cordon.message.attempt': m.attempts + 1,
      },
      async (span) => {
        const outcome = await attempt(m);
        span?.setAttribute('cordon.delivery.outcome', outcome);
      },
    );

  const loop = (async () => {
    while (!stopped) {
      kicked = false;
      try {
        const due = await o.store.outbox.leaseDue(o.batch ?? 50, leaseMs);
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
