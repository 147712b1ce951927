// The decision letter of an ended case as the user's pages show it: its sections on the final outcome page, and
// the whole letter as a page of its own to print or save (GET /u/<token>/letter). The letter's words are
// core/decision-letter.ts's (the final mail carries the same); what the restriction means in practice comes from
// the running policy's capabilities, as the gateway receives them (core/capabilities.ts).
import { formatMoment } from '../activities/mail-templates';
import { capabilitiesOf } from '../core/capabilities';
import {
  decisionLetter,
  letterNextOf,
  type Letter,
  type LetterBlock,
  type LetterInput,
  type LetterSectionId,
} from '../core/decision-letter';
import type { Policy } from '../core/policy';
import { href, html, type Html } from '../web/html';
import type { PortalContext } from './context';
import { layout } from './layout';
import type { UserCase } from './view';

/** What the letter takes from the running policy. */
export type LetterPolicy = Pick<Policy, 'tiers' | 'complaints'>;

/** The letter's input for an ended case; null while the case is open. */
export function letterInputOf(
  v: UserCase,
  policy: LetterPolicy | undefined,
  now: number,
): LetterInput | null {
  if (v.outcome === null) return null;
  return {
    caseId: v.caseId,
    outcome: v.outcome,
    reasons: v.reasons,
    explanation: v.explanation,
    openedAt: v.openedAt,
    decidedAt: v.endedAt,
    decidedBy: v.endedBy,
    secondReview: v.secondReview,
    // The case's own restriction as it ended (the record the gateway reads says the same of it).
    capabilities: capabilitiesOf(
      { restricted: v.outcome !== 'RESTORED', tier: v.tier, status: v.status },
      policy?.tiers,
    ),
    next: letterNextOf({ ...v, outcome: v.outcome }, now),
    complaints: policy?.complaints ?? [],
  };
}

/** The letter in the page's language, times in the user's zone. */
export function letterOf(ctx: PortalContext, input: LetterInput): Letter {
  return decisionLetter(input, ctx.lang, (iso) => formatMoment(iso, ctx.lang, ctx.tz));
}

function block(b: LetterBlock): Html {
  if (b.kind === 'p') return html`<p>${b.text}</p>`;
  if (b.kind === 'quote') return html`<blockquote class="quote">${b.text}</blockquote>`;
  return html`${b.title ? html`<p>${b.title}</p>` : ''}
    <ul>
      ${b.items.map((i) => html`<li>${i}</li>`)}
    </ul>`;
}

/** Some of the letter's sections, each under its heading (`level`: h2 on the letter, h3 inside a card). */
export function letterSections(letter: Letter, ids: readonly LetterSectionId[], level: 'h2' | 'h3'): Html {
  return html`${letter.sections
    .filter((s) => ids.includes(s.id))
    .map(
      (s) =>
        html`<section data-letter="${s.id}">
          ${level === 'h2' ? html`<h2>${s.heading}</h2>` : html`<h3>${s.heading}</h3>`} ${s.blocks.map(block)}
        </section>`,
    )}`;
}

const ALL: readonly LetterSectionId[] = ['case', 'why', 'decision', 'practice', 'duration', 'next'];

/** The printable letter: every section, no forms, nothing that needs the link to stay valid to make sense. */
export function letterPage(ctx: PortalContext, input: LetterInput, base: string, path: string): string {
  const letter = letterOf(ctx, input);
  return layout(
    ctx,
    letter.title,
    html`<article class="card letter" id="letter">
        <h1 id="headline" data-outcome="${input.outcome}">${letter.title}</h1>
        ${letterSections(letter, ALL, 'h2')}
      </article>
      <p class="muted no-print">${ctx.t('letterPrint')}</p>
      <p class="no-print">
        <a class="button" href="${href(base, { lang: ctx.lang, tz: ctx.tz })}">${ctx.t('back')}</a>
      </p>`,
    path,
  );
}
