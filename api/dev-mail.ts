// Development only: pages over the local mail catcher's folder (scripts/mail-catcher.ts), so a person can read
// the notices Cordon sent and follow their links. Mount it only in development: the mails hold personal data.
// One message is `<id>.eml` (as received) plus `<id>.json` (its summary, for the list); IDs begin with the
// time received, so names sort by time.
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Router, type Response } from 'express';
import { simpleParser, type AddressObject } from 'mailparser';
import { escapeHtml } from '../web/html';

/** Where `npm start` keeps caught mail, inside the data folder. */
export function devMailDir(dataDir: string): string {
  return join(dataDir, 'mail');
}

/** `20261123T090000123Z-1a2b3c4d`: the time received (to the ms, UTC) and a random tag. */
export const MAIL_ID = /^\d{8}T\d{9}Z-[0-9a-f]{8}$/;

export function newMailId(at = new Date()): string {
  const stamp = at.toISOString().replace(/[-:.]/g, '');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

export interface CaughtMail {
  id: string;
  receivedAt: string;
  from: string;
  to: string;
  subject: string;
  messageId: string | null;
  /** The http(s) links in the mail (text and HTML parts), in order, each once. */
  links: string[];
}

const addresses = (a: AddressObject | AddressObject[] | undefined): string =>
  (Array.isArray(a) ? a : a ? [a] : []).map((x) => x.text).join(', ');

const URL_IN_TEXT = /https?:\/\/[^\s<>"']+/g;
const HREF = /href\s*=\s*(?:"([^"]*)"|'([^']*)')/gi;

function decodeEntities(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function linksOf(text: string, html: string): string[] {
  const found = [...text.matchAll(URL_IN_TEXT)].map((m) => m[0].replace(/[).,;:!?]+$/, ''));
  for (const m of html.matchAll(HREF)) found.push(decodeEntities(m[1] ?? m[2] ?? ''));
  return [...new Set(found.filter((u) => /^https?:\/\//i.test(u)))];
}

/** The list's line for a received message (the catcher writes it next to the message). */
export async function summarizeMail(id: string, raw: Buffer, receivedAt: Date): Promise<CaughtMail> {
  const mail = await simpleParser(raw);
  return {
    id,
    receivedAt: receivedAt.toISOString(),
    from: addresses(mail.from),
    to: addresses(mail.to),
    subject: mail.subject ?? '',
    messageId: mail.messageId ?? null,
    links: linksOf(mail.text ?? '', typeof mail.html === 'string' ? mail.html : ''),
  };
}

/** The caught mails, newest first (at most `limit`). A message without its summary is summarized now. */
export async function listCaughtMail(dir: string, limit = 500): Promise<CaughtMail[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const ids = names
    .filter((n) => n.endsWith('.eml') && MAIL_ID.test(n.slice(0, -4)))
    .map((n) => n.slice(0, -4))
    .sort()
    .reverse()
    .slice(0, limit);
  return Promise.all(
    ids.map(async (id) => {
      try {
        return JSON.parse(await readFile(join(dir, `${id}.json`), 'utf8')) as CaughtMail;
      } catch {
        return summarizeMail(id, await readFile(join(dir, `${id}.eml`)), idTime(id));
      }
    }),
  );
}

function idTime(id: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(id);
  return m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`) : new Date(0);
}

const esc = escapeHtml;

/** Escaped text with its http(s) URLs as links that open in a new tab. */
function linkify(text: string): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(URL_IN_TEXT)) {
    const url = m[0].replace(/[).,;:!?]+$/, '');
    const at = m.index;
    out += esc(text.slice(last, at));
    out += `<a href="${esc(url)}" target="_blank" rel="noopener noreferrer">${esc(url)}</a>`;
    last = at + url.length;
  }
  return out + esc(text.slice(last));
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:24px;color:#1d1d1f}table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:6px 10px;border-bottom:1px solid #ddd;vertical-align:top}th{background:#f4f5f7}
pre{white-space:pre-wrap;background:#f8f8f8;padding:12px;border:1px solid #ddd}
iframe{width:100%;height:640px;border:1px solid #ddd}li a{word-break:break-all}.muted{color:#666;font-size:13px}`;

function page(res: Response, title: string, body: string): void {
  // The mail's HTML comes from whoever sent it: no scripts, no remote content, no forms from these pages.
  res
    .set({
      'Content-Security-Policy':
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'; form-action 'none'; frame-ancestors 'none'",
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    })
    .type('html')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`,
    );
}

/** Puts `<base target="_blank">` in the mail's HTML so its links open in a new tab, out of the sandbox. */
function withBaseTarget(html: string): string {
  const base = '<base target="_blank">';
  return /<head[^>]*>/i.test(html) ? html.replace(/<head[^>]*>/i, (h) => h + base) : base + html;
}

/**
 * `GET /` lists the caught mails (time, to, subject); `GET /index.json` the same as JSON (with each mail's
 * links, for scripts); `GET /:id` shows one: its headers, the HTML part in a sandboxed frame, the text part
 * with clickable links, the links found; `GET /:id/raw` the message as received.
 */
export function mailCatcherPages(dir: string): Router {
  const router = Router();

  router.get('/index.json', async (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ items: await listCaughtMail(dir) });
  });

  router.get('/', async (req, res) => {
    const base = req.baseUrl;
    const items = await listCaughtMail(dir);
    const rows = items
      .map(
        (m) =>
          `<tr><td>${esc(m.receivedAt)}</td><td>${esc(m.to)}</td><td><a href="${esc(`${base}/${m.id}`)}">${esc(m.subject || '(no subject)')}</a></td></tr>`,
      )
      .join('');
    page(
      res,
      'Caught mail',
      `<h1>Caught mail</h1><p class="muted">Development only: what Cordon sent, caught locally (${items.length} shown, newest first; in ${esc(dir)}).</p>` +
        (items.length
          ? `<table><thead><tr><th>Received</th><th>To</th><th>Subject</th></tr></thead><tbody>${rows}</tbody></table>`
          : '<p>No mail yet.</p>'),
    );
  });

  const load = async (id: string): Promise<Buffer | null> => {
    if (!MAIL_ID.test(id)) return null;
    try {
      return await readFile(join(dir, `${id}.eml`));
    } catch {
      return null;
    }
  };

  router.get('/:id/raw', async (req, res) => {
    const raw = await load(req.params.id);
    if (!raw) return void res.status(404).type('text').send('no such mail');
    res
      .set({ 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' })
      .type('text/plain')
      .send(raw);
  });

  router.get('/:id', async (req, res) => {
    const id = req.params.id;
    const raw = await load(id);
    if (!raw) return void res.status(404).type('text').send('no such mail');
    const mail = await simpleParser(raw);
    const html = typeof mail.html === 'string' ? mail.html : '';
    const text = mail.text ?? '';
    const links = linksOf(text, html);
    const header = (name: string, value: string | undefined) =>
      value ? `<tr><th>${esc(name)}</th><td>${esc(value)}</td></tr>` : '';
    page(
      res,
      mail.subject ?? 'Caught mail',
      `<p><a href="${esc(req.baseUrl || '/')}">← all mail</a> · <a href="${esc(`${req.baseUrl}/${id}/raw`)}">raw</a></p>` +
        `<h1>${esc(mail.subject ?? '(no subject)')}</h1>` +
        `<table>${header('From', addresses(mail.from))}${header('To', addresses(mail.to))}${header('Date', mail.date?.toISOString())}${header('Message-ID', mail.messageId)}</table>` +
        (links.length
          ? `<h2>Links</h2><ul>${links.map((u) => `<li><a href="${esc(u)}" target="_blank" rel="noopener noreferrer">${esc(u)}</a></li>`).join('')}</ul>`
          : '') +
        (html
          ? // No allow-scripts, no allow-same-origin: the mail's HTML runs nothing and cannot touch this page.
            `<h2>HTML</h2><iframe sandbox="allow-popups allow-popups-to-escape-sandbox" referrerpolicy="no-referrer" srcdoc="${esc(withBaseTarget(html))}"></iframe>`
          : '') +
        `<h2>Text</h2><pre>${linkify(text)}</pre>`,
    );
  });

  return router;
}
