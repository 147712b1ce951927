// The express app: one route table drives routing, authentication, validation and the OpenAPI document.
import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Scorer } from '../activities/scorer';
import {
  appealUpdate,
  approvalUpdate,
  breakGlassUpdate,
  claimUpdate,
  retractUpdate,
  decisionUpdate,
  releaseUpdate,
  infoUpdate,
  verificationUpdate,
  type CaseView,
  type ClaimUpdate,
} from '../core/contracts';
import type { UpdateDefinition } from '@temporalio/common';
import type { Actor } from '../core/model';
import { identityOf, type ActionUpdates } from '../core/actions';
import { REASONS } from '../core/reasons';
import { STAFF_EVENT_PREFIX } from '../core/events';
import type { Principal, Role, TokenTable } from '../infra/config';
import { logContext, type Logger } from '../infra/logger';
import { createAuthenticator, requireRole } from './auth';
import type { CaseService } from './case-service';
import { sdkMetricsText, type Metrics } from '../infra/metrics';
import { allowedMethods, errorHandler, methodNotAllowed, noRoute } from './errors';
import { buildOpenApi } from './openapi';
import { fieldErrors, Problem } from './problems';
import { JSON_TYPES, parseJson } from './json-body';
import * as S from './schemas';
import { consoleRouter, sessionPrincipal, type ConsoleDeps } from '../console/router';
import { sessionsUnavailable } from '../console/session';
import { codecRouter } from './codec-routes';
import { evidenceStoreOf, portalRouter, type PortalDeps } from '../portal/router';
import type { ShadowScoring } from './shadow';
import { overturnRatesAsync } from '../lab/overturns';
import { mailCatcherPages } from './dev-mail';
import type { LinkKey } from '../infra/links';
import type { Store } from '../infra/store';
import type { ConsoleSessionStore } from '../infra/sessions';
import type { ErasureService } from './erasure';
import { erasureRoutes } from './erasure-routes';

export interface AppDeps {
  cases: CaseService;
  scorer: Scorer;
  /** CORDON_TRUST_PROXY: the proxies whose X-Forwarded-For gives the client's address. */
  trustProxy?: number | string;
  /** Shadow scoring by a candidate policy, when CORDON_SHADOW_POLICY is set. */
  shadow?: ShadowScoring;
  /** Bearer token → principal (a Map: only configured tokens are ever looked up). */
  tokens: TokenTable;
  logger: Logger;
  /** Prometheus metrics served at /metrics; with the SDK exporter's address, its figures are appended. */
  metrics?: Metrics;
  sdkMetricsAddress?: string;
  /** Signs the console's session and CSRF cookies. */
  sessionSecret: Buffer;
  /** CORDON_EVENT_MAX_FUTURE_S in ms: how far ahead of this clock an event's occurredAt may be (default 300 s). */
  eventMaxFutureMs?: number;
  /** Console sessions, in Cordon's database (sign-out, timeouts, an admin's revoke). */
  sessions: ConsoleSessionStore;
  /** For the user's case pages: Cordon's database (rate limits), link keys, the data folder (evidence). */
  store: Store;
  linkKeys: readonly LinkKey[];
  publicUrl: string;
  dataDir: string;
  mode: 'development' | 'production';
  /** The payload codec served at /codec for the Temporal Web UI, and the browser origins allowed to call it. */
  codec: import('@temporalio/common').PayloadCodec;
  codecCorsOrigins: readonly string[];
  /** Development: the mail catcher's folder, whose mails are shown at /dev/mail. */
  mailDir?: string;
  /** False once the process is stopping: GET /readyz then answers 503 (see api/main.ts). Unset: always ready. */
  ready?: () => boolean;
  /** The user's pages: the identity provider and the evidence store's keys (defaults: see portal/router.ts). */
  portal?: Pick<PortalDeps, 'verification' | 'evidenceKeys' | 'evidence'>;
  /** Erasure of accounts' personal data (admins; api/erasure.ts). */
  erasures?: ErasureService;
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
  /** Statuses this route answers beyond those every route of its kind does (for the OpenAPI document). */
  answers?: Record<number, string>;
  /** Its success status: 200 unless it only accepts work that goes on (202). */
  status?: 200 | 202;
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
/** May take over or release a case another reviewer holds. */
const SENIORS: Role[] = ['senior', 'admin'];
/** Policy work: simulation and the reports (no case, no personal data beyond account and event IDs). */
const ANALYSTS: Role[] = ['analyst', 'senior', 'admin'];

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

/** Totals over the days of a shadow report, next to its rows. */
function summariseShadow(r: Awaited<ReturnType<Store['shadowReport']>>) {
  const scored = r.days.reduce((n, d) => n + d.scored, 0);
  const disagreements = r.days.reduce((n, d) => n + d.disagreements, 0);
  return {
    scored,
    disagreements,
    disagreementRate: scored ? disagreements / scored : null,
    days: r.days,
    transitions: r.transitions,
    latest: r.latest.map(({ at, ...rest }) => ({ at: new Date(at).toISOString(), ...rest })),
  };
}

export function routes(d: AppDeps): RouteSpec[] {
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
      handle: async ({ params, body, principal }) => {
        const args = { ...body, actor: userActor(params.caseId), principal: principal.id } as Omit<
          ActionUpdates[N],
          'caseId'
        >;
        const identity = identityOf(name, { ...args, caseId: params.caseId } as ActionUpdates[N]);
        return explained(await d.cases.act(params.caseId, update, args, identity));
      },
    });

  /** Claiming or releasing a case: the reviewer, and whether they may act on another reviewer's claim. */
  const holdAction = (name: string, summary: string, update: UpdateDefinition<CaseView, [ClaimUpdate]>) =>
    route({
      method: 'post',
      path: `/v1/cases/:caseId/${name}`,
      summary,
      roles: REVIEWERS,
      params: S.CaseIdParams,
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
      handle: async ({ params, body, principal }) => {
        const args = { ...body, reviewer: principal.id, principal: principal.id } as Omit<
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
      path: '/healthz',
      summary: 'Liveness',
      roles: 'public',
      handle: async () => ({ status: 'ok', policyVersion: d.scorer.policy.policy.version }),
    }),
    route({
      method: 'get',
      path: '/readyz',
      summary: 'Readiness: 503 (STOPPING) once the process is asked to stop, so it gets no new traffic',
      roles: 'public',
      handle: async () => {
        if (d.ready && !d.ready())
          throw new Problem(503, 'Stopping', 'this process is shutting down: send requests to another', {
            code: 'STOPPING',
          });
        return { status: 'ok' };
      },
    }),
    route({
      method: 'post',
      path: '/v1/risk-events',
      summary: 'Report a risk event; answers with the decision and the case it opened or entered',
      roles: BACKEND,
      body: S.RiskEventSchema,
      answers: {
        400: 'Invalid body (VALIDATION_FAILED, with field paths; RESERVED_EVENT_ID for a "staff:" ID; OCCURRED_IN_FUTURE; DUPLICATE_KEY; MALFORMED_JSON)',
      },
      handle: ({ body, principal }) => {
        S.checkRiskEvent(body, d.eventMaxFutureMs);
        return d.cases.reportEvent(body, { kind: 'backend', id: principal.id });
      },
    }),
    route({
      method: 'post',
      path: '/v1/risk-events/:eventId/retraction',
      summary:
        'Withdraw an event reported in error: the case records it and goes to review (or is restored where the policy says so)',
      roles: BACKEND,
      params: S.EventIdParams,
      body: S.RetractionBody,
      answers: {
        404: 'No case recorded this event for the account (EVENT_NOT_FOUND)',
        409: "The case's state does not allow it, the request ID was used for another body, or the event opened a staff member's case (NOT_RETRACTABLE)",
      },
      handle: async ({ params, body, principal }) => {
        const caseId = await d.cases.caseOfEvent(body.accountId, params.eventId);
        // A case a staff member opened rests on their judgement, not on a report the backend can withdraw.
        if (params.eventId.startsWith(STAFF_EVENT_PREFIX))
          throw new Problem(
            409,
            'Not retractable',
            'a case opened by staff is not withdrawn by a retraction',
            {
              code: 'NOT_RETRACTABLE',
            },
          );
        const args = {
          eventId: params.eventId,
          reason: body.reason,
          requestId: body.requestId,
          actor: { kind: 'backend' as const, id: principal.id },
          principal: principal.id,
        };
        const identity = identityOf('retract', { ...args, caseId });
        return explained(await d.cases.act(caseId, retractUpdate, args, identity));
      },
    }),
    route({
      method: 'post',
      path: '/v1/cases',
      summary:
        "Open a case by hand for an account (staff), or add to its open case: the tier and reason are the staff member's",
      roles: REVIEWERS,
      body: S.ManualCaseBody,
      answers: { 409: 'This requestId was used for another body (IDEMPOTENCY_KEY_REUSED)' },
      handle: ({ body, principal }) => d.cases.openCase(body, principal.id),
    }),
    route({
      method: 'post',
      path: '/v1/simulate',
      summary: 'Score an event with the current policy, with no effect at all',
      roles: [...ANY_STAFF, 'analyst'],
      body: S.RiskEventSchema,
      answers: {
        400: 'Invalid body (VALIDATION_FAILED, with field paths; RESERVED_EVENT_ID for a "staff:" ID; OCCURRED_IN_FUTURE; DUPLICATE_KEY; MALFORMED_JSON)',
      },
      handle: async ({ body }) => {
        // The same event as POST /v1/risk-events would take: the same refusals.
        S.checkRiskEvent(body, d.eventMaxFutureMs);
        return { decision: (await d.scorer.score(body)).decision };
      },
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
      method: 'post',
      path: '/v1/accounts/restrictions',
      summary: "The restrictions of up to 100 accounts at once, in the order asked (from Cordon's database)",
      roles: ANY_STAFF,
      body: S.RestrictionsBody,
      handle: async ({ body }) => ({ items: await d.cases.restrictions(body.accountIds) }),
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
      path: '/v1/reports/overturns',
      summary:
        "Overturn rates: for each rule and reason code, how often the restrictions it caused (cases opened in the window) were lifted by a reviewer or by the user's verification, with a Wilson 95% interval; from Cordon's archive of ended cases",
      roles: ANALYSTS,
      query: S.ReportWindowQuery,
      // Cases opened in the window ended after its start: every case ended since then, streamed.
      handle: ({ query }) => overturnRatesAsync(d.store.endedCases(query.from, Date.now() + 1), query),
    }),
    route({
      method: 'get',
      path: '/v1/reports/shadow',
      summary:
        'Shadow mode: how often the candidate policy (CORDON_SHADOW_POLICY) decided live events differently, per day and tier, with the latest disagreements',
      roles: ANALYSTS,
      query: S.ReportWindowQuery,
      handle: async ({ query }) => ({
        window: { from: new Date(query.from).toISOString(), to: new Date(query.to).toISOString() },
        livePolicyVersion: d.scorer.policy.policy.version,
        candidatePolicyVersion: d.shadow?.candidateVersion ?? null,
        ...summariseShadow(await d.store.shadowReport(query.from, query.to, 50)),
      }),
    }),
    route({
      method: 'get',
      path: '/v1/review-queue',
      summary: 'Cases waiting for reviewers, soonest review deadline first',
      roles: REVIEWERS,
      query: S.ReviewQueueQuery,
      handle: async ({ query }) => ({
        items: await d.cases.reviewQueue(query.status, query.limit, query.escalated),
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
      handle: async ({ params, body, principal }) => {
        const args = { ...body, by: principal.id, principal: principal.id };
        const identity = identityOf('breakGlass', { ...args, caseId: params.caseId });
        return explained(await d.cases.act(params.caseId, breakGlassUpdate, args, identity));
      },
    }),
    route({
      method: 'post',
      path: '/v1/staff/:id/sessions/revoke',
      summary:
        "End every console session of a staff member at once (admin): their pages and the Web UI's decoding ask them to sign in again; answers how many ended",
      roles: ['admin'],
      params: z.object({
        id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "a principal's ID (from CORDON_TOKENS)"),
      }),
      handle: async ({ params, principal }) => {
        const revoked = await d.sessions.endAllOf(params.id).catch((err: unknown) => {
          throw Object.assign(sessionsUnavailable(), { cause: err });
        });
        d.logger.info('console sessions revoked', { principal: params.id, by: principal.id, revoked });
        return { principalId: params.id, revoked };
      },
    }),
    ...erasureRoutes(() => {
      if (!d.erasures) throw new Error('erasure is not wired in this process'); // api/main.ts wires it
      return d.erasures;
    }),
    route({
      method: 'get',
      path: '/v1/changes',
      summary:
        'Restriction changes and case outcomes after a cursor, oldest first: the backend catches up after an outage',
      roles: BACKEND,
      query: S.ChangesQuery,
      handle: ({ query }) => d.cases.changes(query.after, query.limit),
    }),
  ];
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

/** How long browsers remember to use HTTPS only (one year, the usual value). */
export const HSTS_MAX_AGE_S = 31_536_000;

export function buildApp(d: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Production is reached over HTTPS only (TLS ends in front of it): browsers are told never to try plain HTTP.
  if (d.mode === 'production')
    app.use((_req, res, next) => {
      res.setHeader('Strict-Transport-Security', `max-age=${HSTS_MAX_AGE_S}; includeSubDomains`);
      next();
    });
  // Answers that can carry personal data (cases, statements, decoded payloads, the user's and reviewers' pages)
  // are kept by no cache, the browser's included.
  app.use(['/v1', '/console', '/u', '/codec', '/dev/mail'], (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  // Per-IP limits on the user's pages read req.ip: only configured proxies may set it through X-Forwarded-For.
  if (d.trustProxy !== undefined) app.set('trust proxy', d.trustProxy);
  // Every request has an ID (the caller's X-Request-Id if it is a plain token, else a new one), answered in
  // X-Request-Id and carried by every log line written while the request is handled.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const given = req.get('x-request-id');
    const requestId = given && /^[A-Za-z0-9._:-]{1,64}$/.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    const started = performance.now();
    res.on('finish', () =>
      d.logger.info('request', {
        requestId,
        method: req.method,
        route: (req.route as { path?: string } | undefined)?.path ?? 'unmatched',
        status: res.statusCode,
        ms: Math.round(performance.now() - started),
      }),
    );
    logContext.run({ requestId }, next);
  });
  const authenticate = createAuthenticator(d.tokens);
  const table = routes(d);
  const openapi = buildOpenApi(table);
  // One evidence store: the user's page keeps the files, the console shows them to reviewers.
  const evidence = evidenceStoreOf({ ...d.portal, dataDir: d.dataDir, mode: d.mode });
  const consoleDeps: ConsoleDeps = {
    evidence,
    routes: table,
    tokens: d.tokens,
    sessionSecret: d.sessionSecret,
    sessions: d.sessions,
    mode: d.mode,
    logger: d.logger,
  };
  app.use('/console', consoleRouter(consoleDeps));
  // Unauthenticated pages of personal data: development only.
  if (d.mode === 'development' && d.mailDir) app.use('/dev/mail', mailCatcherPages(d.mailDir));
  app.use(
    '/u',
    portalRouter({
      routes: table,
      store: d.store,
      linkKeys: d.linkKeys,
      sessionSecret: d.sessionSecret,
      dataDir: d.dataDir,
      publicUrl: d.publicUrl,
      mode: d.mode,
      limits: d.scorer.policy.policy.userActions,
      logger: d.logger,
      ...d.portal,
      evidence,
    }),
  );
  app.use(
    '/codec',
    codecRouter({
      // Who is asking; which roles may decode or encode is codecRouter's (403 for the others, not 401).
      authorize: async (req) => {
        let principal: Principal | undefined;
        try {
          principal = authenticate(req);
        } catch {
          principal = await sessionPrincipal(consoleDeps, req);
        }
        return principal;
      },
      codec: d.codec,
      corsOrigins: d.codecCorsOrigins,
      logger: d.logger,
    }),
  );
  app.get('/openapi.json', (_req, res) => void res.json(openapi));
  const metrics = d.metrics;
  // For Prometheus scrapers: no token, no personal data (labels are codes and statuses only).
  if (metrics)
    app.get('/metrics', async (_req, res) => {
      // Both bounded in time: a source that is down leaves its figures out, never the answer.
      const [own, sdk] = await Promise.all([metrics.scrape(), sdkMetricsText(d.sdkMetricsAddress)]);
      res.type(metrics.registry.contentType).send(own + sdk);
    });

  // Per route: who (401), may they (403), then the body (413, 400), its type (415) and its shape (400).
  for (const r of table) {
    const authorize = (req: Request, res: Response, next: () => void) => {
      if (r.roles === 'public') res.locals.principal = { role: 'admin', id: 'anonymous' } satisfies Principal;
      else {
        const principal = authenticate(req);
        requireRole(principal, r.roles);
        res.locals.principal = principal;
      }
      next();
    };
    // JSON bodies (UTF-8, up to 64 KiB, no member named twice) are read only after authorization.
    app[r.method](r.path, authorize, ...(r.body ? parseJson : []), async (req: Request, res: Response) => {
      if (r.body && !req.is(JSON_TYPES))
        throw new Problem(415, 'Unsupported media type', 'send the body as application/json', {
          code: 'UNSUPPORTED_MEDIA_TYPE',
        });
      const input = {
        params: parsePart(r.params, req.params, 'params'),
        query: parsePart(r.query, req.query, 'query'),
        body: parsePart(r.body, req.body, 'body'),
        principal: res.locals.principal as Principal,
      };
      res.status(r.status ?? 200).json(await r.handle(input));
    });
  }

  // A known path with another method: 405 with Allow (OPTIONS: 204 with Allow). Any other path: 404.
  for (const [path, allow] of allowedMethods([
    ...table,
    { method: 'get', path: '/openapi.json' },
    ...(metrics ? [{ method: 'get' as const, path: '/metrics' }] : []),
  ]))
    app.all(path, methodNotAllowed(allow));
  app.use(noRoute);
  app.use(errorHandler(d.logger));
  return app;
}
