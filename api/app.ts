// The express app: one route table drives routing, authentication, validation and the OpenAPI document.
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Scorer } from '../activities/scorer';
import {
  appealUpdate,
  approvalUpdate,
  claimUpdate,
  decisionUpdate,
  infoUpdate,
  verificationUpdate,
  type CaseView,
} from '../core/contracts';
import type { UpdateDefinition } from '@temporalio/common';
import type { Actor } from '../core/model';
import { REASONS } from '../core/reasons';
import type { Principal, Role } from '../infra/config';
import type { Logger } from '../infra/logger';
import type { CaseService } from './case-service';
import { buildOpenApi } from './openapi';
import { fieldErrors, Problem, sendProblem } from './problems';
import * as S from './schemas';

export interface AppDeps {
  cases: CaseService;
  scorer: Scorer;
  tokens: Record<string, Principal>;
  logger: Logger;
}

type Method = 'get' | 'post';

export interface RouteSpec<
  B extends z.ZodType = z.ZodType,
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
> {
  method: Method;
  path: string;
  summary: string;
  roles: Role[] | 'public';
  body?: B;
  params?: P;
  query?: Q;
  handle(input: {
    body: z.infer<B>;
    params: z.infer<P>;
    query: z.infer<Q>;
    principal: Principal;
  }): Promise<unknown>;
}

const ANY_STAFF: Role[] = ['backend', 'reviewer', 'senior', 'admin'];
const BACKEND: Role[] = ['backend', 'admin'];
const REVIEWERS: Role[] = ['reviewer', 'senior', 'admin'];

function route<B extends z.ZodType, P extends z.ZodType, Q extends z.ZodType>(
  r: RouteSpec<B, P, Q>,
): RouteSpec {
  return r;
}

/** The user acts through the backend: the timeline records the account holder as the actor. */
function userActor(caseId: string): Actor {
  return { kind: 'user', id: caseId.slice(0, caseId.lastIndexOf('.')) };
}

/** Adds the catalogue's explanations to a case's reason codes, for reviewers and the backend. */
function explained(view: CaseView) {
  return {
    ...view,
    reasons: view.reasons.map((r) => ({
      ...r,
      explanation: {
        user: REASONS[r.code].user,
        nextStep: REASONS[r.code].nextStep,
        reviewer: REASONS[r.code].reviewer,
      },
    })),
  };
}

export function routes(d: AppDeps): RouteSpec[] {
  /** An action the backend reports on the user's behalf, applied once per requestId. */
  const userAction = <
    B extends z.ZodType<{ requestId: string }>,
    U extends z.infer<B> & { actor: Actor; caseId: string },
  >(
    name: string,
    summary: string,
    body: B,
    update: UpdateDefinition<CaseView, [U]>,
  ) =>
    route({
      method: 'post',
      path: `/v1/cases/:caseId/${name}`,
      summary,
      roles: BACKEND,
      params: S.CaseIdParams,
      body,
      handle: async ({ params, body }) =>
        explained(
          await d.cases.act(
            params.caseId,
            update,
            { ...body, actor: userActor(params.caseId) } as Omit<U, 'caseId'>,
            `${name}-${body.requestId}`,
          ),
        ),
    });

  return [
    route({
      method: 'get',
      path: '/healthz',
      summary: 'Liveness',
      roles: 'public',
      handle: async () => ({ status: 'ok', policyVersion: d.scorer.policy.policy.version }),
    }),
    route({
      method: 'post',
      path: '/v1/risk-events',
      summary: 'Report a risk event; answers with the decision and the case it opened or entered',
      roles: BACKEND,
      body: S.RiskEventSchema,
      handle: ({ body, principal }) => d.cases.reportEvent(body, { kind: 'backend', id: principal.id }),
    }),
    route({
      method: 'post',
      path: '/v1/simulate',
      summary: 'Score an event with the current policy, with no effect at all',
      roles: ANY_STAFF,
      body: S.RiskEventSchema,
      handle: async ({ body }) => ({ decision: (await d.scorer.score(body)).decision }),
    }),
    route({
      method: 'get',
      path: '/v1/accounts/:accountId/restriction',
      summary: "The account's current restriction",
      roles: ANY_STAFF,
      params: S.AccountIdParams,
      handle: ({ params }) => d.cases.restriction(params.accountId),
    }),
    route({
      method: 'get',
      path: '/v1/cases/:caseId',
      summary: 'A case with its reasons, deadlines and timeline',
      roles: ANY_STAFF,
      params: S.CaseIdParams,
      handle: async ({ params }) => explained(await d.cases.getCase(params.caseId)),
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
      method: 'get',
      path: '/v1/review-queue',
      summary: 'Cases waiting for reviewers, soonest review deadline first',
      roles: REVIEWERS,
      query: S.ReviewQueueQuery,
      handle: async ({ query }) => ({ items: await d.cases.reviewQueue(query.status, query.limit) }),
    }),
    route({
      method: 'post',
      path: '/v1/cases/:caseId/claim',
      summary: 'Claim a case for review (claiming again is a no-op)',
      roles: REVIEWERS,
      params: S.CaseIdParams,
      handle: async ({ params, principal }) =>
        explained(await d.cases.act(params.caseId, claimUpdate, { reviewer: principal.id })),
    }),
    route({
      method: 'post',
      path: '/v1/cases/:caseId/decision',
      summary: 'Decide a claimed case: UNLOCK, CLOSE, UPHOLD or REQUEST_INFO',
      roles: REVIEWERS,
      params: S.CaseIdParams,
      body: S.DecisionBody,
      handle: async ({ params, body, principal }) =>
        explained(
          await d.cases.act(
            params.caseId,
            decisionUpdate,
            { ...body, reviewer: principal.id },
            `decision-${body.requestId}`,
          ),
        ),
    }),
    route({
      method: 'post',
      path: '/v1/cases/:caseId/approval',
      summary: 'Second approval of a CLOSE decision, by a reviewer other than the decider',
      roles: REVIEWERS,
      params: S.CaseIdParams,
      body: S.ApprovalBody,
      handle: async ({ params, body, principal }) => {
        const requestId = body.requestId ?? `approval-${principal.id}`;
        return explained(
          await d.cases.act(
            params.caseId,
            approvalUpdate,
            { ...body, requestId, reviewer: principal.id },
            `approval-${requestId}`,
          ),
        );
      },
    }),
  ];
}

function authenticate(req: Request, tokens: Record<string, Principal>): Principal {
  const header = req.get('authorization') ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  const principal = match ? tokens[match[1]!] : undefined;
  if (!principal)
    throw new Problem(401, 'Unauthorized', 'a valid bearer token is required', { code: 'UNAUTHORIZED' });
  return principal;
}

function parsePart<T extends z.ZodType>(
  schema: T | undefined,
  value: unknown,
  where: string,
): z.infer<T> | undefined {
  if (!schema) return undefined;
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success)
    throw new Problem(400, 'Invalid request', `the request ${where} is not valid`, {
      code: 'VALIDATION_FAILED',
      errors: fieldErrors(where, parsed.error),
    });
  return parsed.data;
}

export function buildApp(d: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '64kb', type: ['application/json', 'application/*+json'] }));
  const table = routes(d);
  const openapi = buildOpenApi(table);
  app.get('/openapi.json', (_req, res) => void res.json(openapi));

  for (const r of table) {
    app[r.method](r.path, async (req: Request, res: Response) => {
      const principal =
        r.roles === 'public'
          ? ({ role: 'admin', id: 'anonymous' } as Principal)
          : authenticate(req, d.tokens);
      if (r.roles !== 'public' && !r.roles.includes(principal.role))
        throw new Problem(403, 'Forbidden', `this action needs one of the roles: ${r.roles.join(', ')}`, {
          code: 'FORBIDDEN',
        });
      if (r.method === 'post' && r.body && !req.is(['application/json', 'application/*+json']))
        throw new Problem(415, 'Unsupported media type', 'send the body as application/json', {
          code: 'UNSUPPORTED_MEDIA_TYPE',
        });
      const input = {
        params: parsePart(r.params, req.params, 'params'),
        query: parsePart(r.query, req.query, 'query'),
        body: parsePart(r.body, req.body, 'body'),
        principal,
      };
      res.json(await r.handle(input));
    });
  }

  app.use((req: Request) => {
    throw new Problem(404, 'Not found', `no route ${req.method} ${req.path}`, { code: 'NO_ROUTE' });
  });

  // The one error handler: problems as they are, parser errors as 4xx, anything else a logged 500.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof Problem) return sendProblem(res, err);
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed')
      return sendProblem(
        res,
        new Problem(400, 'Malformed JSON', 'the body is not valid JSON', { code: 'MALFORMED_JSON' }),
      );
    if (e.type === 'entity.too.large')
      return sendProblem(
        res,
        new Problem(413, 'Body too large', 'the body exceeds 64 KiB', { code: 'BODY_TOO_LARGE' }),
      );
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500)
      return sendProblem(res, new Problem(e.status, 'Bad request', e.message));
    d.logger.error('request failed', {
      method: req.method,
      path: (req.route as { path?: string } | undefined)?.path ?? 'unknown',
      error: (err as Error).name,
      message: (err as Error).message,
    });
    return sendProblem(
      res,
      new Problem(500, 'Internal error', 'the request could not be completed; it is safe to retry'),
    );
  });
  return app;
}
