// The console's search (/console/search?q=) and ended cases (/console/ended), through the API's own routes:
// GET /v1/cases?q= and GET /v1/ended-cases. A malformed ID or filter is shown in place with what was typed.
import type { Request, RequestHandler, Response, Router } from 'express';
import type { CaseSummary, EndedCases } from '../api/case-reads';
import { Problem, problemHeaders } from '../web/problems';
import type { CallRoute } from '../api/routes/caller';
import type { Principal } from '../infra/config';
import { endedPage, searchPage, type EndedFilter } from './case-lists';
import { errorPage, problemBox, type PageContext } from './pages';

export interface CaseListKit {
  call: CallRoute;
  context: (req: Request, res: Response) => PageContext;
  signedIn: RequestHandler;
  principal: (res: Response) => Principal;
}

/** Cases an ended-cases page lists. */
const PAGE = 50;
const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

const given = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/**
 * A day of the date inputs as the API's time: its start (UTC, as the console shows every time), or with `end` the
 * start of the next day (the "to" day is included). Anything else goes to the API as typed, which refuses it.
 */
function dayBoundary(day: string, end = false): string {
  const start = DATE.test(day) ? Date.parse(`${day}T00:00:00Z`) : NaN;
  return Number.isNaN(start) ? day : new Date(start + (end ? DAY_MS : 0)).toISOString();
}

export function caseListRoutes(router: Router, k: CaseListKit): void {
  const failed = (res: Response, ctx: PageContext, title: string, p: Problem) =>
    void res
      .set(problemHeaders(p))
      .status(p.status)
      .send(errorPage(ctx, title, problemBox(ctx.t, p)));

  router.get('/search', k.signedIn, async (req, res) => {
    const ctx = k.context(req, res);
    const q = given(req.query.q) ?? '';
    if (!q) return void res.send(searchPage(ctx, { q }));
    try {
      const { items } = (await k.call('get', '/v1/cases', k.principal(res), { query: { q } })) as {
        items: CaseSummary[];
      };
      res.send(searchPage(ctx, { q, items }));
    } catch (err) {
      if (!(err instanceof Problem)) throw err;
      if (err.status === 400) return void res.status(400).send(searchPage(ctx, { q, refused: err }));
      failed(res, ctx, ctx.t('searchTitle'), err);
    }
  });

  router.get('/ended', k.signedIn, async (req, res) => {
    const ctx = k.context(req, res);
    const filter: EndedFilter = {
      outcome: given(req.query.outcome),
      reason: given(req.query.reason),
      from: given(req.query.from),
      to: given(req.query.to),
      after: given(req.query.after),
    };
    const query: Record<string, string> = { limit: String(PAGE) };
    if (filter.outcome) query.outcome = filter.outcome;
    if (filter.reason) query.reason = filter.reason;
    if (filter.from) query.from = dayBoundary(filter.from);
    if (filter.to) query.to = dayBoundary(filter.to, true);
    if (filter.after) query.after = filter.after;
    try {
      const page = (await k.call('get', '/v1/ended-cases', k.principal(res), { query })) as EndedCases;
      res.send(endedPage(ctx, { filter, ...page, short: page.items.length < PAGE && page.next !== null }));
    } catch (err) {
      if (!(err instanceof Problem)) throw err;
      if (err.status !== 400) return failed(res, ctx, ctx.t('endedCases'), err);
      res.status(400).send(endedPage(ctx, { filter, items: [], next: null, short: false, refused: err }));
    }
  });
}
