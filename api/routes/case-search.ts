// Finding cases, for reviewers: a search by an exact case or account ID, and the ended cases with filters. They
// answer identifiers, codes and dates; the case itself is GET /v1/cases/{caseId}.
import { CaseSearchAnswer, EndedCasesAnswer } from '../answers';
import type { CaseService } from '../case-service';
import * as S from '../schemas';
import { REVIEWERS, route, type RouteSpec } from './spec';

export function caseSearchRoutes(d: { cases: CaseService }): RouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/v1/cases',
      summary:
        "Cases an exact case ID or account ID names: the account's open case (from Temporal) and its ended ones (from the archive)",
      roles: REVIEWERS,
      query: S.CaseSearchQuery,
      answerSchema: CaseSearchAnswer,
      handle: async ({ query }) => ({ items: await d.cases.searchCases(query.q) }),
    }),
    route({
      method: 'get',
      path: '/v1/ended-cases',
      summary:
        'Ended cases from the archive, newest first: by outcome, reason code, account and end time, a page at a time',
      roles: REVIEWERS,
      query: S.EndedCasesQuery,
      answerSchema: EndedCasesAnswer,
      handle: ({ query }) => d.cases.endedCases(query),
    }),
  ];
}
