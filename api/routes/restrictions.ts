// What the backend reads from Cordon's database, never from Temporal: accounts' restrictions (the hot-path
// check), and the feed of restriction changes and case outcomes it catches up from after an outage.
import { RestrictionAnswer, RestrictionsAnswer } from '../answers';
import type { CaseService } from '../case-service';
import * as S from '../schemas';
import { ANY_STAFF, BACKEND, route, type RouteSpec } from './spec';

export function restrictionRoutes(d: { cases: CaseService }): RouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/v1/accounts/:accountId/restriction',
      summary: "The account's current restriction",
      roles: ANY_STAFF,
      params: S.AccountIdParams,
      answerSchema: RestrictionAnswer,
      handle: ({ params }) => d.cases.restriction(params.accountId),
    }),
    route({
      method: 'post',
      path: '/v1/accounts/restrictions',
      summary: "The restrictions of up to 100 accounts at once, in the order asked (from Cordon's database)",
      roles: ANY_STAFF,
      body: S.RestrictionsBody,
      answerSchema: RestrictionsAnswer,
      handle: async ({ body }) => ({ items: await d.cases.restrictions(body.accountIds) }),
    }),
  ];
}

export function changeRoutes(d: { cases: CaseService }): RouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/v1/changes',
      summary:
        'Restriction changes and case outcomes after a cursor, oldest first: the backend catches up after an outage',
      roles: BACKEND,
      query: S.ChangesQuery,
      handle: ({ query }) => d.cases.changes(query.after, query.limit),
    }),
  ];
}
