// "What you can do" on the case page: only what the case accepts now (core/user-actions.ts, through the user's
// view), and the times that go with it: the deadline to act or to answer, and while the case is in review the
// expected decision, from the review's SLA. The reasons' catalogue advice is shown only when the case accepts
// everything it tells the user to do: after an appeal, "verify, or appeal" would send the user into a refusal.
import type { ReasonCode } from '../core/model';
import { REASONS } from '../core/reasons';
import { html, type Html } from '../web/html';
import { moment, type PortalContext } from './context';
import { deadlineKey, type PortalKey } from './i18n';
import type { UserCase } from './view';

export type Offer = 'verify' | 'confirm' | 'appeal';

/** What each reason's advice (REASONS[code].nextStep, in every language) tells the user to do. */
export const ADVICE_OFFERS: Record<ReasonCode, readonly Offer[]> = {
  CREDENTIAL_BRUTE_FORCE: ['verify'],
  ACCOUNT_TAKEOVER_SUSPECTED: ['verify'],
  NEW_DEVICE_LOCATION_JUMP: ['verify'],
  IDENTITY_MISMATCH: ['verify', 'appeal'],
  MULTI_LENDER_BORROWING: ['appeal'],
  REPAYMENT_CAPACITY_DROP: ['appeal'],
  ABNORMAL_BORROWING_PATTERN: ['verify', 'appeal'],
  ABNORMAL_FUND_FLOWS: ['verify', 'appeal'],
  OVERDUE_HISTORY: ['appeal'],
  SCAM_VICTIM_INDICATORS: ['confirm'],
  EXTERNAL_FRAUD_REPORT: ['appeal'],
  REGULATORY_HOLD: ['appeal'],
  FAILED_VERIFICATIONS: ['appeal'],
  SUSPICIOUS_ACTION_BURST: ['appeal'],
};

/** One line of the list: a reason's advice, or an action the case accepts that no advice shown names. */
export type NextStep = { reason: ReasonCode } | { action: Offer | 'answer' | 'addInfo' | 'wait' };

/** The lines "What you can do" lists for a case (pure). */
export function nextStepsOf(v: UserCase): NextStep[] {
  const accepted: Record<Offer, boolean> = {
    verify: v.canVerify,
    confirm: v.canConfirm,
    appeal: v.canAppeal,
  };
  const advice = v.reasons.filter((c) => ADVICE_OFFERS[c].every((o) => accepted[o]));
  const named = new Set(advice.flatMap((c) => ADVICE_OFFERS[c]));
  const actions = (['verify', 'confirm', 'appeal'] as const).filter((o) => accepted[o] && !named.has(o));
  const lines: NextStep[] = [
    // Reasons that share their advice show it once.
    ...advice
      .filter((c, i) => advice.findIndex((d) => REASONS[d].nextStep.en === REASONS[c].nextStep.en) === i)
      .map((reason) => ({ reason })),
    ...actions.map((action) => ({ action })),
  ];
  if (v.canAnswer) lines.push({ action: 'answer' });
  if (v.canAddInfo) lines.push({ action: 'addInfo' });
  return lines.length ? lines : [{ action: 'wait' }];
}

const ACTION_KEYS: Record<Exclude<NextStep, { reason: ReasonCode }>['action'], PortalKey> = {
  verify: 'can.verify',
  confirm: 'can.confirm',
  appeal: 'can.appeal',
  answer: 'can.answer',
  addInfo: 'can.addInfo',
  wait: 'can.wait',
};

/** The section; the time-zone line only above times it applies to. */
export function nextStepsSection(ctx: PortalContext, v: UserCase): Html {
  const { t } = ctx;
  const decision = v.deadlines.find((d) => d.kind === 'decision');
  const late = decision !== undefined && Date.parse(decision.at) <= ctx.now;
  return html`<section class="card" aria-labelledby="next-h" id="next-steps">
    <h2 id="next-h">${t('nextSteps')}</h2>
    <ul>
      ${nextStepsOf(v).map((s) =>
        'reason' in s
          ? html`<li data-reason="${s.reason}">${REASONS[s.reason].nextStep[ctx.lang]}</li>`
          : html`<li data-action="${s.action}">${t(ACTION_KEYS[s.action])}</li>`,
      )}
    </ul>
    ${
      v.deadlines.length
        ? html`<p class="muted" id="tz-note">${t('tzNote', { zone: ctx.tz ?? 'UTC' })}</p>
            <dl class="deadlines">
              ${v.deadlines.map(
                (d) =>
                  html`<dt>${t(deadlineKey(d.kind))}</dt>
                    <dd data-deadline="${d.kind}">${moment(ctx, d.at)}</dd>`,
              )}
            </dl>`
        : ''
    }
    ${late ? html`<p id="decision-late">${t('decisionLate')}</p>` : ''}
  </section>`;
}
