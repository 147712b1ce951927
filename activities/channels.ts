import type { Logger } from '../infra/logger';
import { signedPost } from './http';
import type { RenderedMessage } from './templates';
import type { BackendEvent, UserNotice } from '../core/activity-contract';

/** A way to reach the account holder. `send` is idempotent by the notice's key where the receiver dedupes. */
export interface NotificationChannel {
  readonly name: string;
  send(notice: UserNotice, message: RenderedMessage): Promise<{ delivered: boolean }>;
}

/** Writes the notice to the log (IDs and template only: message text stays out of logs). */
export class LogChannel implements NotificationChannel {
  readonly name = 'log';
  constructor(private readonly logger: Logger) {}
  async send(notice: UserNotice): Promise<{ delivered: boolean }> {
    this.logger.info('user notified', {
      caseId: notice.caseId,
      template: notice.template,
      locale: notice.locale,
      key: notice.idempotencyKey,
    });
    return { delivered: true };
  }
}

/** Posts the rendered message to the backend's messaging endpoint, signed, with the notice's idempotency key. */
export class WebhookChannel implements NotificationChannel {
  readonly name = 'webhook';
  constructor(
    private readonly url: string,
    private readonly secret: string,
  ) {}
  async send(notice: UserNotice, message: RenderedMessage): Promise<{ delivered: boolean }> {
    const result = await signedPost(
      this.url,
      this.secret,
      { caseId: notice.caseId, accountId: notice.accountId, template: notice.template, ...message },
      notice.idempotencyKey,
      'Messaging',
    );
    return { delivered: !result.duplicate };
  }
}

/** Restriction changes and outcomes for the platform's backend. */
export interface BackendNotifier {
  readonly name: string;
  send(event: BackendEvent): Promise<{ delivered: boolean }>;
}

export class WebhookNotifier implements BackendNotifier {
  readonly name = 'webhook';
  constructor(
    private readonly url: string,
    private readonly secret: string,
  ) {}
  async send(event: BackendEvent): Promise<{ delivered: boolean }> {
    const result = await signedPost(this.url, this.secret, event, event.idempotencyKey, 'Webhook');
    return { delivered: !result.duplicate };
  }
}

export class LogNotifier implements BackendNotifier {
  readonly name = 'log';
  constructor(private readonly logger: Logger) {}
  async send(event: BackendEvent): Promise<{ delivered: boolean }> {
    this.logger.info('backend event', {
      type: event.type,
      caseId: event.caseId,
      status: event.status,
      key: event.idempotencyKey,
    });
    return { delivered: true };
  }
}
