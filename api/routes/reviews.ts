// The review process: the queue, claiming and releasing a case, a reviewer's decision and its second approval,
// and a senior's break-glass.
import type { UpdateDefinition } from '@temporalio/common';
import type { z } from 'zod';
import { identityOf, type ActionUpdates } from '../../core/actions';
import type { CaseView, ClaimUpdate } from '../../core/contracts';
import {
  approvalUpdate,
  breakGlassUpdate,
  claimUpdate,
  decisionUpdate,
  releaseUpdate,
} from '../../workflows/definitions';
import { CaseAnswer } from '../answers';
import type { CaseService } from '../case-service';
import * as S from '../schemas';
import { explained } from './cases';
import { REVIEWERS, route, SENIORS, type RouteSpec } from './spec';

export function reviewRoutes(d: { cases: CaseService }): RouteSpec[] {
  /** Claiming or releasing a case: the reviewer, and whether they may act on another reviewer's claim. */
  const holdAction = (name: string, summary: string, update: UpdateDefinition<CaseView, [ClaimUpdate]>) =>
    route({
      method: 'post',
      path: `/v1/cases/:caseId/${name}`,
      summary,
      roles: REVIEWERS,
      params: S.CaseIdParams,
      answerSchema: CaseAnswer,
      handle: async ({ params, principal }) =>
        explained(
          await d.cases.act(params.caseId, update, {
            reviewer: principal.id,
            senior: SENIORS.includes(principal.role),
          }),
        ),
    });

  /** A reviewer's request with a body, applied once per request identity. */
  const reviewerRequest = <N extends 'decision' | 'approval', B extends z.ZodType<object>>(
    name: N,
    summary: string,
    body: B,
    update: UpdateDefinition<CaseView, [ActionUpdates[N]]>,
  ) =>
    route({
      method: 'post',
      path: `/v1/cases/:caseId/${name}`,
      summary,
      roles: REVIEWERS,
      params: S.CaseIdParams,
      body,
      answerSchema: CaseAnswer,
      handle: async ({ params, body, principal }) => {
        // Whether the caller is a senior counts for a second review; it is no part of the request's identity.
        const senior = SENIORS.includes(principal.role) ? { senior: true } : {};
        const args = { ...body, ...senior, reviewer: principal.id, principal: principal.id } as Omit<
          ActionUpdates[N],
          'caseId'
        >;
        const identity = identityOf(name, { ...args, caseId: params.caseId } as ActionUpdates[N]);
        return explained(await d.cases.act(params.caseId, update, args, identity));
      },
    });

  return [
    route({
      method: 'get',
      path: '/v1/review-queue',
      summary: 'Cases waiting for reviewers, soonest review deadline first',
      roles: REVIEWERS,
      query: S.ReviewQueueQuery,
      handle: async ({ query }) => ({
        items: await d.cases.reviewQueue(query.status, query.limit, query.escalated, query.secondReview),
      }),
    }),
    holdAction(
      'claim',
      "Claim a case for review (claiming again is a no-op; a senior's claim takes over a case another reviewer holds)",
      claimUpdate,
    ),
    holdAction('release', 'Give a claimed case back to the queue (its holder, or a senior)', releaseUpdate),
    reviewerRequest(
      'decision',
      'Decide a claimed case: UNLOCK, CLOSE, UPHOLD or REQUEST_INFO',
      S.DecisionBody,
      decisionUpdate,
    ),
    // Without a requestId each approval is applied or refused on its own: never a silent no-op.
    reviewerRequest(
      'approval',
      'Second approval of a decision that needs one (CLOSE; UNLOCK above the policy score), by another reviewer',
      S.ApprovalBody,
      approvalUpdate,
    ),
    route({
      method: 'post',
      path: '/v1/cases/:caseId/break-glass',
      summary:
        'Lift or close at once, whatever the case is waiting for (senior or admin; audited and notified)',
      roles: SENIORS,
      params: S.CaseIdParams,
      body: S.BreakGlassBody,
      answerSchema: CaseAnswer,
      handle: async ({ params, body, principal }) => {
        const args = { ...body, by: principal.id, principal: principal.id };
        const identity = identityOf('breakGlass', { ...args, caseId: params.caseId });
        return explained(await d.cases.act(params.caseId, breakGlassUpdate, args, identity));
      },
    }),
  ];
}
