// The case workflow's updates, queries and search attributes as Temporal definitions. The API, the worker and
// scripts import this file (never the workflow code itself); the workflow registers its handlers on them. Every
// name here is recorded in histories and used by running clients: a name never changes.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type {
  AppealUpdate,
  ApprovalUpdate,
  BreakGlassUpdate,
  CaseStats,
  CaseView,
  ClaimUpdate,
  DecisionUpdate,
  InfoUpdate,
  ReleaseUpdate,
  RetractUpdate,
  GuardTrippedUpdate,
  RiskEventResult,
  RiskEventUpdate,
  SecondReviewUpdate,
  VerificationUpdate,
} from '../core/contracts';

export const riskEventUpdate = defineUpdate<RiskEventResult, [RiskEventUpdate]>('riskEvent');
export const verificationUpdate = defineUpdate<CaseView, [VerificationUpdate]>('verification');
export const appealUpdate = defineUpdate<CaseView, [AppealUpdate]>('appeal');
export const claimUpdate = defineUpdate<CaseView, [ClaimUpdate]>('claim');
export const releaseUpdate = defineUpdate<CaseView, [ReleaseUpdate]>('release');
export const decisionUpdate = defineUpdate<CaseView, [DecisionUpdate]>('decision');
export const approvalUpdate = defineUpdate<CaseView, [ApprovalUpdate]>('approval');
export const infoUpdate = defineUpdate<CaseView, [InfoUpdate]>('info');
export const breakGlassUpdate = defineUpdate<CaseView, [BreakGlassUpdate]>('breakGlass');
export const retractUpdate = defineUpdate<CaseView, [RetractUpdate]>('retract');
export const guardTrippedUpdate = defineUpdate<CaseView, [GuardTrippedUpdate]>('guardTripped');
/** 0.5: opens the second review of the account's ended case as a new case (update-with-start). */
export const secondReviewUpdate = defineUpdate<CaseView, [SecondReviewUpdate]>('secondReview');
export const caseViewQuery = defineQuery<CaseView | null>('caseView');
export const caseStatsQuery = defineQuery<CaseStats>('caseStats');

/** Custom search attributes for the Temporal Web UI and the review queue. No personal data. */
export const SA = {
  caseId: defineSearchAttributeKey('CordonCaseId', SearchAttributeType.KEYWORD),
  accountId: defineSearchAttributeKey('CordonAccountId', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('CordonStatus', SearchAttributeType.KEYWORD),
  tier: defineSearchAttributeKey('CordonTier', SearchAttributeType.KEYWORD),
  reasonCodes: defineSearchAttributeKey('CordonReasonCodes', SearchAttributeType.KEYWORD_LIST),
  reviewDueAt: defineSearchAttributeKey('CordonReviewDueAt', SearchAttributeType.DATETIME),
  assignee: defineSearchAttributeKey('CordonAssignee', SearchAttributeType.KEYWORD),
} as const;
