// The case page's account history: the account's other ended cases with their outcomes and dates, from the
// archive (GET /v1/ended-cases?accountId=), so a reviewer sees what was decided for this account before.
import type { CaseSummary } from '../api/case-reads';
import { Problem } from '../web/problems';
import type { CallRoute } from '../api/routes/caller';
import type { Principal } from '../infra/config';
import { href, html, type Html } from '../web/html';
import { caseTable } from './case-lists';
import type { Translate } from './i18n';

/** How many of the account's ended cases the case page asks for. */
export const HISTORY_LIMIT = 20;

/**
 * The account's cases other than this one: undefined leaves the section out; null says the history could not be
 * read (the page itself still opens).
 */
export type AccountHistory = CaseSummary[] | null | undefined;

export function accountHistory(
  t: Translate,
  v: { caseId: string; accountId: string },
  history: AccountHistory,
): Html {
  if (history === undefined) return html``;
  const others = history?.filter((c) => c.caseId !== v.caseId);
  return html`<div class="card" id="account-history">
    <h2>${t('accountHistory')}</h2>
    ${
      others === undefined
        ? html`<p class="muted">${t('historyUnavailable')}</p>`
        : others.length
          ? html`<p class="muted">${t('accountHistoryIntro', { account: v.accountId })}</p>
              ${caseTable(t, others, { id: 'history', account: false })}`
          : html`<p class="muted">${t('noHistory')}</p>`
    }
    <p><a href="${href('/console/search', { q: v.accountId })}">${t('allCases')}</a></p>
  </div>`;
}

/** The account's ended cases through the API's own route; a refusal or an outage leaves the page without them. */
export async function historyOf(
  call: CallRoute,
  principal: Principal,
  accountId: string,
): Promise<CaseSummary[] | null> {
  try {
    const answer = (await call('get', '/v1/ended-cases', principal, {
      query: { accountId, limit: String(HISTORY_LIMIT) },
    })) as { items: CaseSummary[] };
    return answer.items;
  } catch (err) {
    if (err instanceof Problem) return null;
    throw err;
  }
}
