import { z } from 'zod';
import { AccountIdSchema, RequestIdSchema, RiskEventSchema } from '../core/events';
import { DECISIONS, LOCALES, REASON_CODES, TIERS } from '../core/model';

// Request schemas: the single source of truth for validation, request types and the OpenAPI document.

const Rationale = z.string().trim().min(1).max(2_000);
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
  statement: z.string().trim().min(1).max(2_000),
  evidence: Evidence,
  requestId: RequestIdSchema,
});

const Explanation = z
  .strictObject({ code: z.enum(REASON_CODES), text: z.string().trim().min(1).max(1_000) })
  .describe("What the user is told with the outcome: the catalogue's words for the code, then this text");
const EvidenceVersion = z
  .number()
  .int()
  .min(0)
  .optional()
  .describe("The case's evidenceVersion the reviewer saw: refused (409 EVIDENCE_CHANGED) if it has moved on");

export const DecisionBody = z
  .strictObject({
    decision: z.enum(DECISIONS),
    rationale: Rationale,
    requestId: RequestIdSchema,
    question: z
      .string()
      .trim()
      .min(1)
      .max(1_000)
      .optional()
      .describe('REQUEST_INFO (required there): the question the user is asked'),
    explanation: Explanation.optional(),
    evidenceVersion: EvidenceVersion,
  })
  .superRefine((b, ctx) => {
    if (b.decision === 'REQUEST_INFO' && b.question === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['question'],
        message: 'REQUEST_INFO needs a question for the user',
      });
    if (b.decision !== 'REQUEST_INFO' && b.question !== undefined)
      ctx.addIssue({ code: 'custom', path: ['question'], message: 'only REQUEST_INFO takes a question' });
  });

export const ApprovalBody = z.strictObject({
  approve: z.boolean(),
  rationale: Rationale,
  requestId: RequestIdSchema.optional(),
  evidenceVersion: EvidenceVersion,
});

export const BreakGlassBody = z.strictObject({
  action: z.enum(['LIFT', 'CLOSE']),
  rationale: Rationale,
  explanation: Explanation.optional(),
  requestId: RequestIdSchema,
});

export const RetractionBody = z.strictObject({
  accountId: AccountIdSchema,
  reason: z
    .string()
    .trim()
    .min(1)
    .max(500)
    .describe('Why the event is withdrawn (e.g. the fraud report was withdrawn)'),
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
  answer: z.string().trim().min(1).max(4_000),
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
  limit: z.coerce.number().int().min(1).max(500).default(100),
  escalated: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('true: the senior queue (cases past their review SLA); false: the others'),
});

const DAY_MS = 86_400_000;
/** A report's window: [from, to), by default the 30 days up to now. */
export const ReportWindowQuery = z
  .strictObject({
    from: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('Start of the window (ISO 8601); default: `to` − 30 days'),
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
  .refine((w) => w.to - w.from <= 3_660 * DAY_MS, {
    message: 'the window is at most ten years',
    path: ['from'],
  });

export const ChangesQuery = z.strictObject({
  after: z.coerce
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('The `next` cursor of the previous page; 0 from the start'),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
});

export type ManualCase = z.infer<typeof ManualCaseBody>;
export type VerificationBody = z.infer<typeof VerificationBody>;
export type AppealBody = z.infer<typeof AppealBody>;
export type DecisionBody = z.infer<typeof DecisionBody>;
export type ApprovalBody = z.infer<typeof ApprovalBody>;
export type InfoBody = z.infer<typeof InfoBody>;
export type ReviewQueueQuery = z.infer<typeof ReviewQueueQuery>;
