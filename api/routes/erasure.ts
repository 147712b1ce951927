// The erasure routes (admins): an account's erasure requested by one admin, approved by another, then run; and
// its audit record. The work is api/erasure.ts's; the route table (api/app.ts) includes these.
import type { ErasureService } from '../erasure';
import * as S from '../schemas';
import { route, type RouteSpec } from './spec';

/** `erasures` is asked for at each call: a route table built without one (for its shape only) still builds. */
export function erasureRoutes(erasures: () => ErasureService): RouteSpec[] {
  const refusals =
    'CASE_OPEN: the account has an open case; RESTRICTION_IN_FORCE: its last case left it restricted; LEGAL_HOLD: its data must be kept until `holdUntil`';
  return [
    route({
      method: 'post',
      path: '/v1/accounts/:accountId/erasure',
      summary:
        "Request the erasure of an account's personal data (admin); another admin approves it. Answers 202 with the erasure's ID, PENDING_APPROVAL",
      roles: ['admin'],
      status: 202,
      params: S.AccountIdParams,
      body: S.ErasureRequestBody,
      answers: {
        409: `Refused: ${refusals}; ERASURE_EXISTS: the account has an erasure not done yet (its \`erasureId\`); IDEMPOTENCY_KEY_REUSED`,
      },
      handle: ({ params, body, principal }) => erasures().request(params.accountId, body, principal.id),
    }),
    route({
      method: 'post',
      path: '/v1/erasures/:erasureId/approval',
      summary:
        'Approve an erasure another admin requested, and run it: 202 with status DONE if it finished within seconds, else IN_PROGRESS (FAILED, with the failure, if it stopped); approving a FAILED one again resumes it',
      roles: ['admin'],
      status: 202,
      params: S.ErasureIdParams,
      body: S.ErasureApprovalBody,
      answers: {
        404: 'No such erasure (ERASURE_NOT_FOUND)',
        409: `Refused: SAME_REVIEWER: the admin who requested it; ${refusals} (checked again); IDEMPOTENCY_KEY_REUSED`,
      },
      handle: ({ params, body, principal }) => erasures().approve(params.erasureId, body, principal.id),
    }),
    route({
      method: 'get',
      path: '/v1/erasures/:erasureId',
      summary:
        "An erasure's audit record: its status (DONE, or FAILED with the failure), reason code, who requested and approved it, when each step ended, and counts",
      roles: ['admin'],
      params: S.ErasureIdParams,
      answers: { 404: 'No such erasure (ERASURE_NOT_FOUND)' },
      handle: ({ params }) => erasures().get(params.erasureId),
    }),
  ];
}
