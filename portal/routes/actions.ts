// The user's actions on the case page: an appeal, an answer to a reviewer's question (both with evidence files),
// and the confirmation a protective hold asks for. Each is a POST form with a CSRF token and a request ID
// generated when the form was rendered, so a form sent twice is one request.
import type { Request, Response, Router } from 'express';
import { Problem } from '../../web/problems';
import type { CaseView } from '../../core/contracts';
import { html } from '../../web/html';
import { withEvidence } from '../evidence';
import { FormError, MAX_FILE_BYTES, readForm, type ParsedForm } from '../forms';
import { portalLang } from '../i18n';
import { basePath, PORTAL, tzOf, withLangTz, type PortalKit } from '../kit';
import type { Action } from '../limits';
import { messagePage, portalContext, type Failure, type PortalContext } from '../pages';
import { userSafeView } from '../view';

type Fail = (status: number, code: string) => never;

export const textOf = (value: string | undefined, max: number, code: string, fail: Fail) => {
  const text = (value ?? '').trim();
  if (!text || text.length > max) fail(400, code);
  return text;
};

/**
 * The steps every action takes: limits, the link, the form, its CSRF token, the action limits; then the act, and
 * the result page (`result`, under /result/; the action's name unless given) or the case page with the refusal.
 */
export const formAction =
  (kit: PortalKit) =>
  (
    name: Action,
    form: Failure['form'],
    act: (o: { caseId: string; parsed: ParsedForm; ctx: PortalContext; fail: Fail }) => Promise<void>,
    result: string = name,
  ) =>
  async (req: Request, res: Response) => {
    const { logger } = kit;
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
      const ctx = kit.ctxFor(req, undefined);
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
    if (!kit.csrfOk(req, claims.caseId, f._csrf)) {
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
    if (await kit.actionLimited(req, res, claims.caseId, name, ctx)) return;
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
        view = await kit.caseView(claims.caseId);
      } catch (e) {
        if (e instanceof Problem && (e.status === 404 || e.status === 400)) return kit.neutral(req, res);
        throw e;
      }
      const code =
        err.extra.code === 'VALIDATION_FAILED'
          ? (err.extra.errors
              ?.map((e) => e.path.split('.').pop())
              .find((p) => p === 'statement' || p === 'answer') ?? 'VALIDATION_FAILED')
          : err.extra.code;
      const values: Record<string, string> = {};
      for (const k of ['statement', 'answer']) if (typeof f[k] === 'string') values[k] = f[k]!;
      return kit.renderCase(req, res, token, userSafeView(view), ctx, {
        form,
        status: err.status,
        code,
        values,
        hadFiles: parsed.files.length > 0,
      });
    }
    logger.info('user action', { caseId: claims.caseId, action: name });
    res.redirect(303, withLangTz(`${basePath(token)}/result/${result}`, ctx));
  };

export function actionRoutes(router: Router, kit: PortalKit): void {
  const { call } = kit;
  const action = formAction(kit);

  router.post(
    '/:token/appeal',
    action('appeal', 'appeal', async ({ caseId, parsed, fail }) => {
      const statement = textOf(parsed.fields.statement, 2_000, 'statement', fail);
      await withEvidence(kit.evidence, caseId, parsed, fail, (refs) =>
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
      await withEvidence(kit.evidence, caseId, parsed, fail, (refs) =>
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
}
