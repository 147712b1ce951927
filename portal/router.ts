// The account holder's case page at /u/<signed link token>: server-rendered pages that act through the API's
// own route table (the same schemas, handlers and refusals as the backend's calls), as the console does.
//
// - A link is a landing page usable until it expires; GET never changes anything. Every action is a POST form
//   with a CSRF token (HMAC of a random nonce in an HttpOnly, SameSite=Strict cookie on /u, bound to the case),
//   and a request ID generated when the form was rendered, so a form sent twice is one request.
// - Expired, altered and unknown links get one neutral page (same status, same bytes); nothing reaches
//   Temporal before the link's HMAC holds.
// - Rate limits (policy `userActions`) per IP on every link redemption, and per case, account and IP on every
//   action, counted in Cordon's database so API processes share them; 429 with Retry-After. A burst past the
//   limits is reported once per window as a USER_ACTION_BURST risk event for the account (portal/limits.ts).
//
// What the routes share is portal/kit.ts; the routes themselves are in portal/routes/, by what the user does.
import { Router, type NextFunction, type Request, type Response } from 'express';
import { Problem, problemHeaders } from '../web/problems';
import { asProblem } from '../api/routes/caller';
import { html } from '../web/html';
import { PORTAL_CSS } from './assets';
import { FormError } from './forms';
import { portalKit, type PortalDeps } from './kit';
import { messagePage } from './pages';
import { actionRoutes } from './routes/actions';
import { casePageRoutes } from './routes/case-page';
import { letterRoutes } from './routes/letter';
import { secondReviewRoutes } from './routes/second-review';
import { verificationRoutes } from './routes/verification';

function originOf(url: string | undefined): string | undefined {
  try {
    return url ? new URL(url).origin : undefined;
  } catch {
    return undefined;
  }
}

export function portalRouter(deps: PortalDeps): Router {
  const router = Router();
  const kit = portalKit(deps);
  const { logger, providerUrl } = kit;

  const csp = [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self'",
    // The verification form is answered with a redirect to the provider: it must be a permitted target.
    `form-action 'self'${providerUrl && originOf(providerUrl) ? ` ${originOf(providerUrl)}` : ''}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');

  router.use((_req, res, next) => {
    res.set({
      'Content-Security-Policy': csp,
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      // The page's URL is the user's credential: never passed on to another site.
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
      'X-Robots-Tag': 'noindex, nofollow',
    });
    next();
  });

  router.get('/assets/portal.css', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=86400').type('text/css').send(PORTAL_CSS);
  });

  verificationRoutes(router, kit);
  casePageRoutes(router, kit);
  letterRoutes(router, kit);
  actionRoutes(router, kit);
  secondReviewRoutes(router, kit);

  router.use((req, res) => kit.neutral(req, res));

  // Never a stack trace: the user sees a calm page in their language, the log has the rest (no personal data).
  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const ctx = kit.ctxFor(req, undefined);
    // Temporal out of reach, in an API call or not: a calm page, and Retry-After for the browser.
    const problem = asProblem(err);
    if (problem instanceof Problem && problem.status === 503) {
      res.set(problemHeaders(problem));
      return void res
        .status(503)
        .send(messagePage(ctx, 'errorTitle', html`<p>${ctx.t('problem.TEMPORAL_UNAVAILABLE')}</p>`));
    }
    if (err instanceof FormError)
      return void res
        .status(err.status)
        .send(messagePage(ctx, 'problem', html`<p>${ctx.t('problem.FORM')}</p>`));
    const e = err as { name?: string; message?: string };
    logger.error('user page request failed', {
      path: req.route ? String((req.route as { path?: string }).path) : 'unknown',
      error: e.name,
    });
    const requestId = String(res.getHeader('X-Request-Id') ?? '');
    res
      .status(500)
      .send(messagePage(ctx, 'errorTitle', html`<p>${ctx.t('errorText', { id: requestId })}</p>`));
  });

  return router;
}
