// A case's audit trail in the console, through the API's own route (GET /v1/cases/{id}/audit): a printable page
// of every entry with its time, actor, type and hash, and the signed head; and the export itself as a download,
// to check anywhere with `npx cordon audit verify` (docs/audit.md). Nothing here recomputes or judges a hash:
// the page shows what the export says, the command line checks it.
import type { Request, RequestHandler, Response, Router } from 'express';
import type { AuditExport } from '../api/audit-export';
import type { CallRoute } from '../api/routes/caller';
import type { ChainedEntry } from '../core/audit-chain';
import type { Principal } from '../infra/config';
import { html, type Html } from '../web/html';
import { Problem, problemHeaders } from '../web/problems';
import { when, type Translate } from './i18n';
import { errorPage, layout, problemBox, type PageContext } from './pages';

export interface AuditPageKit {
  call: CallRoute;
  context: (req: Request, res: Response) => PageContext;
  signedIn: RequestHandler;
  principal: (res: Response) => Principal;
}

/** Hashes break anywhere; on paper the console's bars and links go. */
export const AUDIT_CSS = `
.audit-links { display:flex; gap:16px; flex-wrap:wrap; margin:0 0 12px; }
.audit .hash { word-break:break-all; }
.audit td.digests { font-size:12px; color:var(--muted); }
.audit dl.facts dd { word-break:break-all; }
@media print {
  header.top, nav.tools, .no-print { display:none !important; }
  body { background:#fff; }
  main { max-width:none; padding:0; }
  .card { border:none; padding:0; }
  .audit tr { break-inside:avoid; }
}
`;

export const auditPath = (caseId: string) => `/console/cases/${encodeURIComponent(caseId)}/audit`;
export const auditDownloadPath = (caseId: string) => `${auditPath(caseId)}.json`;

/** The two ways to the audit trail, for the case page. */
export function auditLinks(t: Translate, caseId: string): Html {
  return html`<p class="audit-links no-print" id="audit-links">
    <a href="${auditDownloadPath(caseId)}" download id="audit-download">${t('auditExport')}</a>
    <a href="${auditPath(caseId)}" id="audit-view">${t('auditView')}</a>
  </p>`;
}

const actorOf = (e: ChainedEntry) => `${e.actor.kind}:${e.actor.id}`;

/** What an entry says besides its time, actor and type: its codes and IDs, then what its words' digests are. */
function detailsOf(e: ChainedEntry): Html {
  const rest = Object.entries(e).filter(([k]) => !['at', 'actor', 'type', 'digests'].includes(k));
  return html`${rest.map(
    ([k, v]) => html`<span><b>${k}</b>: ${typeof v === 'string' ? v : JSON.stringify(v)}</span>; `,
  )}`;
}

function digestsOf(t: Translate, e: ChainedEntry): Html {
  return html`${Object.entries(e.digests ?? {}).map(
    ([field, digest]) =>
      html`<div data-field="${field}">
        ${t('auditDigest', { field })}: <code class="hash">${digest}</code>
      </div>`,
  )}`;
}

function headCard(t: Translate, x: AuditExport): Html {
  const h = x.head;
  return html`<div class="card" id="audit-head">
    <h2>${t('auditHead')}</h2>
    <dl class="facts">
      <dt>${t('caseCol')}</dt>
      <dd><code>${h.caseId}</code></dd>
      <dt>${t('auditChained')}</dt>
      <dd data-chained="${String(h.chained)}">${h.chained ? t('yes') : t('no')}</dd>
      <dt>${t('auditEntryCount')}</dt>
      <dd id="audit-count">${h.entryCount}</dd>
      <dt>${t('auditHeadHash')}</dt>
      <dd><code class="hash" id="audit-head-hash">${h.headHash ?? '—'}</code></dd>
      <dt>${t('auditExportedAt')}</dt>
      <dd>${when(h.exportedAt)} <span class="muted code">${h.exportedAt}</span></dd>
      <dt>${t('auditKeyId')}</dt>
      <dd><code id="audit-key">${h.keyId}</code></dd>
      <dt>${t('auditSignature')}</dt>
      <dd><code class="hash" id="audit-signature">${x.signature}</code></dd>
    </dl>
  </div>`;
}

export function auditPage(ctx: PageContext, x: AuditExport): string {
  const { t } = ctx;
  return layout(
    ctx,
    t('auditTitle', { id: x.caseId }),
    html`<div class="audit">
      <p class="no-print"><a href="/console/cases/${encodeURIComponent(x.caseId)}">${t('auditBack')}</a></p>
      <h1>${t('auditTitle', { id: x.caseId })}</h1>
      <p>${t('auditIntro')}</p>
      ${
        x.head.chained
          ? ''
          : html`<div class="alert error" role="alert" id="audit-unchained">
              ${t('auditNotChained', { rules: x.rulesVersion })}
            </div>`
      }
      ${x.erased ? html`<div class="alert ok" id="audit-erased">${t('auditErased', { at: when(x.erased.at) })}</div>` : ''}
      <p class="no-print">
        <a href="${auditDownloadPath(x.caseId)}" download>${t('auditDownload')}</a> ·
        <span class="muted">${t('auditPrint')}</span>
      </p>
      <p class="muted">${t('auditVerify')}</p>
      ${headCard(t, x)}
      <div class="card">
        <h2>${t('auditEntries')}</h2>
        <table id="audit-entries">
          <thead>
            <tr>
              <th>#</th>
              <th>${t('when')}</th>
              <th>${t('actor')}</th>
              <th>${t('what')}</th>
              <th>${t('auditHash')}</th>
              <th>${t('details')}</th>
            </tr>
          </thead>
          <tbody>
            ${x.entries.map(
              ({ entry, hash }, i) =>
                html`<tr data-index="${i}" data-type="${entry.type}">
                  <td>${i}</td>
                  <td>${when(entry.at)}</td>
                  <td><code>${actorOf(entry)}</code></td>
                  <td><code>${entry.type}</code></td>
                  <td><code class="hash">${hash ?? '—'}</code></td>
                  <td class="details">
                    ${detailsOf(entry)}
                    <div class="digests">${digestsOf(t, entry)}</div>
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </div>`,
  );
}

export function auditPageRoutes(router: Router, k: AuditPageKit): void {
  const exportOf = (req: Request, res: Response) =>
    k.call('get', '/v1/cases/:caseId/audit', k.principal(res), {
      params: { caseId: String(req.params.caseId) },
    }) as Promise<AuditExport>;

  const refused = (req: Request, res: Response, err: unknown) => {
    if (!(err instanceof Problem)) throw err;
    const ctx = k.context(req, res);
    const title =
      err.status === 404 || err.extra.code === 'VALIDATION_FAILED' ? ctx.t('caseNotFound') : ctx.t('failed');
    res
      .set(problemHeaders(err))
      .status(err.status)
      .send(errorPage(ctx, title, problemBox(ctx.t, err)));
  };

  router.get('/cases/:caseId/audit.json', k.signedIn, async (req, res) => {
    let x: AuditExport;
    try {
      x = await exportOf(req, res);
    } catch (err) {
      return refused(req, res, err);
    }
    // Case IDs are letters, digits, "_", "-" and one ".": safe in a file name.
    res.set('Content-Disposition', `attachment; filename="audit-${x.caseId}.json"`);
    res.type('application/json').send(`${JSON.stringify(x, null, 2)}\n`);
  });

  router.get('/cases/:caseId/audit', k.signedIn, async (req, res) => {
    try {
      res.send(auditPage(k.context(req, res), await exportOf(req, res)));
    } catch (err) {
      refused(req, res, err);
    }
  });
}
