// User notices as e-mail over SMTP. SMTP cannot deduplicate, so the channel keeps its own record of sent
// idempotency keys in Cordon's database (checked before, written after each send), and gives every message a
// Message-ID derived from the key: if a worker dies between the server's "250 OK" and the record, the retry
// sends the same Message-ID again and the receiving side can drop the copy. Addresses and message text never
// reach logs or error messages (those go to the outbox's last_error and the case's deliveries).
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { createTransport, type Mail } from 'nodemailer';
import type { UserNotice } from '../core/messages';
import { ContactSchema, type Contact } from '../core/events';
import { signLink, type LinkKey } from '../infra/links';
import type { Logger } from '../infra/logger';
import { traceHeaders } from '../infra/trace-context';
import type { DeliveryStore } from '../infra/stores/deliveries';
import type { ChannelResult, NotificationChannel } from './channels';
import { renderMail, type MailPolicy, type RenderedMail } from './mail-templates';
import type { RenderedMessage } from './templates';

export const MAIL_CHANNEL = 'email';
/** Why a notice was not mailed: the event brought no address and the directory (if any) knows none. */
export const NO_ADDRESS = 'no e-mail address';

const DAY_MS = 24 * 3600_000;
/** A link lives at least this long, so a user who reads the mail late can still open the case. */
export const LINK_MIN_MS = 30 * DAY_MS;
/** ...and at least this long past the notice's deadline, to see what happened after it. */
export const LINK_AFTER_DEADLINE_MS = 7 * DAY_MS;

export interface SmtpChannelOptions {
  /** smtp://user:pass@host:port, or smtps:// for TLS from the first byte. */
  smtpUrl: string;
  /** The From header, e.g. `Cordon <no-reply@example.com>`; its domain also names the Message-IDs. */
  from: string;
  /** Where users reach Cordon's pages (no trailing slash). */
  publicUrl: string;
  linkKeys: readonly LinkKey[];
  /** Cordon's database: what this channel already delivered (a retry must not send twice). */
  store: { deliveries: Pick<DeliveryStore, 'wasDelivered' | 'record'> };
  logger: Logger;
  /** For tests: the clock the link's expiry is computed from. */
  now?: () => number;
  /** Longest wait for a connection, the greeting, or any reply (ms): a hung server becomes a retry. */
  timeoutMs?: number;
  /** Where to find a user's contact when the event brought none (the backend's directory). */
  directory?: ContactDirectory;
  /**
   * The running policy: the final mail's decision letter says what the restriction means in practice (the tiers'
   * capabilities, as the gateway receives them), until when a second review may be asked for, and the complaints
   * channels. Absent: the catalogue's capabilities, the default window, no channels.
   */
  policy?: () => MailPolicy;
}

/** The backend's directory of how to reach account holders. */
export interface ContactDirectory {
  /** null: the directory knows no contact for the account (the notice is not mailed). */
  lookup(accountId: string): Promise<Contact | null>;
}

/**
 * A directory served by the backend: GET <url>/<accountId> answers a contact ({email, phone, timeZone}) or 404.
 * Anything else is a retryable failure: the notice waits for the directory rather than being skipped.
 */
export function httpDirectory(url: string, timeoutMs = 5_000): ContactDirectory {
  return {
    async lookup(accountId) {
      const res = await fetch(`${url.replace(/\/+$/, '')}/${encodeURIComponent(accountId)}`, {
        signal: AbortSignal.timeout(timeoutMs),
        headers: { accept: 'application/json', ...traceHeaders() },
      });
      if (res.status === 404) return null;
      if (!res.ok)
        throw ApplicationFailure.retryable(`Directory answered ${res.status}`, 'DirectoryUnavailable');
      const parsed = ContactSchema.safeParse(await res.json());
      // A malformed answer names no personal data in the failure: only that it was malformed.
      if (!parsed.success)
        throw ApplicationFailure.retryable('Directory answer is not a contact', 'DirectoryUnavailable');
      return parsed.data;
    },
  };
}

/** Deadline + 7 days, but never less than 30 days from now. */
export function linkExpiry(notice: UserNotice, now: number): number {
  const deadline = notice.deadline ? Date.parse(notice.deadline) : NaN;
  const afterDeadline = Number.isNaN(deadline) ? 0 : deadline + LINK_AFTER_DEADLINE_MS;
  return Math.max(now + LINK_MIN_MS, afterDeadline);
}

function domainOf(from: string): string {
  const match = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from.trim());
  return match?.[1] ?? 'cordon.invalid';
}

/**
 * The same idempotency key always gives the same Message-ID (hashed: keys may hold characters a Message-ID
 * may not, and the ID should not show the key's structure to mail servers).
 */
export function messageIdFor(idempotencyKey: string, from: string): string {
  const hash = createHash('sha256').update(`cordon-notice|${idempotencyKey}`).digest('hex').slice(0, 40);
  return `<notice.${hash}@${domainOf(from)}>`;
}

interface SmtpError {
  code?: string;
  command?: string;
  responseCode?: number;
  permanent?: boolean;
}

/**
 * Same convention as activities/http.ts: a failure that can pass on retry throws a retryable
 * ApplicationFailure (`MailUnavailable`), one that cannot a non-retryable one (`MailRejected`), which the
 * dispatcher records as FAILED at once. Permanent: a 5xx reply to RCPT TO or DATA (this recipient or this
 * message refused), or an envelope nodemailer itself refuses. A 5xx to MAIL FROM or AUTH is Cordon's own
 * configuration (sender, credentials): retried, so fixing it delivers the queue (the give-up period still
 * applies). The server's reply text is left out: it often quotes the address.
 */
export function mailFailure(err: unknown): ApplicationFailure {
  const e = (err ?? {}) as SmtpError;
  const code = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const step = e.command ? ` to ${e.command.split(' ').slice(0, 2).join(' ')}` : '';
  if (code !== undefined) {
    const permanent = (e.permanent ?? (code >= 500 && code !== 503)) && /^(RCPT|DATA)/.test(e.command ?? '');
    return permanent
      ? ApplicationFailure.nonRetryable(`Mail: server refused with ${code}${step}`, 'MailRejected')
      : ApplicationFailure.retryable(`Mail: server answered ${code}${step}`, 'MailUnavailable');
  }
  if (e.code === 'EENVELOPE')
    return ApplicationFailure.nonRetryable('Mail: invalid envelope', 'MailRejected');
  // No SMTP reply: the connection, TLS or credentials failed (nodemailer's code names which).
  const what = /^E[A-Z]+$/.test(e.code ?? '') ? e.code : 'error';
  return ApplicationFailure.retryable(`Mail: not sent (${what})`, 'MailUnavailable');
}

/**
 * Notices to `notice.contact.email` (or the directory's); a notice without one is skipped: done, nothing sent,
 * and the channel says so, so the notice's record does not name e-mail.
 */
export class SmtpChannel implements NotificationChannel {
  readonly name = MAIL_CHANNEL;
  private readonly transport: Mail;
  private readonly now: () => number;

  constructor(private readonly o: SmtpChannelOptions) {
    const timeout = o.timeoutMs ?? 30_000;
    this.transport = createTransport({
      url: o.smtpUrl,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      // The messages carry no attachments: nothing may make nodemailer read files or fetch URLs.
      disableFileAccess: true,
      disableUrlAccess: true,
    });
    this.now = o.now ?? Date.now;
  }

  /** The e-mail for a notice, with its signed link (exposed for previews and tests). */
  render(notice: UserNotice): RenderedMail {
    const expiresAt = linkExpiry(notice, this.now());
    const token = signLink(this.o.linkKeys, { caseId: notice.caseId, purpose: 'case', expiresAt });
    // The page speaks the notice's language and shows deadlines in the user's zone (the case view has no contact).
    const query = new URLSearchParams({ lang: notice.locale });
    if (notice.contact?.timeZone) query.set('tz', notice.contact.timeZone);
    return renderMail(
      notice,
      { url: `${this.o.publicUrl}/u/${token}?${query.toString()}`, expiresAt },
      { policy: this.o.policy?.(), now: this.now() },
    );
  }

  async send(notice: UserNotice, _message?: RenderedMessage): Promise<ChannelResult> {
    const log = { caseId: notice.caseId, template: notice.template, key: notice.idempotencyKey };
    if (!notice.contact?.email && this.o.directory) {
      const found = await this.o.directory.lookup(notice.accountId);
      if (found) notice = { ...notice, contact: { ...found, ...notice.contact } };
    }
    const to = notice.contact?.email;
    if (!to) {
      // Nothing to do for this channel: answering normally lets the dispatcher mark the message done.
      this.o.logger.debug('no e-mail address: notice not mailed', log);
      return { delivered: false, skipped: NO_ADDRESS };
    }
    if (await this.o.store.deliveries.wasDelivered(MAIL_CHANNEL, notice.idempotencyKey)) {
      this.o.logger.debug('notice already mailed', log);
      return { delivered: false };
    }
    const mail = this.render(notice);
    try {
      await this.transport.sendMail({
        from: this.o.from,
        to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: messageIdFor(notice.idempotencyKey, this.o.from),
        headers: { 'Auto-Submitted': 'auto-generated', 'Content-Language': mail.locale },
      });
    } catch (err) {
      const failure = mailFailure(err);
      this.o.logger.warn('mail not sent', { ...log, reason: failure.message, retry: !failure.nonRetryable });
      throw failure;
    }
    // If this write fails the retry mails again, with the same Message-ID (see the top of the file).
    await this.o.store.deliveries.record(MAIL_CHANNEL, notice.idempotencyKey);
    this.o.logger.info('notice mailed', log);
    return { delivered: true };
  }

  close(): void {
    this.transport.close();
  }
}
