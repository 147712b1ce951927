// What a user notice says beyond its template and codes, fixed when the transition that called for it happened
// (like the rest of the notice): what the user can do then and when a decision is expected, and for the final
// notice the decision letter's facts. Pure; the workflow adds them to every notice it builds
// (workflows/messages.ts), and the mail (activities/mail-templates.ts) shows them.
import type { CaseState, NoticeTemplate } from './case-types';
import { caseViewOf } from './case-view';
import type { LetterFacts, UserNotice } from './messages';
import { decisionDueOf, userActionsOf } from './user-actions';

export type NoticeFacts = Pick<UserNotice, 'actions' | 'decisionDueAt' | 'letter'>;

export function noticeFactsOf(s: CaseState, template: NoticeTemplate): NoticeFacts {
  const view = caseViewOf(s);
  if (template !== 'OUTCOME') {
    const due = decisionDueOf(view);
    return { actions: userActionsOf(view), ...(due ? { decisionDueAt: due } : {}) };
  }
  const ended = s.timeline.findLast((e) => e.type === 'OUTCOME');
  if (s.outcome === null || !ended) return {};
  const letter: LetterFacts = {
    openedAt: view.openedAt,
    decidedAt: ended.at,
    decidedBy: ended.actor.kind,
    ...(s.secondReview ? { secondReview: true } : {}),
    ...(s.outcome === 'UPHELD' && view.deadlines.lockoutLiftsAt
      ? { until: view.deadlines.lockoutLiftsAt }
      : {}),
  };
  return { letter };
}
