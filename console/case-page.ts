// The case page: what the case is, what the user said, the whole timeline, and the reviewer's actions with
// any refusal shown beside the form that caused it.
import type { CaseEvidence } from '../api/case-evidence';
import type { CaseDetails } from '../api/case-reads';
import type { Problem } from '../web/problems';
import { SENIORS } from '../api/routes/spec';
import type { TimelineEntry } from '../core/case-types';
import { DECISIONS, type ReasonContribution } from '../core/model';
import { isOutcomeCode, OUTCOME_CODES, OUTCOME_TEXTS } from '../core/outcomes';
import { REASONS } from '../core/reasons';
import { html, type Html } from '../web/html';
import type { Lang } from '../web/i18n';
import { accountHistory, type AccountHistory } from './case-history';
import { auditLinks } from './audit-page';
import { reasonEvidence } from './case-evidence';
import { fileList, type CaseFiles } from './case-files';
import { label, timeLeft, USER_PRESETS, when, type Key, type Translate } from './i18n';
import { csrfField, layout, problemBox, type PageContext } from './pages';

export type CaseAction = 'claim' | 'release' | 'decision' | 'approval';

/** The case as GET /v1/cases/:caseId answers it: reasons come with the catalogue's explanations. */
export type ConsoleCase = Omit<CaseDetails, 'reasons'> & {
  reasons: (ReasonContribution & {
    explanation?: { reviewer?: string; reviewerByLocale?: Partial<Record<Lang, string>> };
  })[];
  /** What each reason rests on (console/case-evidence.ts). */
  evidence?: CaseEvidence;
};

export interface FailedAction {
  action: CaseAction;
  problem: Problem;
  /** What the reviewer typed, shown again. */
  values: Record<string, string>;
}

export interface CaseModel {
  view: ConsoleCase;
  now: number;
  /** The action that just succeeded (Post/Redirect/Get). */
  done?: CaseAction;
  failed?: FailedAction;
  /** The request ID the forms send: a double submit is applied once. */
  requestId: string;
  /** The decision and approval bodies' fields, from the API's schemas: the forms offer only what they take. */
  decisionFields?: Set<string>;
  approvalFields?: Set<string>;
  /** Each referenced file's name, kind and size as the evidence store gave them (console/case-files.ts). */
  files?: CaseFiles;
  /** The account's ended cases (console/case-history.ts); null: could not be read. */
  history?: AccountHistory;
}

const REVIEW_STATUSES = ['IN_REVIEW', 'AWAITING_INFO', 'PENDING_APPROVAL'];

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

function summary(t: Translate, v: ConsoleCase, me: string): Html {
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

function deadlines(t: Translate, v: ConsoleCase, now: number): Html {
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
function reasons(t: Translate, v: ConsoleCase, lang: Lang): Html {
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

/** The user's own words and documents: the appeal and every answer, as the timeline recorded them. */
function fromUser(t: Translate, v: ConsoleCase, files: (refs: string[]) => Html): Html {
  const entries = v.timeline.filter((e) => e.type === 'APPEAL' || e.type === 'INFO_PROVIDED');
  return html`<div class="card" id="user-statements">
    <h2>${t('userSays')}</h2>
    ${
      v.question
        ? html`<p><b>${t('questionAsked')}:</b></p>
            <div class="quote">${v.question}</div>`
        : ''
    }
    ${entries.length ? '' : html`<p class="muted">${t('nothingFromUser')}</p>`}
    ${entries.map((e) => {
      const text = e.type === 'APPEAL' ? e.statement : e.answer;
      const evidence = Array.isArray(e.evidence) ? (e.evidence as unknown[]).map(String) : [];
      return html`<div class="statement">
        <p>
          <b>${e.type === 'APPEAL' ? t('statement') : t('answer')}</b>
          <span class="muted">${when(e.at)} · ${actorOf(e)}</span>
        </p>
        <div class="quote">${typeof text === 'string' ? text : ''}</div>
        ${
          evidence.length
            ? html`<p>${t('evidence')}:</p>
                ${files(evidence)}`
            : ''
        }
      </div>`;
    })}
    ${
      v.explanation
        ? html`<p><b>${t('explanationGiven')}:</b> <code>${v.explanation.code}</code></p>
            <div class="quote">${v.explanation.text}</div>`
        : ''
    }
  </div>`;
}

const actorOf = (e: TimelineEntry): string => `${e.actor.kind}:${e.actor.id}`;

function detailsOf(e: TimelineEntry): Html {
  // The audit chain's hash and digests are for the audit trail page (console/audit-page.ts), not for reading here.
  const rest = Object.entries(e).filter(([k]) => !['at', 'actor', 'type', 'hash', 'digests'].includes(k));
  return html`${rest.map(
    ([k, val]) => html`<span><b>${k}</b>: ${typeof val === 'string' ? val : JSON.stringify(val)}</span>; `,
  )}`;
}

function timeline(t: Translate, v: ConsoleCase): Html {
  return html`<div class="card" id="timeline">
    <h2>${t('timeline')}</h2>
    <table>
      <thead>
        <tr>
          <th>${t('when')}</th>
          <th>${t('actor')}</th>
          <th>${t('what')}</th>
          <th>${t('details')}</th>
        </tr>
      </thead>
      <tbody>
        ${v.timeline.map(
          (e) =>
            html`<tr data-type="${e.type}" data-actor="${actorOf(e)}">
              <td>${when(e.at)}</td>
              <td><code>${actorOf(e)}</code></td>
              <td><code>${e.type}</code></td>
              <td class="details">${detailsOf(e)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

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

function holdPanel(ctx: PageContext, m: CaseModel): Html {
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

function decisionPanel(ctx: PageContext, m: CaseModel): Html {
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

function approvalPanel(ctx: PageContext, m: CaseModel): Html {
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
function panelShown(v: ConsoleCase, me: string, action: CaseAction): boolean {
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

export function casePage(ctx: PageContext, m: CaseModel): string {
  const { t } = ctx;
  const v = m.view;
  const orphan =
    m.failed && !panelShown(v, ctx.principal!.id, m.failed.action) ? m.failed.problem : undefined;
  // The deadline the case waits for: a second approval has its own SLA, a review the review SLA.
  const pendingApproval = v.status === 'PENDING_APPROVAL';
  const due = pendingApproval ? v.deadlines.approvalDueAt : v.deadlines.reviewDueAt;
  const left = due ? timeLeft(t, due, m.now) : undefined;
  return layout(
    ctx,
    t('caseTitle', { id: v.caseId }),
    html`<p><a href="/console/queue">${t('backToQueue')}</a></p>
      <h1>${t('caseTitle', { id: v.caseId })}</h1>
      ${auditLinks(t, v.caseId)}
      <p class="muted">
        ${label(t, 'status', v.status)} ·
        ${label(t, 'tier', v.tier)}${left ? html` · <span id="sla" class="${left.overdue ? 'overdue' : ''}" title="${when(due!)}">${pendingApproval ? t('deadline.approvalDueAt') : t('sla')}: ${left.text}</span>` : ''}
      </p>
      ${m.done ? html`<div class="alert ok" role="status" id="done">${t(`done.${m.done}`)}</div>` : ''}
      ${orphan ? problemBox(t, orphan) : ''}
      <div class="grid">
        <div>
          ${summary(t, v, ctx.principal!.id)} ${reasons(t, v, ctx.lang)}
          ${fromUser(t, v, (refs) => fileList(ctx.lang, v.caseId, refs, m.files))}
        </div>
        <div>
          ${holdPanel(ctx, m)} ${decisionPanel(ctx, m)} ${approvalPanel(ctx, m)} ${deadlines(t, v, m.now)}
        </div>
      </div>
      ${accountHistory(t, v, m.history)} ${timeline(t, v)}`,
  );
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
