// The policy's reports for analysts: overturn rates from Cordon's archive of ended cases, and how a candidate
// policy in shadow mode would have decided live events.
import type { Scorer } from '../../activities/scorer';
import type { Store } from '../../infra/store';
import { overturnRatesAsync } from '../../lab/overturns';
import type { ShadowScoring } from '../shadow';
import * as S from '../schemas';
import { ANALYSTS, route, type RouteSpec } from './spec';

export interface ReportDeps {
  scorer: Scorer;
  /** Cordon's database: the archive of ended cases, the shadow report. */
  store: Store;
  /** Shadow scoring by a candidate policy, when CORDON_SHADOW_POLICY is set. */
  shadow?: ShadowScoring;
}

/** Totals over the days of a shadow report, next to its rows. */
function summariseShadow(r: Awaited<ReturnType<Store['shadow']['report']>>) {
  const scored = r.days.reduce((n, d) => n + d.scored, 0);
  const disagreements = r.days.reduce((n, d) => n + d.disagreements, 0);
  return {
    scored,
    disagreements,
    disagreementRate: scored ? disagreements / scored : null,
    days: r.days,
    transitions: r.transitions,
    latest: r.latest.map(({ at, ...rest }) => ({ at: new Date(at).toISOString(), ...rest })),
  };
}

export function reportRoutes(d: ReportDeps): RouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/v1/reports/overturns',
      summary:
        "Overturn rates: for each rule and reason code, how often the restrictions it caused (cases opened in the window) were lifted by a reviewer or by the user's verification, with a Wilson 95% interval; from Cordon's archive of ended cases",
      roles: ANALYSTS,
      query: S.ReportWindowQuery,
      // Cases opened in the window ended after its start: every case ended since then, streamed.
      handle: ({ query }) => overturnRatesAsync(d.store.archive.ended(query.from, Date.now() + 1), query),
    }),
    route({
      method: 'get',
      path: '/v1/reports/shadow',
      summary:
        'Shadow mode: how often the candidate policy (CORDON_SHADOW_POLICY) decided live events differently, per day and tier, with the latest disagreements',
      roles: ANALYSTS,
      query: S.ReportWindowQuery,
      handle: async ({ query }) => ({
        window: { from: new Date(query.from).toISOString(), to: new Date(query.to).toISOString() },
        livePolicyVersion: d.scorer.policy.policy.version,
        candidatePolicyVersion: d.shadow?.candidateVersion ?? null,
        candidateFeatures: (await d.shadow?.candidateFeatures(d.scorer.policy)) ?? [],
        ...summariseShadow(await d.store.shadow.report(query.from, query.to, 50)),
      }),
    }),
  ];
}
