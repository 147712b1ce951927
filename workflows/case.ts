// One case workflow per account. The pure state machine (core/case-machine) decides; this file only wires
// it to Temporal: handlers, timers, activities, search attributes and continue-as-new.
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  type ActivityFunctionWithOptions,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ActivityOptions, SearchAttributeUpdatePair, UpdateDefinition } from '@temporalio/common';
import type { AccountRestriction, CaseActivities } from '../core/activity-contract';
import { REVIEW_STATUSES } from '../core/model';
import {
  isRestricted,
  nextTimer,
  openCase,
  recordEffect,
  transition,
  type CaseInput,
  type CaseState,
  type Effect,
  type TimerKind,
} from '../core/case-machine';
import {
  appealUpdate,
  approvalUpdate,
  breakGlassUpdate,
  caseStatsQuery,
  caseViewQuery,
  claimUpdate,
  decisionUpdate,
  releaseUpdate,
  infoUpdate,
  makeCaseId,
  retractUpdate,
  riskEventUpdate,
  SA,
  verificationUpdate,
  type CarriedState,
  type CaseAction,
  type CaseResult,
  type CaseStats,
  type CaseView,
  type CaseWorkflowInput,
  type OutboxMessage,
  type RiskEventResult,
  type RiskEventUpdate,
} from '../core/contracts';
import {
  appealInput,
  approvalInput,
  breakGlassInput,
  decisionInput,
  identityOf,
  infoInput,
  retractInput,
  verificationInput,
} from '../core/actions';
import type { RequestIdentity } from '../core/idempotency';
import { EventMemory } from './event-memory';
import { isMessage, messageName, messageOf, type MessageEffect } from './messages';

const DEFAULT_HISTORY_LIMIT = 5_000;
// Recent IDs only: Cordon's database remembers event IDs and requests for their whole window; these cover a
// retry that reaches the workflow before that record was written. Runs begun before 0.2 keep their 500.
const SEEN_KEPT = 128;
const SEEN_KEPT_BEFORE_0_2 = 500;

/**
 * Patches (see "Safe deploys" in the README): each names a change to what the workflow records in its
 * history. Old histories replay without the marker and keep the old path until they continue as new.
 */
export const PATCHES = {
  /**
   * 0.2: messages go to Cordon's database outbox instead of being sent by the workflow; the case is archived
   * when it ends; a timer that fired is due even if its activation's clock reads early; 128 recent event IDs
   * and request keys are kept instead of 500.
   */
  release02: 'cordon-0.2-outbox-in-database',
  /**
   * 0.3: the case writes the account's restriction record (the hot-path check) itself whenever its status,
   * tier or openness changes; runs begun before record it only with their restriction changes, messages and end.
   */
  release03: 'cordon-0.3-restriction-record',
  /**
   * 0.4: an event ID another case of the account may have answered is looked up in Cordon's database before
   * anything is decided (a fresh run; an event the API looked up before this case began); the answers the case
   * stops remembering are written there first; a staff member's case opening whose requestId was used with
   * another body is refused; the case decides its rules version itself (RULES_PATCHES).
   */
  release04: 'cordon-0.4-seen-ids',
} as const;

/**
 * One marker per version of the case machine's rules, newest first. A case opening records the marker of the
 * newest rules this code knows; a replay finds it and follows the same rules. A constant would change under
 * replay when the code moves on, and the API's stamp (terms.rulesVersion) may name rules this worker has no code
 * for (a newer API deployed before the workers), so neither decides. A new rules version adds its entry first.
 */
export const RULES_PATCHES: readonly (readonly [version: number, patchId: string])[] = [
  [3, 'cordon-rules-3'],
];

/**
 * The rules a case opening now follows: live, the newest this code knows; in a replay, the one whose marker the
 * history holds. Entries are never removed, so a 0.4 history always finds its marker (the fallback is the API's
 * stamp, as before 0.4).
 */
function rulesVersionOfCase(stamped: number | undefined): number | undefined {
  for (const [version, patchId] of RULES_PATCHES) if (patched(patchId)) return version;
  return stamped;
}

/**
 * How far apart the API's clock and the workflow's may be. An event the API looked up less than this after
 * the case began may have been answered by the account's previous case, whose archive the look missed.
 */
const CLOCK_SKEW_MS = 60_000;

// Scoring is a local activity: it runs in the worker that handles the update, saving a server round trip on
// the path the API waits for. Data-source lookups inside have their own timeouts.
const scoring = proxyLocalActivities<CaseActivities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '200ms', maximumInterval: '10s', maximumAttempts: 10 },
});
// Restrictions and messages must happen eventually: retried durably until they succeed or fail for good.
const EFFECT_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '5m' },
};
const effects = proxyActivities<CaseActivities>(EFFECT_OPTIONS);
// 0.3: restriction changes run as local activities in the worker that decided them, saving the round trip
// through the server's task queue on the path the API waits for. Still durable before the answer: the update
// completes with the workflow task that records the local activity's result. Retried (with timers after the
// first minute) until they succeed or fail for good.
const localEffects = proxyLocalActivities<CaseActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5m' },
});
// Writes to Cordon's own database are ordinary activities, retried until they succeed: they are scheduled only
// once the workflow task that decided them is committed. (A local activity would write first; a task lost with
// its worker could then be redone differently and the row would say what never happened.)
const RECORD_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '10s' },
};
const records = proxyActivities<CaseActivities>(RECORD_OPTIONS);

/** The running case: its state, idempotency memory, the outbox of messages, and a lock for handlers. */
class CaseRun {
  state: CaseState | null;
  readonly seenEvents: EventMemory;
  /** Request key → fingerprint of the body that was applied. */
  readonly seenRequests: Map<string, string>;
  effectSeq: number;
  outbox: OutboxMessage[];
  /** Bumped on every change so the main loop re-plans its timer. */
  version = 0;
  private busy = false;
  private lastSearchAttributes = '';
  /** What the restriction record last written says (status, tier, restricted, open), and a sequence for its version. */
  private lastRecorded = '';
  private recordSeq = 0;
  handledAnyEvent = false;

  get seenKept(): number {
    return this.release02 ? SEEN_KEPT : SEEN_KEPT_BEFORE_0_2;
  }

  /** The time the case's first run began (continue-as-new keeps it): earlier cases had ended by then. */
  private readonly caseBegan = workflowInfo().startTime.getTime();

  constructor(
    readonly accountId: string,
    /** This run follows 0.2's behaviour (PATCHES.release02); a run begun by 0.1 keeps 0.1's. */
    readonly release02: boolean,
    /** This run writes its restriction record on every change (PATCHES.release03). */
    readonly release03: boolean,
    /** This run looks up event IDs other cases may have answered, and decides its rules (PATCHES.release04). */
    readonly release04: boolean,
    carried?: CarriedState,
    /** The account's first case ever: no earlier case can have answered an event (CaseWorkflowInput). */
    private readonly firstOfAccount = false,
  ) {
    this.state = carried?.state ?? null;
    this.seenEvents = new EventMemory(carried?.seenEvents, this.seenKept, release04, carried?.handedOverAt);
    const requests = carried?.seenRequests ?? [];
    // Bare request IDs from before 0.2 match no key of today's form; they are kept only as history.
    this.seenRequests = new Map(requests.map((r): [string, string] => (typeof r === 'string' ? [r, ''] : r)));
    this.effectSeq = carried?.effectSeq ?? 0;
    this.outbox = carried?.outbox ?? [];
  }

  get caseId(): string {
    return makeCaseId(this.accountId, workflowInfo().firstExecutionRunId);
  }

  get idle(): boolean {
    return !this.busy && this.outbox.length === 0;
  }

  /**
   * Set once the run must continue as new: new updates are refused (CASE_CONTINUING, which the API retries)
   * so that those already accepted finish and the run can continue. A flood of events for one account would
   * otherwise keep handlers running until the server's limit of updates per run refused them all.
   */
  continuing = false;

  private refuseWhileContinuing(): void {
    if (this.continuing)
      throw ApplicationFailure.create({
        type: 'CASE_CONTINUING',
        message: 'the case is moving to a new run; retry shortly',
      });
  }

  /** Runs handlers one at a time: each one's transition and effects complete before the next starts. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.busy) await condition(() => !this.busy);
    this.busy = true;
    try {
      return await fn();
    } finally {
      // Before the handler answers: once an event or action has been answered, the check shows its effect.
      if (this.release03 && this.state && this.recordKey() !== this.lastRecorded)
        await records.recordRestriction.executeWithOptions(
          { ...RECORD_OPTIONS, summary: `record ${this.state.status} · ${this.state.tier}` },
          [this.restrictionRecord()],
        );
      this.busy = false;
      this.version += 1;
      this.syncSearchAttributes();
    }
  }

  private recordKey(): string {
    const s = this.state!;
    return `${s.status}|${s.tier}|${isRestricted(s)}|${s.outcome === null}`;
  }

  /**
   * The account's restriction record as of now. Its version orders every write for the account: the case's
   * start (a later case wins), then workflow time, then a sequence, as fixed-width text.
   */
  restrictionRecord(): AccountRestriction {
    const s = this.state!;
    this.recordSeq += 1;
    this.lastRecorded = this.recordKey();
    const pad = (n: number, width: number) => String(n).padStart(width, '0');
    return {
      accountId: s.accountId,
      caseId: s.caseId,
      status: s.status,
      tier: s.tier,
      restricted: isRestricted(s),
      open: s.outcome === null,
      version: `${pad(s.openedAt, 15)}:${pad(Date.now(), 15)}:${pad(this.recordSeq, 8)}`,
    };
  }

  view(): CaseView | null {
    const s = this.state;
    if (!s) return null;
    const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
    return {
      caseId: s.caseId,
      accountId: s.accountId,
      status: s.status,
      tier: s.tier,
      restricted: isRestricted(s),
      score: s.score,
      reasons: s.reasons,
      verificationAllowed: s.verificationAllowed,
      deadlines: Object.fromEntries(
        Object.entries(s.deadlines)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => [k, iso(v as number)]),
      ),
      assignee: s.assignee,
      appealed: s.appealed,
      slaBreached: s.slaBreached,
      escalated: s.slaBreached && REVIEW_STATUSES.includes(s.status),
      pendingApproval: s.pendingClose
        ? {
            decidedBy: s.pendingClose.by,
            rationale: s.pendingClose.rationale,
            at: s.pendingClose.at,
            decision: s.pendingClose.decision ?? 'CLOSE',
            evidenceVersion: s.pendingClose.evidenceVersion ?? null,
          }
        : null,
      evidenceVersion: s.evidenceVersion ?? 0,
      question: s.question ?? null,
      explanation: s.explanation ?? null,
      retractedEvents: s.retractedEvents ?? [],
      rulesVersion: s.terms.rulesVersion ?? 1,
      lockoutCount: s.lockoutCount,
      missingSources: s.missingSources,
      policyVersion: s.terms.policyVersion,
      policyHash: s.terms.policyHash,
      openedAt: new Date(s.openedAt).toISOString(),
      outcome: s.outcome,
      locale: s.locale,
      unchangedEvents: s.unchangedEvents ?? { count: 0, lastAt: null },
      timeline: s.timeline,
    };
  }

  stats(): CaseStats {
    return {
      carriedBytes: this.state ? JSON.stringify(this.carried()).length : 0,
      timelineEntries: this.state?.timeline.length ?? 0,
      seenEvents: this.seenEvents.size,
      seenRequests: this.seenRequests.size,
      historyLength: workflowInfo().historyLength,
    };
  }

  async onRiskEvent(u: RiskEventUpdate): Promise<RiskEventResult> {
    const { event, actor, scored } = u;
    const seen = this.seenEvents.answerOf(event.eventId);
    if (seen) return this.repeatOf(seen, u);
    this.handledAnyEvent = true;
    // A fresh run asks Cordon's database too: an earlier case of the account may have answered this event ID
    // and ended between the API's own check and this update.
    const fresh = this.state === null;
    if (this.release04 && this.mayBeAnsweredElsewhere(u)) {
      const first = await scoring.firstAnswerOf(event.accountId, event.eventId);
      if (first) {
        this.seenEvents.remember(first);
        return this.repeatOf(first, u);
      }
    }
    // 0.3: the API's scoring stands (it looked for a first answer just before); a local activity would cost a
    // round trip through the worker's activity slots on the path the API waits for.
    const { decision, terms, firstAnswer } =
      this.release03 && scored
        ? { ...scored, firstAnswer: undefined }
        : await scoring.scoreRiskEvent(event, fresh && !this.release04);
    if (firstAnswer) {
      this.seenEvents.remember(firstAnswer);
      return { ...firstAnswer, duplicate: true };
    }
    const now = Date.now();
    let fx: Effect[] = [];
    if (this.state === null) {
      if (decision.tier !== 'NONE') {
        const opened = openCase({
          caseId: this.caseId,
          accountId: this.accountId,
          locale: event.locale ?? 'en',
          // 0.4: the rules this code knows, whatever the API stamped (it may be newer than this worker).
          terms: this.release04 ? { ...terms, rulesVersion: rulesVersionOfCase(terms.rulesVersion) } : terms,
          at: now,
          eventId: event.eventId,
          eventType: event.type,
          decision,
          actor,
          ...(event.contact ? { contact: event.contact } : {}),
        });
        this.state = opened.state;
        fx = opened.effects;
      }
    } else {
      fx = this.apply(
        {
          kind: 'RISK_EVENT',
          eventId: event.eventId,
          eventType: event.type,
          decision,
          actor,
          ...(event.contact ? { contact: event.contact } : {}),
        },
        now,
      );
    }
    await this.carryOut(fx);
    const result: RiskEventResult = {
      eventId: event.eventId,
      accountId: this.accountId,
      caseId: this.state?.caseId ?? null,
      status: this.state?.status ?? 'NO_ACTION',
      decision,
      duplicate: false,
      ...(this.release04 && u.fingerprint !== undefined ? { requestFingerprint: u.fingerprint } : {}),
    };
    this.seenEvents.remember(result);
    return result;
  }

  /**
   * The database may hold an answer this case does not: this run is fresh (the previous case ended just before
   * it began), or the API looked for a first answer before (or about when) this case began or last forgot IDs
   * it had handed over to the database. The account's first case ever has no earlier case to ask about.
   */
  private mayBeAnsweredElsewhere(u: RiskEventUpdate): boolean {
    const earlierCases = !this.firstOfAccount;
    if (this.state === null) return earlierCases;
    if (u.checkedAt === undefined) return true;
    const since = Math.max(earlierCases ? this.caseBegan : 0, this.seenEvents.handedOverAt ?? 0);
    return since > 0 && u.checkedAt < since + CLOCK_SKEW_MS;
  }

  /** The first answer again, unless the event is a staff request whose requestId came with another body. */
  private repeatOf(first: RiskEventResult, u: RiskEventUpdate): RiskEventResult {
    if (this.release04) assertSameRequest(first, u);
    return { ...first, duplicate: true };
  }

  /**
   * A human action, applied once per request identity. A repeat (same key, same body) changes nothing and
   * answers the current view; the same key with another body is refused.
   */
  async onAction(identity: RequestIdentity | undefined, input: CaseInput): Promise<CaseView> {
    if (!(identity && this.isRepeat(identity))) {
      await this.carryOut(this.apply(input, Date.now()));
      if (identity) this.rememberRequest(identity);
    }
    return this.view()!;
  }

  /** The most recent request keys (the API's request records and the archive keep them all). */
  private rememberRequest({ key, fingerprint }: RequestIdentity): void {
    this.seenRequests.delete(key);
    this.seenRequests.set(key, fingerprint);
    if (this.seenRequests.size > this.seenKept)
      this.seenRequests.delete(this.seenRequests.keys().next().value!);
  }

  /** True for a repeat of an applied request; throws when the key was used for another body. */
  private isRepeat(identity: RequestIdentity): boolean {
    const applied = this.seenRequests.get(identity.key);
    if (applied === undefined) return false;
    if (applied !== identity.fingerprint)
      throw ApplicationFailure.create({
        type: 'IDEMPOTENCY_KEY_REUSED',
        message: 'this requestId was already used for a different request',
      });
    return true;
  }

  /** The synchronous validator: refuses with the machine's typed reason, before anything is recorded. */
  validate(caseId: string, identity: RequestIdentity | undefined, input: CaseInput): void {
    this.refuseWhileContinuing();
    if (!this.state || this.state.caseId !== caseId)
      throw ApplicationFailure.create({ type: 'CASE_NOT_FOUND', message: "not this account's current case" });
    if (identity && this.isRepeat(identity)) return;
    const result = transition(this.state, input, Date.now());
    if (!result.ok)
      throw ApplicationFailure.create({ type: result.refusal.code, message: result.refusal.message });
  }

  validateRiskEvent(u: RiskEventUpdate): void {
    const { event } = u;
    if (event.accountId !== this.accountId)
      throw ApplicationFailure.create({ type: 'WRONG_ACCOUNT', message: 'event is for another account' });
    this.refuseWhileContinuing();
    const seen = this.seenEvents.answerOf(event.eventId);
    if (seen) {
      if (this.release04) assertSameRequest(seen, u);
      return;
    }
    if (this.state?.outcome)
      throw ApplicationFailure.create({ type: 'CASE_CLOSED', message: 'the case is ending; retry shortly' });
  }

  async fireTimer(kind: TimerKind, dueAt: number): Promise<void> {
    if (!this.state) return;
    // A timer that fired is due: its activation's clock may read a little earlier than the deadline the timer
    // was computed for (seen under worker kills), and a refusal would re-arm it and break replay.
    const now = this.release02 ? Math.max(Date.now(), dueAt) : Date.now();
    const result = transition(this.state, { kind: 'TIMER', timer: kind }, now);
    if (!result.ok) return; // the state moved on while the timer fired: nothing is due any more
    this.state = result.state;
    await this.carryOut(result.effects);
  }

  private apply(input: CaseInput, now: number): Effect[] {
    if (!this.state) throw ApplicationFailure.create({ type: 'CASE_NOT_FOUND', message: 'no open case' });
    const result = transition(this.state, input, now);
    if (!result.ok)
      throw ApplicationFailure.create({ type: result.refusal.code, message: result.refusal.message });
    this.state = result.state;
    return result.effects;
  }

  private nextKey(): string {
    this.effectSeq += 1;
    return `${this.state!.caseId}:${this.effectSeq}`;
  }

  /**
   * A restriction change: an activity (with its summary), or a local activity in 0.3 runs. A local activity can
   * run in a workflow task that is then lost with its worker, and the retried task may interleave concurrent
   * updates differently, so its key does not count every effect: it is the number of restriction commands the
   * case has carried out so far (from its timeline) and what this one does.
   */
  private restrictionEffect<K extends 'applyRestriction' | 'liftRestriction' | 'closeAccount'>(
    name: K,
    summary: string,
    command: Parameters<CaseActivities[K]>[0],
  ): Promise<void> {
    type Run = (c: typeof command) => Promise<void>;
    // 0.3 runs only. From 0.4 a command is an ordinary activity again (eager execution starts it in this worker
    // at once): it is scheduled only once the workflow task that decided it is committed, so its key comes from
    // the committed history. A local activity acts before that commit; when a starved worker's task timed out
    // and was redone with its updates in another order, the gateway got a command under a second key, or one
    // the case never recorded.
    if (this.release03 && !this.release04) {
      const s = this.state!;
      const done = s.timeline.filter((e) => RESTRICTION_ENTRIES.has(e.type)).length;
      const tier = name === 'applyRestriction' ? `:${(command as { tier: string }).tier}` : '';
      const idempotencyKey = `${s.caseId}:r${done + 1}:${name}${tier}`;
      return (localEffects[name] as Run)({ ...command, idempotencyKey });
    }
    const activity = effects[name] as Run & {
      executeWithOptions: ActivityFunctionWithOptions<Run>['executeWithOptions'];
    };
    return activity.executeWithOptions({ ...EFFECT_OPTIONS, summary }, [command]);
  }

  /** Restriction changes happen before the handler answers; messages go to the outbox, sent in order. */
  private async carryOut(fx: Effect[]): Promise<void> {
    for (let i = 0; i < fx.length; i++) {
      const effect = fx[i]!;
      const s = this.state!;
      const base = { caseId: s.caseId, accountId: s.accountId, idempotencyKey: this.nextKey() };
      if (isMessage(effect)) {
        this.outbox.push(messageOf(s, effect, base.idempotencyKey));
        continue;
      }
      // 0.4: the messages that follow a restriction command in its transition travel with it, and its activity
      // hands them to the outbox once the command is carried out: one activity and one workflow task fewer on
      // every restriction. Only when no earlier message is still on its way, so the outbox keeps their order.
      const messages: OutboxMessage[] = [];
      if (this.release04 && this.outbox.length === 0)
        while (isMessage(fx[i + 1])) messages.push(messageOf(s, fx[++i] as MessageEffect, this.nextKey()));
      const withMessages = messages.length ? { messages } : {};
      // What the Web UI names the activity: the command, then the messages it hands over.
      const then = messages.length ? `, then send ${messages.map(messageName).join(', ')}` : '';
      try {
        switch (effect.kind) {
          case 'APPLY_RESTRICTION':
            await this.restrictionEffect(
              'applyRestriction',
              `apply ${effect.tier}${effect.lockout ? ' (lockout)' : ''}${then}`,
              {
                ...base,
                tier: effect.tier,
                lockout: effect.lockout,
                reasonCodes: s.reasons.map((r) => r.code),
                record: this.restrictionRecord(),
                ...withMessages,
              },
            );
            recordEffect(this.state!, Date.now(), {
              type: 'RESTRICTION_APPLIED',
              tier: effect.tier,
              lockout: effect.lockout,
            });
            break;
          case 'LIFT_RESTRICTION':
            await this.restrictionEffect('liftRestriction', `lift the restriction${then}`, {
              ...base,
              record: this.restrictionRecord(),
              ...withMessages,
            });
            recordEffect(this.state!, Date.now(), { type: 'RESTRICTION_LIFTED' });
            break;
          case 'CLOSE_ACCOUNT':
            await this.restrictionEffect('closeAccount', `close the account${then}`, {
              ...base,
              record: this.restrictionRecord(),
              ...withMessages,
            });
            recordEffect(this.state!, Date.now(), { type: 'ACCOUNT_CLOSED' });
            break;
        }
      } catch (err) {
        // A gateway that refuses for good: keep the case going and leave the failure in its timeline. The
        // messages still go, through the outbox (the activity hands them over only after the command).
        if (!(err instanceof ActivityFailure)) throw err;
        log.error('effect failed', { effect: effect.kind, caseId: s.caseId, error: err.cause?.message });
        recordEffect(this.state!, Date.now(), { type: 'EFFECT_FAILED', effect: effect.kind });
        this.outbox.push(...messages);
      }
    }
  }

  /**
   * Hands queued messages to the database outbox, whose dispatcher delivers them: a receiver that is down
   * never holds the case (or the account's next case) up. Runs for as long as the workflow runs.
   */
  async drainOutbox(): Promise<never> {
    for (;;) {
      await condition(() => this.outbox.length > 0);
      if (this.release02) {
        const batch = this.outbox.slice();
        await records.enqueueMessages.executeWithOptions(
          { ...RECORD_OPTIONS, summary: `send ${batch.map(messageName).join(', ')}` },
          [batch, this.restrictionRecord()],
        );
        // No version bump: the timer plan does not depend on the outbox, and re-planning would only add timer
        // cancellations to the history. Waits on `idle` see the change on their own.
        this.outbox.splice(0, batch.length);
        continue;
      }
      // Before 0.2: the workflow sent each message itself (kept for cases recorded by that release).
      const message = this.outbox[0]!;
      try {
        if (message.kind === 'NOTIFY_USER') {
          const deliveries = await effects.notifyUser(message.notice);
          for (const d of deliveries)
            recordEffect(this.state!, Date.now(), {
              type: 'NOTIFIED',
              template: message.notice.template,
              channel: d.channel,
            });
        } else {
          const d = await effects.notifyBackend(message.event);
          recordEffect(this.state!, Date.now(), {
            type: 'WEBHOOK_SENT',
            event: message.event.type,
            channel: d.channel,
          });
        }
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        log.error('message failed', {
          kind: message.kind,
          caseId: this.state?.caseId,
          error: err.cause?.message,
        });
      }
      this.outbox.shift();
      this.version += 1;
    }
  }

  /**
   * 0.4: writes the first answers the case stops remembering to Cordon's database, where the API and later
   * cases look; until then the case still answers them itself. Runs for as long as the workflow runs.
   */
  async handOverEvents(): Promise<never> {
    for (;;) {
      await condition(() => this.seenEvents.handingOver);
      const batch = this.seenEvents.leavingBatch();
      await records.recordEvents.executeWithOptions(
        { ...RECORD_OPTIONS, summary: `hand over ${batch.length} event IDs` },
        [batch],
      );
      this.seenEvents.handedOver(batch, Date.now());
    }
  }

  carried(): CarriedState {
    return {
      state: this.state!,
      seenEvents: this.seenEvents.entries(),
      ...(this.seenEvents.handedOverAt !== undefined ? { handedOverAt: this.seenEvents.handedOverAt } : {}),
      seenRequests: [...this.seenRequests],
      effectSeq: this.effectSeq,
      outbox: this.outbox,
    };
  }

  /** Leaves the ended case readable in Cordon's database, with the answers a late retry must get. */
  async archive(): Promise<void> {
    const view = this.view();
    if (!view) return;
    await records.archiveCase({
      record: this.restrictionRecord(),
      view,
      requests: [...this.seenRequests].map(([key, fingerprint]) => ({ key, fingerprint })),
      events: this.seenEvents.answers(),
    });
  }

  /** Keeps the Web UI's custom search attributes current; upserts only when something changed. */
  syncSearchAttributes(): void {
    const s = this.state;
    if (!s) return;
    const pairs: SearchAttributeUpdatePair[] = [
      { key: SA.caseId, value: s.caseId },
      { key: SA.accountId, value: s.accountId },
      { key: SA.status, value: s.status },
      { key: SA.tier, value: s.tier },
      { key: SA.reasonCodes, value: s.reasons.map((r) => r.code) },
      { key: SA.reviewDueAt, value: s.deadlines.reviewDueAt ? new Date(s.deadlines.reviewDueAt) : null },
      { key: SA.assignee, value: s.assignee },
    ];
    const fingerprint = JSON.stringify(pairs.map((p) => p.value));
    if (fingerprint === this.lastSearchAttributes) return;
    this.lastSearchAttributes = fingerprint;
    upsertSearchAttributes(pairs);
    setCurrentDetails(currentDetailsOf(s));
  }
}

/**
 * A staff member's case opening repeats only with the same body: its first answer keeps the body's fingerprint
 * (answers recorded before 0.4 have none and cannot be told apart: they stand).
 */
function assertSameRequest(first: RiskEventResult, u: RiskEventUpdate): void {
  if (u.fingerprint === undefined || first.requestFingerprint === undefined) return;
  if (first.requestFingerprint !== u.fingerprint)
    throw ApplicationFailure.create({
      type: 'IDEMPOTENCY_KEY_REUSED',
      message: 'this requestId was already used for a different request',
    });
}

/** Timeline entries of restriction commands carried out (or refused for good) by the gateway. */
const RESTRICTION_ENTRIES: ReadonlySet<string> = new Set([
  'RESTRICTION_APPLIED',
  'RESTRICTION_LIFTED',
  'ACCOUNT_CLOSED',
  'EFFECT_FAILED',
]);

/** What the Web UI shows as the case's current details (Temporal markdown; codes and IDs, no personal data). */
function currentDetailsOf(s: CaseState): string {
  const next = nextTimer(s);
  return [
    `**${s.status}** · tier ${s.tier}${s.outcome ? ` · outcome ${s.outcome}` : ''}`,
    `reasons: ${s.reasons.map((r) => r.code).join(', ') || 'none'}`,
    `assignee: ${s.assignee ?? 'none'}${s.slaBreached ? ' · **review SLA breached**' : ''}`,
    next ? `next: ${next.kind} at ${new Date(next.at).toISOString()}` : 'next: nothing scheduled',
  ].join('\n\n');
}

export async function caseWorkflow(input: CaseWorkflowInput): Promise<CaseResult> {
  // Decided once per run: a run begun by an older release keeps its path until it continues as new.
  const run = new CaseRun(
    input.accountId,
    patched(PATCHES.release02),
    patched(PATCHES.release03),
    patched(PATCHES.release04),
    input.carried,
    input.firstOfAccount === true,
  );
  const historyLimit = input.historyLimit ?? DEFAULT_HISTORY_LIMIT;

  // Every handler is registered before the first await, so updates that came with the start are seen.
  setHandler(riskEventUpdate, (u) => run.exclusive(() => run.onRiskEvent(u)), {
    validator: (u: RiskEventUpdate) => run.validateRiskEvent(u),
  });
  // Human actions: a validator refuses what the state does not allow; the handler applies it once per request.
  const action = <U extends CaseAction>(
    def: UpdateDefinition<CaseView, [U]>,
    toInput: (u: U) => [RequestIdentity | undefined, CaseInput],
  ) =>
    setHandler(def, (u) => run.exclusive(() => run.onAction(...toInput(u))), {
      validator: (u: U) => run.validate(u.caseId, ...toInput(u)),
    });
  // The identity of each request is computed as the API computes it (core/actions).
  action(verificationUpdate, (u) => [identityOf('verification', u), verificationInput(u)]);
  action(appealUpdate, (u) => [identityOf('appeal', u), appealInput(u)]);
  action(claimUpdate, (u) => [undefined, { kind: 'CLAIM', reviewer: u.reviewer, senior: u.senior }]);
  action(releaseUpdate, (u) => [undefined, { kind: 'RELEASE', reviewer: u.reviewer, senior: u.senior }]);
  action(decisionUpdate, (u) => [identityOf('decision', u), decisionInput(u)]);
  action(approvalUpdate, (u) => [identityOf('approval', u), approvalInput(u)]);
  action(infoUpdate, (u) => [identityOf('info', u), infoInput(u)]);
  action(breakGlassUpdate, (u) => [identityOf('breakGlass', u), breakGlassInput(u)]);
  action(retractUpdate, (u) => [identityOf('retract', u), retractInput(u)]);
  setHandler(caseViewQuery, () => run.view());
  setHandler(caseStatsQuery, () => run.stats());

  void run.drainOutbox();
  if (run.release04) void run.handOverEvents();
  run.syncSearchAttributes();

  // A fresh run waits for the event it was started with; one that opened nothing ends at once.
  if (!input.carried) {
    await condition(() => run.state !== null || (run.handledAnyEvent && run.idle), '1 minute');
  }

  while (run.state !== null && run.state.outcome === null) {
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > historyLimit) {
      run.continuing = true;
      await condition(() => run.idle && allHandlersFinished());
      await continueAsNew<typeof caseWorkflow>({
        accountId: input.accountId,
        historyLimit,
        carried: run.carried(),
        ...(input.firstOfAccount ? { firstOfAccount: true } : {}),
      });
    }
    const due = nextTimer(run.state);
    const seen = run.version;
    if (due === null) {
      await condition(() => run.version !== seen);
      continue;
    }
    // A named timer: the Web UI shows what the case waits for.
    const changed = await condition(() => run.version !== seen, Math.max(due.at - Date.now(), 1), {
      summary: `${due.kind} at ${new Date(due.at).toISOString()}`,
    });
    if (!changed) await run.exclusive(() => run.fireTimer(due.kind, due.at));
  }

  await condition(() => run.idle && allHandlersFinished());
  if (run.release02) await run.archive();
  return {
    caseId: run.state?.caseId ?? null,
    accountId: input.accountId,
    outcome: run.state?.outcome ?? 'NO_ACTION',
    tier: run.state?.tier ?? 'NONE',
  };
}
