// Plain domain vocabulary shared by workflows, activities and the API.
// Deliberately free of zod and any I/O: workflows import it, and every cached workflow carries its imports.

export const TIERS = ['NONE', 'STEP_UP', 'LIMIT', 'PROTECT', 'FREEZE', 'CLOSE'] as const;
export type Tier = (typeof TIERS)[number];
export type RestrictiveTier = Exclude<Tier, 'NONE'>;

/** Severity order used for "escalate, never silently de-escalate". */
export function tierRank(tier: Tier): number {
  return TIERS.indexOf(tier);
}

export function isMoreSevere(a: Tier, b: Tier): boolean {
  return tierRank(a) > tierRank(b);
}

export const OPEN_STATUSES = [
  'VERIFICATION_REQUIRED',
  'AWAITING_USER',
  'LIMITED',
  'PROTECTIVE_HOLD',
  'IN_REVIEW',
  'AWAITING_INFO',
  'PENDING_APPROVAL',
  /** A temporary lockout lifted itself; the case watches for a repeat before it ends. Not restricted. */
  'MONITORING',
] as const;
export const OUTCOMES = ['RESTORED', 'CLOSED', 'UPHELD'] as const;
export type OpenStatus = (typeof OPEN_STATUSES)[number];
export type Outcome = (typeof OUTCOMES)[number];
export type CaseStatus = OpenStatus | Outcome;
/** What the API answers for an event that restricted nothing and opened no case. */
export const NO_ACTION = 'NO_ACTION';

export const REVIEW_STATUSES: readonly CaseStatus[] = ['IN_REVIEW', 'AWAITING_INFO', 'PENDING_APPROVAL'];

export const REASON_CODES = [
  'CREDENTIAL_BRUTE_FORCE',
  'ACCOUNT_TAKEOVER_SUSPECTED',
  'NEW_DEVICE_LOCATION_JUMP',
  'IDENTITY_MISMATCH',
  'MULTI_LENDER_BORROWING',
  'REPAYMENT_CAPACITY_DROP',
  'ABNORMAL_BORROWING_PATTERN',
  'ABNORMAL_FUND_FLOWS',
  'OVERDUE_HISTORY',
  'SCAM_VICTIM_INDICATORS',
  'EXTERNAL_FRAUD_REPORT',
  'REGULATORY_HOLD',
  /** The user's own actions as a signal: verifications that failed, and bursts of actions past the limits. */
  'FAILED_VERIFICATIONS',
  'SUSPICIOUS_ACTION_BURST',
  /** Cordon's signal that the account shared a device, payee or other entity with one closed for fraud. */
  'LINKED_ACCOUNT',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];

export const DECISIONS = ['UNLOCK', 'CLOSE', 'UPHOLD', 'REQUEST_INFO'] as const;
export type ReviewDecision = (typeof DECISIONS)[number];

export interface ReasonContribution {
  code: ReasonCode;
  /** Points this rule added to the score (hard rules add their weight too). */
  contribution: number;
  ruleId: string;
}

/** The outcome of scoring one risk event against one policy version. */
export interface Decision {
  tier: Tier;
  score: number;
  reasons: ReasonContribution[];
  policyVersion: string;
  policyHash: string;
  /** A FREEZE that is a temporary lockout lifting itself (repeated failed logins). */
  lockout: boolean;
  /** False when a contributing rule says user verification cannot resolve it (e.g. a regulatory hold). */
  verificationAllowed: boolean;
  /** Data sources that could not be consulted; recorded, never counted as risk. */
  unavailableSources: string[];
  /** A case opened by hand: the staff member's rationale (recorded in the timeline). */
  note?: string;
  /**
   * The policy's features at the decision (name → value; core/features.ts), for the reviewer. Absent when the
   * policy declares none, so decisions and recorded histories without features stay as they were.
   */
  features?: Record<string, number>;
  /**
   * Rules whose guard had tripped with capAtStepUp when this event was decided (core/guards.ts): they counted at
   * most up to STEP_UP. Absent when none did.
   */
  guardedRules?: string[];
}

/** Durations (milliseconds) that a case fixes from the policy when it opens. */
export interface TierTerms {
  /** How long the user has to verify (STEP_UP, FREEZE) or confirm after cooling-off (PROTECT). */
  userDeadlineMs: number;
  /** Reminders are sent this long before the user deadline. */
  remindBeforeMs: number[];
  /** What happens when the user deadline passes with no action. */
  onUserDeadline: 'REVIEW' | 'UPHOLD';
  /** Whether the user may appeal (all tiers allow it by default). */
  appealAllowed: boolean;
  /** Whether a passed verification restores the account without review. */
  verificationRestores: boolean;
  /** PROTECT: time before the user may confirm a held operation. */
  coolingOffMs: number;
  reviewSlaMs: number;
  infoDeadlineMs: number;
  /** A CLOSE decision needs a second reviewer's approval. */
  fourEyesClose: boolean;
}

export interface LockoutTerms {
  /** Wait before the n-th lockout lifts itself (index 0 = first lockout); the last entry repeats. */
  waitsMs: number[];
  /** From this lockout number on (1-based), the lockout no longer lifts itself. */
  permanentAfter: number;
  /** How long a lifted lockout is remembered so a repeat counts as a repeat. */
  memoryMs: number;
}

export interface CaseTerms {
  policyVersion: string;
  policyHash: string;
  tiers: Record<RestrictiveTier, TierTerms>;
  lockout: LockoutTerms;
  /** A claim idle this long is released. Absent in cases opened before 0.2: their claims never expire. */
  claimIdleMs?: number;
  /**
   * The version of the case machine's rules the case opened under (fixed with the terms, so a replay sees
   * what the case saw). Absent: 1. 2 (0.2): a milder event that brings a new reason or rules out verification
   * is recorded and kept. 3 (0.3): a breached SLA escalates and tells the backend; a decision waiting for
   * approval has its own SLA and is voided by new evidence; the user may add information during review.
   */
  rulesVersion?: number;
  /** Rules 3: a decision waiting for its second reviewer escalates after this long. */
  approvalSlaMs?: number;
  /** Rules 3: an UNLOCK of a case whose score is above this needs a second reviewer too. */
  unlockApprovalAboveScore?: number;
  /** Rules 3: a failed verification adds FAILED_VERIFICATIONS with this weight to the case's score. */
  failedVerificationWeight?: number;
  /** Rules 3: when every event the case recorded is retracted, the case ends restored (else: to review). */
  retractionRestores?: boolean;
}

export type ActorKind = 'system' | 'backend' | 'user' | 'reviewer';
export interface Actor {
  kind: ActorKind;
  id: string;
}
