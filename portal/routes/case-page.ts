// The case page a link opens, and the page that follows an action (what happened, what comes next). GET never
// changes anything.
import type { Router } from 'express';
import { basePath, withLangTz, type PortalKit } from '../kit';
import { resultPage, type ResultKind } from '../pages';
import { userSafeView } from '../view';

const RESULT_KINDS = new Set(['appeal', 'info', 'confirmation', 'verification', 'second-review']);

export function casePageRoutes(router: Router, kit: PortalKit): void {
  router.get('/:token', async (req, res) => {
    if (await kit.openLimited(req, res)) return;
    const found = await kit.openCase(req, res);
    if (!found) return;
    const view = userSafeView(found.view);
    kit.renderCase(req, res, String(req.params.token), view, kit.ctxFor(req, undefined, view.locale));
  });

  router.get('/:token/result/:kind', async (req, res) => {
    if (await kit.openLimited(req, res)) return;
    const found = await kit.openCase(req, res);
    if (!found) return;
    const view = userSafeView(found.view);
    const token = String(req.params.token);
    const ctx = kit.ctxFor(req, undefined, view.locale);
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
    } else kind = asked === 'second-review' ? 'secondReview' : (asked as ResultKind);
    res.send(resultPage(ctx, kind, basePath(token), req.path));
  });
}
