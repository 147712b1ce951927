// The decision letter of an ended case, as a page to print or save (GET /u/<token>/letter): what was decided,
// why, what it means, for how long and what comes next. GET changes nothing; an open case has no letter yet.
import type { Router } from 'express';
import { basePath, withLangTz, type PortalKit } from '../kit';
import { letterInputOf, letterPage } from '../letter';
import { userSafeView } from '../view';

export function letterRoutes(router: Router, kit: PortalKit): void {
  router.get('/:token/letter', async (req, res) => {
    if (await kit.openLimited(req, res)) return;
    const found = await kit.openCase(req, res);
    if (!found) return;
    const view = userSafeView(found.view);
    const token = String(req.params.token);
    const ctx = kit.ctxFor(req, undefined, view.locale);
    const input = letterInputOf(view, kit.policyNow(), ctx.now);
    if (!input) return void res.redirect(303, withLangTz(basePath(token), ctx));
    res.send(letterPage(ctx, input, basePath(token), `${basePath(token)}/letter`));
  });
}
