// A second review: the one further look an ended case (UPHELD or CLOSED) may get, by a senior reviewer who had no
// part in its first outcome. It is a new, linked case: the ended case stays ended for webhooks, the change feed
// and the archive. Pure, like the case machine; the workflow opens it (rules 4) and the API checks the window.
import type { CaseState, Effect, OpenSecondReview, Refusal } from './case-types';
import { appendEntry, mergeReasons, startReview, Step } from './case-step';

/** Opens the second review in review at once: the user's statement is its appeal. */
export function openSecondReview(o: OpenSecondReview): { state: CaseState; effects: Effect[] } {
  const blank: CaseState = {
    caseId: o.caseId,
    accountId: o.accountId,
    locale: o.locale,
    openedAt: o.at,
    status: 'IN_REVIEW',
    tier: o.tier,
    score: o.score,
    reasons: mergeReasons([], o.reasons),
    // Only a person decides a second review.
    verificationAllowed: false,
    terms: o.terms,
    deadlines: {},
    remindersSent: 0,
    coolingOffNotified: false,
    lockoutCount: 0,
    assignee: null,
    appealed: true,
    pendingClose: null,
    slaBreached: false,
    missingSources: [],
    outcome: null,
    ...(o.contact ? { contact: o.contact } : {}),
    secondReview: {
      previousCaseId: o.previousCaseId,
      excludedReviewers: [...o.excludedReviewers],
      requestKey: o.requestKey,
    },
    timeline: [],
  };
  // The first case's statements and answers come first, as they were written; they join this case's own chain.
  for (const { hash: _firstChain, ...entry } of o.carried)
    appendEntry(blank, { ...entry, fromCaseId: o.previousCaseId });
  const step = new Step(blank, o.at);
  step.log(o.actor, 'SECOND_REVIEW_REQUESTED', {
    previousCaseId: o.previousCaseId,
    tier: o.tier,
    statement: o.statement,
    ...(o.evidence?.length ? { evidence: o.evidence } : {}),
  });
  step.state.evidenceVersion = 1;
  startReview(step);
  return { state: step.state, effects: step.effects };
}

/**
 * Who may act on a second review: a senior (or admin), and none of those who decided or approved the first
 * case's outcome. Null where the case is no second review, or the reviewer may act.
 */
export function secondReviewRefusal(
  s: CaseState,
  reviewer: string,
  senior: boolean | undefined,
): Refusal | null {
  if (!s.secondReview) return null;
  if (!senior) return { code: 'SENIOR_REQUIRED', message: 'a second review is for senior reviewers' };
  if (s.secondReview.excludedReviewers.includes(reviewer))
    return {
      code: 'SAME_REVIEWER',
      message: 'a second review must come from a reviewer who had no part in the first decision',
    };
  return null;
}
