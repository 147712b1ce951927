// What the case page is given: the case as the API answers it, and the reviewer's last action (done, or refused
// with what they typed). Types only, in a room of their own: the page and each of its parts read them, and the
// console's router builds them, without one importing the other.
import type { CaseEvidence } from '../api/case-evidence';
import type { CaseDetails } from '../api/case-reads';
import type { ReasonContribution } from '../core/model';
import type { Problem } from '../web/problems';
import type { Lang } from '../web/i18n';
import type { AccountHistory } from './case-history';
import type { CaseFiles } from './case-files';

export type CaseAction = 'claim' | 'release' | 'decision' | 'approval';

/** The case as GET /v1/cases/:caseId answers it: reasons come with the catalogue's explanations. */
export type ConsoleCase = Omit<CaseDetails, 'reasons'> & {
  reasons: (ReasonContribution & {
    explanation?: { reviewer?: string; reviewerByLocale?: Partial<Record<Lang, string>> };
  })[];
  /** What each reason rests on (console/case-evidence.ts). */
  evidence?: CaseEvidence;
};

export interface FailedAction {
  action: CaseAction;
  problem: Problem;
  /** What the reviewer typed, shown again. */
  values: Record<string, string>;
}

export interface CaseModel {
  view: ConsoleCase;
  now: number;
  /** The action that just succeeded (Post/Redirect/Get). */
  done?: CaseAction;
  failed?: FailedAction;
  /** The request ID the forms send: a double submit is applied once. */
  requestId: string;
  /** The decision and approval bodies' fields, from the API's schemas: the forms offer only what they take. */
  decisionFields?: Set<string>;
  approvalFields?: Set<string>;
  /** Each referenced file's name, kind and size as the evidence store gave them (console/case-files.ts). */
  files?: CaseFiles;
  /** The account's ended cases (console/case-history.ts); null: could not be read. */
  history?: AccountHistory;
}
