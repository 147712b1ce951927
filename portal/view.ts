// What the account holder may see of their case: a pure mapping from the API's case view that keeps only what
// helps them act, and leaves out everything that would help an attacker or names other people: no score or
// contributions, no rule IDs or policy version, no reviewer IDs or rationales, no other accounts, no contact
// details, no statements or answers (a forwarded link must not show them), no deliveries.
import type { CaseView } from '../core/contracts';
import type { Explanation, TimelineEntry } from '../core/case-types';
import { isOutcomeCode, isReasonCode } from '../core/outcomes';
import { decisionDueOf, userActionsOf } from '../core/user-actions';
import {
  OUTCOMES,
  TIERS,
  type ActorKind,
  type CaseStatus,
  type Locale,
  type Outcome,
  type ReasonCode,
  type Tier,
} from '../core/model';

/** Where the review stands, in the user's terms. */
export type ReviewState = 'none' | 'in-review' | 'info-requested' | 'second-review' | 'done';

/** `decision`: while the case is in review, when the decision is due (the review's SLA, or the approval's). */
export type DeadlineKind = 'act' | 'answer' | 'confirmFrom' | 'lockoutEnds' | 'decision';

export type HistoryKind =
  | 'restricted'
  | 'tightened'
  | 'appeal'
  | 'verified'
  | 'verificationFailed'
  | 'infoRequested'
  | 'info'
  | 'inReview'
  | 'lifted'
  | 'secondReview'
  | 'outcome';

export interface UserCase {
  /** The case reference the notices name (the user's own account ID and a tag). */
  caseId: string;
  locale: Locale;
  tier: Tier;
  status: CaseStatus;
  restricted: boolean;
  /** Catalogue codes, each once, in the case's order: the page shows their plain words, never the code. */
  reasons: ReasonCode[];
  /** The next deadline that concerns the user. */
  deadlines: { kind: DeadlineKind; at: string }[];
  /** What the case accepts from the user now (core/user-actions.ts): the page offers these and nothing else. */
  canVerify: boolean;
  /** PROTECT: the user may confirm the held payment (from `confirmFrom` on). */
  canConfirm: boolean;
  confirmFrom: string | null;
  canAppeal: boolean;
  appealed: boolean;
  appeal: { at: string; files: number } | null;
  /** A reviewer asked something: the question, and the user may answer. */
  question: string | null;
  canAnswer: boolean;
  /** In review or waiting for a second reviewer: the user may add information unasked. */
  canAddInfo: boolean;
  review: ReviewState;
  outcome: Outcome | null;
  endedAt: string | null;
  /** The reviewer's explanation for the user: an outcome code (a reason code before 0.5) and their words. */
  explanation: Explanation | null;
  /** What happened, without actors' IDs or any free text. */
  history: { at: string; kind: HistoryKind }[];
  openedAt: string;
  /** Who ended the case (a reviewer, the user, a deadline, the backend); null while it is open. */
  endedBy: ActorKind | null;
  /** This case is itself the second review of an earlier one: its outcome is final within Cordon. */
  secondReview: boolean;
  /** Until when the one second review may be requested (ISO); null when it may not (any more). */
  secondReviewUntil: string | null;
  /** A second review of this case was requested. */
  secondReviewRequested: boolean;
}

const USER_WAITING: readonly CaseStatus[] = [
  'VERIFICATION_REQUIRED',
  'AWAITING_USER',
  'LIMITED',
  'PROTECTIVE_HOLD',
];

const HISTORY: Partial<Record<TimelineEntry['type'], (e: TimelineEntry) => HistoryKind | null>> = {
  RESTRICTION_APPLIED: () => 'restricted',
  ESCALATED: () => 'tightened',
  APPEAL: () => 'appeal',
  VERIFICATION: (e) => (e.passed === true ? 'verified' : 'verificationFailed'),
  DECISION: (e) => (e.decision === 'REQUEST_INFO' ? 'infoRequested' : null),
  INFO_PROVIDED: () => 'info',
  REVIEW_STARTED: () => 'inReview',
  RESTRICTION_LIFTED: () => 'lifted',
  SECOND_REVIEW_REQUESTED: () => 'secondReview',
  OUTCOME: () => 'outcome',
};

/** The user-safe view of a case (pure: same input, same output). */
export function userSafeView(view: CaseView): UserCase {
  const status = view.status;
  const waiting = USER_WAITING.includes(status);
  const d = view.deadlines;
  const deadlines: { kind: DeadlineKind; at: string }[] = [];
  if (view.outcome === null) {
    if (d.lockoutLiftsAt && status !== 'MONITORING')
      deadlines.push({ kind: 'lockoutEnds', at: d.lockoutLiftsAt });
    if (waiting && d.userDeadlineAt) deadlines.push({ kind: 'act', at: d.userDeadlineAt });
    if (status === 'AWAITING_INFO' && d.infoDueAt) deadlines.push({ kind: 'answer', at: d.infoDueAt });
    const decisionDue = decisionDueOf(view);
    if (decisionDue) deadlines.push({ kind: 'decision', at: decisionDue });
  }
  const can = userActionsOf(view);
  const appealEntry = view.timeline.find((e) => e.type === 'APPEAL');
  const history: { at: string; kind: HistoryKind }[] = [];
  for (const e of view.timeline) {
    const kind = HISTORY[e.type]?.(e);
    // A restriction applied again (a tightening) reads once as "tightened".
    if (kind && !(kind === 'restricted' && history.some((h) => h.kind === 'restricted')))
      history.push({ at: e.at, kind });
  }
  // Among entries of the same moment, the case's end reads last.
  history.sort(
    (a, b) => a.at.localeCompare(b.at) || Number(a.kind === 'outcome') - Number(b.kind === 'outcome'),
  );
  const reasons = [...new Set(view.reasons.map((r) => r.code).filter(isReasonCode))];
  const open = view.outcome === null;
  const review: ReviewState = !open
    ? view.timeline.some((e) => e.type === 'REVIEW_STARTED')
      ? 'done'
      : 'none'
    : status === 'IN_REVIEW'
      ? 'in-review'
      : status === 'AWAITING_INFO'
        ? 'info-requested'
        : status === 'PENDING_APPROVAL'
          ? 'second-review'
          : 'none';
  const outcome = OUTCOMES.includes(view.outcome as Outcome) ? view.outcome : null;
  // An outcome code, or the reason code an explanation carried before 0.5: both still render.
  const code = view.explanation?.code;
  const explanation =
    view.explanation &&
    (isOutcomeCode(code) || isReasonCode(code)) &&
    typeof view.explanation.text === 'string'
      ? { code, text: view.explanation.text }
      : null;
  const ended = open ? undefined : view.timeline.findLast((e) => e.type === 'OUTCOME');
  const until = view.secondReviewAllowedUntil;
  return {
    caseId: view.caseId,
    locale: view.locale === 'zh-CN' ? 'zh-CN' : 'en',
    tier: TIERS.includes(view.tier) ? view.tier : 'NONE',
    status,
    restricted: Boolean(view.restricted),
    reasons,
    deadlines,
    canVerify: can.verify,
    canConfirm: can.confirm,
    confirmFrom: can.confirmFrom,
    canAppeal: can.appeal,
    appealed: Boolean(view.appealed),
    appeal: appealEntry
      ? {
          at: appealEntry.at,
          files: Array.isArray(appealEntry.evidence) ? appealEntry.evidence.length : 0,
        }
      : null,
    question: open && status === 'AWAITING_INFO' && typeof view.question === 'string' ? view.question : null,
    canAnswer: can.info === 'answer',
    canAddInfo: can.info === 'add',
    review,
    outcome,
    endedAt: ended?.at ?? null,
    explanation: outcome ? explanation : null,
    history,
    openedAt: view.openedAt,
    endedBy: ended?.actor.kind ?? null,
    secondReview: view.secondReview === true,
    secondReviewUntil:
      outcome && !view.secondReview && !view.secondReviewCaseId && typeof until === 'string' ? until : null,
    secondReviewRequested: typeof view.secondReviewCaseId === 'string',
  };
}
