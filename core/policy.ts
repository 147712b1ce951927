import { z } from 'zod';
import { parseDuration } from './durations';
import { REASON_CODES, TIERS, type CaseTerms, type RestrictiveTier } from './model';
import { RISK_EVENT_TYPES } from './events';
import { CAPABILITIES } from './capabilities';
import { FeaturesSchema, undeclaredFeatureProblems } from './features';
import { LinkedSchema, linkedProblems } from './linked';
import { GuardSchema, guardProblems } from './guards';

// The risk policy is versioned data: rules with weights give a score, thresholds map the score to a tier,
// hard rules force a minimum tier, and per-tier terms give every deadline a case fixes when it opens.

const Duration = z.string().refine((s) => parseDuration(s) !== undefined, {
  message: 'a duration such as "30s", "15m", "72h" or "7d"',
});

const Condition = z.union([
  z.strictObject({
    field: z.string().min(1),
    op: z.enum(['eq', 'ne']),
    value: z.union([z.number(), z.boolean(), z.string()]),
  }),
  z.strictObject({
    field: z.string().min(1),
    op: z.enum(['gt', 'gte', 'lt', 'lte']),
    value: z.number(),
  }),
  z.strictObject({
    /** Compares the field with another field times a factor, e.g. amount >= 0.9 * creditLimit. */
    field: z.string().min(1),
    op: z.enum(['gt', 'gte', 'lt', 'lte']),
    ref: z.string().min(1),
    factor: z.number().default(1),
  }),
]);
export type Condition = z.infer<typeof Condition>;

const restrictiveTier = z.enum(TIERS).exclude(['NONE']);

const Rule = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]{1,64}$/),
  description: z.string().max(500).optional(),
  eventType: z.union([z.enum(RISK_EVENT_TYPES as [string, ...string[]]), z.literal('*')]),
  reason: z.enum(REASON_CODES),
  /** Every condition must hold; a condition on a missing field does not hold. */
  when: z.array(Condition).default([]),
  weight: z.number().min(0).max(1000),
  /** A hard rule: whenever it matches, the tier is at least this. */
  minTier: restrictiveTier.optional(),
  /** The FREEZE this rule forces is a temporary lockout that lifts itself (see lockout terms). */
  lockout: z.boolean().default(false),
  /** False when user verification cannot resolve what this rule found (e.g. a regulatory hold). */
  verificationAllowed: z.boolean().default(true),
  /** A brake on mass restrictions by this rule (core/guards.ts). Absent: none, and the hash stays. */
  guard: GuardSchema.optional(),
});
export type Rule = z.infer<typeof Rule>;

const TierTermsInput = z.strictObject({
  userDeadline: Duration,
  remindBefore: z.array(Duration).default([]),
  onUserDeadline: z.enum(['REVIEW', 'UPHOLD']),
  appealAllowed: z.boolean().default(true),
  verificationRestores: z.boolean(),
  coolingOff: Duration.default('0s'),
  reviewSla: Duration,
  infoDeadline: Duration,
  fourEyesClose: z.boolean().default(false),
  /**
   * What the account holder can still do under this tier (core/capabilities.ts); everything else is blocked.
   * Absent: the catalogue's defaults, and the policy's hash stays what it was.
   */
  capabilities: z
    .array(z.enum(CAPABILITIES))
    .max(CAPABILITIES.length)
    .refine((c) => new Set(c).size === c.length, { message: 'each capability once' })
    .optional(),
});

/** One line of text in every locale the user's pages speak. */
const PerLocaleText = z.strictObject({
  en: z.string().trim().min(1).max(500),
  'zh-CN': z.string().trim().min(1).max(500),
});

const PolicyObject = z.strictObject({
  version: z.string().min(1).max(64),
  description: z.string().optional(),
  /** Minimum score for each tier on the score ladder. PROTECT is reached through hard rules only. */
  thresholds: z
    .strictObject({
      STEP_UP: z.number().positive(),
      LIMIT: z.number().positive(),
      FREEZE: z.number().positive(),
      CLOSE: z.number().positive(),
    })
    .refine((t) => t.STEP_UP < t.LIMIT && t.LIMIT < t.FREEZE && t.FREEZE < t.CLOSE, {
      message: 'thresholds must increase: STEP_UP < LIMIT < FREEZE < CLOSE',
    }),
  rules: z
    .array(Rule)
    .min(1)
    .refine((rules) => new Set(rules.map((r) => r.id)).size === rules.length, {
      message: 'rule ids must be unique',
    }),
  tiers: z.strictObject({
    STEP_UP: TierTermsInput,
    LIMIT: TierTermsInput,
    PROTECT: TierTermsInput,
    FREEZE: TierTermsInput,
    CLOSE: TierTermsInput,
  }),
  lockout: z.strictObject({
    waits: z.array(Duration).min(1),
    permanentAfter: z.number().int().min(0),
    memory: Duration,
  }),
  /** The review process: a claim whose holder does nothing for this long goes back to the queue. */
  review: z
    .strictObject({
      claimIdle: Duration.default('60m'),
      /** A decision waiting for a second reviewer escalates after this long. */
      approvalSla: Duration.default('24h'),
      /** An UNLOCK of a case scored above this needs a second reviewer (unset: only CLOSE may). */
      unlockApprovalAboveScore: z.number().min(0).optional(),
      /** A failed verification is a signal: FAILED_VERIFICATIONS joins the case's reasons with this weight. */
      failedVerificationWeight: z.number().min(0).max(1000).default(30),
      /** A case whose every recorded event is retracted ends restored; false: it goes to review. */
      retractionRestores: z.boolean().default(false),
      /**
       * How long after an outcome of UPHELD or CLOSED the user (or the backend) may ask for the one second review
       * (absent: 14d; optional so that policies without it keep their hash).
       */
      secondReviewWindow: Duration.optional(),
    })
    .prefault({}),
  /** Rate limits on what users do through Cordon's pages (per case, per account, per IP, in one window). */
  userActions: z
    .strictObject({
      window: Duration.default('1h'),
      perCase: z.number().int().min(1).default(20),
      perAccount: z.number().int().min(1).default(40),
      perIp: z.number().int().min(1).default(100),
      /** Opening a link (a landing page view) per IP in the window. */
      linkOpensPerIp: z.number().int().min(1).default(300),
    })
    .prefault({}),
  /**
   * Personal data. `legalHoldDays`: how long after an account's last case ended its data must be kept before it
   * may be erased; it only lengthens the deployment's CORDON_ERASURE_MIN_HOLD_DAYS (the longer applies). Absent
   * (policies before 0.5): 0, and the policy's hash stays what it was.
   */
  privacy: z.strictObject({ legalHoldDays: z.number().int().min(0).max(36_500).default(0) }).optional(),
  /**
   * Where an account holder can turn once Cordon's own reviews are over (an ombudsman, the regulator's hotline):
   * one entry per channel, its text in every locale; shown on the final outcome page, the decision letter and the
   * final mail. Absent: none shown, and the policy's hash stays what it was.
   */
  complaints: z.array(PerLocaleText).min(1).max(10).optional(),
  /**
   * Aggregates over windows of past events that rules read as `feature.<name>` (core/features.ts). Absent: none,
   * and the policy's hash stays what it was.
   */
  features: FeaturesSchema.optional(),
  /**
   * Linked accounts (core/linked.ts): which closures signal the accounts that shared an entity with the closed
   * one. Absent: no account is ever linked, and the policy's hash stays what it was.
   */
  linked: LinkedSchema.optional(),
});
// Every `feature.X` a rule names is declared (a typo would be a condition that never holds); a `linked` section
// has a rule that scores its signal.
export const PolicySchema = PolicyObject.superRefine((p, ctx) => {
  for (const problem of [
    ...undeclaredFeatureProblems(p.features, p.rules),
    ...linkedProblems(p.linked, p.rules),
    ...guardProblems(p.rules, p.tiers.STEP_UP.verificationRestores),
  ])
    ctx.addIssue({ code: 'custom', ...problem });
});
export type Policy = z.infer<typeof PolicySchema>;

/** The case machine's rules for cases opened now (see CaseTerms.rulesVersion). */
export const CASE_RULES_VERSION = 5;

/** A validated policy with the content hash recorded on every decision. */
export interface LoadedPolicy {
  policy: Policy;
  hash: string;
}

function ms(text: string): number {
  const value = parseDuration(text);
  if (value === undefined) throw new Error(`invalid duration ${text}`); // unreachable after validation
  return value;
}

/** The deadlines a case fixes from the policy when it opens, so later policy changes affect new cases only. */
export function caseTermsOf({ policy, hash }: LoadedPolicy): CaseTerms {
  const tiers = {} as CaseTerms['tiers'];
  for (const tier of Object.keys(policy.tiers) as RestrictiveTier[]) {
    const t = policy.tiers[tier];
    tiers[tier] = {
      userDeadlineMs: ms(t.userDeadline),
      remindBeforeMs: t.remindBefore.map(ms).sort((a, b) => b - a),
      onUserDeadline: t.onUserDeadline,
      appealAllowed: t.appealAllowed,
      verificationRestores: t.verificationRestores,
      coolingOffMs: ms(t.coolingOff),
      reviewSlaMs: ms(t.reviewSla),
      infoDeadlineMs: ms(t.infoDeadline),
      fourEyesClose: t.fourEyesClose,
    };
  }
  return {
    policyVersion: policy.version,
    policyHash: hash,
    tiers,
    lockout: {
      waitsMs: policy.lockout.waits.map(ms),
      permanentAfter: policy.lockout.permanentAfter,
      memoryMs: ms(policy.lockout.memory),
    },
    claimIdleMs: ms(policy.review.claimIdle),
    rulesVersion: CASE_RULES_VERSION,
    approvalSlaMs: ms(policy.review.approvalSla),
    ...(policy.review.unlockApprovalAboveScore !== undefined
      ? { unlockApprovalAboveScore: policy.review.unlockApprovalAboveScore }
      : {}),
    retractionRestores: policy.review.retractionRestores,
    failedVerificationWeight: policy.review.failedVerificationWeight,
  };
}
