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
//   limits is reported once per window as a USER_ACTION_BURST risk event for the account.
import { createHmac, randomUUID } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { RouteSpec } from '../api/app';
import { Problem, problemHeaders, RETRY_AFTER_S } from '../api/problems';
import { asProblem, routeCaller } from '../console/actions';
import { html } from '../console/html';
import {
  cookieSecure,
  csrfToken,
  csrfValid,
  newCsrfNonce,
  parseCookies,
  validNonce,
} from '../console/session';
import { parseCaseId, type CaseView } from '../core/contracts';
import { parseDuration } from '../core/durations';
import type { Policy } from '../core/policy';
import type { Principal } from '../infra/config';
import { devSecret } from '../infra/dev-secrets';
import {
  checkEvidenceFile,
  FileEvidenceStore,
  type EvidenceKey,
  type EvidenceStore,
} from '../infra/evidence-store';
import { signLink, verifyLink, type LinkClaims, type LinkKey } from '../infra/links';
import type { Logger } from '../infra/logger';
import type { Store } from '../infra/store';
import { PORTAL_CSS } from './assets';
import { FormError, MAX_FILE_BYTES, MAX_FILES, readForm, type ParsedForm } from './forms';
import { portalLang } from './i18n';
import {
  casePage,
  devProviderPage,
  limitPage,
  messagePage,
  neutralPage,
  portalContext,
  resultPage,
  type Failure,
  type PortalContext,
  type ResultKind,
} from './pages';
import {
  openState,
  providerRedirect,
  resultSignature,
  signState,
  stateKey,
  STATE_TTL_MS,
  verifyResult,
} from './verification';
import { userSafeView, type UserCase } from './view';

export interface PortalDeps {
  /** The API's own route table: the page acts through the same handlers and schemas as the backend does. */
  routes: RouteSpec[];
  store: Store;
  linkKeys: readonly LinkKey[];
  /** Signs the page's CSRF cookies. */
  sessionSecret: Buffer;
  /** Where evidence files are kept (encrypted). */
  dataDir: string;
  publicUrl: string;
  mode: 'development' | 'production';
  limits: Policy['userActions'];
  logger: Logger;
  /**
   * The platform's identity provider: where users are sent, and the secret its signed results carry. Without a
   * URL, development uses the stand-in at /u/dev-verify (with a secret in the data folder); production then
   * offers no verification here.
   */
  verification?: { url?: string; secret?: Buffer };
  /** Keys for the evidence files (development: one in the data folder), or a whole store to use instead. */
  evidenceKeys?: readonly EvidenceKey[];
  evidence?: EvidenceStore;
}

/** The API sees the page as the platform's backend acting for the user (the timeline records the user). */
const PORTAL: Principal = { role: 'backend', id: 'user-portal' };
const CSRF_COOKIE = 'cordon_u_csrf';
const TIME_ZONES = new Set(Intl.supportedValuesOf('timeZone'));

type Action = 'appeal' | 'info' | 'verification' | 'confirmation';

function tzOf(value: unknown): string | undefined {
  return typeof value === 'string' && (value === 'UTC' || TIME_ZONES.has(value)) ? value : undefined;
}

function originOf(url: string | undefined): string | undefined {
  try {
    return url ? new URL(url).origin : undefined;
  } catch {
    return undefined;
  }
}

/** The evidence store the deps name, else files under the data folder (development: with a key of its own). */
export function evidenceStoreOf(
  deps: Pick<PortalDeps, 'evidence' | 'evidenceKeys' | 'dataDir' | 'mode'>,
): EvidenceStore | undefined {
  if (deps.evidence) return deps.evidence;
  if (deps.evidenceKeys?.length) return new FileEvidenceStore(deps.dataDir, deps.evidenceKeys);
  return deps.mode === 'development'
    ? new FileEvidenceStore(deps.dataDir, [{ id: 'dev', key: devSecret(deps.dataDir, 'evidence-key') }])
    : undefined;
}

export function portalRouter(deps: PortalDeps): Router {
  const router = Router();
  const call = routeCaller(deps.routes);
  const logger = deps.logger;
  const dev = deps.mode === 'development';
  const windowMs = parseDuration(deps.limits.window) ?? 3_600_000;
  // Keys of their own, derived from the one secret: a portal token is never a console token.
  const csrfSecret = createHmac('sha256', deps.sessionSecret).update('cordon-portal/csrf/v1').digest();
  const stateSecret = stateKey(deps.sessionSecret);
  const providerUrl = deps.verification?.url ?? (dev ? `${deps.publicUrl}/u/dev-verify` : undefined);
  const providerSecret =
    deps.verification?.secret ?? (dev ? devSecret(deps.dataDir, 'verification-secret') : undefined);
  const verificationAvailable = Boolean(providerUrl && providerSecret);
  const evidence = evidenceStoreOf(deps);

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

  // --- helpers ---------------------------------------------------------------------------------------------

  const ipOf = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';

  /** The language asked for in the query (or form), else the case's, else the browser's. */
  const ctxFor = (req: Request, asked: unknown, caseLocale?: string): PortalContext => {
    const tz = tzOf(req.query.tz) ?? tzOf((req.body as Record<string, unknown> | undefined)?.tz);
    return portalContext(portalLang(asked ?? req.query.lang, caseLocale, req.get('accept-language')), tz);
  };

  /** This browser's CSRF nonce: the cookie's, or a new one set now. */
  const nonceOf = (req: Request, res: Response): string => {
    const cookie = parseCookies(req.headers.cookie).get(CSRF_COOKIE);
    if (validNonce(cookie)) return cookie;
    const nonce = newCsrfNonce();
    // Production: Secure always (TLS ends in front); see cookieSecure.
    res.cookie(CSRF_COOKIE, nonce, {
      path: '/u',
      httpOnly: true,
      sameSite: 'strict',
      secure: cookieSecure(deps.mode, req),
    });
    return nonce;
  };
  const csrfFor = (nonce: string, bound: string) => csrfToken(csrfSecret, nonce, `portal|${bound}`);
  const csrfOk = (req: Request, bound: string, given: unknown) =>
    req.get('sec-fetch-site') !== 'cross-site' &&
    csrfValid(csrfSecret, parseCookies(req.headers.cookie).get(CSRF_COOKIE), `portal|${bound}`, given);

  const tooMany = (res: Response, ctx: PortalContext, retryAfterMs: number) => {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    res.set('Retry-After', String(seconds)).status(429).send(limitPage(ctx, seconds));
  };

  /** Counts every hit (the same work whichever limit is over); the longest wait of those over, if any. */
  const overLimits = async (hits: [string, number][]): Promise<number | null> => {
    const results = await Promise.all(hits.map(([key, limit]) => deps.store.hit(key, windowMs, limit)));
    const over = results.filter((r) => !r.allowed);
    return over.length ? Math.max(...over.map((r) => r.retryAfterMs)) : null;
  };

  /** One USER_ACTION_BURST per account and window (a few tries if reporting fails; the event ID keeps it one). */
  const reportBurst = async (caseId: string, action: Action) => {
    const accountId = parseCaseId(caseId)?.accountId;
    if (!accountId) return;
    const marker = await deps.store.hit(`portal:burst-reported:${accountId}`, windowMs, 3);
    if (!marker.allowed) return;
    const windowStart = Math.floor(Date.now() / windowMs) * windowMs;
    try {
      await call('post', '/v1/risk-events', PORTAL, {
        body: {
          eventId: `portal-burst:${accountId}:${windowStart.toString(36)}`,
          accountId,
          type: 'USER_ACTION_BURST',
          occurredAt: new Date().toISOString(),
          attributes: { action },
        },
      });
      logger.warn('user actions past the rate limits: reported', { caseId, action });
    } catch (err) {
      logger.warn('user action burst not reported', {
        caseId,
        action,
        error: err instanceof Problem ? err.extra.code : (err as Error).name,
      });
    }
  };

  /** Link redemptions per IP: counted before the link is even read, so guessing costs the same. */
  const openLimited = async (req: Request, res: Response): Promise<boolean> => {
    const wait = await overLimits([[`portal:ip-open:${ipOf(req)}`, deps.limits.linkOpensPerIp]]);
    if (wait === null) return false;
    tooMany(res, ctxFor(req, undefined), wait);
    return true;
  };

  /** Per case, account and IP, for every action; past them, a burst report and a 429. */
  const actionLimited = async (
    req: Request,
    res: Response,
    caseId: string,
    action: Action,
    ctx: PortalContext,
  ): Promise<boolean> => {
    const accountId = parseCaseId(caseId)?.accountId ?? caseId;
    const wait = await overLimits([
      [`portal:case:${caseId}`, deps.limits.perCase],
      [`portal:account:${accountId}`, deps.limits.perAccount],
      [`portal:ip-action:${ipOf(req)}`, deps.limits.perIp],
    ]);
    if (wait === null) return false;
    logger.info('user action refused: rate limit', { caseId, action });
    await reportBurst(caseId, action);
    tooMany(res, ctx, wait);
    return true;
  };

  /**
   * The claims of a genuine, unexpired link. verifyLink returns early on a token of the wrong shape or an
   * unknown key ID; those get one HMAC here, so every bad link costs one HMAC, as an altered or expired one does.
   */
  const linkClaims = (token: string): LinkClaims | null => {
    const claims = verifyLink(deps.linkKeys, token);
    const parts = token.split('.');
    const shaped =
      parts.length === 5 &&
      deps.linkKeys.some((k) => k.id === parts[0]) &&
      parts[2] === 'case' &&
      /^[0-9a-z]{1,12}$/.test(parts[3]!);
    if (!claims && !shaped)
      createHmac('sha256', deps.linkKeys[0]?.secret ?? deps.sessionSecret)
        .update(token.slice(0, 1_024))
        .digest();
    return claims;
  };

  const neutral = (req: Request, res: Response) =>
    void res.status(404).send(neutralPage(ctxFor(req, undefined)));

  /** The case a link names, if the link is genuine and unexpired and the case exists; else the neutral page. */
  const openCase = async (
    req: Request,
    res: Response,
  ): Promise<{ claims: LinkClaims; view: CaseView } | null> => {
    const claims = linkClaims(String(req.params.token));
    if (!claims) {
      neutral(req, res);
      return null;
    }
    try {
      const view = (await call('get', '/v1/cases/:caseId', PORTAL, {
        params: { caseId: claims.caseId },
      })) as CaseView;
      return { claims, view };
    } catch (err) {
      if (err instanceof Problem && (err.status === 404 || err.status === 400)) {
        neutral(req, res);
        return null;
      }
      throw err;
    }
  };

  const basePath = (token: string) => `/u/${token}`;
  const withLangTz = (path: string, ctx: PortalContext) => {
    const q = new URLSearchParams({ lang: ctx.lang });
    if (ctx.tz) q.set('tz', ctx.tz);
    return `${path}?${q.toString()}`;
  };

  const renderCase = (
    req: Request,
    res: Response,
    token: string,
    view: UserCase,
    ctx: PortalContext,
    failure?: Failure,
  ) => {
    const nonce = nonceOf(req, res);
    res.status(failure?.status ?? 200).send(
      casePage(ctx, {
        view,
        base: basePath(token),
        forms: { csrf: csrfFor(nonce, view.caseId), requestId: `portal-${randomUUID()}` },
        verificationAvailable,
        failure,
      }),
    );
  };

  // --- the identity provider's way back, and its development stand-in --------------------------------------

  const callback = async (req: Request, res: Response) => {
    if (await openLimited(req, res)) return;
    const input =
      req.method === 'POST' ? (await readForm(req)).fields : (req.query as Record<string, unknown>);
    const result = providerSecret ? verifyResult(providerSecret, input) : null;
    const state = result ? openState(stateSecret, result.state) : null;
    const ctx = ctxFor(req, state?.lang);
    if (!result || !state) {
      logger.info('verification callback refused: not a valid signed result');
      return void res
        .status(400)
        .send(messagePage(ctx, 'verifyFailedTitle', html`<p>${ctx.t('verifyFailedText')}</p>`));
    }
    const c = portalContext(ctx.lang, state.tz ?? ctx.tz);
    if (await actionLimited(req, res, state.caseId, 'verification', c)) return;
    const token = signLink(deps.linkKeys, {
      caseId: state.caseId,
      purpose: 'case',
      expiresAt: state.linkExpiresAt,
    });
    try {
      await call('post', '/v1/cases/:caseId/verification', PORTAL, {
        params: { caseId: state.caseId },
        body: { method: result.method, passed: result.result === 'passed', requestId: state.requestId },
      });
    } catch (err) {
      if (!(err instanceof Problem) || err.status >= 500) throw err;
      logger.info('user action refused', {
        caseId: state.caseId,
        action: 'verification',
        code: err.extra.code,
      });
      const view = (await call('get', '/v1/cases/:caseId', PORTAL, {
        params: { caseId: state.caseId },
      })) as CaseView;
      return renderCase(req, res, token, userSafeView(view), c, {
        form: 'verify',
        status: err.status,
        code: err.extra.code,
        values: {},
        hadFiles: false,
      });
    }
    logger.info('user action', {
      caseId: state.caseId,
      action: 'verification',
      passed: result.result === 'passed',
    });
    res.redirect(303, withLangTz(`${basePath(token)}/result/verification`, c));
  };
  router.get('/verification/callback', callback);
  router.post('/verification/callback', callback);

  if (dev && !deps.verification?.url && providerSecret) {
    const secret = providerSecret;
    router.get('/dev-verify', (req, res) => {
      const given = typeof req.query.state === 'string' ? req.query.state : '';
      const state = openState(stateSecret, given);
      const ctx = ctxFor(req, state?.lang ?? req.query.lang);
      if (!state)
        return void res
          .status(400)
          .send(messagePage(ctx, 'verifyFailedTitle', html`<p>${ctx.t('verifyFailedText')}</p>`));
      const nonce = nonceOf(req, res);
      res.send(devProviderPage(ctx, { state: given, csrf: csrfFor(nonce, 'dev-verify') }));
    });
    router.post('/dev-verify', async (req, res) => {
      const form = await readForm(req);
      const state = openState(stateSecret, form.fields.state);
      const ctx = ctxFor(req, state?.lang);
      if (!csrfOk(req, 'dev-verify', form.fields._csrf))
        return void res.status(403).send(messagePage(ctx, 'csrfTitle', html`<p>${ctx.t('csrfText')}</p>`));
      if (!state)
        return void res
          .status(400)
          .send(messagePage(ctx, 'verifyFailedTitle', html`<p>${ctx.t('verifyFailedText')}</p>`));
      const answer = {
        state: form.fields.state!,
        result: form.fields.result === 'passed' ? ('passed' as const) : ('failed' as const),
        method: 'DEV_STUB',
        ts: Math.floor(Date.now() / 1000),
      };
      const q = new URLSearchParams({
        state: answer.state,
        result: answer.result,
        method: answer.method,
        ts: String(answer.ts),
        sig: resultSignature(secret, answer),
      });
      res.redirect(303, `/u/verification/callback?${q.toString()}`);
    });
  }

  // --- the case page ---------------------------------------------------------------------------------------

  router.get('/:token', async (req, res) => {
    if (await openLimited(req, res)) return;
    const found = await openCase(req, res);
    if (!found) return;
    const view = userSafeView(found.view);
    renderCase(req, res, String(req.params.token), view, ctxFor(req, undefined, view.locale));
  });

  const RESULT_KINDS = new Set(['appeal', 'info', 'confirmation', 'verification']);
  router.get('/:token/result/:kind', async (req, res) => {
    if (await openLimited(req, res)) return;
    const found = await openCase(req, res);
    if (!found) return;
    const view = userSafeView(found.view);
    const token = String(req.params.token);
    const ctx = ctxFor(req, undefined, view.locale);
    const asked = String(req.params.kind);
    if (!RESULT_KINDS.has(asked)) return void res.redirect(303, withLangTz(basePath(token), ctx));
    let kind: ResultKind;
    if (asked === 'verification') {
      const last = [...view.history]
        .reverse()
        .find((h) => h.kind === 'verified' || h.kind === 'verificationFailed');
      kind =
        last?.kind === 'verified'
          ? view.outcome === 'RESTORED'
            ? 'verified'
            : 'verifiedReview'
          : 'verificationFailed';
    } else kind = asked as ResultKind;
    res.send(resultPage(ctx, kind, basePath(token), req.path));
  });

  /** The steps every action takes: limits, the link, the form, its CSRF token, the action limits. */
  const action =
    (
      name: Action,
      form: Failure['form'],
      act: (o: {
        caseId: string;
        parsed: ParsedForm;
        ctx: PortalContext;
        fail: (status: number, code: string) => never;
      }) => Promise<void>,
    ) =>
    async (req: Request, res: Response) => {
      if (await openLimited(req, res)) return void req.resume();
      const token = String(req.params.token);
      const claims = linkClaims(token);
      if (!claims) {
        req.resume();
        return neutral(req, res);
      }
      let parsed: ParsedForm;
      try {
        parsed = await readForm(req);
      } catch (err) {
        if (!(err instanceof FormError)) throw err;
        const ctx = ctxFor(req, undefined);
        return void res.status(err.status).send(
          messagePage(
            ctx,
            'problem',
            html`<p>
                ${ctx.t(err.files ? 'problem.FILE_SIZE' : 'problem.FORM', { mb: MAX_FILE_BYTES / 1048576 })}
              </p>
              <p><a href="${withLangTz(basePath(token), ctx)}">${ctx.t('back')}</a></p>`,
          ),
        );
      }
      const f = parsed.fields;
      const ctx = portalContext(portalLang(f.lang, undefined, req.get('accept-language')), tzOf(f.tz));
      if (!csrfOk(req, claims.caseId, f._csrf)) {
        logger.warn('user page CSRF check failed', { caseId: claims.caseId, action: name });
        return void res.status(403).send(
          messagePage(
            ctx,
            'csrfTitle',
            html`<p>${ctx.t('csrfText')}</p>
              <p><a href="${withLangTz(basePath(token), ctx)}">${ctx.t('back')}</a></p>`,
          ),
        );
      }
      if (await actionLimited(req, res, claims.caseId, name, ctx)) return;
      try {
        await act({
          caseId: claims.caseId,
          parsed,
          ctx,
          fail: (status, code) => {
            throw new Problem(status, 'Refused', code, { code });
          },
        });
      } catch (err) {
        if (!(err instanceof Problem) || err.status >= 500) throw err;
        logger.info('user action refused', { caseId: claims.caseId, action: name, code: err.extra.code });
        let view: CaseView;
        try {
          view = (await call('get', '/v1/cases/:caseId', PORTAL, {
            params: { caseId: claims.caseId },
          })) as CaseView;
        } catch (e) {
          if (e instanceof Problem && (e.status === 404 || e.status === 400)) return neutral(req, res);
          throw e;
        }
        const code =
          err.extra.code === 'VALIDATION_FAILED'
            ? (err.extra.errors
                ?.map((e) => e.path.split('.').pop())
                .find((p) => p === 'statement' || p === 'answer') ?? 'VALIDATION_FAILED')
            : err.extra.code;
        const values: Record<string, string> = {};
        for (const k of ['statement', 'answer']) if (typeof f[k] === 'string') values[k] = f[k];
        return renderCase(req, res, token, userSafeView(view), ctx, {
          form,
          status: err.status,
          code,
          values,
          hadFiles: parsed.files.length > 0,
        });
      }
      logger.info('user action', { caseId: claims.caseId, action: name });
      res.redirect(303, withLangTz(`${basePath(token)}/result/${name}`, ctx));
    };

  /** Checks the files, keeps them (encrypted) and answers their references; removes them if the action is refused. */
  const withEvidence = async (
    caseId: string,
    parsed: ParsedForm,
    fail: (status: number, code: string) => never,
    send: (refs: string[]) => Promise<unknown>,
  ) => {
    if (parsed.tooManyFiles || parsed.files.length > MAX_FILES) fail(413, 'FILE_COUNT');
    const checked = parsed.files.map((file) => {
      if (file.truncated) fail(413, 'FILE_SIZE');
      const check = checkEvidenceFile(file.name, file.content, MAX_FILE_BYTES);
      if (!check.ok) fail(check.why === 'SIZE' ? 413 : 400, check.why === 'SIZE' ? 'FILE_SIZE' : 'FILE_TYPE');
      return { file, type: check.ok ? check.type : ('text/plain' as const) };
    });
    if (checked.length && !evidence) fail(400, 'FILE_TYPE');
    const requestId = parsed.fields.requestId ?? '';
    const stored: { ref: string; created: boolean }[] = [];
    try {
      for (const [i, { file, type }] of checked.entries())
        stored.push(
          await evidence!.put(
            file.content,
            { type, caseId, name: file.name.slice(0, 255) },
            // A form sent twice (same request ID, same files) keeps the same references: one request.
            { idempotencyKey: `${caseId}|${requestId}|${i}` },
          ),
        );
      await send(stored.map((s) => s.ref));
    } catch (err) {
      // Only a refusal (4xx) is certain to have changed nothing. After anything else the action may have reached
      // the case, so the files stay: a retry with the same request ID finds them, and the evidence sweep removes
      // them later if no case holds them.
      if (err instanceof Problem && err.status < 500)
        await Promise.all(stored.filter((s) => s.created).map((s) => evidence!.delete(s.ref)));
      throw err;
    }
  };

  const textOf = (
    value: string | undefined,
    max: number,
    code: string,
    fail: (s: number, c: string) => never,
  ) => {
    const text = (value ?? '').trim();
    if (!text || text.length > max) fail(400, code);
    return text;
  };

  router.post(
    '/:token/appeal',
    action('appeal', 'appeal', async ({ caseId, parsed, fail }) => {
      const statement = textOf(parsed.fields.statement, 2_000, 'statement', fail);
      await withEvidence(caseId, parsed, fail, (refs) =>
        call('post', '/v1/cases/:caseId/appeal', PORTAL, {
          params: { caseId },
          body: {
            statement,
            ...(refs.length ? { evidence: refs } : {}),
            requestId: parsed.fields.requestId,
          },
        }),
      );
    }),
  );

  router.post(
    '/:token/info',
    action('info', 'info', async ({ caseId, parsed, fail }) => {
      const answer = textOf(parsed.fields.answer, 4_000, 'answer', fail);
      await withEvidence(caseId, parsed, fail, (refs) =>
        call('post', '/v1/cases/:caseId/info', PORTAL, {
          params: { caseId },
          body: { answer, ...(refs.length ? { evidence: refs } : {}), requestId: parsed.fields.requestId },
        }),
      );
    }),
  );

  router.post(
    '/:token/confirm',
    action('confirmation', 'confirm', async ({ caseId, parsed, fail }) => {
      if (parsed.fields.confirm !== 'yes') fail(400, 'confirm');
      // A protective hold takes the user's confirmation as a passed verification of this method.
      await call('post', '/v1/cases/:caseId/verification', PORTAL, {
        params: { caseId },
        body: { method: 'USER_CONFIRMATION', passed: true, requestId: parsed.fields.requestId },
      });
    }),
  );

  // Starting verification changes nothing in the case: it only sends the user to the provider with a state.
  router.post('/:token/verify', async (req, res) => {
    if (await openLimited(req, res)) return void req.resume();
    const token = String(req.params.token);
    const claims = linkClaims(token);
    if (!claims) {
      req.resume();
      return neutral(req, res);
    }
    let parsed: ParsedForm;
    try {
      parsed = await readForm(req);
    } catch (err) {
      if (!(err instanceof FormError)) throw err;
      return neutral(req, res);
    }
    const f = parsed.fields;
    const ctx = portalContext(portalLang(f.lang, undefined, req.get('accept-language')), tzOf(f.tz));
    if (!csrfOk(req, claims.caseId, f._csrf)) {
      logger.warn('user page CSRF check failed', { caseId: claims.caseId, action: 'verification' });
      return void res.status(403).send(messagePage(ctx, 'csrfTitle', html`<p>${ctx.t('csrfText')}</p>`));
    }
    if (await actionLimited(req, res, claims.caseId, 'verification', ctx)) return;
    const requestId =
      f.requestId && /^[A-Za-z0-9._:-]{1,128}$/.test(f.requestId) ? f.requestId : `portal-${randomUUID()}`;
    if (!providerUrl || !providerSecret)
      return void res
        .set('Retry-After', String(RETRY_AFTER_S))
        .status(503)
        .send(messagePage(ctx, 'verifyTitle', html`<p>${ctx.t('verifyUnavailable')}</p>`));
    const state = signState(stateSecret, {
      caseId: claims.caseId,
      requestId,
      linkExpiresAt: claims.expiresAt,
      lang: ctx.lang,
      ...(ctx.tz ? { tz: ctx.tz } : {}),
      expiresAt: Date.now() + STATE_TTL_MS,
    });
    logger.info('verification started', { caseId: claims.caseId });
    res.redirect(
      303,
      providerRedirect(providerUrl, state, `${deps.publicUrl}/u/verification/callback`, ctx.lang),
    );
  });

  router.use((req, res) => neutral(req, res));

  // Never a stack trace: the user sees a calm page in their language, the log has the rest (no personal data).
  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const ctx = ctxFor(req, undefined);
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
