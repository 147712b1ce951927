// What the API answers, as zod schemas for the OpenAPI document (api/openapi.ts writes them as each route's success
// content): the shapes clients rely on. A case is a loose object (it carries more than is described here, never
// less); the lists of cases are exact.
import { z } from 'zod';
import { CAPABILITIES } from '../core/capabilities';
import { OUTCOMES, REASON_CODES, TIERS } from '../core/model';
import { CaseEvidenceAnswer } from './case-evidence';

const perLocale = (what: string) =>
  z.strictObject({ en: z.string(), 'zh-CN': z.string() }).describe(`${what}, in each locale`);

/** The reason catalogue's words for a reason code (core/reasons.ts). */
const ReasonExplanation = z.strictObject({
  user: perLocale('What the account holder is told'),
  nextStep: perLocale('What the account holder can do about it'),
  reviewer: z
    .string()
    .describe(
      'What a reviewer should look at, in English, as this field always was (for clients that read it); every locale: reviewerByLocale',
    ),
  reviewerByLocale: perLocale('What a reviewer should look at'),
});

export const CaseAnswer = z
  .looseObject({
    caseId: z.string(),
    accountId: z.string(),
    status: z.string(),
    tier: z.string(),
    reasons: z.array(
      z.looseObject({
        code: z.enum(REASON_CODES),
        contribution: z.number(),
        ruleId: z.string(),
        explanation: ReasonExplanation,
      }),
    ),
    evidence: CaseEvidenceAnswer.optional(),
    secondReview: z
      .boolean()
      .optional()
      .describe('This case is the second review of previousCaseId (seniors only; docs/second-review.md)'),
    previousCaseId: z.string().optional().describe('The ended case a second review looks at again'),
    secondReviewCaseId: z.string().optional().describe("An ended case's second review, once requested"),
    secondReviewAllowedUntil: z
      .string()
      .optional()
      .describe('An UPHELD or CLOSED case: until when its one second review may be requested'),
  })
  .meta({ id: 'Case' });

/** A case in a list: identifiers, codes and dates only (no personal data beyond the account ID). */
const CaseSummary = z
  .strictObject({
    caseId: z.string(),
    accountId: z.string(),
    status: z.string(),
    tier: z.string(),
    open: z.boolean().describe('Still running (from Temporal); false: ended (from the archive)'),
    outcome: z.enum(OUTCOMES).nullable(),
    reasonCodes: z.array(z.string()),
    openedAt: z.string().nullable().describe('When the case opened (ended cases; null for open ones)'),
    endedAt: z.string().nullable().describe('When the case ended (null while open)'),
  })
  .meta({ id: 'CaseSummary' });

export const CaseSearchAnswer = z.strictObject({ items: z.array(CaseSummary) });

const capabilityList = (what: string) =>
  z
    .array(z.enum(CAPABILITIES))
    .describe(`${what} (core/capabilities.ts; the policy's tiers.<TIER>.capabilities)`);

/** An account's restriction as the gateway reads it, with what it means in practice. */
export const RestrictionAnswer = z
  .strictObject({
    accountId: z.string(),
    restricted: z.boolean(),
    tier: z.enum(TIERS),
    status: z
      .string()
      .nullable()
      .describe("The status of the account's latest case (null: it never had one)"),
    caseId: z.string().nullable(),
    allowed: capabilityList('What the account holder can still do'),
    blocked: capabilityList('What the account holder cannot do while restricted'),
  })
  .meta({ id: 'Restriction' });

export const RestrictionsAnswer = z.strictObject({ items: z.array(RestrictionAnswer) });

export const EndedCasesAnswer = z.strictObject({
  items: z.array(CaseSummary),
  next: z
    .string()
    .nullable()
    .describe('Pass as `after` for the next page; null when no case is left to list'),
});
