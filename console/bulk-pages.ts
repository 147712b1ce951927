// The console's bulk actions (issue 20): the list, and one action's progress (done, skipped with the reason,
// failed, still to do), refreshing itself while it runs; a second senior approves a pending one and a senior
// cancels, through the API's own routes (GET /v1/bulk-actions, GET /v1/bulk-actions/{id}, its approval and
// cancel). Seniors and admins only, as the API says.
import type { Response, Router } from 'express';
import type { BulkSummary, BulkView } from '../api/bulk-actions';
import { Problem, problemHeaders } from '../web/problems';
import { href, html, type Html } from '../web/html';
import type { CaseListKit } from './case-list-routes';
import { when } from './i18n';
import { csrfField, errorPage, layout, problemBox, type PageContext } from './pages';

/** How often a running action's page reloads itself. */
const REFRESH_S = 3;

function listPage(ctx: PageContext, items: readonly BulkSummary[]): string {
  const { t } = ctx;
  return layout(
    ctx,
    t('bulkActions'),
    html`<h1>${t('bulkActions')}</h1>
      <p class="muted">${t('bulkIntro')}</p>
      <div class="card">
        <table>
          <thead>
            <tr>
              <th>${t('bulkId')}</th>
              <th>${t('bulkAction')}</th>
              <th>${t('bulkStatus')}</th>
              <th>${t('bulkProgress')}</th>
              <th>${t('bulkRequested')}</th>
            </tr>
          </thead>
          <tbody>
            ${items.map(
              (b) =>
                html`<tr data-bulk-id="${b.bulkId}">
                  <td>
                    <a href="/console/bulk-actions/${encodeURIComponent(b.bulkId)}"
                      ><code>${b.bulkId}</code></a
                    >
                  </td>
                  <td>${b.action}</td>
                  <td>${b.status}</td>
                  <td>
                    ${t('bulkCounts', { done: b.done, total: b.total, skipped: b.skippedCount, failed: b.failed })}
                  </td>
                  <td>${b.requestedBy} · ${when(b.createdAt)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        ${items.length ? '' : html`<p class="muted">${t('bulkNone')}</p>`}
      </div>`,
  );
}

function actionPage(ctx: PageContext, b: BulkView, me: string): string {
  const { t } = ctx;
  const running = b.status === 'RUNNING';
  const form = (what: 'approval' | 'cancel', label: string) =>
    html`<form method="post" action="/console/bulk-actions/${encodeURIComponent(b.bulkId)}/${what}">
      ${csrfField(ctx)}<button type="submit" class="${what === 'cancel' ? 'secondary' : ''}">${label}</button>
    </form>`;
  const list = (rows: readonly { caseId: string; reason: string }[]): Html =>
    html`<ul>
      ${rows.map(
        (r) =>
          html`<li>
            <a href="/console/cases/${encodeURIComponent(r.caseId)}"><code>${r.caseId}</code></a
            >: <code>${r.reason}</code>
          </li>`,
      )}
    </ul>`;
  return layout(
    ctx,
    `${t('bulkActions')} ${b.bulkId}`,
    html`<p><a href="/console/bulk-actions">← ${t('bulkActions')}</a></p>
      <h1>${t('bulkActions')} <code>${b.bulkId}</code></h1>
      <section
        class="card"
        id="bulk"
        data-status="${b.status}"
        ${running ? html`data-refresh="${REFRESH_S}"` : ''}
      >
        <p>
          <b>${b.action}</b> · ${b.status} ·
          ${t('bulkCounts', { done: b.done, total: b.total, skipped: b.skipped.length, failed: b.failed })}
        </p>
        <progress max="${b.total}" value="${b.done + b.skipped.length + b.failed}"></progress>
        <p class="muted">${t('bulkBy', { requested: b.requestedBy, approved: b.approvedBy ?? '—' })}</p>
        <p>${b.explanation.text}</p>
        ${b.status === 'PENDING_APPROVAL' && b.requestedBy !== me ? form('approval', t('bulkApprove')) : ''}
        ${b.status === 'PENDING_APPROVAL' && b.requestedBy === me ? html`<p class="muted">${t('bulkOtherApproves')}</p>` : ''}
        ${b.status === 'PENDING_APPROVAL' || running ? form('cancel', t('bulkCancel')) : ''}
      </section>
      ${
        b.skipped.length
          ? html`<section class="card">
              <h2>${t('bulkSkipped')}</h2>
              ${list(b.skipped)}
            </section>`
          : ''
      }
      ${
        b.failures.length
          ? html`<section class="card">
              <h2>${t('bulkFailed')}</h2>
              ${list(b.failures)}
            </section>`
          : ''
      }`,
  );
}

export function bulkPageRoutes(router: Router, k: CaseListKit): void {
  const failed = (res: Response, ctx: PageContext, title: string, p: Problem) =>
    void res
      .set(problemHeaders(p))
      .status(p.status)
      .send(errorPage(ctx, title, problemBox(ctx.t, p)));

  router.get('/bulk-actions', k.signedIn, async (req, res) => {
    const ctx = k.context(req, res);
    try {
      const { items } = (await k.call('get', '/v1/bulk-actions', k.principal(res), {})) as {
        items: BulkSummary[];
      };
      res.send(listPage(ctx, items));
    } catch (err) {
      if (!(err instanceof Problem)) throw err;
      failed(res, ctx, ctx.t('bulkActions'), err);
    }
  });

  router.get('/bulk-actions/:bulkId', k.signedIn, async (req, res) => {
    const ctx = k.context(req, res);
    const me = k.principal(res);
    try {
      const view = (await k.call('get', '/v1/bulk-actions/:bulkId', me, {
        params: { bulkId: String(req.params.bulkId) },
      })) as BulkView;
      res.send(actionPage(ctx, view, me.id));
    } catch (err) {
      if (!(err instanceof Problem)) throw err;
      failed(res, ctx, ctx.t('bulkActions'), err);
    }
  });

  for (const what of ['approval', 'cancel'] as const)
    router.post(`/bulk-actions/:bulkId/${what}`, k.signedIn, async (req, res) => {
      const bulkId = String(req.params.bulkId);
      try {
        await k.call('post', `/v1/bulk-actions/:bulkId/${what}`, k.principal(res), { params: { bulkId } });
      } catch (err) {
        if (!(err instanceof Problem)) throw err;
        const ctx = k.context(req, res);
        return failed(res, ctx, ctx.t('bulkActions'), err);
      }
      res.redirect(303, href(`/console/bulk-actions/${encodeURIComponent(bulkId)}`, {}));
    });
}
