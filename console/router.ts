// The reviewer console at /console: server-rendered pages that act through the API's own route table. Sessions
// live in Cordon's database and CSRF tokens in signed cookies, so any API process serves any request.
import { randomUUID } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Principal, TokenTable } from '../infra/config';
import type { Logger } from '../infra/logger';
import type { EvidenceStore } from '../infra/evidence-store';
import type { ConsoleSessionStore } from '../infra/sessions';
import type { ReviewQueueItem } from '../api/case-reads';
import { Problem, problemHeaders } from '../web/problems';
import { asProblem, routeCaller } from '../api/routes/caller';
import { SENIORS, type RouteSpec } from '../api/routes/spec';
import type { TripView } from '../api/guards';
import { cookieOptions, parseCookies } from '../web/cookies';
import { csrfToken, csrfValid, newCsrfNonce, validNonce } from '../web/csrf';
import { href, html } from '../web/html';
import { chooseLang, type Lang } from '../web/i18n';
import {
  CONSOLE_ROLES,
  endSession,
  openSession,
  principalOfToken,
  SESSION_COOKIE,
  startSession,
  type Session,
} from '../web/session';
import { bodyKeys, bodyOf, formValues } from './forms';
import { CSS, SCRIPT } from './assets';
import { casePage, type CaseAction, type ConsoleCase, type FailedAction } from './case-page';
import { historyOf } from './case-history';
import { caseListRoutes } from './case-list-routes';
import { FILES_CSS, fileOfCase, inlineImage, lookUpFiles } from './case-files';
import { AUDIT_CSS, auditPageRoutes } from './audit-page';
import { guardBanner } from './guard-banner';
import { bulkPageRoutes } from './bulk-pages';
import { LANG_COOKIE, translator } from './i18n';
import { errorPage, loginPage, problemBox, queuePage, type PageContext } from './pages';
import { applyFilter, facetCounts, parseFilter, queueRows, sortQueue } from './queue';

export interface ConsoleDeps {
  /** The API's own route table: the console acts through the same handlers and schemas as the API. */
  routes: RouteSpec[];
  tokens: TokenTable;
  sessionSecret: Buffer;
  /** Where sessions live (Cordon's database), with their idle and absolute timeouts. */
  sessions: ConsoleSessionStore;
  /** Production: every cookie is Secure, whatever the request came over. */
  mode: 'development' | 'production';
  logger: Logger;
  /** The files users sent with appeals and answers (the user's page keeps them), for reviewers to open. */
  evidence?: EvidenceStore;
}

const CSRF_COOKIE = 'cordon_console_csrf';
/** How often the queue page refreshes itself. */
const QUEUE_REFRESH_S = 30;
/** The queue asks the API for this many cases, then filters and counts them here. */
const QUEUE_LIMIT = '500';

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** What every console request knows once the context middleware has run. */
interface Locals {
  lang?: Lang;
  session?: Session;
  /** A session cookie was sent but is no longer good (tampered, expired, revoked). */
  ended: boolean;
  nonce?: string;
}

const locals = (res: Response): Locals => res.locals as Locals;

/** A same-console path to come back to after signing in or switching language; anything else goes to the queue. */
function localPath(value: unknown): string {
  return typeof value === 'string' &&
    /^\/console(?:[/?][^\s\\]*)?$/.test(value) &&
    !value.startsWith('/console//')
    ? value
    : '/console/queue';
}

/** A page answering a problem: its status and its headers (a 503's Retry-After, a 405's Allow). */
function problemPage(res: Response, p: Problem, page: string): void {
  res.set(problemHeaders(p)).status(p.status).send(page);
}

export function consoleRouter(deps: ConsoleDeps): Router {
  const router = Router();
  const call = routeCaller(deps.routes);
  const logger = deps.logger;
  const secret = deps.sessionSecret;
  const sessions = deps.sessions;
  /** Every cookie of the console: HttpOnly, SameSite=Strict, Secure in production (web/cookies.ts). */
  const cookie = (req: Request, path: string, maxAgeMs?: number) =>
    cookieOptions(deps.mode, req, { path, maxAgeMs });
  const endedCookie = (req: Request, res: Response) => res.clearCookie(SESSION_COOKIE, cookie(req, '/'));
  // The development tokens are refused in production, so their presence means a development server.
  const devTokens = deps.tokens.has('dev-reviewer-1');
  const findRoute = (method: string, path: string) =>
    deps.routes.find((r) => r.method === method && r.path === path);

  router.use((_req, res, next) => {
    res.set({
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      // Case URLs name accounts: they are not passed on to other sites.
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    });
    next();
  });

  const asset = (type: string, body: string) => (_req: Request, res: Response) =>
    void res.set('Cache-Control', 'public, max-age=86400').type(type).send(body);
  router.get('/assets/console.css', asset('text/css', CSS + FILES_CSS + AUDIT_CSS));
  router.get('/assets/console.js', asset('text/javascript', SCRIPT));

  // Language, session (looked up in the database on every request) and CSRF nonce, from the cookies.
  router.use(async (req, res, next) => {
    const cookies = parseCookies(req.headers.cookie);
    const l = locals(res);
    l.lang = chooseLang(cookies.get(LANG_COOKIE), req.get('accept-language'));
    const check = await openSession(secret, sessions, deps.tokens, cookies.get(SESSION_COOKIE)).catch(
      (err: unknown) => {
        logger.warn('console sessions unavailable', { error: ((err as Error).cause as Error)?.name });
        throw err;
      },
    );
    l.ended = !check.ok && check.why !== 'absent';
    if (check.ok) l.session = check.session;
    else if (l.ended) endedCookie(req, res);
    const nonce = cookies.get(CSRF_COOKIE);
    if (validNonce(nonce)) l.nonce = nonce;
    else {
      l.nonce = newCsrfNonce();
      res.cookie(CSRF_COOKIE, l.nonce, cookie(req, '/console'));
    }
    next();
  });

  // After the cookies are read: a form too large to parse is still answered in the reviewer's language.
  router.use(express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 50 }));

  const context = (req: Request, res: Response, here = req.originalUrl): PageContext => {
    const l = locals(res);
    // The error handler may run before the cookies were read.
    const lang = l.lang ?? 'en';
    return {
      t: translator(lang),
      lang,
      principal: l.session?.principal,
      csrf: l.nonce ? csrfToken(secret, l.nonce, l.session?.sid) : '',
      here,
    };
  };

  // Every POST carries the token of this browser's nonce and session; a cross-site request cannot.
  router.use((req, res, next) => {
    if (req.method !== 'POST') return next();
    const l = locals(res);
    const given = (req.body as Record<string, unknown> | undefined)?._csrf;
    const crossSite = req.get('sec-fetch-site') === 'cross-site';
    if (!crossSite && csrfValid(secret, l.nonce, l.session?.sid, given)) return next();
    logger.warn('console CSRF check failed', { path: req.path, principal: l.session?.principal.id });
    const ctx = context(req, res, '/console/queue');
    res.status(403).send(errorPage(ctx, ctx.t('formExpired'), ctx.t('formExpiredDetail')));
  });

  router.get('/', (_req, res) => res.redirect(303, '/console/queue'));

  router.get('/login', (req, res) => {
    const l = locals(res);
    const next = localPath(req.query.next);
    if (l.session) return res.redirect(303, next);
    const ctx = context(req, res);
    const message =
      l.ended || req.query.ended !== undefined
        ? ({ kind: 'info', text: ctx.t('sessionEnded') } as const)
        : req.query.bye !== undefined
          ? ({ kind: 'info', text: ctx.t('signedOut') } as const)
          : undefined;
    res.send(loginPage(ctx, { next, message, devTokens }));
  });

  router.post('/login', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const next = localPath(body.next);
    const token = typeof body.token === 'string' ? body.token.trim() : '';
    const principal = token.length <= 512 ? principalOfToken(deps.tokens, token) : undefined;
    const ctx = context(req, res, '/console/login');
    if (!principal || !CONSOLE_ROLES.includes(principal.role)) {
      logger.info('console sign-in refused', { role: principal?.role ?? null });
      const text = principal ? ctx.t('notConsoleRole') : ctx.t('badToken');
      return void res
        .status(principal ? 403 : 401)
        .send(loginPage(ctx, { next, message: { kind: 'error', text }, devTokens }));
    }
    // A session this browser still had ends: a sign-in always starts a new one (no fixation).
    const previous = locals(res).session;
    if (previous) await endSession(secret, sessions, parseCookies(req.headers.cookie).get(SESSION_COOKIE));
    const { value } = await startSession(secret, sessions, principal);
    // The whole site: the codec endpoint (/codec) accepts a console session too.
    res.cookie(SESSION_COOKIE, value, cookie(req, '/', sessions.timeouts.maxMs));
    logger.info('console sign-in', { principal: principal.id, role: principal.role });
    res.redirect(303, next);
  });

  // Sign-out ends the session in the database: a copy of the cookie is worth nothing afterwards.
  router.post('/logout', async (req, res) => {
    const who = locals(res).session?.principal.id;
    if (who) await endSession(secret, sessions, parseCookies(req.headers.cookie).get(SESSION_COOKIE));
    endedCookie(req, res);
    if (who) logger.info('console sign-out', { principal: who });
    res.redirect(303, '/console/login?bye=1');
  });

  router.get('/lang', (req, res) => {
    const to = req.query.to === 'zh-CN' ? 'zh-CN' : 'en';
    res.cookie(LANG_COOKIE, to, cookie(req, '/console', 365 * 24 * 3_600_000));
    res.redirect(303, localPath(req.query.back));
  });

  const signedIn = (req: Request, res: Response, next: NextFunction) => {
    if (locals(res).session) return next();
    const back = req.method === 'GET' ? req.originalUrl : '/console/queue';
    res.redirect(
      303,
      `/console/login?next=${encodeURIComponent(back)}${locals(res).ended ? '&ended=1' : ''}`,
    );
  };
  const principalOf = (res: Response): Principal => locals(res).session!.principal;

  // Search and the ended cases (console/case-list-routes.ts).
  caseListRoutes(router, {
    call,
    context: (req, res) => context(req, res),
    signedIn,
    principal: principalOf,
  });

  // Bulk actions: the list and one action's progress, its approval and cancel (console/bulk-pages.ts).
  bulkPageRoutes(router, {
    call,
    context: (req, res) => context(req, res),
    signedIn,
    principal: principalOf,
  });

  // A case's audit trail: the printable page and the export (console/audit-page.ts).
  auditPageRoutes(router, {
    call,
    context: (req, res) => context(req, res),
    signedIn,
    principal: principalOf,
  });

  router.get('/queue', signedIn, async (req, res) => {
    // A search typed into the queue's address (?q=) goes to the search.
    if (typeof req.query.q === 'string')
      return res.redirect(303, href('/console/search', { q: req.query.q }));
    const ctx = context(req, res);
    const me = principalOf(res);
    const now = Date.now();
    let items: ReviewQueueItem[];
    try {
      ({ items } = (await call('get', '/v1/review-queue', me, { query: { limit: QUEUE_LIMIT } })) as {
        items: ReviewQueueItem[];
      });
    } catch (err) {
      if (!(err instanceof Problem)) throw err;
      return problemPage(res, err, errorPage(ctx, ctx.t('queue'), problemBox(ctx.t, err)));
    }
    const rows = sortQueue(queueRows(items), now);
    const filter = parseFilter(req.query);
    const rearmed = typeof req.query.rearmed === 'string' ? req.query.rearmed : undefined;
    res.send(
      queuePage(ctx, {
        banner: html`${await trippedGuards(ctx, me)}${
          rearmed ? html`<p class="notice" role="status">${ctx.t('guardRearmed', { rule: rearmed })}</p>` : ''
        }`,
        rows: applyFilter(rows, filter, me.id, now),
        total: rows.length,
        filter,
        counts: facetCounts(rows, filter, me.id, now),
        unknownReasons: rows.filter((r) => r.reasonCodes === null).length,
        refreshSeconds: QUEUE_REFRESH_S,
        now,
      }),
    );
  });

  /** The ended case a second review looks at again, read as the signed-in reviewer (none for other cases). */
  const previousCaseOf = (res: Response) => async (caseId: string) =>
    (
      (await call('get', '/v1/cases/:caseId', principalOf(res), { params: { caseId } })) as {
        previousCaseId?: string;
      }
    ).previousCaseId;

  /** The case page, with the action that just succeeded or failed. */
  const renderCase = async (
    req: Request,
    res: Response,
    caseId: string,
    o: { done?: CaseAction; failed?: FailedAction } = {},
  ) => {
    const ctx = context(req, res, `/console/cases/${encodeURIComponent(caseId)}`);
    let view: ConsoleCase;
    try {
      view = (await call('get', '/v1/cases/:caseId', principalOf(res), {
        params: { caseId },
      })) as ConsoleCase;
    } catch (err) {
      if (!(err instanceof Problem)) throw err;
      const title =
        err.status === 404 || err.extra.code === 'VALIDATION_FAILED'
          ? ctx.t('caseNotFound')
          : ctx.t('failed');
      return problemPage(res, err, errorPage(ctx, title, problemBox(ctx.t, err)));
    }
    const files = await lookUpFiles(
      deps.evidence,
      view.previousCaseId ? [view.caseId, view.previousCaseId] : [view.caseId],
      view.timeline,
      logger,
    );
    const history = await historyOf(call, principalOf(res), view.accountId);
    // A refused action shows the case again, answered with the refusal's status and headers.
    if (o.failed) res.set(problemHeaders(o.failed.problem));
    res.status(o.failed?.problem.status ?? 200).send(
      casePage(ctx, {
        view,
        now: Date.now(),
        requestId: `console-${randomUUID()}`,
        decisionFields: bodyKeys(findRoute('post', '/v1/cases/:caseId/decision')),
        approvalFields: bodyKeys(findRoute('post', '/v1/cases/:caseId/approval')),
        files,
        history,
        ...o,
      }),
    );
  };

  // A file a user sent, for a signed-in reviewer: only within its own case, always as a download (never rendered
  // in the console's origin), and recorded in the log by reference (the file's name is personal data).
  router.get('/cases/:caseId/evidence/:ref', signedIn, async (req, res) => {
    const caseId = String(req.params.caseId);
    const ref = String(req.params.ref);
    const stored = deps.evidence ? await deps.evidence.get(ref) : null;
    if (!stored || !(await fileOfCase(stored.meta.caseId, caseId, previousCaseOf(res)))) {
      const ctx = context(req, res, `/console/cases/${encodeURIComponent(caseId)}`);
      return void res.status(404).send(errorPage(ctx, ctx.t('notFound'), ctx.t('notFoundDetail')));
    }
    logger.info('console evidence opened', { principal: principalOf(res).id, caseId, ref });
    const extension = {
      'image/png': 'png',
      'image/jpeg': 'jpg',
      'application/pdf': 'pdf',
      'text/plain': 'txt',
    }[stored.meta.type];
    res.set({
      'Content-Type': stored.meta.type,
      'Content-Disposition': `attachment; filename="${ref}.${extension}"`,
      'Content-Security-Policy': "default-src 'none'; sandbox",
    });
    res.send(stored.content);
  });

  // An image a user sent, shown on its case's page from a sandboxed answer (console/case-files.ts).
  router.get(
    '/cases/:caseId/evidence/:ref/inline',
    signedIn,
    inlineImage({
      evidence: deps.evidence,
      logger,
      principal: principalOf,
      lang: (res) => locals(res).lang ?? 'en',
      page: (req, res, title, detail) => errorPage(context(req, res), title, detail),
      fileOfCase: (fileCaseId, caseId, res) => fileOfCase(fileCaseId, caseId, previousCaseOf(res)),
    }),
  );

  const DONE = new Set<string>(['claim', 'release', 'decision', 'approval']);
  router.get('/cases/:caseId', signedIn, async (req, res) => {
    const done =
      typeof req.query.done === 'string' && DONE.has(req.query.done)
        ? (req.query.done as CaseAction)
        : undefined;
    await renderCase(req, res, String(req.params.caseId), { done });
  });

  /** The banner of tripped guards; nothing when they cannot be read (the queue still shows). */
  const trippedGuards = async (ctx: PageContext, me: Principal) => {
    try {
      const { guards } = (await call('get', '/v1/guards', me, {})) as { guards: { trip: TripView | null }[] };
      const trips = guards.flatMap((g) => (g.trip ? [g.trip] : []));
      return guardBanner(ctx, trips, SENIORS.includes(me.role));
    } catch {
      return '';
    }
  };

  router.post('/guards/:ruleId/rearm', signedIn, async (req, res) => {
    const ruleId = String(req.params.ruleId);
    try {
      await call('post', '/v1/guards/:ruleId/rearm', principalOf(res), { params: { ruleId } });
    } catch (err) {
      if (!(err instanceof Problem)) throw err;
      const ctx = context(req, res, '/console/queue');
      return problemPage(res, err, errorPage(ctx, ctx.t('guardRearm'), problemBox(ctx.t, err)));
    }
    res.redirect(303, href('/console/queue', { rearmed: ruleId }));
  });

  for (const action of ['claim', 'release', 'decision', 'approval'] as const) {
    const apiPath = `/v1/cases/:caseId/${action}`;
    const fields = bodyKeys(findRoute('post', apiPath));
    router.post(`/cases/:caseId/${action}`, signedIn, async (req, res) => {
      const caseId = String(req.params.caseId);
      const form = formValues(req.body);
      try {
        await call('post', apiPath, principalOf(res), {
          params: { caseId },
          body: bodyOf(action, form, fields),
        });
      } catch (err) {
        if (!(err instanceof Problem)) throw err;
        logger.info('console action refused', { action, caseId, status: err.status, code: err.extra.code });
        return renderCase(req, res, caseId, { failed: { action, problem: err, values: form } });
      }
      res.redirect(303, `/console/cases/${encodeURIComponent(caseId)}?done=${action}`);
    });
  }

  router.use((req, res) => {
    const ctx = context(req, res, '/console/queue');
    res.status(404).send(errorPage(ctx, ctx.t('notFound'), ctx.t('notFoundDetail')));
  });

  // Never a stack trace: the reviewer sees what went wrong in their language, the log has the rest.
  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const ctx = context(req, res, '/console/queue');
    const e = err as { status?: unknown; type?: string; name?: string; message?: string };
    // Temporal out of reach outside an API call is the same 503 as within one.
    const problem = asProblem(err);
    if (problem instanceof Problem)
      return problemPage(res, problem, errorPage(ctx, problem.title, problemBox(ctx.t, problem)));
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      const p = new Problem(e.status, 'Bad request', 'the form could not be read', {
        code: e.type === 'entity.too.large' ? 'BODY_TOO_LARGE' : 'BAD_REQUEST',
      });
      return void res.status(p.status).send(errorPage(ctx, ctx.t('failed'), problemBox(ctx.t, p)));
    }
    logger.error('console request failed', {
      path: req.route ? String((req.route as { path?: string }).path) : 'unknown',
      error: e.name,
      message: e.message,
    });
    const requestId = String(res.getHeader('X-Request-Id') ?? '');
    res
      .status(500)
      .send(errorPage(ctx, ctx.t('failed'), html`<p>${ctx.t('failedDetail', { id: requestId })}</p>`));
  });

  return router;
}
