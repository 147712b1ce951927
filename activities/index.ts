import type { AccountGateway } from './gateway';
import type { BackendNotifier, NotificationChannel } from './channels';
import type { Scorer } from './scorer';
import { renderNotice } from './templates';
import type { CaseActivities, Delivery } from '../core/activity-contract';
import type { BackendEvent, OutboxMessage, UserNotice } from '../core/messages';
import type { Store } from '../infra/store';
import type { LinkJob } from '../infra/stores/entity-links';
import type { CaseView } from '../core/contracts';

export interface ActivityDeps {
  scorer: Scorer;
  gateway: AccountGateway;
  channels: NotificationChannel[];
  backend: BackendNotifier;
  /** Cordon's database: the outbox the dispatcher delivers from, and the archive of ended cases. */
  store: Store;
  /** How long an ended case stays readable in the archive. */
  archiveKeepMs: number;
  /** How long an event ID gets its first answer back. */
  eventIdWindowMs: number;
  /** Called after messages were queued (the dispatcher in this process looks at once). */
  onEnqueued?: () => void;
}

/** The case workflow's activities over injected dependencies (real ones in the worker, test doubles of I/O only). */
export function createActivities(deps: ActivityDeps): CaseActivities {
  // A message already queued (same idempotency key) is left alone: a retried activity queues nothing twice.
  const enqueue = async (messages: OutboxMessage[] | undefined) => {
    if (!messages?.length) return;
    await deps.store.outbox.enqueue(messages);
    deps.onEnqueued?.();
  };
  return {
    async scoreRiskEvent(event, lookupFirstAnswer) {
      const first = lookupFirstAnswer
        ? await deps.store.events.find(event.accountId, event.eventId, deps.eventIdWindowMs)
        : null;
      if (first) return { ...(await deps.scorer.score(event)), firstAnswer: first };
      return deps.scorer.score(event);
    },
    // Cordon's record first: the hot-path check protects the account even while the gateway is unreachable.
    // The record is Cordon's own; the gateway gets the command alone (the same body on every attempt, even
    // when a retried workflow task rebuilds the record with another version).
    async applyRestriction({ record, messages, ...command }) {
      if (record) await deps.store.restrictions.record(record);
      await deps.gateway.apply(command);
      await enqueue(messages);
    },
    async liftRestriction({ record, messages, ...command }) {
      if (record) await deps.store.restrictions.record(record);
      await deps.gateway.lift(command);
      await enqueue(messages);
    },
    async closeAccount({ record, messages, ...command }) {
      if (record) await deps.store.restrictions.record(record);
      await deps.gateway.close(command);
      await enqueue(messages);
    },
    recordRestriction: (record) => deps.store.restrictions.record(record),
    firstAnswerOf: (accountId, eventId) => deps.store.events.find(accountId, eventId, deps.eventIdWindowMs),
    async recordEvents(results) {
      for (const r of results) await deps.store.events.record(r);
    },
    // Used by cases begun before 0.2 only; later ones go through the outbox and the dispatcher.
    notifyUser: (notice) => sendNotice(deps.channels, notice),
    notifyBackend: (event) => sendBackendEvent(deps.backend, event),
    async enqueueMessages(messages, record) {
      if (record) await deps.store.restrictions.record(record);
      await deps.store.outbox.enqueue(messages);
      deps.onEnqueued?.();
    },
    async archiveCase({ view, requests, events, record }) {
      if (record) await deps.store.restrictions.record(record);
      await deps.store.archive.record(view, requests, events, deps.archiveKeepMs);
      // What the case's end asks of the linker (a closure, a second review that undid one): the API works it.
      const job = linkJobOf(view, Date.now());
      if (job) await deps.store.links.enqueue(job);
    },
  };
}

export async function sendNotice(channels: NotificationChannel[], notice: UserNotice): Promise<Delivery[]> {
  const message = renderNotice(notice);
  const deliveries: Delivery[] = [];
  // Each channel gets the same key, so a retry after a partial failure re-sends only where it dedupes.
  for (const channel of channels) {
    const { delivered } = await channel.send(notice, message);
    deliveries.push({ channel: channel.name, delivered });
  }
  return deliveries;
}

export async function sendBackendEvent(backend: BackendNotifier, event: BackendEvent): Promise<Delivery> {
  const { delivered } = await backend.send(event);
  return { channel: backend.name, delivered };
}

export type { CaseActivities } from '../core/activity-contract';

/**
 * A case that ended CLOSED may link accounts (the running policy decides when the job is worked); a second
 * review that restored the account withdraws what its first case's closure sent.
 */
export function linkJobOf(
  view: Pick<CaseView, 'caseId' | 'accountId' | 'outcome' | 'reasons' | 'secondReview' | 'previousCaseId'>,
  now: number,
): LinkJob | null {
  const reasons = view.reasons.map((r) => r.code);
  if (view.outcome === 'CLOSED')
    return { caseId: view.caseId, kind: 'LINK', accountId: view.accountId, reasons, endedAt: now };
  if (view.outcome === 'RESTORED' && view.secondReview && view.previousCaseId)
    return {
      caseId: view.previousCaseId,
      kind: 'WITHDRAW',
      accountId: view.accountId,
      reasons,
      endedAt: now,
    };
  return null;
}
