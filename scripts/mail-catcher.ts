// Development only: a local SMTP server that accepts every message and keeps it as a file, so a person can
// read what Cordon sent (api/dev-mail.ts serves the pages) without a real mail server. `npm start` runs it
// when CORDON_SMTP_URL is not set and points the worker's mail channel at it.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { newMailId, summarizeMail } from '../api/dev-mail';
import type { Logger } from '../infra/logger';

export interface MailCatcher {
  /** smtp://127.0.0.1:<port>, for CORDON_SMTP_URL / the SmtpChannel. */
  url: string;
  dir: string;
  close(): Promise<void>;
}

export interface MailCatcherOptions {
  /** Where messages are kept (`<id>.eml` and `<id>.json`); created if missing. */
  dir: string;
  logger: Logger;
  /** 0 (the default): any free port. */
  port?: number;
  /** Larger messages are refused with 552. */
  maxBytes?: number;
}

const smtpError = (code: number, message: string) =>
  Object.assign(new Error(message), { responseCode: code });

export async function startMailCatcher(o: MailCatcherOptions): Promise<MailCatcher> {
  await mkdir(o.dir, { recursive: true });
  const maxBytes = o.maxBytes ?? 10 * 1024 * 1024;

  const keep = async (raw: Buffer): Promise<string> => {
    const at = new Date();
    const id = newMailId(at);
    // Written under a temporary name, then renamed: the pages never see half a message.
    const tmp = join(o.dir, `.${id}.tmp`);
    await writeFile(tmp, raw);
    await rename(tmp, join(o.dir, `${id}.eml`));
    const summary = await summarizeMail(id, raw, at).catch(() => null);
    if (summary) await writeFile(join(o.dir, `${id}.json`), JSON.stringify(summary));
    return id;
  };

  const server = new SMTPServer({
    // A catcher takes anything from anyone on this machine: no TLS (nodemailer would reject a self-signed
    // certificate), no authentication required.
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    size: maxBytes,
    banner: 'Cordon development mail catcher',
    logger: false,
    onAuth(_auth, _session, callback) {
      callback(null, { user: 'dev' });
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (err: Error) => callback(err));
      stream.on('end', () => {
        if (stream.sizeExceeded) return callback(smtpError(552, 'message too large'));
        keep(Buffer.concat(chunks)).then(
          (id) => {
            // The ID only: the mail's addresses and text stay out of the log.
            o.logger.info('mail caught', { id });
            callback(null, `kept as ${id}`);
          },
          (err: unknown) => {
            o.logger.error('mail not kept', { error: (err as Error).message });
            callback(smtpError(451, 'could not keep the message'));
          },
        );
      });
    },
  });
  server.on('error', (err) => o.logger.warn('mail catcher error', { error: err.message }));

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.server.once('error', onError);
    server.listen(o.port ?? 0, '127.0.0.1', () => {
      server.server.off('error', onError);
      resolve();
    });
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    dir: o.dir,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
