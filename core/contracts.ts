// The contract between the API and the case workflow: names, payloads, IDs and search attributes' names.
// Plain types and constants, free of Temporal's SDK: the update, query and search-attribute definitions built
// on them are in workflows/definitions.ts. Imported by api/, worker/ and workflows/.
import type { RequestIdentity } from './idempotency';
import type { CaseState, Deadlines, Explanation, OpenSecondReview, TimelineEntry } from './case-types';
import type { RiskEvent } from './events';
import type { OutboxMessage } from './messages';
import type {
  Actor,
  CaseStatus,
  CaseTerms,
  Decision,
  Locale,
  Outcome,
  ReasonContribution,
  ReviewDecision,
  Tier,
} from './model';

export const TASK_QUEUE = 'cordon-cases';
export const CASE_WORKFLOW_TYPE = 'caseWorkflow';

const WORKFLOW_ID_PREFIX = 'cordon-account-';

/** One case workflow per account: its ID is derived from the account ID. */
export function caseWorkflowId(accountId: string): string {
  return `${WORKFLOW_ID_PREFIX}${accountId}`;
}

/**
 * A case ID names one case of an account: the account ID and a tag of the first run of the case's workflow
 * (stable across continue-as-new). Account IDs cannot contain ".", so the last "." separates the two.
 */
export function makeCaseId(accountId: string, firstExecutionRunId: string): string {
  return `${accountId}.${firstExecutionRunId.replace(/-/g, '').slice(0, 12)}`;
}

export function parseCaseId(caseId: string): { accountId: string } | null {
  const match = /^([A-Za-z0-9_-]{1,64})\.([0-9a-f]{12})$/.exec(caseId);
  return match ? { accountId: match[1]! } : null;
}

export interface CaseWorkflowInput {
  accountId: string;
  /** Continue as new once the history is this long (tests set it low). */
  historyLimit?: number;
  /** Present when the workflow continued as new: the state it carries over. */
  carried?: CarriedState;
  /**
   * 0.4: the account's first case ever (the API found no restriction record and the server no earlier run of the
   * workflow): no earlier case can have answered an event, so the run looks nothing up.
   */
  firstOfAccount?: boolean;
}

export interface CarriedState {
  state: CaseState;
  /** Event ID → first answer, oldest first. Releases before 0.2 carried a plain object here. */
  seenEvents: [string, RiskEventResult][] | Record<string, RiskEventResult>;
  /** Request key → body fingerprint, oldest first. Releases before 0.2 carried bare request IDs. */
  seenRequests: [string, string][] | string[];
  effectSeq: number;
  outbox: OutboxMessage[];
  /** 0.4: when the case last forgot event IDs it had handed over to Cordon's database (workflow time). */
  handedOverAt?: number;
}

/** A human request an ended case had answered, kept in the archive so a late repeat gets its answer. */
export type ArchivedRequest = RequestIdentity;

/** What a case leaves in Cordon's database when it ends. */
export interface CaseArchive {
  view: CaseView;
  requests: ArchivedRequest[];
  events: RiskEventResult[];
}

/** Sizes of what the workflow carries, for tests and operators (no personal data). */
export interface CaseStats {
  carriedBytes: number;
  timelineEntries: number;
  seenEvents: number;
  seenRequests: number;
  historyLength: number;
}

export interface RiskEventUpdate {
  event: RiskEvent;
  actor: Actor;
  /**
   * The API's scoring of the event (decision and the policy's terms), after it found no first answer for the
   * event ID in Cordon's database: a 0.3 run uses it instead of scoring again in a local activity.
   */
  scored?: { decision: Decision; terms: CaseTerms };
  /**
   * When the API looked for a first answer to this event ID in Cordon's database (its clock, ms). A case that
   * began after (or about when) that look may be the one that answers an ID an earlier case of the account
   * answered, so it looks again itself (0.4). Absent (an older API): the case always looks.
   */
  checkedAt?: number;
  /**
   * A staff member's case opening (POST /v1/cases) is a request: the fingerprint of its body. The same
   * requestId with another body is refused (IDEMPOTENCY_KEY_REUSED) instead of answered as a repeat.
   */
  fingerprint?: string;
}

export interface RiskEventResult {
  eventId: string;
  accountId: string;
  caseId: string | null;
  status: CaseStatus | 'NO_ACTION';
  decision: Decision;
  /** True when this event ID had been seen before: the first answer is returned and nothing happens again. */
  duplicate: boolean;
  /**
   * Kept with the first answer of a staff member's case opening: the fingerprint of the request's body, so a
   * reuse of its requestId with another body is told apart from a repeat. Never shown to callers.
   */
  requestFingerprint?: string;
}

/** Every human action names its case, so it can never land on a later case of the same account. */
export interface CaseAction {
  caseId: string;
  /** Who sent it (the token's principal): a request ID repeats only for the same principal. */
  principal?: string;
}

export interface VerificationUpdate extends CaseAction {
  method: string;
  passed: boolean;
  requestId: string;
  actor: Actor;
}
export interface AppealUpdate extends CaseAction {
  statement: string;
  evidence?: string[];
  requestId: string;
  actor: Actor;
}
export interface ClaimUpdate extends CaseAction {
  reviewer: string;
  /** A senior (or admin) takes over a case another reviewer holds. */
  senior?: boolean;
}
/** Releasing a claim: the same fields as claiming. */
export type ReleaseUpdate = ClaimUpdate;
export interface DecisionUpdate extends CaseAction {
  reviewer: string;
  decision: ReviewDecision;
  rationale: string;
  requestId: string;
  /** REQUEST_INFO: what the user is asked. */
  question?: string;
  /** What the user is told with the outcome: a catalogue reason and the reviewer's words. */
  explanation?: Explanation;
  /** The evidence version the reviewer saw (CaseView.evidenceVersion); refused when the case moved on. */
  evidenceVersion?: number;
  /** The caller is a senior or admin (a second review takes one); not part of the request's identity. */
  senior?: boolean;
}
export interface ApprovalUpdate extends CaseAction {
  reviewer: string;
  approve: boolean;
  rationale: string;
  /** Optional: without one, each approval is applied or refused on its own (never a silent no-op). */
  requestId?: string;
  /** The evidence version the approver saw; refused when the case moved on. */
  evidenceVersion?: number;
  /** The caller is a senior or admin (a second review takes one); not part of the request's identity. */
  senior?: boolean;
}

/**
 * Opens the second review of an ended case (API: POST /v1/cases/{id}/second-review): what the machine's opening
 * takes but the case's ID and the time, which the workflow decides.
 */
export type SecondReviewUpdate = Omit<OpenSecondReview, 'caseId' | 'at'>;
/** A senior or admin lifts or closes at once ("break glass"). */
export interface BreakGlassUpdate extends CaseAction {
  by: string;
  action: 'LIFT' | 'CLOSE';
  rationale: string;
  explanation?: Explanation;
  requestId: string;
  /** The evidence version it was decided on (a bulk action's dry run); cases under rules 5 refuse another. */
  evidenceVersion?: number;
}
/** The backend withdraws an event it reported in error. */
export interface RetractUpdate extends CaseAction {
  eventId: string;
  reason: string;
  requestId: string;
  actor: Actor;
}
/** A rule's guard tripped while it was restricting this account (api/guard-notes.ts): one timeline entry. */
export interface GuardTrippedUpdate extends CaseAction {
  ruleId: string;
  hourCount: number;
  baselinePerHour: number;
  onTrip: 'alert' | 'capAtStepUp';
  /** `guard:<ruleId>:<trippedAt>`: the same trip is noted once, whatever the retries. */
  requestId: string;
}
export interface InfoUpdate extends CaseAction {
  answer: string;
  evidence?: string[];
  requestId: string;
  actor: Actor;
}

type IsoDeadlines = { [K in keyof Deadlines]?: string };

/** What the API shows of a case. */
export interface CaseView {
  caseId: string;
  accountId: string;
  status: CaseStatus;
  tier: Tier;
  restricted: boolean;
  score: number;
  reasons: ReasonContribution[];
  verificationAllowed: boolean;
  deadlines: IsoDeadlines;
  assignee: string | null;
  appealed: boolean;
  slaBreached: boolean;
  /** The review SLA passed: the case belongs in the senior queue (GET /v1/review-queue?escalated=true). */
  escalated: boolean;
  pendingApproval: {
    decidedBy: string;
    rationale: string;
    at: string;
    decision: 'CLOSE' | 'UNLOCK';
    /** The evidence version the decision was made on (cases before 0.3: null). */
    evidenceVersion: number | null;
  } | null;
  /** Bumped by each new piece of evidence; decisions and approvals may name the version they saw. */
  evidenceVersion: number;
  /** The reviewer's question while information is requested. */
  question: string | null;
  /** The user-facing explanation of the outcome. */
  explanation: Explanation | null;
  /** Risk events the backend retracted. */
  retractedEvents: string[];
  lockoutCount: number;
  missingSources: string[];
  policyVersion: string;
  policyHash: string;
  /** The case machine's rules the case follows (see CaseTerms.rulesVersion); absent in views archived before 0.4. */
  rulesVersion?: number;
  /** Whether the case's tier takes an appeal (the policy's tiers.<TIER>.appealAllowed); absent before 0.5. */
  appealAllowed?: boolean;
  openedAt: string;
  outcome: Outcome | null;
  locale: Locale;
  /** Risk events that changed nothing, counted rather than listed. */
  unchangedEvents: { count: number; lastAt: string | null };
  /** This case is the second review of `previousCaseId` (claimed, decided and approved by seniors only). */
  secondReview?: boolean;
  previousCaseId?: string;
  /** The ended case's second review, once requested (added by the API from Cordon's database). */
  secondReviewCaseId?: string;
  /** Until when a second review may be requested (added by the API: UPHELD or CLOSED, within the window). */
  secondReviewAllowedUntil?: string;
  timeline: TimelineEntry[];
}

/**
 * The case's search attributes (SA in workflows/definitions.ts) as `temporal server start-dev --search-attribute
 * Name=Type` wants them.
 */
export const SEARCH_ATTRIBUTE_FLAGS: readonly string[] = [
  'CordonCaseId=Keyword',
  'CordonAccountId=Keyword',
  'CordonStatus=Keyword',
  'CordonTier=Keyword',
  'CordonReasonCodes=KeywordList',
  'CordonReviewDueAt=Datetime',
  'CordonAssignee=Keyword',
];

/** What a case workflow returns when it ends. */
export interface CaseResult {
  caseId: string | null;
  accountId: string;
  outcome: Outcome | 'NO_ACTION';
  tier: Tier;
}
