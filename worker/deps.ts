import type { ActivityDeps } from '../activities';
import {
  LogChannel,
  LogNotifier,
  WebhookChannel,
  WebhookNotifier,
  type NotificationChannel,
} from '../activities/channels';
import { HttpAccountGateway, RecordOnlyGateway } from '../activities/gateway';
import { scorerFromConfig } from '../activities/scorer';
import { httpDirectory, SmtpChannel } from '../activities/mail';
import { linkKeysFromConfig } from '../infra/links';
import type { PayloadCodec } from '@temporalio/common';
import { codecFromConfig } from '../infra/codec';
import type { Config } from '../infra/config';
import type { Logger } from '../infra/logger';
import { openStore, type Store } from '../infra/store';
import { startDispatcher, type Dispatcher } from '../activities/dispatcher';
import { flushTracing, startTracing } from '../infra/tracing';

/** The real dependencies of the activities, chosen by configuration. */
export function activityDepsFromConfig(config: Config, logger: Logger, store: Store): ActivityDeps {
  const scorer = scorerFromConfig(config, logger.child('policy'));
  const channels: NotificationChannel[] = [new LogChannel(logger.child('notify'))];
  if (config.messagingUrl && config.webhook)
    channels.push(new WebhookChannel(config.messagingUrl, config.webhook.secret));
  // Last: a mail server's 4xx retries the whole notice, and the channels before it deduplicate by key.
  if (config.mail.smtpUrl)
    channels.push(
      new SmtpChannel({
        smtpUrl: config.mail.smtpUrl,
        from: config.mail.from,
        publicUrl: config.publicUrl,
        linkKeys: linkKeysFromConfig(config),
        store,
        logger: logger.child('mail'),
        // The running policy (it reloads): the final mail's letter says what the gateway receives.
        policy: () => scorer.policy.policy,
        ...(config.mail.directoryUrl ? { directory: httpDirectory(config.mail.directoryUrl) } : {}),
      }),
    );
  return {
    scorer,
    gateway: config.gateway
      ? new HttpAccountGateway(config.gateway.url, config.gateway.secret)
      : new RecordOnlyGateway(logger.child('gateway')),
    channels,
    backend: config.webhook
      ? new WebhookNotifier(config.webhook.url, config.webhook.secret)
      : new LogNotifier(logger.child('webhook')),
    store,
    archiveKeepMs: config.database.archiveKeepMs,
    eventIdWindowMs: config.database.eventIdWindowMs,
  };
}

export interface WorkerRuntime {
  deps: ActivityDeps;
  /** The payload codec of the configuration, for the worker (and an API sharing the process). */
  codec: PayloadCodec;
  store: Store;
  dispatcher: Dispatcher;
  /** Stops the dispatcher and closes the database (after the worker has stopped). */
  close(): Promise<void>;
}

/** Cordon's database, the activities' dependencies over it, and the dispatcher that delivers its outbox. */
export async function startWorkerRuntime(config: Config, logger: Logger): Promise<WorkerRuntime> {
  const codec = codecFromConfig(config); // first: a missing production key stops before anything opens
  // Traces when OTEL_EXPORTER_OTLP_ENDPOINT is set (before the worker is created: it takes the interceptors).
  startTracing('cordon-worker');
  const store = await openStore(config.database);
  const deps = activityDepsFromConfig(config, logger, store);
  const dispatcher = startDispatcher({
    store,
    channels: deps.channels,
    backend: deps.backend,
    logger: logger.child('dispatcher'),
    giveUpAfterMs: config.database.deliveryGiveUpMs,
  });
  deps.onEnqueued = () => dispatcher.kick();
  // Archived cases and event IDs past their keeping period go, hourly (any worker may do it: idempotent).
  const purge = () =>
    store
      .purge(config.database.eventIdWindowMs)
      .catch((err: unknown) => logger.warn('purge failed', { error: (err as Error).message }));
  const purger = setInterval(() => void purge(), 3_600_000);
  purger.unref();
  return {
    deps,
    codec,
    store,
    dispatcher,
    async close() {
      clearInterval(purger);
      deps.scorer.close?.();
      await dispatcher.stop();
      await store.db.close();
      await flushTracing();
    },
  };
}
