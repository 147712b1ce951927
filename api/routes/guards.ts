// Rule guards for operators and seniors: every guarded rule of the running policy with its sliding-hour count,
// its baseline and its trip; a senior re-arms a tripped guard (core/guards.ts, docs/guards.md).
import { z } from 'zod';
import type { LoadedPolicy } from '../../core/policy';
import type { RuleGuards } from '../guards';
import { ANALYSTS, REVIEWERS, route, SENIORS, type RouteSpec } from './spec';

/** Asked for at each call: a route table built without guards (for its shape only) still builds. */
export function guardRoutes(deps: () => { guards: RuleGuards; policy: LoadedPolicy }): RouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/v1/guards',
      summary:
        "The running policy's guarded rules: matches in the sliding hour, the trailing 7-day hourly baseline, and the open trip if tripped; with the latest trips",
      roles: [...new Set([...REVIEWERS, ...ANALYSTS])],
      handle: async () => {
        const d = deps();
        return d.guards.list(d.policy);
      },
    }),
    route({
      method: 'post',
      path: '/v1/guards/:ruleId/rearm',
      summary:
        "Re-arm a rule's tripped guard (senior or admin, logged): the rule restricts as written again and its guard counts anew",
      roles: SENIORS,
      params: z.object({ ruleId: z.string().regex(/^[a-z0-9-]{1,64}$/, "a rule's ID") }),
      answers: {
        404: 'No rule of the running policy has a guard by this ID (GUARD_NOT_FOUND)',
        409: "The rule's guard is not tripped (GUARD_NOT_TRIPPED)",
      },
      handle: async ({ params, principal }) => {
        const d = deps();
        return { trip: await d.guards.rearm(d.policy, params.ruleId, principal.id) };
      },
    }),
  ];
}
