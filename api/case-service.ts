// Everything the API asks of Temporal, in one place. It speaks only the contract (core/contracts), never the
// workflow implementation.
import {
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import type { Scorer } from '../activities/scorer';
import type { ShadowScoring } from './shadow';
import { REFUSAL_CODES } from '../core/case-machine';
import {
  CASE_WORKFLOW_TYPE,
  caseViewQuery,
  caseWorkflowId,
  parseCaseId,
  riskEventUpdate,
  SA,
  TASK_QUEUE,
  type CaseAction,
  type CaseView,
  type CaseWorkflowInput,
  type RiskEventResult,
  type RiskEventUpdate,
} from '../core/contracts';
import type { RiskEvent } from '../core/events';
import { updateIdOf, type RequestIdentity } from '../core/idempotency';
import type { TimelineEntry } from '../core/case-machine';
import type { Store, StoredMessage } from '../infra/store';
import type { GaugeSources, Metrics } from '../infra/metrics';
import type { CaseStatus } from '../core/model';
import { REVIEW_STATUSES, type Actor, type Decision } from '../core/model';
import type { Logger } from '../infra/logger';
import { Problem } from './problems';

/** Every refusal of the case machine means "this case cannot do that now": a 409. So does a reused key. */
const CONFLICTS = new Set<string>([...REFUSAL_CODES, 'IDEMPOTENCY_KEY_REUSED']);

const keyReused = () =>
  new Problem(409, 'Idempotency key reused', 'this requestId was already used for a different request', {
    code: 'IDEMPOTENCY_KEY_REUSED',
  });

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
}

export interface Restriction {
  accountId: string;
  restricted: boolean;
  tier: string;
  status: string | null;
  caseId: string | null;
}

export interface CaseServiceOptions {
  client: Client;
  scorer: Scorer;
  logger: Logger;
  /** Cordon's database: event and request records, deliveries, archived cases, the change feed. */
  store: Store;
  /** How long an event ID gets its first answer back. */
  eventIdWindowMs: number;
  taskQueue?: string;
  metrics?: Metrics;
  /** A candidate policy scoring every live event in shadow, after its answer. */
  shadow?: ShadowScoring;
}

/**
 * Temporal admits a bounded number of in-flight updates per workflow (10 by default). A burst of events for
 * one account (a takeover attempt is exactly that) queues here per account instead of being refused.
 */
class PerAccountLimit {
  private readonly waiting = new Map<string, { active: number; queue: (() => void)[] }>();
  constructor(private readonly max: number) {}
  async run<T>(accountId: string, fn: () => Promise<T>): Promise<T> {
    let slot = this.waiting.get(accountId);
    if (!slot) this.waiting.set(accountId, (slot = { active: 0, queue: [] }));
    if (slot.active >= this.max) await new Promise<void>((resolve) => slot.queue.push(resolve));
    else slot.active += 1;
    try {
      return await fn();
    } finally {
      const next = slot.queue.shift();
      if (next) next();
      else if (--slot.active === 0) this.waiting.delete(accountId);
    }
  }
}

/** Retries what Temporal refuses for load (in-flight update limit, rate limits): never lost, only later. */
async function retryWhenBusy<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isResourceExhausted(err) || attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, Math.min(1_000, 25 * 2 ** attempt) * (0.5 + Math.random())));
    }
  }
}

function isResourceExhausted(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === 8 /* RESOURCE_EXHAUSTED */) return true;
    if (e instanceof Error && /in-flight updates|RESOURCE_EXHAUSTED/i.test(e.message)) return true;
  }
  return false;
}

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

export class CaseService {
  private readonly client: Client;
  private readonly taskQueue: string;
  private readonly perAccount = new PerAccountLimit(5);

  constructor(private readonly o: CaseServiceOptions) {
    this.client = o.client;
    this.taskQueue = o.taskQueue ?? TASK_QUEUE;
  }

  /**
   * Scores the event here first. A NONE for an account with no open case is answered at once and writes
   * nothing to Temporal; anything else goes to the account's case workflow, whose decision is returned.
   */
  async reportEvent(event: RiskEvent, actor: Actor): Promise<RiskEventResult> {
    const started = performance.now();
    const result = await this.decideEvent(event, actor);
    this.o.metrics?.eventReported(
      result.decision.tier,
      result.duplicate,
      (performance.now() - started) / 1000,
    );
    return result;
  }

  private async decideEvent(event: RiskEvent, actor: Actor): Promise<RiskEventResult> {
    // An event ID seen within the window gets its first answer, whichever case of the account it reached.
    const first = await this.o.store.findEvent(event.accountId, event.eventId, this.o.eventIdWindowMs);
    if (first) return { ...first, duplicate: true };
    const {
      result: { decision, terms },
      sources,
    } = await this.o.scorer.scoreDetailed(event);
    const workflowId = caseWorkflowId(event.accountId);
    // No update ID: the workflow remembers event IDs itself (across continue-as-new) and flags repeats.
    const updateOptions = { args: [{ event, actor, scored: { decision, terms } }] as [RiskEventUpdate] };
    let result: RiskEventResult | undefined;
    if (decision.tier !== 'NONE') {
      result = await this.perAccount.run(event.accountId, () =>
        retryWhenBusy(() => this.withStart(workflowId, event.accountId, decision, updateOptions)),
      );
    } else if ((await this.o.store.restrictionsOf([event.accountId]))[0]?.open) {
      // A harmless event goes to an open case only (it counts it); for any other account, no Temporal call.
      try {
        result = await this.perAccount.run(event.accountId, () =>
          retryWhenBusy(() =>
            this.client.workflow.getHandle(workflowId).executeUpdate(riskEventUpdate, updateOptions),
          ),
        );
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError) && refusalType(err) !== 'CASE_CLOSED') throw err;
      }
    }
    result ??= {
      eventId: event.eventId,
      accountId: event.accountId,
      caseId: null,
      status: 'NO_ACTION',
      decision,
      duplicate: false,
    };
    await this.o.store.recordEvent(result);
    if (this.o.shadow && event.type !== 'STAFF_REPORT') this.o.shadow.observe(event, decision, sources);
    this.o.logger.info('decision', {
      eventId: event.eventId,
      accountId: event.accountId,
      type: event.type,
      tier: result.decision.tier,
      score: result.decision.score,
      reasons: result.decision.reasons.map((r) => r.code),
      policyVersion: result.decision.policyVersion,
      policyHash: result.decision.policyHash,
      unavailableSources: result.decision.unavailableSources,
      caseId: result.caseId,
      status: result.status,
      duplicate: result.duplicate,
    });
    return result;
  }

  private async withStart(
    workflowId: string,
    accountId: string,
    decision: Decision,
    updateOptions: { args: [RiskEventUpdate] },
  ): Promise<RiskEventResult> {
    // A case that has reached its outcome refuses new events while it finishes; the next event starts a new case.
    for (let attempt = 0; ; attempt++) {
      const startWorkflowOperation = new WithStartWorkflowOperation(CASE_WORKFLOW_TYPE, {
        workflowId,
        taskQueue: this.taskQueue,
        args: [{ accountId } satisfies CaseWorkflowInput],
        workflowIdConflictPolicy: 'USE_EXISTING',
        typedSearchAttributes: [{ key: SA.accountId, value: accountId }],
        // What the Web UI shows first: which account, and why the case opened (codes only).
        staticSummary: `Cordon case · account ${accountId} · ${decision.tier} · ${decision.reasons[0]?.code ?? 'no reason'}`,
      });
      try {
        return await this.client.workflow.executeUpdateWithStart(riskEventUpdate, {
          ...updateOptions,
          startWorkflowOperation,
        });
      } catch (err) {
        if (refusalType(err) !== 'CASE_CLOSED' || attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /**
   * The view of one case with its deliveries: the account's current run if it is that case, else the archive
   * in Cordon's database, else an earlier run found by its ID.
   */
  async getCase(caseId: string): Promise<CaseDetails> {
    const found = await this.findCase(caseId);
    if (!found) throw new Problem(404, 'Case not found', `no case ${caseId}`, { code: 'CASE_NOT_FOUND' });
    return withDeliveries(found.view, await this.o.store.messagesOf(caseId));
  }

  private async findCase(caseId: string): Promise<{ view: CaseView; current: boolean } | null> {
    const parsed = parseCaseId(caseId);
    if (!parsed) return null;
    const latest = await this.queryView(this.client.workflow.getHandle(caseWorkflowId(parsed.accountId)));
    if (latest?.caseId === caseId) return { view: latest, current: true };
    const archived = await this.o.store.archivedCase(caseId);
    if (archived) return { view: withLaterFields(archived.view), current: false };
    // An earlier case of the account: visibility knows its run by the CordonCaseId search attribute.
    for await (const wf of this.client.workflow.list({ query: `CordonCaseId = "${caseId}"` })) {
      const view = await this.queryView(this.client.workflow.getHandle(wf.workflowId, wf.runId));
      if (view?.caseId === caseId) return { view, current: false };
    }
    return null;
  }

  private async queryView(handle: WorkflowHandle): Promise<CaseView | null> {
    try {
      return await handle.query(caseViewQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }

  /**
   * Sends a human action to the case. The workflow's validator refuses what the case's state does not allow
   * (409), and an action naming a case that is not the account's current one (CASE_NOT_FOUND): then the case
   * either ended (409) or never existed (404).
   */
  async act<A extends CaseAction>(
    caseId: string,
    update: UpdateDefinition<CaseView, [A]>,
    args: Omit<A, 'caseId'>,
    identity?: RequestIdentity,
  ): Promise<CaseView> {
    const metrics = this.o.metrics;
    try {
      const { view, repeat } = await this.applyAction(caseId, update, args, identity);
      if (!metrics) return view;
      metrics.actionAnswered(update.name, repeat ? 'repeat' : 'applied');
      if (update.name === 'decision' && !repeat)
        metrics.decisionApplied(String((args as { decision?: string }).decision));
      return view;
    } catch (err) {
      if (err instanceof Problem) metrics?.actionAnswered(update.name, err.extra.code ?? String(err.status));
      throw err;
    }
  }

  private async applyAction<A extends CaseAction>(
    caseId: string,
    update: UpdateDefinition<CaseView, [A]>,
    args: Omit<A, 'caseId'>,
    identity?: RequestIdentity,
  ): Promise<{ view: CaseView; repeat: boolean }> {
    const parsed = parseCaseId(caseId);
    if (!parsed) throw new Problem(404, 'Case not found', `no case ${caseId}`, { code: 'CASE_NOT_FOUND' });
    // A repeat of an answered request gets its first answer; the same key with another body is a conflict.
    const prior = identity ? await this.o.store.findRequest(identity.key) : null;
    if (prior) {
      if (prior.fingerprint !== identity!.fingerprint) throw keyReused();
      return { view: prior.response, repeat: true };
    }
    const handle = this.client.workflow.getHandle(caseWorkflowId(parsed.accountId));
    let view: CaseView | undefined;
    try {
      view = await handle.executeUpdate(update, {
        args: [{ ...args, caseId } as A],
        // Temporal answers a repeat of the same request on the same run with the first outcome.
        ...(identity ? { updateId: updateIdOf(identity.key + identity.fingerprint) } : {}),
      });
    } catch (err) {
      const type = refusalType(err);
      if (type && CONFLICTS.has(type))
        throw new Problem(409, 'Action not allowed', messageOf(err), { code: type });
      if (!(err instanceof WorkflowNotFoundError) && type !== 'CASE_NOT_FOUND') throw err;
    }
    if (view) {
      if (identity) await this.o.store.recordRequest(identity.key, caseId, identity.fingerprint, view);
      return { view, repeat: false };
    }
    // The case is not the account's current one: it ended (perhaps by this very request) or never existed.
    const archived = await this.o.store.archivedCase(caseId);
    const answered = identity && archived?.requests.find((r) => r.key === identity.key);
    if (answered) {
      if (answered.fingerprint !== identity.fingerprint) throw keyReused();
      return { view: archived!.view, repeat: true };
    }
    const found = archived ?? (await this.findCase(caseId));
    if (!found) throw new Problem(404, 'Case not found', `no case ${caseId}`, { code: 'CASE_NOT_FOUND' });
    throw new Problem(409, 'Case closed', `the case has ended (${found.view.status})`, {
      code: 'CASE_CLOSED',
    });
  }

  /** The case an earlier event of the account reached (its first answer), for a retraction. */
  async caseOfEvent(accountId: string, eventId: string): Promise<string> {
    const first = await this.o.store.findEvent(accountId, eventId, this.o.eventIdWindowMs);
    if (!first?.caseId)
      throw new Problem(404, 'Event not found', `no case recorded event ${eventId} for this account`, {
        code: 'EVENT_NOT_FOUND',
      });
    return first.caseId;
  }

  /** Restriction changes and outcomes after a cursor, in order: the backend catches up after an outage. */
  async changes(after: number, limit: number) {
    const items = await this.o.store.changesAfter(after, limit);
    return { items, next: items.length ? items[items.length - 1]!.cursor : String(after) };
  }

  /** The hot-path check: from the account's durable record in Cordon's database, never from Temporal. */
  async restriction(accountId: string): Promise<Restriction> {
    return (await this.restrictions([accountId]))[0]!;
  }

  async restrictions(accountIds: readonly string[]): Promise<Restriction[]> {
    const records = await this.o.store.restrictionsOf(accountIds);
    return accountIds.map((accountId, i) => {
      const r = records[i];
      if (!r) return { accountId, restricted: false, tier: 'NONE', status: null, caseId: null };
      return {
        accountId,
        restricted: r.restricted,
        tier: r.restricted ? r.tier : 'NONE',
        status: r.status,
        caseId: r.caseId,
      };
    });
  }

  /** Open cases waiting for reviewers, soonest review deadline first (from visibility: eventually consistent). */
  async reviewQueue(
    status: string | undefined,
    limit: number,
    escalated?: boolean,
  ): Promise<ReviewQueueItem[]> {
    const statuses = status ? [status] : REVIEW_STATUSES;
    const now = new Date().toISOString();
    const breach =
      escalated === undefined
        ? ''
        : escalated
          ? ` AND CordonReviewDueAt < "${now}"`
          : ` AND (CordonReviewDueAt >= "${now}" OR CordonReviewDueAt IS NULL)`;
    const query = `WorkflowType = "${CASE_WORKFLOW_TYPE}" AND ExecutionStatus = "Running" AND CordonStatus IN (${statuses
      .map((s) => `"${s}"`)
      .join(', ')})${breach}`;
    const items: ReviewQueueItem[] = [];
    for await (const wf of this.client.workflow.list({ query })) {
      const sa = wf.typedSearchAttributes;
      const due = sa.get(SA.reviewDueAt);
      items.push({
        caseId: sa.get(SA.caseId) ?? '',
        accountId: sa.get(SA.accountId) ?? '',
        tier: sa.get(SA.tier) ?? '',
        status: sa.get(SA.status) ?? '',
        reviewDueAt: due ? due.toISOString() : null,
        assignee: sa.get(SA.assignee) ?? null,
        escalated: due !== undefined && due.toISOString() < now,
        reasonCodes: sa.get(SA.reasonCodes) ?? [],
      });
      if (items.length >= 5_000) break;
    }
    items.sort((a, b) => (a.reviewDueAt ?? '9999').localeCompare(b.reviewDueAt ?? '9999'));
    return items.slice(0, limit);
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

/** What the metrics' gauges read at scrape time: visibility for open cases, the database for messages. */
export function gaugeSourcesOf(client: Client, store: Store): GaugeSources {
  const running = `WorkflowType = "${CASE_WORKFLOW_TYPE}" AND ExecutionStatus = "Running"`;
  const inReview = `CordonStatus IN (${REVIEW_STATUSES.map((s) => `"${s}"`).join(', ')})`;
  return {
    openCases: async (status: CaseStatus) =>
      (await client.workflow.count(`${running} AND CordonStatus = "${status}"`)).count,
    reviewBreached: async () =>
      (
        await client.workflow.count(
          `${running} AND ${inReview} AND CordonReviewDueAt < "${new Date().toISOString()}"`,
        )
      ).count,
    messagesByStatus: () => store.messageCounts(),
  };
}

function refusalType(err: unknown): string | undefined {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure)
    return err.cause.type ?? undefined;
  return undefined;
}

function messageOf(err: unknown): string {
  if (err instanceof WorkflowUpdateFailedError && err.cause) return err.cause.message;
  return (err as Error).message;
}
