// What the account holder can do on a case now, read from the case's view: the conditions under which the case
// machine (`transition` in core/case-machine.ts) accepts the user's verification, appeal and information. The
// user's pages offer exactly these and nothing else. Pure; test/portal-next-steps.test.ts walks the machine
// through random cases and checks in every state it reaches that these answers and the machine's agree.
import type { CaseView } from './contracts';
import type { ReasonCode } from './model';
import { REASONS } from './reasons';

export interface UserActions {
  /** Step-up verification through the identity provider (STEP_UP; FREEZE while it waits for the user). */
  verify: boolean;
  /** PROTECT: the user's own confirmation of the held payment, accepted from `confirmFrom` on. */
  confirm: boolean;
  /** When the cooling-off ends (the machine refuses a confirmation before it: COOLING_OFF). */
  confirmFrom: string | null;
  /** An appeal: once, while the account is restricted, where the case's tier takes one (its terms'). */
  appeal: boolean;
  /** Information for the reviewer: the answer to their question, or added unasked while the review runs. */
  info: 'answer' | 'add' | null;
}

export type UserActionFields = Pick<
  CaseView,
  | 'status'
  | 'tier'
  | 'outcome'
  | 'appealed'
  | 'verificationAllowed'
  | 'deadlines'
  | 'rulesVersion'
  | 'appealAllowed'
>;

const NOTHING: UserActions = { verify: false, confirm: false, confirmFrom: null, appeal: false, info: null };

export function userActionsOf(v: UserActionFields): UserActions {
  if (v.outcome !== null) return NOTHING;
  const s = v.status;
  // Only views archived before 0.4 lack the rules version, and those cases have ended.
  const rules = v.rulesVersion ?? Infinity;
  const confirm = s === 'PROTECTIVE_HOLD' && v.verificationAllowed;
  return {
    verify:
      v.verificationAllowed &&
      (s === 'VERIFICATION_REQUIRED' || (s === 'AWAITING_USER' && v.tier === 'FREEZE')),
    confirm,
    confirmFrom: confirm ? (v.deadlines.coolingOffEndsAt ?? null) : null,
    // Views archived before 0.5 lack appealAllowed, and those cases have ended.
    appeal: !v.appealed && s !== 'MONITORING' && v.appealAllowed !== false,
    info:
      s === 'AWAITING_INFO'
        ? 'answer'
        : rules >= 3 && (s === 'IN_REVIEW' || s === 'PENDING_APPROVAL')
          ? 'add'
          : null,
  };
}

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
  LINKED_ACCOUNT: ['verify', 'appeal'],
};

/** One line of "What you can do": a reason's advice, or an action the case accepts that no advice shown names. */
export type NextStep = { reason: ReasonCode } | { action: Offer | 'answer' | 'addInfo' | 'wait' };

/**
 * The lines "What you can do" lists (the case page and the mails alike): the reasons' catalogue advice only
 * where the case accepts everything it tells the user to do (after an appeal, "verify, or appeal" would send the
 * user into a refusal), then each accepted action no advice names; "nothing needed" when there is none. Pure.
 */
export function nextStepsOf(reasons: readonly ReasonCode[], can: UserActions): NextStep[] {
  const accepted: Record<Offer, boolean> = { verify: can.verify, confirm: can.confirm, appeal: can.appeal };
  const advice = [...new Set(reasons)].filter((c) => ADVICE_OFFERS[c].every((o) => accepted[o]));
  const named = new Set(advice.flatMap((c) => ADVICE_OFFERS[c]));
  const actions = (['verify', 'confirm', 'appeal'] as const).filter((o) => accepted[o] && !named.has(o));
  const lines: NextStep[] = [
    // Reasons that share their advice show it once.
    ...advice
      .filter((c, i) => advice.findIndex((d) => REASONS[d].nextStep.en === REASONS[c].nextStep.en) === i)
      .map((reason) => ({ reason })),
    ...actions.map((action) => ({ action })),
  ];
  if (can.info === 'answer') lines.push({ action: 'answer' });
  if (can.info === 'add') lines.push({ action: 'addInfo' });
  return lines.length ? lines : [{ action: 'wait' }];
}

/**
 * While the case is in review, when its decision is due: the review's SLA, or, waiting for a second reviewer,
 * the approval's (cases opened before rules 3 keep the review's). Null otherwise.
 */
export function decisionDueOf(v: Pick<CaseView, 'status' | 'outcome' | 'deadlines'>): string | null {
  if (v.outcome !== null) return null;
  const d = v.deadlines;
  const due =
    v.status === 'IN_REVIEW'
      ? d.reviewDueAt
      : v.status === 'PENDING_APPROVAL'
        ? (d.approvalDueAt ?? d.reviewDueAt)
        : undefined;
  return due ?? null;
}
