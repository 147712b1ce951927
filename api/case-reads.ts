// What the API reads about cases: a case's view with its deliveries (the archive for ended cases, else
// Temporal), the review queue (visibility), and from Cordon's database alone the restrictions, the change feed
// and the case an event reached.
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { TimelineEntry } from '../core/case-types';
import { CASE_WORKFLOW_TYPE, caseWorkflowId, parseCaseId, type CaseView } from '../core/contracts';
import { capabilitiesOf, type Capability } from '../core/capabilities';
import { REVIEW_STATUSES } from '../core/model';
import type { StoredMessage } from '../infra/stores/outbox';
import { caseViewQuery, SA } from '../workflows/definitions';
import type { Role } from '../infra/config';
import type { CaseServiceOptions } from './case-calls';
import { caseEvidence, type CaseEvidence } from './case-evidence';
import { temporalRead, TEMPORAL_READ_MS } from './errors';
import { Problem } from '../web/problems';

/** A message's delivery as the case view shows it (no message text: only what and how it went). */
export interface DeliveryView {
  key: string;
  kind: 'NOTIFY_USER' | 'NOTIFY_BACKEND';
  what: string;
  status: string;
  attempts: number;
  channels: string[];
  lastError: string | null;
}

export type CaseDetails = CaseView & { deliveries: DeliveryView[] };

export interface ReviewQueueItem {
  caseId: string;
  accountId: string;
  tier: string;
  status: string;
  reviewDueAt: string | null;
  assignee: string | null;
  /** Past its review SLA: in the senior queue. */
  escalated: boolean;
  /** The case's reason codes, from its search attribute (codes only: no personal data). */
  reasonCodes: string[];
  /**
   * While the case waits for a second approval it has no review deadline but the approval SLA, which only its
   * view carries (deadlines.approvalDueAt); null otherwise, or when the view was not read in time.
   */
  approvalDueAt?: string | null;
  /** A second review (senior reviewers only; see POST /v1/cases/{id}/second-review). */
  secondReview?: boolean;
}

/** A case in a list (search, ended cases, an account's history): identifiers, codes and dates only. */
export interface CaseSummary {
  caseId: string;
  accountId: string;
  status: string;
  tier: string;
  /** Still running (from visibility); false: ended (from the archive). */
  open: boolean;
  outcome: string | null;
  reasonCodes: string[];
  openedAt: string | null;
  endedAt: string | null;
}

export interface EndedCases {
  items: CaseSummary[];
  /** The cursor of the next page (`after`), or null when no case is left. */
  next: string | null;
}

export interface Restriction {
  accountId: string;
  restricted: boolean;
  tier: string;
  status: string | null;
  caseId: string | null;
  /** What the account holder can still do, and what not (core/capabilities.ts, the policy's tiers). */
  allowed: Capability[];
  blocked: Capability[];
}

/** How long the review queue's listing may take before the answer is a 503. */
const REVIEW_QUEUE_READ_MS = 10_000;
/** How long the queue waits for the views of cases pending approval (their deadline) before answering without. */
const APPROVAL_DEADLINES_READ_MS = 2_000;
/** Views of cases pending approval read at once. */
const APPROVAL_READS_AT_ONCE = 8;

/** A view archived by an earlier release, with the fields added since at their neutral values. */
function withLaterFields(view: CaseView): CaseView {
  return {
    ...view,
    evidenceVersion: view.evidenceVersion ?? 0,
    question: view.question ?? null,
    explanation: view.explanation ?? null,
    retractedEvents: view.retractedEvents ?? [],
    pendingApproval: view.pendingApproval
      ? {
          ...view.pendingApproval,
          decision: view.pendingApproval.decision ?? 'CLOSE',
          evidenceVersion: view.pendingApproval.evidenceVersion ?? null,
        }
      : null,
  };
}

/** The second reviews the queue's filter looks among: those requested in the last 180 days, at most 1,000. */
const SECOND_REVIEWS_LISTED_MS = 180 * 24 * 3_600_000;
const SECOND_REVIEWS_LISTED = 1_000;

export class CaseReads {
  constructor(
    private readonly o: CaseServiceOptions,
    private readonly client: Client,
  ) {}

  /**
   * The view of one case with its deliveries: the archive in Cordon's database if the case has ended (an open
   * case is never there), else the account's current run if it is that case, else an earlier run found by its
   * ID. An ended case is so read without Temporal, which may be down.
   */
  async getCase(caseId: string): Promise<CaseDetails> {
    const found = await this.findCase(caseId);
    if (!found) throw new Problem(404, 'Case not found', `no case ${caseId}`, { code: 'CASE_NOT_FOUND' });
    return withDeliveries(found.view, await this.o.store.outbox.messagesOf(caseId));
  }

  /** What each reason of a case rests on, as the role may see it (api/case-evidence.ts). */
  evidence(view: CaseView, role: Role): Promise<CaseEvidence> {
    return caseEvidence(this.o.store.eventEvidence, view, role);
  }

  async findCase(caseId: string): Promise<{ view: CaseView; current: boolean } | null> {
    const parsed = parseCaseId(caseId);
    if (!parsed) return null;
    const archived = await this.o.store.archive.find(caseId);
    if (archived) return { view: withLaterFields(archived.view), current: false };
    // Within a deadline: with Temporal out of reach, a 503 with Retry-After soon rather than the client's retries.
    return temporalRead(this.client, TEMPORAL_READ_MS, async () => {
      const latest = await this.queryView(this.client.workflow.getHandle(caseWorkflowId(parsed.accountId)));
      if (latest?.caseId === caseId) return { view: latest, current: true };
      // An earlier case of the account: visibility knows its run by the CordonCaseId search attribute.
      for await (const wf of this.client.workflow.list({ query: `CordonCaseId = "${caseId}"` })) {
        const view = await this.queryView(this.client.workflow.getHandle(wf.workflowId, wf.runId));
        if (view?.caseId === caseId) return { view, current: false };
      }
      return null;
    });
  }

  private async queryView(handle: WorkflowHandle): Promise<CaseView | null> {
    try {
      return await handle.query(caseViewQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }

  /** The case an earlier event of the account reached (its first answer), for a retraction. */
  async caseOfEvent(accountId: string, eventId: string): Promise<string> {
    const first = await this.o.store.events.find(accountId, eventId, this.o.eventIdWindowMs);
    if (!first?.caseId)
      throw new Problem(404, 'Event not found', `no case recorded event ${eventId} for this account`, {
        code: 'EVENT_NOT_FOUND',
      });
    return first.caseId;
  }

  /** Restriction changes and outcomes after a cursor, in order: the backend catches up after an outage. */
  async changes(after: number, limit: number) {
    const items = await this.o.store.changes.after(after, limit);
    return { items, next: items.length ? items[items.length - 1]!.cursor : String(after) };
  }

  /** The hot-path check: from the account's durable record in Cordon's database, never from Temporal. */
  async restriction(accountId: string): Promise<Restriction> {
    return (await this.restrictions([accountId]))[0]!;
  }

  async restrictions(accountIds: readonly string[]): Promise<Restriction[]> {
    const records = await this.o.store.restrictions.of(accountIds);
    // The running policy's capabilities: what the gateway enforces is what the user's pages and mails say.
    const tiers = this.o.scorer.policy.policy.tiers;
    return accountIds.map((accountId, i) => {
      const r = records[i];
      if (!r)
        return {
          accountId,
          restricted: false,
          tier: 'NONE',
          status: null,
          caseId: null,
          ...capabilitiesOf({ restricted: false, tier: 'NONE' }),
        };
      return {
        accountId,
        restricted: r.restricted,
        tier: r.restricted ? r.tier : 'NONE',
        status: r.status,
        caseId: r.caseId,
        ...capabilitiesOf(r, tiers),
      };
    });
  }

  /** Open cases waiting for reviewers, soonest review deadline first (from visibility: eventually consistent). */
  async reviewQueue(
    status: string | undefined,
    limit: number,
    escalated?: boolean,
    secondReview?: boolean,
  ): Promise<ReviewQueueItem[]> {
    const statuses = status ? [status] : REVIEW_STATUSES;
    const now = new Date().toISOString();
    // Second reviews are known by Cordon's database (no search attribute: none is needed to find a few).
    const seconds =
      secondReview === undefined
        ? []
        : await this.o.store.secondReviews.since(
            Date.now() - SECOND_REVIEWS_LISTED_MS,
            SECOND_REVIEWS_LISTED,
          );
    if (secondReview === true && seconds.length === 0) return [];
    const ids = seconds.map((id) => `"${id}"`).join(', ');
    const which =
      secondReview === undefined || seconds.length === 0
        ? ''
        : ` AND CordonCaseId ${secondReview ? 'IN' : 'NOT IN'} (${ids})`;
    const breach =
      escalated === undefined
        ? ''
        : escalated
          ? ` AND CordonReviewDueAt < "${now}"`
          : ` AND (CordonReviewDueAt >= "${now}" OR CordonReviewDueAt IS NULL)`;
    const query = `WorkflowType = "${CASE_WORKFLOW_TYPE}" AND ExecutionStatus = "Running" AND CordonStatus IN (${statuses
      .map((s) => `"${s}"`)
      .join(', ')})${breach}${which}`;
    const runs = new Map<ReviewQueueItem, WorkflowHandle>();
    // Bounded like every read (a visibility listing of thousands takes longer than one case's view).
    const items = await temporalRead(this.client, REVIEW_QUEUE_READ_MS, () =>
      this.listQueue(query, now, runs),
    );
    items.sort((a, b) => (a.reviewDueAt ?? '9999').localeCompare(b.reviewDueAt ?? '9999'));
    const page = items.slice(0, limit);
    await this.approvalDeadlines(page, runs);
    const second = await this.o.store.secondReviews.secondOnes(page.map((i) => i.caseId));
    for (const item of page) item.secondReview = second.has(item.caseId);
    return page;
  }

  /**
   * Fills in the approval SLA of the cases pending approval from their views (visibility has no attribute for
   * it), a few at a time within a budget of its own: a case whose view is not read in time keeps null, and the
   * queue still answers.
   */
  private async approvalDeadlines(
    items: ReviewQueueItem[],
    runs: Map<ReviewQueueItem, WorkflowHandle>,
  ): Promise<void> {
    const pending = items.filter((i) => i.status === 'PENDING_APPROVAL');
    const end = Date.now() + APPROVAL_DEADLINES_READ_MS;
    for (let i = 0; i < pending.length && Date.now() < end; i += APPROVAL_READS_AT_ONCE)
      await Promise.all(
        pending.slice(i, i + APPROVAL_READS_AT_ONCE).map(async (item) => {
          const run = runs.get(item);
          if (!run) return;
          const view = await temporalRead(this.client, Math.max(end - Date.now(), 1), () =>
            this.queryView(run),
          ).catch(() => null);
          if (view?.caseId === item.caseId) item.approvalDueAt = view.deadlines.approvalDueAt ?? null;
        }),
      );
  }

  private async listQueue(
    query: string,
    now: string,
    runs: Map<ReviewQueueItem, WorkflowHandle>,
  ): Promise<ReviewQueueItem[]> {
    const items: ReviewQueueItem[] = [];
    for await (const wf of this.client.workflow.list({ query })) {
      const sa = wf.typedSearchAttributes;
      const due = sa.get(SA.reviewDueAt);
      const item: ReviewQueueItem = {
        caseId: sa.get(SA.caseId) ?? '',
        accountId: sa.get(SA.accountId) ?? '',
        tier: sa.get(SA.tier) ?? '',
        status: sa.get(SA.status) ?? '',
        reviewDueAt: due ? due.toISOString() : null,
        assignee: sa.get(SA.assignee) ?? null,
        escalated: due !== undefined && due.toISOString() < now,
        reasonCodes: sa.get(SA.reasonCodes) ?? [],
        approvalDueAt: null,
      };
      items.push(item);
      if (item.status === 'PENDING_APPROVAL')
        runs.set(item, this.client.workflow.getHandle(wf.workflowId, wf.runId));
      if (items.length >= 5_000) break;
    }
    return items;
  }
}

/** Adds what Cordon's outbox knows: delivered and failed messages in the timeline, every message's status. */
function withDeliveries(view: CaseView, messages: StoredMessage[]): CaseDetails {
  const system = { kind: 'system' as const, id: 'cordon' };
  const entries: TimelineEntry[] = [];
  const deliveries = messages.map((m): DeliveryView => {
    const user = m.message.kind === 'NOTIFY_USER';
    const what = m.message.kind === 'NOTIFY_USER' ? m.message.notice.template : m.message.event.type;
    const at = new Date(m.updatedAt).toISOString();
    if (m.status === 'DELIVERED')
      entries.push(
        user
          ? { at, actor: system, type: 'NOTIFIED', template: what, channels: m.channels }
          : { at, actor: system, type: 'WEBHOOK_SENT', event: what, channels: m.channels },
      );
    if (m.status === 'FAILED')
      entries.push({ at, actor: system, type: 'DELIVERY_FAILED', message: what, reason: m.lastError });
    return {
      key: m.idempotencyKey,
      kind: m.message.kind,
      what,
      status: m.status,
      attempts: m.attempts,
      channels: m.channels,
      lastError: m.lastError,
    };
  });
  // A stable merge by time: the workflow's own entries keep their order.
  const timeline = [...view.timeline, ...entries]
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.at.localeCompare(b.e.at) || a.i - b.i)
    .map(({ e }) => e);
  return { ...view, timeline, deliveries };
}
