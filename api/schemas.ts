import { z } from 'zod';
import {
  AccountIdSchema,
  EVENT_MAX_FUTURE_S_DEFAULT,
  occurredTooFarAhead,
  RequestIdSchema,
  RiskEventSchema,
  RESERVED_EVENT_PREFIXES,
} from '../core/events';
import { LOCALES, OUTCOMES, REASON_CODES, TIERS, type Outcome } from '../core/model';
import { BREAK_GLASS_OUTCOMES, DECISION_OUTCOMES, OUTCOME_CODES, outcomeCodesFor } from '../core/outcomes';
import { ERASURE_REASONS } from '../infra/erasure-record';
import { Problem } from '../web/problems';

// Request schemas: the single source of truth for validation, request types and the OpenAPI document. Every rule
// is one JSON Schema can state, so the document says all the API checks; the few it cannot (a time relative to
// now, a relation between two parameters) are said in the field's description.

/**
 * One character that is not white space as String.prototype.trim sees it (spelled out: `\S` differs between
 * JavaScript and other regex engines, which read the document's patterns too).
 */
const NOT_BLANK = /[^\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/;

/** Free text: at most `max` characters as sent, not blank, stored trimmed (every route's free text). */
export const text = (max: number) =>
  z.string().max(max).regex(NOT_BLANK, 'must not be blank').trim().min(1, 'must not be blank');

/**
 * A whole number in a query string: digits only (an empty value, `1.5`, `1e3` or a repeated parameter is refused,
 * where z.coerce would read "" as 0 and ["5"] as 5).
 */
const queryInt = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^-?[0-9]+$/.test(v) ? Number(v) : v),
    z.number().int().min(min).max(max),
  );

const Rationale = text(2_000);
const Evidence = z
  .array(z.string().min(1).max(500))
  .max(10)
  .optional()
  .describe('References to documents the user supplied (URLs or document IDs)');

export { RiskEventSchema };

export const VerificationBody = z.strictObject({
  method: z
    .string()
    .regex(/^[A-Z0-9_]{1,32}$/, 'an upper-case method name such as OTP, DOCUMENT or USER_CONFIRMATION'),
  passed: z.boolean(),
  requestId: RequestIdSchema,
});

export const AppealBody = z.strictObject({
  statement: text(2_000),
  evidence: Evidence,
  requestId: RequestIdSchema,
});

/** The user's request for the one second review of an ended case: why, and any new files. */
export const SecondReviewBody = z.strictObject({
  statement: text(2_000),
  evidence: Evidence,
  requestId: RequestIdSchema,
});

/**
 * What the user is told with an outcome: an outcome code that fits it (core/outcomes.ts), whose words the user
 * reads first, then this text. Reason codes, the codes before 0.5, are still taken in 0.5 for any outcome
 * (deprecated: they say why a case opened, not why it ended; the next release refuses them).
 */
const explanationFor = (outcome: Outcome | null, decision: string) => {
  const codes = outcome ? outcomeCodesFor(outcome) : [...OUTCOME_CODES];
  return z
    .strictObject({
      code: z.enum([...codes, ...REASON_CODES], {
        error: `an outcome code that fits ${decision}: ${codes.join(', ')} (or, deprecated, a reason code)`,
      }),
      text: text(1_000),
    })
    .describe(
      `What the user is told with the outcome: the words of an outcome code that fits ${decision} (${codes.join(', ')}), then this text. Reason codes are deprecated (accepted in 0.5).`,
    );
};
const EvidenceVersion = z
  .number()
  .int()
  .min(0)
  .optional()
  .describe("The case's evidenceVersion the reviewer saw: refused (409 EVIDENCE_CHANGED) if it has moved on");

const decisionFields = {
  rationale: Rationale,
  requestId: RequestIdSchema,
  evidenceVersion: EvidenceVersion,
};
/** An outcome: no question, and an explanation whose code fits the outcome the decision ends the case with. */
const outcomeDecision = (decision: keyof typeof DECISION_OUTCOMES) =>
  z.strictObject({
    decision: z.literal(decision),
    question: z
      .never({ error: 'only REQUEST_INFO takes a question' })
      .optional()
      .describe('Not allowed: only REQUEST_INFO takes a question'),
    ...decisionFields,
    explanation: explanationFor(DECISION_OUTCOMES[decision], decision).optional(),
  });
/**
 * A question goes with REQUEST_INFO and with nothing else, an explanation's code with its outcome: one shape per
 * decision, so the document says so.
 */
export const DecisionBody = z.discriminatedUnion('decision', [
  z.strictObject({
    decision: z.literal('REQUEST_INFO'),
    question: z
      .string({
        error: (issue) =>
          issue.input === undefined ? 'REQUEST_INFO needs a question for the user' : undefined,
      })
      .max(1_000)
      .regex(NOT_BLANK, 'must not be blank')
      .trim()
      .describe('The question the user is asked'),
    ...decisionFields,
    explanation: explanationFor(null, 'REQUEST_INFO').optional(),
  }),
  outcomeDecision('UNLOCK'),
  outcomeDecision('UPHOLD'),
  outcomeDecision('CLOSE'),
]);

export const ApprovalBody = z.strictObject({
  approve: z.boolean(),
  rationale: Rationale,
  requestId: RequestIdSchema.optional(),
  evidenceVersion: EvidenceVersion,
});

/** One shape per action: an explanation's code fits the outcome the action ends the case with. */
const breakGlass = (action: keyof typeof BREAK_GLASS_OUTCOMES) =>
  z.strictObject({
    action: z.literal(action),
    rationale: Rationale,
    explanation: explanationFor(BREAK_GLASS_OUTCOMES[action], action).optional(),
    requestId: RequestIdSchema,
  });
export const BreakGlassBody = z.discriminatedUnion('action', [breakGlass('LIFT'), breakGlass('CLOSE')]);

export const RetractionBody = z.strictObject({
  accountId: AccountIdSchema,
  reason: text(500).describe('Why the event is withdrawn (e.g. the fraud report was withdrawn)'),
  requestId: RequestIdSchema,
});
export const EventIdParams = z.strictObject({ eventId: RequestIdSchema });

export const ManualCaseBody = z.strictObject({
  accountId: AccountIdSchema,
  tier: z.enum(TIERS).exclude(['NONE']),
  reason: z.enum(REASON_CODES),
  rationale: Rationale,
  locale: z.enum(LOCALES).optional(),
  requestId: RequestIdSchema.describe('Opening the same case again with this ID answers the first result'),
});

export const InfoBody = z.strictObject({
  answer: text(4_000),
  evidence: Evidence,
  requestId: RequestIdSchema,
});

export const CaseIdParams = z.strictObject({
  caseId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}\.[0-9a-f]{12}$/, 'a case ID as returned by POST /v1/risk-events'),
});
export const AccountIdParams = z.strictObject({ accountId: AccountIdSchema });
export const RestrictionsBody = z.strictObject({
  accountIds: z.array(AccountIdSchema).min(1).max(100).describe('Answered in the same order'),
});

export const ReviewQueueQuery = z.strictObject({
  status: z.enum(['IN_REVIEW', 'AWAITING_INFO', 'PENDING_APPROVAL']).optional(),
  limit: queryInt(1, 500).default(100),
  escalated: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('true: the senior queue (cases past their review SLA); false: the others'),
  secondReview: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('true: second reviews only (for senior reviewers); false: the others'),
});

/** A search is exact: a case ID, or an account ID (account IDs have no ".", so the two never mix). */
export const CaseSearchQuery = z.strictObject({
  q: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}(?:\.[0-9a-f]{12})?$/, 'a case ID or an account ID, exactly as given')
    .describe('A case ID (the account ID, ".", 12 hex digits) or an account ID, exactly (not a prefix)'),
});

/** Ended cases, newest first: filters, a window of end times, and a cursor (the previous page's `next`). */
export const EndedCasesQuery = z
  .strictObject({
    outcome: z.enum(OUTCOMES).optional(),
    reason: z.enum(REASON_CODES).optional().describe('Cases with this reason code among their reasons'),
    accountId: AccountIdSchema.optional().describe("One account's ended cases"),
    from: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('Ended at or after this time (ISO 8601). Must be before `to`, else 400 VALIDATION_FAILED'),
    to: z.iso.datetime({ offset: true }).optional().describe('Ended before this time (ISO 8601)'),
    limit: queryInt(1, 100).default(50),
    after: z
      .string()
      .regex(/^[0-9]{1,15}~[A-Za-z0-9_-]{1,64}\.[0-9a-f]{12}$/, 'the `next` of the previous page')
      .optional()
      .describe('The `next` of the previous page'),
  })
  .transform(({ from, to, after, ...q }) => {
    const cut = after?.indexOf('~') ?? -1;
    return {
      ...q,
      from: from ? Date.parse(from) : undefined,
      to: to ? Date.parse(to) : undefined,
      after: after ? { endedAt: Number(after.slice(0, cut)), caseId: after.slice(cut + 1) } : undefined,
    };
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from < q.to, {
    message: '`from` must be before `to`',
    path: ['from'],
  });

const DAY_MS = 86_400_000;
/** The longest report window. */
const REPORT_WINDOW_MAX_DAYS = 3_660;
/**
 * A report's window: [from, to), by default the 30 days up to now. Its two rules relate the parameters to each
 * other and to now, which JSON Schema cannot state: the descriptions say them (400 VALIDATION_FAILED, path
 * query.from).
 */
export const ReportWindowQuery = z
  .strictObject({
    from: z.iso
      .datetime({ offset: true })
      .optional()
      .describe(
        `Start of the window (ISO 8601); default: \`to\` − 30 days. Must be before \`to\`, at most ${REPORT_WINDOW_MAX_DAYS} days (ten years) before it, else 400 VALIDATION_FAILED`,
      ),
    to: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('End of the window, excluded (ISO 8601); default: now'),
  })
  .transform((q) => {
    const to = q.to ? Date.parse(q.to) : Date.now();
    return { to, from: q.from ? Date.parse(q.from) : to - 30 * DAY_MS };
  })
  .refine((w) => w.from < w.to, { message: '`from` must be before `to`', path: ['from'] })
  .refine((w) => w.to - w.from <= REPORT_WINDOW_MAX_DAYS * DAY_MS, {
    message: 'the window is at most ten years',
    path: ['from'],
  });

export const ChangesQuery = z.strictObject({
  after: queryInt(0, Number.MAX_SAFE_INTEGER)
    .default(0)
    .describe('The `next` cursor of the previous page; 0 from the start'),
  limit: queryInt(1, 1_000).default(100),
});

/** Erasure (api/erasure.ts): why, as a code (the audit record keeps codes only), and the request's ID. */
export const ErasureRequestBody = z.strictObject({
  requestId: RequestIdSchema.describe('Requesting again with this ID answers the first result'),
  reason: z
    .enum(ERASURE_REASONS)
    .describe('The ground for erasure (GDPR art. 17(1), PIPL art. 47), as a code'),
});
export const ErasureApprovalBody = z.strictObject({
  requestId: RequestIdSchema.describe('Approving again with this ID answers the first result'),
});
export const ErasureIdParams = z.strictObject({
  erasureId: z
    .string()
    .regex(/^er_[A-Za-z0-9_-]{22}$/, 'an erasure ID as POST /v1/accounts/{accountId}/erasure answers'),
});

export type ManualCase = z.infer<typeof ManualCaseBody>;
export type VerificationBody = z.infer<typeof VerificationBody>;
export type AppealBody = z.infer<typeof AppealBody>;
export type SecondReviewBody = z.infer<typeof SecondReviewBody>;
export type DecisionBody = z.infer<typeof DecisionBody>;
export type ApprovalBody = z.infer<typeof ApprovalBody>;
export type InfoBody = z.infer<typeof InfoBody>;
export type ReviewQueueQuery = z.infer<typeof ReviewQueueQuery>;
export type EndedCasesQuery = z.output<typeof EndedCasesQuery>;

/**
 * What the schema cannot check of a risk event: an ID in the staff space (POST /v1/cases uses "staff:" IDs, so
 * the two never collide), and a time further ahead of Cordon's clock than the allowed skew
 * (CORDON_EVENT_MAX_FUTURE_S): such an event would sit in the record as a future fact and, once detection counts
 * windows by occurredAt, in windows that have not begun.
 */
export function checkRiskEvent(
  event: { eventId: string; occurredAt: string },
  maxFutureMs = EVENT_MAX_FUTURE_S_DEFAULT * 1_000,
  now = Date.now(),
): void {
  const reserved = RESERVED_EVENT_PREFIXES.find((prefix) => event.eventId.startsWith(prefix));
  if (reserved)
    throw new Problem(400, 'Reserved event ID', `event IDs beginning "${reserved}" are Cordon's own`, {
      code: 'RESERVED_EVENT_ID',
      errors: [{ path: 'body.eventId', message: `must not begin with "${reserved}"` }],
    });
  if (occurredTooFarAhead(event.occurredAt, maxFutureMs, now))
    throw new Problem(400, 'Occurred in the future', "occurredAt is ahead of this server's clock", {
      code: 'OCCURRED_IN_FUTURE',
      errors: [
        {
          path: 'body.occurredAt',
          message: `at most ${Math.round(maxFutureMs / 1_000)} s ahead of the server's clock`,
        },
      ],
    });
}
