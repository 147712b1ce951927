// For the user's case page tests: a real SMTP server that keeps what it receives, the real API and worker on
// the shared Temporal dev server with an SMTP channel pointing at it, and a browser's part in plain HTTP.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { SmtpChannel } from '../../activities/mail';
import { startApi, type RunningApi } from '../../api/main';
import type { LoadedPolicy } from '../../core/policy';
import { parseConfig, type Config } from '../../infra/config';
import { linkKeysFromConfig, type LinkKey } from '../../infra/links';
import { parsePolicy } from '../../infra/policy-loader';
import { freePort } from '../../scripts/dev-server';
import { defaultPolicy, quiet } from './deps';
import { eventually, newHarness, type Harness } from './harness';
import { sharedDevServer, TEST_CODEC_KEYS } from './servers';

export interface CaughtSmtp {
  url: string;
  mails: ParsedMail[];
  close(): Promise<void>;
}

export async function startCatchingSmtp(): Promise<CaughtSmtp> {
  const mails: ParsedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _s, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        simpleParser(Buffer.concat(chunks)).then(
          (mail) => {
            mails.push(mail);
            cb();
          },
          (err: Error) => cb(err),
        );
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The default policy with a short cooling-off and tight, testable rate limits (and a test's own changes). */
export function portalPolicy(
  limits: Record<string, unknown>,
  edit: (raw: Record<string, any>) => void = () => {},
): LoadedPolicy {
  const raw = JSON.parse(JSON.stringify(defaultPolicy().policy));
  raw.version = 'test-portal';
  raw.tiers.PROTECT.coolingOff = '2s';
  raw.userActions = { ...raw.userActions, ...limits };
  edit(raw);
  return parsePolicy(raw, 'portal test policy');
}

export interface PortalEnv {
  h: Harness;
  api: RunningApi;
  smtp: CaughtSmtp;
  config: Config;
  linkKeys: LinkKey[];
  dataDir: string;
  close(): Promise<void>;
}

export async function startPortalEnv(
  limits: Record<string, unknown>,
  edit?: (raw: Record<string, any>) => void,
): Promise<PortalEnv> {
  const server = await sharedDevServer();
  const policy = portalPolicy(limits, edit);
  const h = await newHarness({ policy });
  const workerDone = h.worker.run();
  const smtp = await startCatchingSmtp();
  const dataDir = mkdtempSync(join(tmpdir(), 'cordon-portal-'));
  const policyFile = join(dataDir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(policy.policy));
  const port = await freePort();
  const config = parseConfig({
    PORT: String(port),
    TEMPORAL_ADDRESS: server.address,
    CORDON_TASK_QUEUE: h.taskQueue,
    CORDON_CODEC_KEYS: TEST_CODEC_KEYS,
    CORDON_DATA_DIR: dataDir,
    CORDON_POLICY_FILE: policyFile,
    CORDON_LINK_KEYS: `t1:${randomBytes(32).toString('base64')}`,
  });
  const api = await startApi(config, quiet, undefined, h.store);
  const linkKeys = linkKeysFromConfig(config);
  // The worker's notices go out as e-mail to the test's SMTP server, with links to this API.
  const channel = new SmtpChannel({
    smtpUrl: smtp.url,
    from: 'Cordon <no-reply@cordon.example.test>',
    publicUrl: api.url,
    linkKeys,
    store: h.store,
    logger: quiet,
    timeoutMs: 5_000,
    // The running policy, as the worker's channel has it (the final mail's letter reads it).
    policy: () => h.deps.scorer.policy.policy,
  });
  h.deps.channels.push(channel);
  return {
    h,
    api,
    smtp,
    config,
    linkKeys,
    dataDir,
    async close() {
      await api.close();
      h.worker.shutdown();
      await workerDone;
      channel.close();
      await smtp.close();
    },
  };
}

/** The mails sent to an address (in arrival order), once at least `count` are there. */
export function mailsTo(
  smtp: CaughtSmtp,
  address: string,
  count = 1,
  timeoutMs = 20_000,
): Promise<ParsedMail[]> {
  return eventually(
    async () => {
      const found = smtp.mails.filter((m) =>
        [m.to].flat().some((t) => t?.value.some((a) => a.address === address)),
      );
      return found.length >= count ? found : false;
    },
    timeoutMs,
    `${count} mail(s) to the test address`,
  );
}

/** Every URL in a mail's text and HTML. */
export function linksIn(mail: ParsedMail): string[] {
  const text = `${mail.text ?? ''}\n${typeof mail.html === 'string' ? mail.html : ''}`;
  return [...new Set([...text.matchAll(/https?:\/\/[^\s"'<>]+/g)].map((m) => m[0].replace(/&amp;/g, '&')))];
}

/** The case page link in a mail. */
export function caseLinkIn(mail: ParsedMail): string {
  const link = linksIn(mail).find((l) => /\/u\/[A-Za-z0-9._-]+(\?[^\s]*)?$/.test(l));
  if (!link) throw new Error('the mail holds no link to the case page');
  return link;
}

export interface Answer {
  status: number;
  location: string | null;
  text: string;
  headers: Headers;
}

/** A browser's part in plain HTTP: a cookie jar, forms (urlencoded or multipart), no following of redirects. */
export class PortalAgent {
  readonly jar = new Map<string, string>();
  constructor(private readonly base: string) {}

  async send(
    method: 'GET' | 'POST',
    path: string,
    o: { form?: Record<string, string>; multipart?: FormData; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...o.headers };
    const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (cookie) headers.cookie = cookie;
    let body: string | FormData | undefined;
    if (o.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(o.form).toString();
    } else if (o.multipart) body = o.multipart;
    const res = await fetch(path.startsWith('http') ? path : `${this.base}${path}`, {
      method,
      headers,
      body,
      redirect: 'manual',
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair = ''] = c.split(';');
      const eq = pair.indexOf('=');
      this.jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return {
      status: res.status,
      location: res.headers.get('location'),
      text: await res.text(),
      headers: res.headers,
    };
  }
}

/** The hidden fields of the form posting to `action` on a page. */
export function formFields(page: string, action: string): Record<string, string> {
  const start = page.indexOf(`action="${action}"`);
  if (start < 0) throw new Error(`no form posting to ${action}`);
  const form = page.slice(start, page.indexOf('</form>', start));
  const fields: Record<string, string> = {};
  for (const m of form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
    fields[m[1]!] = m[2]!
      .replace(/&amp;/g, '&')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'");
  return fields;
}
