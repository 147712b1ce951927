// The case page's facts about the case: the summary (account, tier, status, assignee, the second review's
// links), the deadlines, and the reasons with the reviewer's guidance and what each rests on.
import type { CaseDetails } from '../api/case-reads';
import { REASONS } from '../core/reasons';
import { html, type Html } from '../web/html';
import type { Lang } from '../web/i18n';
import { reasonEvidence } from './case-evidence';
import type { ConsoleCase } from './case-model';
import { label, timeLeft, when, type Translate } from './i18n';

export function summary(t: Translate, v: ConsoleCase, me: string): Html {
  return html`<div class="card">
    <h2>${t('summary')}</h2>
    <dl class="facts">
      <dt>${t('account')}</dt>
      <dd><code>${v.accountId}</code></dd>
      <dt>${t('tier')}</dt>
      <dd><span class="badge tier-${v.tier}">${label(t, 'tier', v.tier)}</span> <code>${v.tier}</code></dd>
      <dt>${t('status')}</dt>
      <dd id="case-status" data-status="${v.status}">
        ${label(t, 'status', v.status)}
        <code>${v.status}</code>
        ${v.escalated ? html` <span class="badge danger" title="${t('escalatedHint')}">${t('escalated')}</span>` : ''}
      </dd>
      <dt>${t('restricted')}</dt>
      <dd>${v.restricted ? t('yes') : t('no')}</dd>
      <dt>${t('score')}</dt>
      <dd>${v.score}</dd>
      <dt>${t('policyVersion')}</dt>
      <dd><code>${v.policyVersion}</code> <span class="muted code">${v.policyHash.slice(0, 12)}</span></dd>
      <dt>${t('openedAt')}</dt>
      <dd>${when(v.openedAt)}</dd>
      <dt>${t('locale')}</dt>
      <dd>${v.locale}</dd>
      ${secondReviewLinks(t, v)}
      <dt>${t('assignee')}</dt>
      <dd id="case-assignee">
        ${v.assignee === null ? t('nobody') : v.assignee === me ? html`<b>${v.assignee}</b> (${t('you')})` : v.assignee}
      </dd>
    </dl>
  </div>`;
}

export function deadlines(t: Translate, v: ConsoleCase, now: number): Html {
  const entries = Object.entries(v.deadlines).filter((e): e is [string, string] => typeof e[1] === 'string');
  return html`<div class="card">
    <h2>${t('deadlines')}</h2>
    ${
      entries.length
        ? html`<table>
            <thead>
              <tr>
                <th>${t('deadline')}</th>
                <th>${t('when')}</th>
                <th>${t('timeLeft')}</th>
              </tr>
            </thead>
            <tbody>
              ${entries.map(([name, at]) => {
                const left = timeLeft(t, at, now);
                return html`<tr>
                  <td>${label(t, 'deadline', name)}</td>
                  <td>${when(at)}</td>
                  <td class="${left.overdue ? 'overdue' : ''}">${left.text}</td>
                </tr>`;
              })}
            </tbody>
          </table>`
        : html`<p class="muted">${t('noDeadlines')}</p>`
    }
  </div>`;
}

/** The reviewer's guidance in the reviewer's language (the API's per-locale form, else the catalogue's). */
export function reasons(t: Translate, v: ConsoleCase, lang: Lang): Html {
  return html`<div class="card">
    <h2>${t('reasons')}</h2>
    <table>
      <thead>
        <tr>
          <th>${t('reason')}</th>
          <th>${t('contribution')}</th>
          <th>${t('reviewerNote')}</th>
        </tr>
      </thead>
      <tbody>
        ${v.reasons.map(
          (r) =>
            html`<tr data-reason="${r.code}">
                <td><code>${r.code}</code><br /><span class="muted code">${r.ruleId}</span></td>
                <td>+${r.contribution}</td>
                <td class="guidance" lang="${lang}">
                  ${r.explanation?.reviewerByLocale?.[lang] ?? REASONS[r.code]?.reviewer[lang] ?? ''}
                </td>
              </tr>
              <tr class="evidence-row">
                <td colspan="3">${reasonEvidence(t, lang, r.code, v.evidence?.[r.code])}</td>
              </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

/** A second review and the ended case it reviews again link each other. */
function secondReviewLinks(t: Translate, v: CaseDetails): Html | string {
  const link = (id: string) =>
    html`<a href="/console/cases/${encodeURIComponent(id)}"><code>${id}</code></a>`;
  if (v.secondReview && v.previousCaseId)
    return html`<dt>${t('secondReviewOf')}</dt>
      <dd id="second-review-of">
        <span class="badge" title="${t('secondReviewHint')}">${t('secondReview')}</span>
        ${link(v.previousCaseId)}
      </dd>`;
  if (v.secondReviewCaseId)
    return html`<dt>${t('secondReview')}</dt>
      <dd id="second-review-case">${link(v.secondReviewCaseId)}</dd>`;
  if (v.secondReviewAllowedUntil)
    return html`<dt>${t('secondReview')}</dt>
      <dd id="second-review-until">
        ${t('secondReviewUntil', { time: when(v.secondReviewAllowedUntil) })}
      </dd>`;
  return '';
}
