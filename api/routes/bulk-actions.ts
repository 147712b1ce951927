// Reviewed bulk actions (api/bulk-actions.ts): a senior's dry run, another senior's approval, progress, cancel.
import { z } from 'zod';
import { RequestIdSchema } from '../../core/events';
import { OPEN_STATUSES, REASON_CODES } from '../../core/model';
import { outcomeCodesFor } from '../../core/outcomes';
import type { BulkActions } from '../bulk-actions';
import { text } from '../schemas';
import { route, SENIORS, type RouteSpec } from './spec';

export const BulkSelectorSchema = z
  .strictObject({
    rule: z
      .string()
      .regex(/^[a-z0-9-]{1,64}$/, "a rule's ID")
      .optional()
      .describe('Open cases this rule restricted (the intake index)'),
    reasonCode: z
      .enum(REASON_CODES)
      .optional()
      .describe('Open cases with this reason code among their reasons'),
    policyVersion: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,64}$/, "a policy's version")
      .optional()
      .describe('Open cases a decision of this policy version restricted (the intake index)'),
    status: z.enum(OPEN_STATUSES).optional().describe('Open cases in this status'),
    openedFrom: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('Open cases opened at or after this time'),
    openedTo: z.iso.datetime({ offset: true }).optional().describe('Open cases opened before this time'),
  })
  .refine((s) => Object.values(s).some((v) => v !== undefined), {
    message: 'name at least one of rule, reasonCode, policyVersion, status, openedFrom, openedTo',
  })
  .refine((s) => !s.openedFrom || !s.openedTo || Date.parse(s.openedFrom) < Date.parse(s.openedTo), {
    message: 'openedFrom must be before openedTo',
    path: ['openedTo'],
  })
  .describe(
    'Which open cases: at least one of its fields (else 400); with both, openedFrom before openedTo (else 400 on openedTo)',
  );

export const BulkActionBody = z.strictObject({
  requestId: RequestIdSchema,
  selector: BulkSelectorSchema,
  action: z
    .enum(['LIFT', 'RESCORE'])
    .describe('LIFT: restore every case; RESCORE: restore those the policy no longer restricts'),
  explanation: z
    .strictObject({
      code: z
        .enum(outcomeCodesFor('RESTORED') as [string, ...string[]])
        .optional()
        .describe('An outcome code that fits a restore (default RESTRICTED_IN_ERROR)'),
      text: text(1_000).describe('What every user is told with the restore, with the code in their language'),
    })
    .describe('What the user reads with the restore'),
});

const BulkIdParams = z.strictObject({ bulkId: z.string().regex(/^bk-[0-9a-f-]{36}$/, "a bulk action's ID") });
const BulkListQuery = z.strictObject({
  limit: z
    .preprocess(
      (v) => (typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v),
      z.number().int().min(1).max(200),
    )
    .optional(),
});

export function bulkActionRoutes(deps: () => BulkActions): RouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/v1/bulk-actions',
      summary:
        "A bulk action's dry run (senior or admin): the open cases the selector matches, recorded exactly (each at its evidence version) and changing nothing, PENDING_APPROVAL until another senior approves",
      roles: SENIORS,
      body: BulkActionBody,
      status: 202,
      answers: {
        409: 'The requestId was used by this principal for another body (IDEMPOTENCY_KEY_REUSED)',
        503: 'Temporal could not be read: try again (Retry-After)',
      },
      handle: async ({ body, principal }) => deps().dryRun(principal, body),
    }),
    route({
      method: 'get',
      path: '/v1/bulk-actions',
      summary: 'Bulk actions, newest first, with their progress',
      roles: SENIORS,
      query: BulkListQuery,
      handle: async ({ query }) => deps().list(query.limit ?? 50),
    }),
    route({
      method: 'get',
      path: '/v1/bulk-actions/:bulkId',
      summary: 'A bulk action: its status, total, done, the skipped cases with the reason, failed',
      roles: SENIORS,
      params: BulkIdParams,
      answers: { 404: 'No bulk action by this ID (BULK_NOT_FOUND)' },
      handle: async ({ params }) => deps().view(params.bulkId),
    }),
    route({
      method: 'post',
      path: '/v1/bulk-actions/:bulkId/approval',
      summary:
        "Approve a bulk action (another senior or admin): it starts, at CORDON_BULK_RATE cases a second, on exactly the dry run's cases",
      roles: SENIORS,
      params: BulkIdParams,
      status: 202,
      answers: {
        404: 'No bulk action by this ID (BULK_NOT_FOUND)',
        409: "The requester approving (SAME_REVIEWER); the running policy is not the dry run's for a RESCORE (POLICY_CHANGED); already approved by another or ended (BULK_NOT_PENDING)",
      },
      handle: async ({ params, principal }) => deps().approve(params.bulkId, principal),
    }),
    route({
      method: 'post',
      path: '/v1/bulk-actions/:bulkId/cancel',
      summary: 'Cancel a bulk action: a pending one at once, a running one before its next case (CANCELLED)',
      roles: SENIORS,
      params: BulkIdParams,
      answers: {
        404: 'No bulk action by this ID (BULK_NOT_FOUND)',
        409: 'The bulk action has ended (BULK_ENDED)',
      },
      handle: async ({ params, principal }) => deps().cancel(params.bulkId, principal),
    }),
  ];
}
