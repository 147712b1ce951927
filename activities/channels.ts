import type { Logger } from '../infra/logger';
import { signedPost } from './http';
import { renderNotice, type RenderedMessage } from './templates';
import type { UserNotice, WebhookEvent } from '../core/messages';

/** What a channel did with a notice. */
export interface ChannelResult {
  /** False when the receiver had already seen this idempotency key (it carried the notice before). */
  delivered: boolean;
  /**
   * Set when the channel carried nothing to the account holder, saying why (codes, never an address): it had
   * no address for them, or it only records. Such a channel is not named in the notice's delivery record.
   */
  skipped?: string;
}

/** A way to reach the account holder. `send` is idempotent by the notice's key where the receiver dedupes. */
export interface NotificationChannel {
  readonly name: string;
  send(notice: UserNotice, message: RenderedMessage): Promise<ChannelResult>;
}

/**
 * Writes the notice to Cordon's log (IDs and template only: message text stays out of logs). An operator's
 * trace, not a way to reach anyone: it never counts as having carried the notice.
 */
export class LogChannel implements NotificationChannel {
  readonly name = 'log';
  constructor(private readonly logger: Logger) {}
  async send(notice: UserNotice): Promise<ChannelResult> {
    this.logger.info('user notice logged', {
      caseId: notice.caseId,
      template: notice.template,
      locale: notice.locale,
      key: notice.idempotencyKey,
    });
    return { delivered: true, skipped: 'records only' };
  }
}

/** How a notice went: the channels that carried it to the account holder, and why the others did not. */
export interface NoticeOutcome {
  carried: string[];
  /** `<channel>: <why>` for each channel that carried nothing. */
  skipped: string[];
}

/**
 * Sends a notice through every channel, each with the notice's idempotency key (so a retry after a partial
 * failure re-sends only where the receiver dedupes), and says which channels carried it. A channel whose
 * receiver had already seen the key carried it, on an earlier attempt.
 */
export async function carryNotice(
  channels: NotificationChannel[],
  notice: UserNotice,
): Promise<NoticeOutcome> {
  const message = renderNotice(notice);
  const outcome: NoticeOutcome = { carried: [], skipped: [] };
  for (const channel of channels) {
    const { skipped } = await channel.send(notice, message);
    if (skipped === undefined) outcome.carried.push(channel.name);
    else outcome.skipped.push(`${channel.name}: ${skipped}`);
  }
  return outcome;
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

/** Restriction changes and outcomes for the platform's backend, and the erasure of an account's data. */
export interface BackendNotifier {
  readonly name: string;
  send(event: WebhookEvent): Promise<{ delivered: boolean }>;
}

export class WebhookNotifier implements BackendNotifier {
  readonly name = 'webhook';
  constructor(
    private readonly url: string,
    private readonly secret: string,
  ) {}
  async send(event: WebhookEvent): Promise<{ delivered: boolean }> {
    const result = await signedPost(this.url, this.secret, event, event.idempotencyKey, 'Webhook');
    return { delivered: !result.duplicate };
  }
}

export class LogNotifier implements BackendNotifier {
  readonly name = 'log';
  constructor(private readonly logger: Logger) {}
  async send(event: WebhookEvent): Promise<{ delivered: boolean }> {
    this.logger.info('backend event', {
      type: event.type,
      caseId: event.caseId,
      ...(event.type === 'account.erased'
        ? { accountId: event.accountId }
        : event.type === 'guard.tripped'
          ? { ruleId: event.ruleId, hourCount: event.hourCount }
          : { status: event.status }),
      key: event.idempotencyKey,
    });
    return { delivered: true };
  }
}
