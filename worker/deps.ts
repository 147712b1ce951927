import type { ActivityDeps } from '../activities';
import {
  LogChannel,
  LogNotifier,
  WebhookChannel,
  WebhookNotifier,
  type NotificationChannel,
} from '../activities/channels';
import { HttpAccountGateway, LedgerGateway } from '../activities/gateway';
import { scorerFromConfig } from '../activities/scorer';
import type { Config } from '../infra/config';
import type { Logger } from '../infra/logger';

/** The real dependencies of the activities, chosen by configuration. */
export function activityDepsFromConfig(config: Config, logger: Logger): ActivityDeps {
  const channels: NotificationChannel[] = [new LogChannel(logger.child('notify'))];
  if (config.messagingUrl && config.webhook)
    channels.push(new WebhookChannel(config.messagingUrl, config.webhook.secret));
  return {
    scorer: scorerFromConfig(config),
    gateway: config.gateway
      ? new HttpAccountGateway(config.gateway.url, config.gateway.secret)
      : new LedgerGateway(logger.child('gateway')),
    channels,
    backend: config.webhook
      ? new WebhookNotifier(config.webhook.url, config.webhook.secret)
      : new LogNotifier(logger.child('webhook')),
  };
}
