// Everything the API asks of Temporal, in one place. It speaks only the contract (core/contracts), never the
// workflow implementation. The work is in four parts: how calls into a case are made (case-calls), events and
// staff openings (case-events), human actions (case-actions), and reads (case-reads).
import type { Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { CASE_WORKFLOW_TYPE, type CaseAction, type CaseView, type RiskEventResult } from '../core/contracts';
import type { RiskEvent } from '../core/events';
import type { RequestIdentity } from '../core/idempotency';
import { REVIEW_STATUSES, type Actor, type CaseStatus } from '../core/model';
import type { GaugeSources } from '../infra/metrics';
import type { Role } from '../infra/config';
import type { Store } from '../infra/store';
import { CaseActions } from './case-actions';
import { CaseCalls, type CaseServiceOptions } from './case-calls';
import type { CaseEvidence } from './case-evidence';
import { CaseEvents } from './case-events';
import {
  CaseReads,
  type CaseDetails,
  type CaseSummary,
  type EndedCases,
  type Restriction,
  type ReviewQueueItem,
} from './case-reads';
import { CaseSearch } from './case-search';
import { SecondReviews, type SecondReviewRequest } from './second-review';
import type { EndedCasesQuery, ManualCase } from './schemas';

export class CaseService {
  private readonly events: CaseEvents;
  private readonly actions: CaseActions;
  private readonly reads: CaseReads;
  private readonly finder: CaseSearch;
  private readonly secondReviews: SecondReviews;

  constructor(o: CaseServiceOptions) {
    const calls = new CaseCalls(o);
    this.reads = new CaseReads(o, calls.client);
    this.finder = new CaseSearch(o, calls.client);
    this.events = new CaseEvents(o, calls);
    this.actions = new CaseActions(o, calls, this.reads);
    this.secondReviews = new SecondReviews(o, calls, this.reads);
  }

  /**
   * Scores the event here first. A NONE for an account with no open case is answered at once and writes
   * nothing to Temporal; anything else goes to the account's case workflow, whose decision is returned.
   */
  reportEvent(event: RiskEvent, actor: Actor, requestFingerprint?: string): Promise<RiskEventResult> {
    return this.events.reportEvent(event, actor, requestFingerprint);
  }

  /** A staff member opens a case by hand (or adds to the account's open case); see CaseEvents.openCase. */
  openCase(body: ManualCase, principalId: string): Promise<RiskEventResult> {
    return this.events.openCase(body, principalId);
  }

  /** Sends a human action to the case (409 for what its state does not allow); see CaseActions.act. */
  act<A extends CaseAction>(
    caseId: string,
    update: UpdateDefinition<CaseView, [A]>,
    args: Omit<A, 'caseId'>,
    identity?: RequestIdentity,
  ): Promise<CaseView> {
    return this.actions.act(caseId, update, args, identity);
  }

  /** The view of one case with its deliveries, from the archive once it has ended, else from Temporal. */
  async getCase(caseId: string): Promise<CaseDetails> {
    const details = await this.reads.getCase(caseId);
    return { ...details, ...(await this.secondReviews.withLink(details)) };
  }

  /**
   * Opens the one second review of an ended case (UPHELD or CLOSED, within the policy's window) as a linked new
   * case; a repeat of the request answers that case. See SecondReviews.request.
   */
  requestSecondReview(
    caseId: string,
    body: SecondReviewRequest,
    actor: Actor,
    principal: string = actor.id,
  ): Promise<CaseView> {
    return this.secondReviews.request(caseId, body, actor, principal);
  }

  /** What each reason of the case rests on: its events' attributes, rules and sources, as the role may see. */
  caseEvidence(view: CaseView, role: Role): Promise<CaseEvidence> {
    return this.reads.evidence(view, role);
  }

  /** The case's own view, as the case wrote it (no deliveries merged in): for its audit export (api/routes/audit.ts). */
  findCase(caseId: string): Promise<{ view: CaseView } | null> {
    return this.reads.findCase(caseId);
  }

  /** The case an earlier event of the account reached (its first answer), for a retraction. */
  caseOfEvent(accountId: string, eventId: string): Promise<string> {
    return this.reads.caseOfEvent(accountId, eventId);
  }

  /** Restriction changes and outcomes after a cursor, in order: the backend catches up after an outage. */
  changes(after: number, limit: number) {
    return this.reads.changes(after, limit);
  }

  /** The hot-path check: from the account's durable record in Cordon's database, never from Temporal. */
  restriction(accountId: string): Promise<Restriction> {
    return this.reads.restriction(accountId);
  }

  restrictions(accountIds: readonly string[]): Promise<Restriction[]> {
    return this.reads.restrictions(accountIds);
  }

  /** Open cases waiting for reviewers, soonest review deadline first (from visibility: eventually consistent). */
  reviewQueue(
    status: string | undefined,
    limit: number,
    escalated?: boolean,
    secondReview?: boolean,
  ): Promise<ReviewQueueItem[]> {
    return this.reads.reviewQueue(status, limit, escalated, secondReview);
  }

  /** The cases an exact case ID or account ID names, open and ended; see CaseSearch.search. */
  searchCases(q: string): Promise<CaseSummary[]> {
    return this.finder.search(q);
  }

  /** Ended cases from the archive, newest first, filtered and paged; see CaseSearch.ended. */
  endedCases(q: EndedCasesQuery): Promise<EndedCases> {
    return this.finder.ended(q);
  }
}

/**
 * What the metrics' gauges read at scrape time: visibility for open cases, the database for messages. Each
 * visibility count runs under the scrape's deadline, which also ends its retries when Temporal is out of reach.
 */
export function gaugeSourcesOf(client: Client, store: Store): GaugeSources {
  const running = `WorkflowType = "${CASE_WORKFLOW_TYPE}" AND ExecutionStatus = "Running"`;
  const inReview = `CordonStatus IN (${REVIEW_STATUSES.map((s) => `"${s}"`).join(', ')})`;
  const count = (query: string, deadline: number) =>
    client.withDeadline(deadline, async () => (await client.workflow.count(query)).count);
  return {
    openCases: (status: CaseStatus, deadline: number) =>
      count(`${running} AND CordonStatus = "${status}"`, deadline),
    reviewBreached: (deadline: number) =>
      count(`${running} AND ${inReview} AND CordonReviewDueAt < "${new Date().toISOString()}"`, deadline),
    messagesByStatus: () => store.outbox.counts(),
    trippedGuards: async () => (await store.guards.open()).map((t) => t.ruleId),
  };
}
