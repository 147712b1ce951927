// A case as reviewers and the backend read it, and the user's actions the backend reports on their behalf.
import type { UpdateDefinition } from '@temporalio/common';
import type { z } from 'zod';
import { identityOf, type ActionUpdates } from '../../core/actions';
import type { CaseView } from '../../core/contracts';
import { appealUpdate, infoUpdate, verificationUpdate } from '../../workflows/definitions';
import type { Actor } from '../../core/model';
import { REASONS } from '../../core/reasons';
import { CaseAnswer } from '../answers';
import type { CaseService } from '../case-service';
import * as S from '../schemas';
import { ANY_STAFF, BACKEND, route, type RouteSpec } from './spec';

/** The user acts through the backend: the timeline records the account holder as the actor. */
function userActor(caseId: string): Actor {
  return { kind: 'user', id: caseId.slice(0, caseId.lastIndexOf('.')) };
}

/** Adds the catalogue's explanations to a case's reason codes, for reviewers and the backend. */
export function explained(view: CaseView) {
  return {
    ...view,
    reasons: view.reasons.map((r) => ({
      ...r,
      explanation: {
        user: REASONS[r.code].user,
        nextStep: REASONS[r.code].nextStep,
        // English, as it always was: clients read it as a string. Every locale: reviewerByLocale.
        reviewer: REASONS[r.code].reviewer.en,
        reviewerByLocale: REASONS[r.code].reviewer,
      },
    })),
  };
}

export function caseRoutes(d: { cases: CaseService }): RouteSpec[] {
  /** An action the backend reports on the user's behalf, applied once per requestId. */
  const userAction = <
    N extends 'verification' | 'appeal' | 'info',
    B extends z.ZodType<{ requestId: string }>,
  >(
    name: N,
    summary: string,
    body: B,
    update: UpdateDefinition<CaseView, [ActionUpdates[N]]>,
  ) =>
    route({
      method: 'post',
      path: `/v1/cases/:caseId/${name}`,
      summary,
      roles: BACKEND,
      params: S.CaseIdParams,
      body,
      answerSchema: CaseAnswer,
      handle: async ({ params, body, principal }) => {
        const args = { ...body, actor: userActor(params.caseId), principal: principal.id } as Omit<
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
      path: '/v1/cases/:caseId',
      summary: 'A case with its reasons, deadlines and timeline',
      roles: ANY_STAFF,
      params: S.CaseIdParams,
      answerSchema: CaseAnswer,
      // Only here (not in actions' answers): what each reason rests on, with personal values as the role may see.
      handle: async ({ params, principal }) => {
        const view = await d.cases.getCase(params.caseId);
        return { ...explained(view), evidence: await d.cases.caseEvidence(view, principal.role) };
      },
    }),
    userAction(
      'verification',
      "Report the result of the user's step-up verification (or, for PROTECT, the user's confirmation)",
      S.VerificationBody,
      verificationUpdate,
    ),
    userAction('appeal', "File the user's appeal with a statement and evidence", S.AppealBody, appealUpdate),
    userAction('info', "The user's answer to a reviewer's request for information", S.InfoBody, infoUpdate),
    route({
      method: 'post',
      path: '/v1/cases/:caseId/second-review',
      summary:
        "Ask for the one second review of an ended case (UPHELD or CLOSED, within the policy's window): opens a linked new case, answered here",
      roles: BACKEND,
      params: S.CaseIdParams,
      body: S.SecondReviewBody,
      answerSchema: CaseAnswer,
      handle: async ({ params, body, principal }) =>
        explained(
          await d.cases.requestSecondReview(params.caseId, body, userActor(params.caseId), principal.id),
        ),
    }),
  ];
}
