// The case page's action panels: claim and release, the decision form and the second reviewer's approval, each
// shown only when the case and the reviewer's role allow it, with a refusal and the reviewer's typing shown
// again beside the form that caused it.
import { SENIORS } from '../api/routes/spec';
import { DECISIONS, REVIEW_STATUSES } from '../core/model';
import { isOutcomeCode, OUTCOME_CODES, OUTCOME_TEXTS } from '../core/outcomes';
import { html, type Html } from '../web/html';
import type { CaseAction, CaseModel, ConsoleCase, FailedAction } from './case-model';
import { USER_PRESETS, type Key } from './i18n';
import { csrfField, problemBox, type PageContext } from './pages';

/** A field error's place in the form: body.explanation.text → explanationText. */
function fieldOf(path: string): string {
  const parts = path.split('.').slice(1);
  return parts.length > 1
    ? parts[0]! +
        parts
          .slice(1)
          .map((p) => p[0]!.toUpperCase() + p.slice(1))
          .join('')
    : (parts[0] ?? '');
}

function fieldErrors(failed: FailedAction | undefined, action: CaseAction): Map<string, string[]> {
  const errors = new Map<string, string[]>();
  if (failed?.action !== action) return errors;
  for (const e of failed.problem.extra.errors ?? []) {
    const field = fieldOf(e.path);
    errors.set(field, [...(errors.get(field) ?? []), e.message]);
  }
  return errors;
}

const errorsOf = (errors: Map<string, string[]>, field: string): Html =>
  html`${(errors.get(field) ?? []).map((m) => html`<p class="field-error" data-field="${field}">${m}</p>`)}`;

/** A one-button form (claim, release) posting to the case's action. */
function buttonForm(ctx: PageContext, caseId: string, action: CaseAction, text: string, cls = ''): Html {
  return html`<form
    class="inline"
    method="post"
    action="/console/cases/${encodeURIComponent(caseId)}/${action}"
  >
    ${csrfField(ctx)}<button type="submit" class="${cls}" data-action="${action}">${text}</button>
  </form>`;
}

export function holdPanel(ctx: PageContext, m: CaseModel): Html {
  const { t } = ctx;
  const v = m.view;
  const me = ctx.principal!;
  if (!REVIEW_STATUSES.includes(v.status)) return html``;
  const mine = v.assignee === me.id;
  // Taking over or releasing another reviewer's claim is for the roles the claim and release routes let do it.
  const senior = SENIORS.includes(me.role);
  const heldByOther = v.assignee !== null && !mine;
  const mayRelease = v.assignee !== null && (mine || senior);
  const failed =
    m.failed && (m.failed.action === 'claim' || m.failed.action === 'release') ? m.failed : undefined;
  // A second review is for seniors only: a plain reviewer is told so instead of a button that always fails.
  const forSeniors = v.secondReview === true && !senior;
  return html`<div class="card" id="hold">
    <h2>${t('assignee')}</h2>
    ${failed ? problemBox(t, failed.problem) : ''}
    <p>
      ${v.assignee === null ? t('notHeld') : t('heldBy', { who: mine ? `${v.assignee} (${t('you')})` : v.assignee })}
    </p>
    ${
      mine
        ? ''
        : forSeniors
          ? html`<p class="muted" id="second-review-seniors">${t('secondReviewSeniors')}</p>`
          : !heldByOther
            ? buttonForm(ctx, v.caseId, 'claim', t('claim'))
            : senior
              ? buttonForm(ctx, v.caseId, 'claim', t('takeOver'))
              : html`<p class="muted" id="senior-takes-over">${t('seniorTakesOver')}</p>`
    }
    ${mayRelease ? buttonForm(ctx, v.caseId, 'release', t('release'), 'secondary') : ''}
  </div>`;
}

export function decisionPanel(ctx: PageContext, m: CaseModel): Html {
  const { t } = ctx;
  const v = m.view;
  if (v.status !== 'IN_REVIEW') return html``;
  if (v.assignee !== ctx.principal!.id)
    return html`<div class="card">
      <h2>${t('decide')}</h2>
      <p class="muted">${t('claimToDecide')}</p>
    </div>`;
  const failed = m.failed?.action === 'decision' ? m.failed : undefined;
  const values = failed?.values ?? {};
  const errors = fieldErrors(m.failed, 'decision');
  const has = (field: string) => !m.decisionFields || m.decisionFields.has(field);
  const presets = USER_PRESETS[v.locale] ?? USER_PRESETS.en;
  // Outcome codes (core/outcomes.ts), each marked with the outcomes it fits: the script offers those of the
  // chosen decision; without it, a code that does not fit is refused at the field.
  const codes = [...OUTCOME_CODES];
  const code: string = values.explanationCode ?? codes[0]!;
  const userText = (c: string) => (isOutcomeCode(c) ? OUTCOME_TEXTS[c].user[v.locale] : '');
  return html`<div class="card" id="decide">
    <h2>${t('decide')}</h2>
    ${failed ? problemBox(t, failed.problem) : ''}
    <form id="decision-form" method="post" action="/console/cases/${encodeURIComponent(v.caseId)}/decision">
      ${csrfField(ctx)}
      <input type="hidden" name="requestId" value="${values.requestId ?? m.requestId}" />
      ${has('evidenceVersion') ? html`<input type="hidden" name="evidenceVersion" value="${values.evidenceVersion ?? String(v.evidenceVersion)}" />` : ''}
      <fieldset class="choices">
        <legend>${t('decision')}</legend>
        ${DECISIONS.map(
          (d) =>
            html`<label
              ><input
                type="radio"
                name="decision"
                value="${d}"
                required${values.decision === d ? html` checked` : ''}
              />
              ${t(d as Key)} <code>${d}</code></label
            >`,
        )}
        ${errorsOf(errors, 'decision')}
      </fieldset>
      <div class="field">
        <label for="rationale">${t('rationale')}</label>
        <textarea id="rationale" name="rationale" required maxlength="2000">
${values.rationale ?? ''}</textarea>
        ${errorsOf(errors, 'rationale')}
      </div>
      ${
        has('question')
          ? html`<div class="field" id="question-field">
              <label for="question">${t('question')}</label>
              <textarea id="question" name="question" maxlength="1000">${values.question ?? ''}</textarea>
              ${errorsOf(errors, 'question')}
            </div>`
          : ''
      }
      ${
        has('explanation')
          ? html`<fieldset id="explanation-field">
              <legend>${t('explanation')}</legend>
              <div class="field">
                <label for="explanationCode">${t('explanationCode')}</label>
                <select id="explanationCode" name="explanationCode">
                  ${codes.map(
                    (c) =>
                      html`<option
                        value="${c}"
                        data-fits="${OUTCOME_TEXTS[c].fits.join(' ')}"
                        data-user-text="${userText(c)}"
                        ${c === code ? html` selected` : ''}
                      >
                        ${OUTCOME_TEXTS[c].label[ctx.lang]} (${c})
                      </option>`,
                  )}
                </select>
                <p class="hint quote" id="explanation-preview" lang="${v.locale}">${userText(code)}</p>
                ${errorsOf(errors, 'explanationCode')}
              </div>
              <div class="field">
                <label for="explanationText">${t('explanationText')}</label>
                <textarea
                  id="explanationText"
                  name="explanationText"
                  maxlength="1000"
                  lang="${v.locale}"
                  data-preset-unlock="${presets.unlock}"
                  data-preset-close="${presets.close}"
                  data-preset-uphold="${presets.uphold}"
                >
${values.explanationText ?? presets.generic}</textarea>
                <p class="hint">${t('explanationHint', { locale: v.locale })}</p>
                ${errorsOf(errors, 'explanationText')}${errorsOf(errors, 'explanation')}
              </div>
            </fieldset>`
          : ''
      }
      ${errorsOf(errors, 'requestId')}${errorsOf(errors, 'evidenceVersion')}
      <button type="submit">${t('submitDecision')}</button>
    </form>
  </div>`;
}

export function approvalPanel(ctx: PageContext, m: CaseModel): Html {
  const { t } = ctx;
  const v = m.view;
  const pending = v.pendingApproval;
  if (v.status !== 'PENDING_APPROVAL' || !pending) return html``;
  const failed = m.failed?.action === 'approval' ? m.failed : undefined;
  const header = html`<h2>${t('approval')}</h2>
    <p id="pending">${t('pendingApproval', { decision: pending.decision, by: pending.decidedBy })}</p>
    <div class="quote">${pending.rationale}</div>`;
  if (pending.decidedBy === ctx.principal!.id)
    return html`<div class="card" id="approval">
      ${header}${failed ? problemBox(t, failed.problem) : ''}
      <p class="muted">${t('ownDecision')}</p>
    </div>`;
  const values = failed?.values ?? {};
  const errors = fieldErrors(m.failed, 'approval');
  const has = (field: string) => !m.approvalFields || m.approvalFields.has(field);
  return html`<div class="card" id="approval">
    ${header} ${failed ? problemBox(t, failed.problem) : ''}
    <form method="post" action="/console/cases/${encodeURIComponent(v.caseId)}/approval">
      ${csrfField(ctx)}
      ${has('requestId') ? html`<input type="hidden" name="requestId" value="${values.requestId ?? m.requestId}" />` : ''}
      ${has('evidenceVersion') ? html`<input type="hidden" name="evidenceVersion" value="${values.evidenceVersion ?? String(v.evidenceVersion)}" />` : ''}
      <p>${t('approvalOf', { decision: pending.decision, by: pending.decidedBy })}</p>
      <div class="field">
        <label for="approval-rationale">${t('approvalRationale')}</label>
        <textarea id="approval-rationale" name="rationale" required maxlength="2000">
${values.rationale ?? ''}</textarea>
        ${errorsOf(errors, 'rationale')}
      </div>
      ${errorsOf(errors, 'approve')}${errorsOf(errors, 'requestId')}${errorsOf(errors, 'evidenceVersion')}
      <button type="submit" name="approve" value="true">${t('approve')}</button>
      <button type="submit" name="approve" value="false" class="danger">${t('reject')}</button>
    </form>
  </div>`;
}

/** Whether the action's panel is on the page: a refusal is shown there, else at the top. */
export function panelShown(v: ConsoleCase, me: string, action: CaseAction): boolean {
  switch (action) {
    case 'claim':
    case 'release':
      return REVIEW_STATUSES.includes(v.status);
    case 'decision':
      return v.status === 'IN_REVIEW' && v.assignee === me;
    case 'approval':
      return v.status === 'PENDING_APPROVAL' && v.pendingApproval !== null;
  }
}
