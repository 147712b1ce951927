// Server-rendered pages: the layout, sign-in, the queue, and errors. Every value goes through `html`, which
// escapes it.
import type { Problem } from '../web/problems';
import type { Principal } from '../infra/config';
import { ASSET_VERSION } from './assets';
import { href, html, type Html } from '../web/html';
import { LANGS, type Lang } from '../web/i18n';
import { label, timeLeft, translator, when, type Translate } from './i18n';
import { breached, dueOf, FACETS, facetValues, type Facet, type QueueFilter, type QueueRow } from './queue';

export interface PageContext {
  t: Translate;
  lang: Lang;
  principal?: Principal;
  /** The CSRF token every form carries. */
  csrf: string;
  /** This page's path and query: where the language switch comes back to. */
  here: string;
}

export const csrfField = (ctx: PageContext): Html =>
  html`<input type="hidden" name="_csrf" value="${ctx.csrf}" />`;

export function layout(ctx: PageContext, title: string, body: Html): string {
  const { t } = ctx;
  const other = LANGS.filter((l) => l !== ctx.lang);
  return html`<!doctype html>
    <html lang="${ctx.lang}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · ${t('app')}</title>
        <link rel="stylesheet" href="/console/assets/console.css?v=${ASSET_VERSION}" />
        <script src="/console/assets/console.js?v=${ASSET_VERSION}" defer></script>
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/console/queue">${t('app')}</a>
          ${ctx.principal ? html`<a href="/console/queue">${t('queue')}</a>` : ''}
          <span class="lang"
            >${other.map(
              (l) =>
                html`<a href="${href('/console/lang', { to: l, back: ctx.here })}" hreflang="${l}" lang="${l}"
                  >${translator(l)('langName')}</a
                >`,
            )}</span
          >
          ${
            ctx.principal
              ? html`<span class="who"
                    >${t('signedInAs', { id: ctx.principal.id, role: label(t, 'role', ctx.principal.role) })}</span
                  >
                  <form method="post" action="/console/logout">
                    ${csrfField(ctx)}<button type="submit">${t('signOut')}</button>
                  </form>`
              : ''
          }
        </header>
        ${
          ctx.principal
            ? html`<nav class="tools">
                <a href="/console/ended">${t('endedCases')}</a>
                ${ctx.principal.role === 'senior' || ctx.principal.role === 'admin' ? html`<a href="/console/bulk-actions">${t('bulkActions')}</a>` : ''}
                <form class="search" method="get" action="/console/search" role="search">
                  <input
                    type="search"
                    name="q"
                    aria-label="${t('searchLabel')}"
                    placeholder="${t('searchLabel')}"
                  />
                  <button type="submit" class="secondary">${t('search')}</button>
                </form>
              </nav>`
            : ''
        }
        <main>${body}</main>
      </body>
    </html> `.text;
}

/** A refusal or an error, shown where the reviewer acted: what happened, in their language, and the API's code. */
export function problemBox(t: Translate, p: Problem): Html {
  const code = p.extra.code;
  const known = code ? label(t, 'problem', code) : undefined;
  const headline =
    p.status === 409 || p.status === 403 ? t('refused') : p.status >= 500 ? t('failed') : p.title;
  return html`<div class="alert error" role="alert" data-status="${p.status}" data-code="${code ?? ''}">
    <strong>${headline}</strong>
    ${known && known !== code ? html`<p>${known}</p>` : ''}
    <p class="code">${p.status}${code ? ` ${code}` : ''}${p.detail ? `: ${p.detail}` : ''}</p>
    ${
      p.extra.errors?.length
        ? html`<ul>
            ${p.extra.errors.map((e) => html`<li><code>${e.path}</code>: ${e.message}</li>`)}
          </ul>`
        : ''
    }
  </div>`;
}

export function errorPage(ctx: PageContext, title: string, detail: Html | string): string {
  return layout(
    ctx,
    title,
    html`<div class="card">
      <h1>${title}</h1>
      <div>${detail}</div>
      ${ctx.principal ? html`<p><a href="/console/queue">${ctx.t('backToQueue')}</a></p>` : ''}
    </div>`,
  );
}

export function loginPage(
  ctx: PageContext,
  o: { next: string; message?: { kind: 'error' | 'info'; text: string }; devTokens: boolean },
): string {
  const { t } = ctx;
  return layout(
    ctx,
    t('signIn'),
    html`<div class="card login">
      <h1>${t('signInTitle')}</h1>
      ${o.message ? html`<div class="alert ${o.message.kind}" role="alert">${o.message.text}</div>` : ''}
      <form method="post" action="/console/login">
        ${csrfField(ctx)}
        <input type="hidden" name="next" value="${o.next}" />
        <div class="field">
          <label for="token">${t('token')}</label>
          <input type="password" id="token" name="token" required autocomplete="off" autofocus />
          <p class="hint">${t('tokenHelp')}</p>
          ${o.devTokens ? html`<p class="hint">${t('devTokens')}</p>` : ''}
        </div>
        <button type="submit">${t('signIn')}</button>
      </form>
    </div>`,
  );
}

export interface QueueModel {
  rows: QueueRow[];
  total: number;
  filter: QueueFilter;
  counts: Record<Facet, Map<string, number>>;
  unknownReasons: number;
  refreshSeconds: number;
  now: number;
  /** Over the queue: tripped guards (console/guard-banner.ts), or a notice of what was just done. */
  banner?: Html | '';
}

function facetSelect(t: Translate, facet: Facet, m: QueueModel): Html {
  const counts = m.counts[facet];
  const name = (v: string) =>
    facet === 'status'
      ? label(t, 'status', v)
      : facet === 'tier'
        ? label(t, 'tier', v)
        : facet === 'assignee'
          ? t(v === 'mine' ? 'mine' : 'unassigned')
          : facet === 'escalated' || facet === 'secondReview'
            ? t(v === 'yes' ? 'yes' : 'no')
            : v;
  const title = facet === 'escalated' ? t('escalated') : t(facet);
  return html`<label
    >${title}
    <select name="${facet}" data-autosubmit>
      <option value="">${t('all')} (${counts.get('') ?? 0})</option>
      ${facetValues(facet).map(
        (v) =>
          html`<option value="${v}" ${m.filter[facet] === v ? html` selected` : ''}>
            ${name(v)} (${counts.get(v) ?? 0})
          </option>`,
      )}
    </select></label
  >`;
}

export function queuePage(ctx: PageContext, m: QueueModel): string {
  const { t } = ctx;
  const me = ctx.principal?.id;
  const rows = m.rows.map((r) => {
    const late = breached(r, m.now);
    // A case pending approval waits for its approval SLA, not a review deadline.
    const due = dueOf(r);
    const left = due ? timeLeft(t, due, m.now) : undefined;
    return html`<tr class="${late ? 'escalated' : ''}" data-case-id="${r.caseId}">
      <td>
        <a href="/console/cases/${encodeURIComponent(r.caseId)}"><code>${r.caseId}</code></a>
        ${late ? html` <span class="badge danger" title="${t('escalatedHint')}">${t('escalated')}</span>` : ''}
        ${r.secondReview ? html` <span class="badge" title="${t('secondReviewHint')}">${t('secondReview')}</span>` : ''}
      </td>
      <td><code>${r.accountId}</code></td>
      <td><span class="badge tier-${r.tier}">${label(t, 'tier', r.tier)}</span></td>
      <td>${label(t, 'status', r.status)}</td>
      <td>${r.reasonCodes === null ? '?' : r.reasonCodes.map((c) => html`<code>${c}</code> `)}</td>
      <td>
        ${r.assignee === null ? html`<span class="muted">${t('nobody')}</span>` : r.assignee === me ? html`<b>${r.assignee}</b> (${t('you')})` : r.assignee}
      </td>
      <td>
        ${left ? html`<span class="${left.overdue ? 'overdue' : ''}" title="${when(due!)}">${left.text}</span>${r.reviewDueAt ? '' : html` <span class="muted">(${t('deadline.approvalDueAt')})</span>`}` : '—'}
      </td>
    </tr>`;
  });
  const filtered = Object.values(m.filter).some(Boolean);
  return layout(
    ctx,
    t('queue'),
    html`<h1>${t('queue')}</h1>
      ${m.banner ?? ''}
      <p class="muted">${t('queueIntro')}</p>
      <section id="queue" data-refresh="${m.refreshSeconds}">
        <div class="card">
          <form class="filters" method="get" action="/console/queue">
            ${FACETS.map((f) => facetSelect(t, f, m))}
            <button type="submit" class="secondary">${t('apply')}</button>
            ${filtered ? html`<a href="/console/queue">${t('clear')}</a>` : ''}
          </form>
        </div>
        <div class="card">
          <p class="muted">
            <span id="queue-count">${t('shown', { shown: m.rows.length, total: m.total })}</span> ·
            ${t('refreshes', { s: m.refreshSeconds, time: when(new Date(m.now).toISOString()) })}
            ${m.unknownReasons ? html` · ${t('reasonsUnknown', { n: m.unknownReasons })}` : ''}
          </p>
          ${
            m.rows.length
              ? html`<table>
                  <thead>
                    <tr>
                      <th>${t('caseCol')}</th>
                      <th>${t('account')}</th>
                      <th>${t('tier')}</th>
                      <th>${t('status')}</th>
                      <th>${t('reasons')}</th>
                      <th>${t('assignee')}</th>
                      <th>${t('sla')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${rows}
                  </tbody>
                </table>`
              : html`<p>${t('noCases')}</p>`
          }
        </div>
      </section>`,
  );
}
