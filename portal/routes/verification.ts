// Verification: the user is sent to the platform's identity provider with a signed state, and comes back with
// its signed result; in development without a provider, a stand-in at /u/dev-verify plays its part.
import { randomUUID } from 'node:crypto';
import type { Request, Response, Router } from 'express';
import { Problem, RETRY_AFTER_S } from '../../web/problems';
import { signLink } from '../../infra/links';
import { html } from '../../web/html';
import { FormError, readForm, type ParsedForm } from '../forms';
import { portalLang } from '../i18n';
import { basePath, PORTAL, tzOf, withLangTz, type PortalKit } from '../kit';
import { devProviderPage, messagePage, portalContext, type PortalContext } from '../pages';
import {
  openState,
  providerRedirect,
  resultSignature,
  signState,
  STATE_TTL_MS,
  verifyResult,
} from '../verification';
import { userSafeView } from '../view';

const verifyFailed = (ctx: PortalContext) =>
  messagePage(ctx, 'verifyFailedTitle', html`<p>${ctx.t('verifyFailedText')}</p>`);

/**
 * The provider's way back, the development stand-in, and the start of a verification. Registered before the case
 * page's `/:token`, which would otherwise take /dev-verify for a link.
 */
export function verificationRoutes(router: Router, kit: PortalKit): void {
  const { deps, call, logger, stateSecret, providerUrl, providerSecret } = kit;

  const callback = async (req: Request, res: Response) => {
    if (await kit.openLimited(req, res)) return;
    const input =
      req.method === 'POST' ? (await readForm(req)).fields : (req.query as Record<string, unknown>);
    const result = providerSecret ? verifyResult(providerSecret, input) : null;
    const state = result ? openState(stateSecret, result.state) : null;
    const ctx = kit.ctxFor(req, state?.lang);
    if (!result || !state) {
      logger.info('verification callback refused: not a valid signed result');
      return void res.status(400).send(verifyFailed(ctx));
    }
    const c = portalContext(ctx.lang, state.tz ?? ctx.tz);
    if (await kit.actionLimited(req, res, state.caseId, 'verification', c)) return;
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
      const view = await kit.caseView(state.caseId);
      return kit.renderCase(req, res, token, userSafeView(view), c, {
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

  if (kit.dev && !deps.verification?.url && providerSecret) {
    const secret = providerSecret;
    router.get('/dev-verify', (req, res) => {
      const given = typeof req.query.state === 'string' ? req.query.state : '';
      const state = openState(stateSecret, given);
      const ctx = kit.ctxFor(req, state?.lang ?? req.query.lang);
      if (!state) return void res.status(400).send(verifyFailed(ctx));
      const nonce = kit.nonceOf(req, res);
      res.send(devProviderPage(ctx, { state: given, csrf: kit.csrfFor(nonce, 'dev-verify') }));
    });
    router.post('/dev-verify', async (req, res) => {
      const form = await readForm(req);
      const state = openState(stateSecret, form.fields.state);
      const ctx = kit.ctxFor(req, state?.lang);
      if (!kit.csrfOk(req, 'dev-verify', form.fields._csrf))
        return void res.status(403).send(messagePage(ctx, 'csrfTitle', html`<p>${ctx.t('csrfText')}</p>`));
      if (!state) return void res.status(400).send(verifyFailed(ctx));
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

  // Starting verification changes nothing in the case: it only sends the user to the provider with a state.
  router.post('/:token/verify', async (req, res) => {
    if (await kit.openLimited(req, res)) return void req.resume();
    const token = String(req.params.token);
    const claims = kit.linkClaims(token);
    if (!claims) {
      req.resume();
      return kit.neutral(req, res);
    }
    let parsed: ParsedForm;
    try {
      parsed = await readForm(req);
    } catch (err) {
      if (!(err instanceof FormError)) throw err;
      return kit.neutral(req, res);
    }
    const f = parsed.fields;
    const ctx = portalContext(portalLang(f.lang, undefined, req.get('accept-language')), tzOf(f.tz));
    if (!kit.csrfOk(req, claims.caseId, f._csrf)) {
      logger.warn('user page CSRF check failed', { caseId: claims.caseId, action: 'verification' });
      return void res.status(403).send(messagePage(ctx, 'csrfTitle', html`<p>${ctx.t('csrfText')}</p>`));
    }
    if (await kit.actionLimited(req, res, claims.caseId, 'verification', ctx)) return;
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
}
