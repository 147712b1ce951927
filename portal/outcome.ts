// The final outcome on the case page: what the reviewer says, what the outcome means in practice (the tier's
// capabilities, as the gateway receives them), how long it lasts, what the user can do next (the one second
// review, requested here, or the policy's external channels), and the link to the decision letter. The words
// are the letter's (core/decision-letter.ts), so the page, the letter and the final mail say the same.
import { formatMoment } from '../activities/mail-templates';
import { explanationLead } from '../core/outcomes';
import { href, html, type Html } from '../web/html';
import type { PortalContext } from './context';
import { filesField, hidden, statementField, type FormHidden } from './form-parts';
import { letterInputOf, letterOf, letterSections, type LetterPolicy } from './letter';
import { failureBox, type Failure } from './refusal';
import type { UserCase } from './view';

export interface OutcomeInput {
  base: string;
  forms: FormHidden;
  policy?: LetterPolicy;
  failure?: Failure;
  /** What the user typed in a refused second-review form, given back. */
  typed: string;
}

/** Whether the page offers the second-review form now. */
export function offersSecondReview(v: UserCase, now: number): boolean {
  return v.secondReviewUntil !== null && !v.secondReviewRequested && Date.parse(v.secondReviewUntil) > now;
}

export function outcomeSection(ctx: PortalContext, v: UserCase, o: OutcomeInput): Html {
  const { t } = ctx;
  const input = letterInputOf(v, o.policy, ctx.now);
  if (!input) return html``;
  const letter = letterOf(ctx, input);
  const lead = v.explanation ? explanationLead(v.explanation.code, v.outcome, ctx.lang) : null;
  const f = o.failure?.form === 'secondReview' ? o.failure : undefined;
  const secondReview = offersSecondReview(v, ctx.now)
    ? html`<section class="card action" aria-labelledby="second-h" id="second-review">
        <h2 id="second-h">${t('secondReviewTitle')}</h2>
        ${f ? failureBox(ctx, f) : ''}
        <p>${t('secondReviewText', { at: formatMoment(v.secondReviewUntil!, ctx.lang, ctx.tz) })}</p>
        <form method="post" action="${o.base}/second-review" enctype="multipart/form-data">
          ${hidden(ctx, o.forms)} ${statementField(ctx, 'second-statement', o.typed)}
          ${filesField(ctx, 'second-files')}
          <button type="submit">${t('secondReviewButton')}</button>
        </form>
      </section>`
    : '';
  return html`<section class="card outcome" aria-labelledby="outcome-h">
      <h2 id="outcome-h">${t('outcome')}</h2>
      ${
        v.explanation
          ? html`<h3>${t('explanation')}</h3>
              ${lead ? html`<p id="explanation-lead">${lead}</p>` : ''}
              <blockquote class="quote" id="explanation">${v.explanation.text}</blockquote>`
          : ''
      }
      ${v.endedAt ? html`<p class="muted">${t('endedAt', { at: formatMoment(v.endedAt, ctx.lang, ctx.tz) })}</p>` : ''}
      ${letterSections(letter, ['practice', 'duration', 'next'], 'h3')}
      <p>
        <a id="letter-link" href="${href(`${o.base}/letter`, { lang: ctx.lang, tz: ctx.tz })}"
          >${t('letterLink')}</a
        >
      </p>
    </section>
    ${secondReview}`;
}
