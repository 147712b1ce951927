// What every route of the user's pages shares: the link check, the language, CSRF, the rate limits, the API's
// route table and the rendering of the case page. Built once per router (portalKit), used by portal/routes/*.
import { createHmac, randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { routeCaller, type CallRoute } from '../api/routes/caller';
import type { RouteSpec } from '../api/routes/spec';
import { Problem } from '../web/problems';
import type { CaseView } from '../core/contracts';
import type { Policy } from '../core/policy';
import type { Principal } from '../infra/config';
import { devSecret } from '../infra/dev-secrets';
import type { EvidenceKey, EvidenceStore } from '../infra/evidence-store';
import { verifyLink, type LinkClaims, type LinkKey } from '../infra/links';
import type { Logger } from '../infra/logger';
import type { Store } from '../infra/store';
import { cookieOptions, parseCookies } from '../web/cookies';
import { csrfToken, csrfValid, newCsrfNonce, validNonce } from '../web/csrf';
import { evidenceStoreOf } from './evidence';
import { portalLang } from './i18n';
import { rateLimits } from './limits';
import { casePage, neutralPage, portalContext, type Failure, type PortalContext } from './pages';
import { stateKey } from './verification';
import type { UserCase } from './view';

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
  /**
   * The running policy, read at every page: the tiers' capabilities (as the gateway receives them) and the
   * complaints channels an ended case's page names. Absent: the catalogue's capabilities and no channels.
   */
  policy?: () => Pick<Policy, 'tiers' | 'complaints'>;
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
export const PORTAL: Principal = { role: 'backend', id: 'user-portal' };
const CSRF_COOKIE = 'cordon_u_csrf';
const TIME_ZONES = new Set(Intl.supportedValuesOf('timeZone'));

export function tzOf(value: unknown): string | undefined {
  return typeof value === 'string' && (value === 'UTC' || TIME_ZONES.has(value)) ? value : undefined;
}

export const basePath = (token: string) => `/u/${token}`;

export const withLangTz = (path: string, ctx: PortalContext) => {
  const q = new URLSearchParams({ lang: ctx.lang });
  if (ctx.tz) q.set('tz', ctx.tz);
  return `${path}?${q.toString()}`;
};

export type PortalKit = ReturnType<typeof portalKit>;

export function portalKit(deps: PortalDeps) {
  const call: CallRoute = routeCaller(deps.routes);
  const dev = deps.mode === 'development';
  // Keys of their own, derived from the one secret: a portal token is never a console token.
  const csrfSecret = createHmac('sha256', deps.sessionSecret).update('cordon-portal/csrf/v1').digest();
  const providerUrl = deps.verification?.url ?? (dev ? `${deps.publicUrl}/u/dev-verify` : undefined);
  const providerSecret =
    deps.verification?.secret ?? (dev ? devSecret(deps.dataDir, 'verification-secret') : undefined);
  const verificationAvailable = Boolean(providerUrl && providerSecret);

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
    res.cookie(CSRF_COOKIE, nonce, cookieOptions(deps.mode, req, { path: '/u' }));
    return nonce;
  };
  const csrfFor = (nonce: string, bound: string) => csrfToken(csrfSecret, nonce, `portal|${bound}`);
  const csrfOk = (req: Request, bound: string, given: unknown) =>
    req.get('sec-fetch-site') !== 'cross-site' &&
    csrfValid(csrfSecret, parseCookies(req.headers.cookie).get(CSRF_COOKIE), `portal|${bound}`, given);

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

  /** The case's view, through the API's route table. */
  const caseView = async (caseId: string) =>
    (await call('get', '/v1/cases/:caseId', PORTAL, { params: { caseId } })) as CaseView;

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
      return { claims, view: await caseView(claims.caseId) };
    } catch (err) {
      if (err instanceof Problem && (err.status === 404 || err.status === 400)) {
        neutral(req, res);
        return null;
      }
      throw err;
    }
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
        policy: deps.policy?.(),
      }),
    );
  };

  return {
    deps,
    /** The running policy's capabilities and complaints channels (none when the portal was given no policy). */
    policyNow: () => deps.policy?.(),
    call,
    logger: deps.logger,
    dev,
    stateSecret: stateKey(deps.sessionSecret),
    providerUrl,
    providerSecret,
    evidence: evidenceStoreOf(deps),
    ctxFor,
    nonceOf,
    csrfFor,
    csrfOk,
    linkClaims,
    neutral,
    caseView,
    openCase,
    renderCase,
    ...rateLimits({
      ...deps,
      reportEvent: (body) => call('post', '/v1/risk-events', PORTAL, { body }),
      ctxFor,
    }),
  };
}
