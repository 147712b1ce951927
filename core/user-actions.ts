// What the account holder can do on a case now, read from the case's view: the conditions under which the case
// machine (`transition` in core/case-machine.ts) accepts the user's verification, appeal and information. The
// user's pages offer exactly these and nothing else. Pure; test/portal-next-steps.test.ts walks the machine
// through random cases and checks in every state it reaches that these answers and the machine's agree.
import type { CaseView } from './contracts';

export interface UserActions {
  /** Step-up verification through the identity provider (STEP_UP; FREEZE while it waits for the user). */
  verify: boolean;
  /** PROTECT: the user's own confirmation of the held payment, accepted from `confirmFrom` on. */
  confirm: boolean;
  /** When the cooling-off ends (the machine refuses a confirmation before it: COOLING_OFF). */
  confirmFrom: string | null;
  /**
   * An appeal. The view does not carry the tier's `appealAllowed` (every tier of the default policy allows one):
   * under a policy that forbids it, the appeal is offered and refused with APPEAL_NOT_ALLOWED.
   */
  appeal: boolean;
  /** Information for the reviewer: the answer to their question, or added unasked while the review runs. */
  info: 'answer' | 'add' | null;
}

export type UserActionFields = Pick<
  CaseView,
  'status' | 'tier' | 'outcome' | 'appealed' | 'verificationAllowed' | 'deadlines' | 'rulesVersion'
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
    appeal: !v.appealed && s !== 'MONITORING',
    info:
      s === 'AWAITING_INFO'
        ? 'answer'
        : rules >= 3 && (s === 'IN_REVIEW' || s === 'PENDING_APPROVAL')
          ? 'add'
          : null,
  };
}
