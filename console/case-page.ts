// The case page: what the case is, what the user said, the whole timeline, and the reviewer's actions with
// any refusal shown beside the form that caused it. This file lays the page out; its parts live beside it:
// case-facts.ts (summary, deadlines, reasons), case-timeline.ts (the user's words, the timeline), case-panels.ts
// (claim, decision, approval) and case-model.ts (what the page is given).
import { auditLinks } from './audit-page';
import { fileList } from './case-files';
import { accountHistory } from './case-history';
import { deadlines, reasons, summary } from './case-facts';
import type { CaseModel } from './case-model';
import { approvalPanel, decisionPanel, holdPanel, panelShown } from './case-panels';
import { fromUser, timeline } from './case-timeline';
import { html } from '../web/html';
import { label, timeLeft, when } from './i18n';
import { layout, problemBox, type PageContext } from './pages';

export type { CaseAction, CaseModel, ConsoleCase, FailedAction } from './case-model';

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
