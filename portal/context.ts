// What every user page is rendered with (the language, the user's time zone, the clock), and how a moment is
// shown: in the user's zone and language, with the time left until it.
import { formatMoment } from '../activities/mail-templates';
import { html, type Html } from '../web/html';
import { duration, unitsIn } from '../web/i18n';
import { portalTranslator, type Lang, type PortalTranslate } from './i18n';

export interface PortalContext {
  t: PortalTranslate;
  lang: Lang;
  /** The user's time zone (from the link), else UTC. */
  tz?: string;
  now: number;
}

export function portalContext(lang: Lang, tz: string | undefined, now = Date.now()): PortalContext {
  return { t: portalTranslator(lang), lang, tz, now };
}

/** A moment in the user's zone and language, with what is left until it. */
export function moment(ctx: PortalContext, iso: string): Html {
  const ms = Date.parse(iso) - ctx.now;
  const left = ms > 0 ? ctx.t('timeLeft', { d: duration(unitsIn(ctx.lang), ms) }) : ctx.t('passed');
  return html`<time datetime="${iso}">${formatMoment(iso, ctx.lang, ctx.tz)}</time>
    <span class="${ms > 0 ? 'left' : 'left over'}">(${left})</span>`;
}
