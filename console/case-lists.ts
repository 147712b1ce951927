// Lists of cases beyond the queue: the search by case or account ID, and the ended cases with their filters. Both
// show what the API's lists answer (identifiers, codes, dates), and every case links to its page.
import type { CaseSummary } from '../api/case-reads';
import type { Problem } from '../web/problems';
import { OUTCOMES, REASON_CODES } from '../core/model';
import { href, html, type Html } from '../web/html';
import { label, when, type Translate } from './i18n';
import { layout, problemBox, type PageContext } from './pages';

const caseLink = (caseId: string) => `/console/cases/${encodeURIComponent(caseId)}`;

/** A table of cases; `account: false` leaves the account column out (every row is the same account's). */
export function caseTable(
  t: Translate,
  items: readonly CaseSummary[],
  o: { id: string; account?: boolean },
): Html {
  const account = o.account ?? true;
  return html`<table id="${o.id}">
    <thead>
      <tr>
        <th>${t('caseCol')}</th>
        ${account ? html`<th>${t('account')}</th>` : ''}
        <th>${t('state')}</th>
        <th>${t('status')}</th>
        <th>${t('tier')}</th>
        <th>${t('reasons')}</th>
        <th>${t('openedAt')}</th>
        <th>${t('endedAt')}</th>
      </tr>
    </thead>
    <tbody>
      ${items.map(
        (c) =>
          html`<tr data-case-id="${c.caseId}" data-open="${String(c.open)}" data-outcome="${c.outcome ?? ''}">
            <td>
              <a href="${caseLink(c.caseId)}"><code>${c.caseId}</code></a>
            </td>
            ${account ? html`<td><code>${c.accountId}</code></td>` : ''}
            <td>${c.open ? t('stateOpen') : t('stateEnded')}</td>
            <td>${label(t, 'status', c.status)} <code>${c.status}</code></td>
            <td><span class="badge tier-${c.tier}">${label(t, 'tier', c.tier)}</span></td>
            <td>${c.reasonCodes.map((r) => html`<code>${r}</code> `)}</td>
            <td>${c.openedAt ? when(c.openedAt) : '—'}</td>
            <td>${c.endedAt ? when(c.endedAt) : '—'}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export interface SearchModel {
  q: string;
  /** The cases found; undefined before a search or when it was refused. */
  items?: CaseSummary[];
  /** Why the search was refused (a malformed ID: 400), shown in place with what was typed. */
  refused?: Problem;
}

export function searchPage(ctx: PageContext, m: SearchModel): string {
  const { t } = ctx;
  return layout(
    ctx,
    t('searchTitle'),
    html`<h1>${t('searchTitle')}</h1>
      <p class="muted">${t('searchIntro')}</p>
      <div class="card">
        <form class="filters" id="search-form" method="get" action="/console/search" role="search">
          <label
            >${t('searchLabel')}
            <input type="search" name="q" value="${m.q}" required maxlength="80" autocomplete="off"
          /></label>
          <button type="submit">${t('search')}</button>
        </form>
        ${
          m.refused
            ? html`<p class="field-error" data-field="q">${t('searchBad')}</p>
                ${problemBox(t, m.refused)}`
            : ''
        }
      </div>
      ${
        m.items
          ? html`<div class="card" id="search-results">
              <p class="muted">${t('found', { n: m.items.length })}</p>
              ${m.items.length ? caseTable(t, m.items, { id: 'found' }) : html`<p>${t('searchNone', { q: m.q })}</p>`}
            </div>`
          : ''
      }`,
  );
}

/** The ended list's filters as the form gives them: dates as YYYY-MM-DD (UTC days, as the console shows times). */
export interface EndedFilter {
  outcome?: string;
  reason?: string;
  from?: string;
  to?: string;
  after?: string;
}

export interface EndedModel {
  filter: EndedFilter;
  items: CaseSummary[];
  next: string | null;
  /** Fewer cases than a page holds, yet a next page: the page stopped reading, older ones may match. */
  short: boolean;
  refused?: Problem;
}

function choice(
  name: string,
  title: string,
  values: readonly string[],
  chosen: string | undefined,
  t: Translate,
) {
  return html`<label
    >${title}
    <select name="${name}">
      <option value="">${t('all')}</option>
      ${values.map(
        (v) =>
          html`<option value="${v}" ${chosen === v ? html` selected` : ''}>
            ${name === 'outcome' ? label(t, 'status', v) : v}
          </option>`,
      )}
    </select></label
  >`;
}

export function endedPage(ctx: PageContext, m: EndedModel): string {
  const { t } = ctx;
  const f = m.filter;
  const filtered = [f.outcome, f.reason, f.from, f.to].some(Boolean);
  const keep = { outcome: f.outcome, reason: f.reason, from: f.from, to: f.to };
  return layout(
    ctx,
    t('endedCases'),
    html`<h1>${t('endedCases')}</h1>
      <p class="muted">${t('endedIntro')}</p>
      <div class="card">
        <form class="filters" id="ended-filters" method="get" action="/console/ended">
          ${choice('outcome', t('outcome'), OUTCOMES, f.outcome, t)}
          ${choice('reason', t('reason'), REASON_CODES, f.reason, t)}
          <label>${t('endedFrom')} <input type="date" name="from" value="${f.from ?? ''}" /></label>
          <label>${t('endedTo')} <input type="date" name="to" value="${f.to ?? ''}" /></label>
          <button type="submit" class="secondary">${t('apply')}</button>
          ${filtered ? html`<a href="/console/ended">${t('clear')}</a>` : ''}
        </form>
        ${m.refused ? problemBox(t, m.refused) : ''}
      </div>
      <div class="card" id="ended">
        ${m.items.length ? caseTable(t, m.items, { id: 'ended-cases' }) : html`<p>${t('noEnded')}</p>`}
        ${m.short ? html`<p class="muted">${t('moreMayFollow')}</p>` : ''}
        <p>
          ${f.after ? html`<a id="newest" href="${href('/console/ended', keep)}">${t('newestCases')}</a> ` : ''}
          ${m.next ? html`<a id="older" href="${href('/console/ended', { ...keep, after: m.next })}">${t('olderCases')}</a>` : ''}
        </p>
      </div>`,
  );
}
