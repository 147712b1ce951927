// The files a user sent, as a case page shows them to reviewers: each reference with the file's original name
// (personal data: escaped on the page, never in a URL, a header or a log line), its kind and its size; images
// inline from a sandboxed same-origin route, every file as a download from the route that always served them.
// A file that is gone, belongs to another case or cannot be opened is a placeholder, never an error page.
// The metadata is sealed with the content (infra/evidence/seal.ts), so learning a name means opening the file.
import type { Request, RequestHandler, Response } from 'express';
import { REVIEWERS } from '../api/routes/spec';
import type { TimelineEntry } from '../core/case-types';
import { parseCaseId } from '../core/contracts';
import type { Principal } from '../infra/config';
import {
  EVIDENCE_REF,
  EVIDENCE_TYPES,
  sniffType,
  type EvidenceStore,
  type EvidenceType,
} from '../infra/evidence-store';
import type { Logger } from '../infra/logger';
import { html, type Html } from '../web/html';
import type { Lang } from '../web/i18n';

/** The kinds the evidence store tells apart that a browser shows as pictures: the only ones served inline. */
export const IMAGE_TYPES: readonly EvidenceType[] = EVIDENCE_TYPES.filter((t) => t.startsWith('image/'));

/** What the page knows of one referenced file. */
export type FileInfo =
  | { state: 'ok'; type: EvidenceType; size: number; name: string }
  /** Unknown to the store (swept, erased) or sent with another case: nothing of it is shown. */
  | { state: 'missing' }
  /** The store did not answer in time, or the bytes kept do not open. */
  | { state: 'unreadable' };

export type CaseFiles = ReadonlyMap<string, FileInfo>;

/** A case page waits this long for a file's metadata; past it the file is a placeholder and the page renders. */
const LOOKUP_TIMEOUT_MS = 5_000;
/** Files opened at once for one page (each is up to 5 MB, decrypted whole). */
const LOOKUP_CONCURRENCY = 4;

const WORDS = {
  en: {
    kind: {
      'image/png': 'PNG image',
      'image/jpeg': 'JPEG image',
      'application/pdf': 'PDF document',
      'text/plain': 'Text file',
    },
    bytes: (n: string) => `${n} bytes`,
    kb: (n: string) => `${n} KB`,
    mb: (n: string) => `${n} MB`,
    download: 'Download',
    missing: 'File not found: it was removed, or it was not sent with this case.',
    unreadable:
      'This file cannot be opened right now: the evidence store did not answer, or the file is damaged.',
    imageMissing: 'No such image',
    imageMissingDetail: 'This case has no image under that reference.',
    imageUnavailable: 'The image cannot be opened right now',
    imageUnavailableDetail:
      'The evidence store did not answer, or the file is damaged. Try again in a moment.',
  },
  'zh-CN': {
    kind: {
      'image/png': 'PNG 图片',
      'image/jpeg': 'JPEG 图片',
      'application/pdf': 'PDF 文档',
      'text/plain': '文本文件',
    },
    bytes: (n: string) => `${n} 字节`,
    kb: (n: string) => `${n} KB`,
    mb: (n: string) => `${n} MB`,
    download: '下载',
    missing: '找不到此文件：它已被删除，或不是随本案件提交的。',
    unreadable: '此文件暂时无法打开：证据存储未响应，或文件已损坏。',
    imageMissing: '没有此图片',
    imageMissingDetail: '本案件中没有此引用的图片。',
    imageUnavailable: '图片暂时无法打开',
    imageUnavailableDetail: '证据存储未响应，或文件已损坏。请稍后重试。',
  },
} satisfies Record<Lang, unknown>;

/** "812 bytes", "1.5 KB", "4.2 MB" (1 KB = 1,024 bytes), with the language's digits and separators. */
export function sizeText(lang: Lang, bytes: number): string {
  const w = WORDS[lang];
  const n = (x: number) => new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(x);
  if (bytes < 1024) return w.bytes(n(bytes));
  if (bytes < 1024 * 1024) return w.kb(n(bytes / 1024));
  return w.mb(n(bytes / (1024 * 1024)));
}

/** Every reference to a file the user sent through their page, once each, in the timeline's order. */
export function fileRefsOf(timeline: readonly TimelineEntry[]): string[] {
  const refs = new Set<string>();
  for (const e of timeline)
    if (Array.isArray(e.evidence))
      for (const ref of e.evidence as unknown[])
        if (typeof ref === 'string' && EVIDENCE_REF.test(ref)) refs.add(ref);
  return [...refs];
}

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(Object.assign(new Error('timed out'), { name: 'TimeoutError' })),
      ms,
    );
    p.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (err: unknown) => (clearTimeout(timer), reject(err as Error)),
    );
  });
}

/**
 * The name, kind and size of each file the case's timeline references. A file of another case counts as
 * missing (its name is not this case's to show). Failures are logged by reference and error name only.
 */
export async function lookUpFiles(
  store: EvidenceStore | undefined,
  /** The case, and for a second review the ended case it reviews (its files are kept under that case). */
  caseIds: readonly string[],
  timeline: readonly TimelineEntry[],
  logger: Logger,
  timeoutMs = LOOKUP_TIMEOUT_MS,
): Promise<CaseFiles> {
  const refs = fileRefsOf(timeline);
  const files = new Map<string, FileInfo>();
  const lookUp = async (ref: string): Promise<FileInfo> => {
    if (!store) return { state: 'unreadable' };
    try {
      const stored = await within(store.get(ref), timeoutMs);
      if (!stored || !caseIds.includes(stored.meta.caseId)) return { state: 'missing' };
      const { type, size, name } = stored.meta;
      return { state: 'ok', type, size, name };
    } catch (err) {
      logger.warn('console evidence unreadable', { caseId: caseIds[0], ref, error: (err as Error).name });
      return { state: 'unreadable' };
    }
  };
  let next = 0;
  const worker = async () => {
    while (next < refs.length) {
      const ref = refs[next++]!;
      files.set(ref, await lookUp(ref));
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOOKUP_CONCURRENCY, refs.length) }, worker));
  return files;
}

const fileUrl = (caseId: string, ref: string) =>
  `/console/cases/${encodeURIComponent(caseId)}/evidence/${ref}`;

function fileItem(lang: Lang, caseId: string, ref: string, info: FileInfo | undefined): Html {
  const w = WORDS[lang];
  // A reference that is not a file sent through the user's page (the backend's own document IDs): as given.
  if (!EVIDENCE_REF.test(ref))
    return html`<li class="evidence-file" data-state="reference"><code class="evidence">${ref}</code></li>`;
  if (info?.state !== 'ok')
    return html`<li
      class="evidence-file placeholder"
      data-ref="${ref}"
      data-state="${info?.state ?? 'unreadable'}"
    >
      <span class="file-placeholder">${info?.state === 'missing' ? w.missing : w.unreadable}</span>
      <code class="muted">${ref}</code>
    </li>`;
  const image = IMAGE_TYPES.includes(info.type);
  return html`<li class="evidence-file" data-ref="${ref}" data-state="ok" data-type="${info.type}">
    <a class="evidence" href="${fileUrl(caseId, ref)}" title="${w.download}"
      ><span class="file-name">${info.name}</span></a
    >
    <span class="file-meta"
      ><span class="file-kind">${w.kind[info.type]}</span> <code>${info.type}</code> ·
      <span class="file-size" data-bytes="${info.size}">${sizeText(lang, info.size)}</span> ·
      <code class="muted">${ref}</code></span
    >
    ${
      image
        ? html`<div class="file-preview">
            <img src="${`${fileUrl(caseId, ref)}/inline`}" alt="${info.name}" />
          </div>`
        : ''
    }
  </li>`;
}

/** The files of one statement or answer, as the case page lists them. */
export function fileList(
  lang: Lang,
  caseId: string,
  refs: readonly string[],
  files: CaseFiles | undefined,
): Html {
  return html`<ul class="evidence-files">
    ${refs.map((ref) => fileItem(lang, caseId, ref, files?.get(ref)))}
  </ul>`;
}

/** Added to the console's stylesheet (the page's CSP allows no inline style). */
export const FILES_CSS = `
ul.evidence-files { list-style:none; padding:0; margin:6px 0; }
.evidence-file { margin:0 0 8px; }
.evidence-file .file-name { font-weight:600; word-break:break-all; }
.evidence-file .file-meta { display:block; font-size:12.5px; color:var(--muted); }
.evidence-file .file-placeholder { display:inline-block; color:var(--warn); background:var(--warn-bg); border-radius:4px; padding:2px 6px; }
.file-preview img { display:block; max-width:100%; max-height:360px; margin:4px 0 0; border:1px solid var(--line); background:#fff; }
`;

export interface InlineImageDeps {
  evidence?: EvidenceStore;
  logger: Logger;
  /** The signed-in reviewer: the route runs after the console's session check. */
  principal(res: Response): Principal;
  lang(res: Response): Lang;
  /** The console's error page, in the reviewer's language. */
  page(req: Request, res: Response, title: string, detail: string): string;
  /** Whether a file kept under `fileCaseId` is shown on `caseId`'s page (its own case, or the one it reviews). */
  fileOfCase(fileCaseId: string, caseId: string, res: Response): Promise<boolean>;
}

/**
 * An image a user sent, for its case's page: only to roles that read case content, only within its own case,
 * only of a kind the store recognises as an image, with the type its bytes say (not its name). The answer may
 * be shown, never run: a sandbox CSP that allows nothing, nosniff, no name in any header.
 */
export function inlineImage(d: InlineImageDeps): RequestHandler {
  return async (req, res) => {
    const caseId = String(req.params.caseId);
    const ref = String(req.params.ref);
    const w = WORDS[d.lang(res)];
    const me = d.principal(res);
    const refuse = (status: 403 | 404 | 503, title: string, detail: string) =>
      void res.status(status).send(d.page(req, res, title, detail));
    if (!REVIEWERS.includes(me.role)) return refuse(403, w.imageMissing, w.imageMissingDetail);
    let stored;
    try {
      stored = d.evidence && EVIDENCE_REF.test(ref) ? await d.evidence.get(ref) : null;
    } catch (err) {
      d.logger.warn('console evidence unreadable', { caseId, ref, error: (err as Error).name });
      res.set('Retry-After', '30');
      return refuse(503, w.imageUnavailable, w.imageUnavailableDetail);
    }
    const type = stored ? sniffType(stored.content) : null;
    if (
      !stored ||
      !(await d.fileOfCase(stored.meta.caseId, caseId, res)) ||
      !type ||
      type !== stored.meta.type ||
      !IMAGE_TYPES.includes(type)
    )
      return refuse(404, w.imageMissing, w.imageMissingDetail);
    d.logger.info('console evidence shown', { principal: me.id, caseId, ref });
    res.set({
      'Content-Type': type,
      'Content-Disposition': `inline; filename="${ref}.${type.slice('image/'.length)}"`,
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'X-Content-Type-Options': 'nosniff',
      'Cross-Origin-Resource-Policy': 'same-origin',
    });
    res.send(stored.content);
  };
}

/**
 * Whether a file kept under `fileCaseId` belongs on `caseId`'s page: its own case's, or the ended case a second
 * review looks at again (the user's page keeps a second review's files under that case, which it knows).
 */
export async function fileOfCase(
  fileCaseId: string,
  caseId: string,
  previousCaseOf: (caseId: string) => Promise<string | undefined>,
): Promise<boolean> {
  if (fileCaseId === caseId) return true;
  if (parseCaseId(fileCaseId)?.accountId !== parseCaseId(caseId)?.accountId) return false;
  return (await previousCaseOf(caseId).catch(() => undefined)) === fileCaseId;
}
