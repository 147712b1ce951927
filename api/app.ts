// The express app: one route table drives routing, authentication, validation and the OpenAPI document.
import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { z } from 'zod';
import type { Scorer } from '../activities/scorer';
import type { Principal, TokenTable } from '../infra/config';
import { logContext, type Logger } from '../infra/logger';
import { annotateRequest, traceRequest } from '../infra/trace-context';
import { createAuthenticator, requireRole } from './auth';
import type { CaseService } from './case-service';
import { countHttpRequests, sdkMetricsText, type Metrics } from '../infra/metrics';
import { allowedMethods, errorHandler, methodNotAllowed, noRoute } from './errors';
import { buildOpenApi } from './openapi';
import { fieldErrors, Problem } from '../web/problems';
import { JSON_TYPES, parseJson } from './json-body';
import { consoleRouter, type ConsoleDeps } from '../console/router';
import { sessionPrincipal } from '../web/session';
import { codecRouter } from './codec-routes';
import { evidenceStoreOf } from '../portal/evidence';
import type { PortalDeps } from '../portal/kit';
import { portalRouter } from '../portal/router';
import type { ShadowScoring } from './shadow';
import { mailCatcherPages } from './dev-mail';
import type { LinkKey } from '../infra/links';
import type { Store } from '../infra/store';
import type { AuditKeyRing } from '../infra/audit-keys';
import type { EntityHasher } from '../infra/entity-key';
import type { LiveFeatures } from './live-features';
import type { RuleGuards } from './guards';
import { guardRoutes } from './routes/guards';
import type { BulkActions } from './bulk-actions';
import { bulkActionRoutes } from './routes/bulk-actions';
import type { ConsoleSessionStore } from '../infra/sessions';
import type { ErasureService } from './erasure';
import { auditRoutes } from './routes/audit';
import { caseRoutes } from './routes/cases';
import { caseSearchRoutes } from './routes/case-search';
import { erasureRoutes } from './routes/erasure';
import { eventRoutes } from './routes/events';
import { healthRoutes } from './routes/health';
import { reportRoutes } from './routes/reports';
import { changeRoutes, restrictionRoutes } from './routes/restrictions';
import { reviewRoutes } from './routes/reviews';
import type { RouteSpec } from './routes/spec';
import { staffRoutes } from './routes/staff';

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
  /** Sign audit exports; published at GET /v1/audit-keys (infra/audit-keys.ts). */
  auditKeys: AuditKeyRing;
  /** Keyed-hashes entity values at intake (infra/entity-key.ts). */
  entities: EntityHasher;
  /** The policy's features in Cordon's database; simulations read them. */
  features?: LiveFeatures;
  /** Rule guards: listed and re-armed by GET /v1/guards and POST /v1/guards/{ruleId}/rearm. */
  guards?: RuleGuards;
  /** Reviewed bulk actions: POST /v1/bulk-actions and the rest (api/bulk-actions.ts). */
  bulkActions?: BulkActions;
}

/**
 * The route table, by area (api/routes/). Its order is the OpenAPI document's: the document lists paths as the
 * table does.
 */
export function routes(d: AppDeps): RouteSpec[] {
  return [
    ...healthRoutes(d),
    ...eventRoutes(d),
    ...restrictionRoutes(d),
    ...caseRoutes(d),
    ...reportRoutes(d),
    ...reviewRoutes(d),
    ...caseSearchRoutes(d),
    ...auditRoutes(d),
    ...staffRoutes(d),
    ...erasureRoutes(() => {
      if (!d.erasures) throw new Error('erasure is not wired in this process'); // api/main.ts wires it
      return d.erasures;
    }),
    ...changeRoutes(d),
    ...guardRoutes(() => {
      if (!d.guards) throw new Error('guards are not wired in this process'); // api/main.ts wires them
      return { guards: d.guards, policy: d.scorer.policy };
    }),
    ...bulkActionRoutes(() => {
      if (!d.bulkActions) throw new Error('bulk actions are not wired in this process'); // api/main.ts wires them
      return d.bulkActions;
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
  // cordon_http_requests_total and the duration histogram, by route template (infra/metrics.ts).
  if (d.metrics) app.use(countHttpRequests(d.metrics));
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
    // With tracing on, the request is a span (infra/trace-context.ts): its Temporal calls and log lines join it.
    logContext.run({ requestId }, () => traceRequest(req, res, next));
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
      policy: () => d.scorer.policy.policy,
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
      const answer = await r.handle(input);
      annotateRequest(input.body, answer); // codes and IDs only, when traced
      res.status(r.status ?? 200).json(answer);
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
