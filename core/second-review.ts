// A second review: the one further look an ended case (UPHELD or CLOSED) may get, by a senior reviewer who had no
// part in its first outcome. It is a new, linked case: the ended case stays ended for webhooks, the change feed
// and the archive. Pure, like the case machine; the workflow opens it (rules 4) and the API checks the window.
import type { CaseState, Effect, OpenSecondReview, Refusal } from './case-types';
import { appendEntry, freshCase, startReview, Step } from './case-step';

/** Opens the second review in review at once: the user's statement is its appeal. */
export function openSecondReview(o: OpenSecondReview): { state: CaseState; effects: Effect[] } {
  const blank: CaseState = {
    ...freshCase({ ...o, verificationAllowed: false, missingSources: [] }),
    // In review at once (startReview below): the request is its appeal, and only a person decides it.
    status: 'IN_REVIEW',
    appealed: true,
    secondReview: {
      previousCaseId: o.previousCaseId,
      excludedReviewers: [...o.excludedReviewers],
      requestKey: o.requestKey,
    },
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
