// Everything the API asks of Temporal, in one place. It speaks only the contract (core/contracts), never the
// workflow implementation.
import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
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
import { busyProblem, orBusy, workflowTaskTrouble } from './overload';
import { fingerprint } from '../core/idempotency';
import { STAFF_EVENT_PREFIX } from '../core/events';
import type { ManualCase } from './schemas';
import { temporalRead, TEMPORAL_READ_MS } from './errors';

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
  /** How long an event or an action may wait for its case before the answer is a 503 (default 20 s). */
  temporalCallMs?: number;
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

/** How long the review queue's listing may take before the answer is a 503. */
const REVIEW_QUEUE_READ_MS = 10_000;

/** How long an event waits for the account's ending case to finish before the answer is a 503. */
const CASE_ENDING_WAIT_MS = 20_000;

/** The event ID of a staff member's case opening: its own space, since backend event IDs never begin so. */
export function staffEventId(principalId: string, requestId: string): string {
  return `${STAFF_EVENT_PREFIX}${principalId}:${requestId}`;
}

/**
 * Retries an update the case could not take for the moment: it is moving to a new run (CASE_CONTINUING, a
 * refusal: nothing was applied), or, when sending the same update again is safe (`idempotent`: an event, or
 * an action with its request identity), a workflow task failed under it. Bounded by the caller's deadline
 * (caseCall), after which the answer is a 503.
 */
async function retryMomentary<T>(fn: () => Promise<T>, idempotent: boolean): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (refusalType(err) !== 'CASE_CONTINUING' && !(idempotent && workflowTaskTrouble(err))) throw err;
      await new Promise((r) => setTimeout(r, Math.min(500, 20 * 2 ** Math.min(attempt, 5))));
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
  private readonly callMs: number;

  constructor(private readonly o: CaseServiceOptions) {
    this.client = o.client;
    this.taskQueue = o.taskQueue ?? TASK_QUEUE;
    this.callMs = o.temporalCallMs ?? 20_000;
  }

  /**
   * An update sent to a case, within the time the API waits (then 503: the case is starved or failing, and the
   * update may still be applied later, which a retry with the same ID learns). A transient refusal is a 503 too.
   */
  private async caseCall<T>(call: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(busyProblem()), this.callMs);
    });
    try {
      return await Promise.race([
        orBusy(() => this.client.connection.withDeadline(Date.now() + this.callMs, call)),
        late,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A risk event's call into its case: as caseCall, and a reused staff requestId is a 409. */
  private async eventCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await this.caseCall(call);
    } catch (err) {
      if (refusalType(err) === 'IDEMPOTENCY_KEY_REUSED') throw keyReused();
      throw err;
    }
  }

  /**
   * Scores the event here first. A NONE for an account with no open case is answered at once and writes
   * nothing to Temporal; anything else goes to the account's case workflow, whose decision is returned.
   */
  async reportEvent(event: RiskEvent, actor: Actor, requestFingerprint?: string): Promise<RiskEventResult> {
    const started = performance.now();
    const { requestFingerprint: _kept, ...result } = await this.decideEvent(event, actor, requestFingerprint);
    this.o.metrics?.eventReported(
      result.decision.tier,
      result.duplicate,
      (performance.now() - started) / 1000,
    );
    return result;
  }

  /**
   * A staff member opens a case by hand (or adds to the account's open case): a request keyed by the account,
   * the principal and its requestId, in an event-ID space of its own (backend event IDs cannot begin with
   * "staff:"). A repeat gets the first answer; the same requestId with another body is a 409.
   */
  async openCase(body: ManualCase, principalId: string): Promise<RiskEventResult> {
    const { requestId, ...fields } = body;
    return this.reportEvent(
      {
        type: 'STAFF_REPORT',
        eventId: staffEventId(principalId, requestId),
        accountId: body.accountId,
        occurredAt: new Date().toISOString(),
        ...(body.locale ? { locale: body.locale } : {}),
        attributes: { tier: body.tier, reason: body.reason, rationale: body.rationale },
      },
      { kind: 'reviewer', id: principalId },
      fingerprint(fields),
    );
  }

  private async decideEvent(
    event: RiskEvent,
    actor: Actor,
    requestFingerprint?: string,
  ): Promise<RiskEventResult> {
    // An event ID seen within the window gets its first answer, whichever case of the account it reached. The
    // case looks again itself if it began about when this look was made (see RiskEventUpdate.checkedAt).
    const checkedAt = Date.now();
    const first = await this.o.store.findEvent(event.accountId, event.eventId, this.o.eventIdWindowMs);
    if (first) {
      if (requestFingerprint && first.requestFingerprint && first.requestFingerprint !== requestFingerprint)
        throw keyReused();
      return { ...first, duplicate: true };
    }
    const {
      result: { decision, terms },
      sources,
    } = await this.o.scorer.scoreDetailed(event);
    const workflowId = caseWorkflowId(event.accountId);
    // Read before the start: an account without a record has never had a case (see withStart).
    const firstOfAccount =
      decision.tier !== 'NONE' && (await this.o.store.restrictionsOf([event.accountId]))[0] === null;
    // No update ID: the workflow remembers event IDs itself (across continue-as-new) and flags repeats.
    const update: RiskEventUpdate = {
      event,
      actor,
      scored: { decision, terms },
      checkedAt,
      ...(requestFingerprint ? { fingerprint: requestFingerprint } : {}),
    };
    const updateOptions = { args: [update] as [RiskEventUpdate] };
    let result: RiskEventResult | undefined;
    if (decision.tier !== 'NONE') {
      result = await this.perAccount.run(event.accountId, () =>
        this.eventCall(() =>
          retryWhenBusy(() =>
            this.withStart(workflowId, event.accountId, decision, updateOptions, firstOfAccount),
          ),
        ),
      );
    } else if ((await this.o.store.restrictionsOf([event.accountId]))[0]?.open) {
      // A harmless event goes to an open case only (it counts it); for any other account, no Temporal call.
      try {
        result = await this.perAccount.run(event.accountId, () =>
          this.eventCall(() =>
            retryWhenBusy(() =>
              retryMomentary(
                () =>
                  this.client.workflow.getHandle(workflowId).executeUpdate(riskEventUpdate, updateOptions),
                true,
              ),
            ),
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

  /**
   * The event to the account's case, starting one if none runs. An account that has never had a case (no
   * restriction record when the API looked, before this start) starts its first run only if the server holds no
   * earlier run of the account (REJECT_DUPLICATE), and tells the run so: it then has no earlier case's answers
   * to look up. If an earlier run appeared meanwhile, the start is refused and made again the usual way.
   */
  private async withStart(
    workflowId: string,
    accountId: string,
    decision: Decision,
    updateOptions: { args: [RiskEventUpdate] },
    firstOfAccount: boolean,
  ): Promise<RiskEventResult> {
    // A case that has reached its outcome refuses new events while it finishes (its last messages and archive
    // written); the next event starts a new case. Under load the finishing takes longer: wait for it, then 503.
    const giveUpAt = Date.now() + CASE_ENDING_WAIT_MS;
    let first = firstOfAccount;
    for (let attempt = 0; ; attempt++) {
      const startWorkflowOperation = new WithStartWorkflowOperation(CASE_WORKFLOW_TYPE, {
        workflowId,
        taskQueue: this.taskQueue,
        args: [{ accountId, ...(first ? { firstOfAccount: true } : {}) } satisfies CaseWorkflowInput],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: first ? 'REJECT_DUPLICATE' : 'ALLOW_DUPLICATE',
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
        if (first && err instanceof WorkflowExecutionAlreadyStartedError) {
          first = false; // an earlier run of the account exists after all: its case may know this event
          continue;
        }
        // Sending the event again is safe: the case answers a seen event ID with its first answer.
        const refused = refusalType(err);
        if (refused !== 'CASE_CLOSED' && refused !== 'CASE_CONTINUING' && !workflowTaskTrouble(err))
          throw err;
        if (Date.now() > giveUpAt)
          throw busyProblem(
            "the account's previous case is still ending; it is safe to retry after Retry-After seconds",
          );
        await new Promise((r) => setTimeout(r, Math.min(1_000, 50 * 2 ** Math.min(attempt, 5))));
      }
    }
  }

  /**
   * The view of one case with its deliveries: the archive in Cordon's database if the case has ended (an open
   * case is never there), else the account's current run if it is that case, else an earlier run found by its
   * ID. An ended case is so read without Temporal, which may be down.
   */
  async getCase(caseId: string): Promise<CaseDetails> {
    const found = await this.findCase(caseId);
    if (!found) throw new Problem(404, 'Case not found', `no case ${caseId}`, { code: 'CASE_NOT_FOUND' });
    return withDeliveries(found.view, await this.o.store.messagesOf(caseId));
  }

  private async findCase(caseId: string): Promise<{ view: CaseView; current: boolean } | null> {
    const parsed = parseCaseId(caseId);
    if (!parsed) return null;
    const archived = await this.o.store.archivedCase(caseId);
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
      view = await this.caseCall(() =>
        retryMomentary(
          () =>
            handle.executeUpdate(update, {
              args: [{ ...args, caseId } as A],
              // Temporal answers a repeat of the same request on the same run with the first outcome.
              ...(identity ? { updateId: updateIdOf(identity.key + identity.fingerprint) } : {}),
            }),
          identity !== undefined,
        ),
      );
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
    // Bounded like every read (a visibility listing of thousands takes longer than one case's view).
    const items = await temporalRead(this.client, REVIEW_QUEUE_READ_MS, () => this.listQueue(query, now));
    items.sort((a, b) => (a.reviewDueAt ?? '9999').localeCompare(b.reviewDueAt ?? '9999'));
    return items.slice(0, limit);
  }

  private async listQueue(query: string, now: string): Promise<ReviewQueueItem[]> {
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
