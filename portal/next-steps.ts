// "What you can do" on the case page: only what the case accepts now (core/user-actions.ts, through the user's
// view; the mails list the same), and the times that go with it: the deadline to act or to answer, and while the
// case is in review the expected decision, from the review's SLA.
import type { ReasonCode } from '../core/model';
import { REASONS } from '../core/reasons';
import { nextStepsOf as stepsFor, type NextStep } from '../core/user-actions';
import { html, type Html } from '../web/html';
import { moment, type PortalContext } from './context';
import { deadlineKey, type PortalKey } from './i18n';
import type { UserCase } from './view';

/** The lines "What you can do" lists for a case (pure; core/user-actions.ts decides, the mails share it). */
export function nextStepsOf(v: UserCase): NextStep[] {
  return stepsFor(v.reasons, {
    verify: v.canVerify,
    confirm: v.canConfirm,
    confirmFrom: v.confirmFrom,
    appeal: v.canAppeal,
    info: v.canAnswer ? 'answer' : v.canAddInfo ? 'add' : null,
  });
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
