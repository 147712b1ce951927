// The user's pages, server-rendered with the escaping `html` template (web/html.ts): the case page, the result
// of an action, and the neutral, limit and error pages. No script at all: everything works with JavaScript off.
import { formatMoment } from '../activities/mail-templates';
import { REASONS } from '../core/reasons';
import { href, html, type Html } from '../web/html';
import { duration, unitsIn } from '../web/i18n';
import { historyKey, outcomeKey, tierKey, type PortalKey } from './i18n';
import type { UserCase } from './view';
import type { PortalContext } from './context';
import { filesField, hidden, statementField, type FormHidden } from './form-parts';
import { layout } from './layout';
import type { LetterPolicy } from './letter';
import { nextStepsSection } from './next-steps';
import { offersSecondReview, outcomeSection } from './outcome';
import { failureBox, keptText, type Failure } from './refusal';

export { portalContext, type PortalContext } from './context';
export { layout } from './layout';
export type { FormHidden } from './form-parts';
export type { Failure } from './refusal';

export interface CasePageInput {
  view: UserCase;
  /** `/u/<token>`: the page's own path, and the forms' base. */
  base: string;
  forms: FormHidden;
  /** Whether step-up verification can be started from here (a provider, or the development stand-in). */
  verificationAvailable: boolean;
  failure?: Failure;
  /** The running policy's capabilities and complaints channels, for an ended case's outcome. */
  policy?: LetterPolicy;
}

export function casePage(ctx: PortalContext, input: CasePageInput): string {
  const { t } = ctx;
  const v = input.view;
  const ended = v.outcome !== null;
  const title = ended
    ? t(outcomeKey(v.outcome!))
    : v.restricted && v.tier !== 'NONE'
      ? t(tierKey(v.tier))
      : t('notRestricted');
  const f = input.failure;
  const confirmOpen = v.confirmFrom === null || Date.parse(v.confirmFrom) <= ctx.now;
  const shown: Record<Failure['form'], boolean> = {
    verify: v.canVerify,
    confirm: v.canConfirm && confirmOpen,
    appeal: v.canAppeal,
    info: v.canAnswer || v.canAddInfo,
    secondReview: offersSecondReview(v, ctx.now),
  };
  // What the user typed in a refused form comes back, into a form or shown with the refusal.
  const kept = keptText(f, shown);
  const typed = (form: Failure['form']) => (kept?.into === form ? kept.text : '');

  const outcome = ended
    ? outcomeSection(ctx, v, {
        base: input.base,
        forms: input.forms,
        policy: input.policy,
        failure: f,
        typed: typed('secondReview'),
      })
    : '';

  const reasons = v.reasons.length
    ? html`<section class="card" aria-labelledby="why-h">
        <h2 id="why-h">${t('why')}</h2>
        <ul class="reasons">
          ${v.reasons.map((c) => html`<li>${REASONS[c].user[ctx.lang]}</li>`)}
        </ul>
      </section>`
    : '';

  const nextSteps = ended ? '' : nextStepsSection(ctx, v);

  const actionBase = (name: string) => `${input.base}/${name}`;
  const verify = v.canVerify
    ? html`<section class="card action" aria-labelledby="verify-h">
        <h2 id="verify-h">${t('verifyTitle')}</h2>
        ${f?.form === 'verify' ? failureBox(ctx, f) : ''}
        ${
          input.verificationAvailable
            ? html`<p>${t('verifyText')}</p>
                <form method="post" action="${actionBase('verify')}">
                  ${hidden(ctx, input.forms)}
                  <button type="submit">${t('verifyButton')}</button>
                </form>`
            : html`<p>${t('verifyUnavailable')}</p>`
        }
      </section>`
    : '';

  const confirm = v.canConfirm
    ? html`<section class="card action" aria-labelledby="confirm-h">
        <h2 id="confirm-h">${t('confirmTitle')}</h2>
        ${f?.form === 'confirm' ? failureBox(ctx, f) : ''}
        <p>${t('confirmText')}</p>
        ${
          confirmOpen
            ? html`<form method="post" action="${actionBase('confirm')}">
                ${hidden(ctx, input.forms)}
                <div class="field check">
                  <input type="checkbox" id="confirm-check" name="confirm" value="yes" required />
                  <label for="confirm-check">${t('confirmCheck')}</label>
                </div>
                <button type="submit">${t('confirmButton')}</button>
              </form>`
            : html`<p class="muted">
                ${t('confirmLater', {
                  at: formatMoment(v.confirmFrom!, ctx.lang, ctx.tz),
                  d: duration(unitsIn(ctx.lang), Date.parse(v.confirmFrom!) - ctx.now),
                })}
              </p>`
        }
      </section>`
    : '';

  const appeal = v.canAppeal
    ? html`<section class="card action" aria-labelledby="appeal-h">
        <h2 id="appeal-h">${t('appealTitle')}</h2>
        ${f?.form === 'appeal' ? failureBox(ctx, f) : ''}
        <p>${t('appealText')}</p>
        <form method="post" action="${actionBase('appeal')}" enctype="multipart/form-data">
          ${hidden(ctx, input.forms)} ${statementField(ctx, 'statement', typed('appeal'))}
          ${filesField(ctx, 'appeal-files')}
          <button type="submit">${t('appealButton')}</button>
        </form>
      </section>`
    : '';

  const info =
    v.canAnswer || v.canAddInfo
      ? html`<section class="card action" aria-labelledby="info-h">
          <h2 id="info-h">${v.canAnswer ? t('answerTitle') : t('addInfoTitle')}</h2>
          ${f?.form === 'info' ? failureBox(ctx, f) : ''}
          ${
            v.question
              ? html`<p><strong>${t('question')}</strong></p>
                  <blockquote class="quote" id="question">${v.question}</blockquote>`
              : ''
          }
          <form method="post" action="${actionBase('info')}" enctype="multipart/form-data">
            ${hidden(ctx, input.forms)}
            <div class="field">
              <label for="answer">${t('answer')}</label>
              <textarea
                id="answer"
                name="answer"
                required
                maxlength="4000"
                rows="6"
                aria-describedby="answer-hint"
              >
${typed('info')}</textarea>
              <p class="hint" id="answer-hint">${t('answerHint')}</p>
            </div>
            ${filesField(ctx, 'info-files')}
            <button type="submit">${t('answerButton')}</button>
          </form>
        </section>`
      : '';

  const reviewText =
    v.review === 'none'
      ? ended
        ? ''
        : v.canVerify
          ? t(v.canAppeal ? 'review.none' : 'review.noneVerifiable')
          : v.canAppeal
            ? t('review.noneAppealable')
            : ''
      : t(`review.${v.review}` as PortalKey);
  const status = html`<section class="card" aria-labelledby="status-h">
    <h2 id="status-h">${t('status')}</h2>
    ${reviewText ? html`<p id="review-state" data-review="${v.review}">${reviewText}</p>` : ''}
    ${v.secondReview && !ended ? html`<p id="second-review-open">${t('secondReviewOpen')}</p>` : ''}
    ${
      v.appeal
        ? html`<p>
            ${t('appealFiled', {
              at: formatMoment(v.appeal.at, ctx.lang, ctx.tz),
              files: v.appeal.files ? t('appealFiles', { n: v.appeal.files }) : '',
            })}
          </p>`
        : ''
    }
    ${
      v.history.length
        ? html`<h3>${t('history')}</h3>
            <ol class="history">
              ${v.history.map(
                (h) =>
                  html`<li data-kind="${h.kind}">
                    <time datetime="${h.at}">${formatMoment(h.at, ctx.lang, ctx.tz)}</time>:
                    ${t(historyKey(h.kind))}
                  </li>`,
              )}
            </ol>`
        : ''
    }
  </section>`;

  // A refusal of a form the case no longer offers (an appeal after the appeal) is shown at the top.
  const orphan = f && !shown[f.form] ? failureBox(ctx, f, kept) : '';
  return layout(
    ctx,
    title,
    html`<h1 id="headline" data-status="${v.status}">${title}</h1>
      <p class="muted">${t('caseRef', { id: v.caseId })}</p>
      ${orphan} ${outcome} ${reasons} ${nextSteps} ${verify} ${confirm} ${appeal} ${info} ${status}`,
    input.base,
  );
}

export type ResultKind =
  'appeal' | 'info' | 'confirmation' | 'verified' | 'verifiedReview' | 'verificationFailed' | 'secondReview';

const RESULT: Record<ResultKind, [PortalKey, PortalKey]> = {
  appeal: ['done.appeal', 'done.appealText'],
  info: ['done.info', 'done.infoText'],
  confirmation: ['done.confirmation', 'done.confirmationText'],
  verified: ['done.verified', 'done.verifiedText'],
  verifiedReview: ['done.verified', 'done.verifiedReview'],
  verificationFailed: ['done.verificationFailed', 'done.verificationFailedText'],
  secondReview: ['done.secondReview', 'done.secondReviewText'],
};

export function resultPage(ctx: PortalContext, kind: ResultKind, base: string, path: string): string {
  const [title, text] = RESULT[kind];
  return layout(
    ctx,
    ctx.t(title),
    html`<div class="card result" role="status">
      <h1 id="headline" data-result="${kind}">${ctx.t(title)}</h1>
      <p>${ctx.t(text)}</p>
      <p><a class="button" href="${href(base, { lang: ctx.lang, tz: ctx.tz })}">${ctx.t('back')}</a></p>
    </div>`,
    path,
  );
}

/** The same page, status and bytes for an expired, altered or unknown link: it says nothing about the case. */
export function neutralPage(ctx: PortalContext): string {
  return messagePage(ctx, 'linkTitle', html`<p>${ctx.t('linkText')}</p>`);
}

export function messagePage(ctx: PortalContext, title: PortalKey, body: Html, path?: string): string {
  return layout(
    ctx,
    ctx.t(title),
    html`<div class="card">
      <h1 id="headline">${ctx.t(title)}</h1>
      ${body}
    </div>`,
    path,
  );
}

export function limitPage(ctx: PortalContext, retryAfterS: number): string {
  return messagePage(
    ctx,
    'limitTitle',
    html`<p>${ctx.t('limitText', { d: duration(unitsIn(ctx.lang), retryAfterS * 1000) })}</p>`,
  );
}

/** The development stand-in for the identity provider: clearly labelled, pass or fail. */
export function devProviderPage(ctx: PortalContext, o: { state: string; csrf: string }): string {
  const { t } = ctx;
  const button = (outcome: 'passed' | 'failed', label: string) =>
    html`<form method="post" action="/u/dev-verify" class="inline">
      <input type="hidden" name="_csrf" value="${o.csrf}" />
      <input type="hidden" name="state" value="${o.state}" />
      <input type="hidden" name="result" value="${outcome}" />
      <button type="submit" class="${outcome === 'failed' ? 'secondary' : ''}">${label}</button>
    </form>`;
  return layout(
    ctx,
    t('devTitle'),
    html`<div class="card dev">
      <p class="badge">DEVELOPMENT STAND-IN</p>
      <h1 id="headline">${t('devTitle')}</h1>
      <p>${t('devText')}</p>
      <div class="buttons">${button('passed', t('devPass'))} ${button('failed', t('devFail'))}</div>
    </div>`,
  );
}
