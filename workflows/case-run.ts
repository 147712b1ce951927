// The running case: its state, its memory of answered events and requests, and the handlers that apply the pure
// case machine (core/case-machine.ts) one input at a time. What the transitions call for is carried out by
// CaseEffects (case-effects.ts); the workflow function (case.ts) wires this class to Temporal.
import {
  ApplicationFailure,
  condition,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { openCase, transition } from '../core/case-machine';
import { openSecondReview } from '../core/second-review';
import type { CaseInput, Effect, TimerKind } from '../core/case-types';
import { caseViewOf, currentDetailsOf } from '../core/case-view';
import {
  makeCaseId,
  type CarriedState,
  type CaseStats,
  type CaseView,
  type RiskEventResult,
  type RiskEventUpdate,
  type SecondReviewUpdate,
} from '../core/contracts';
import type { RequestIdentity } from '../core/idempotency';
import { RECORD_OPTIONS, records, scoring } from './activity-proxies';
import { CaseEffects } from './case-effects';
import { SA } from './definitions';
import { EventMemory } from './event-memory';
import { rulesVersionOfCase } from './patches';

// Recent IDs only: Cordon's database remembers event IDs and requests for their whole window; these cover a
// retry that reaches the workflow before that record was written. Runs begun before 0.2 keep their 500.
const SEEN_KEPT = 128;
const SEEN_KEPT_BEFORE_0_2 = 500;

/**
 * How far apart the API's clock and the workflow's may be. An event the API looked up less than this after
 * the case began may have been answered by the account's previous case, whose archive the look missed.
 */
const CLOCK_SKEW_MS = 60_000;

/** The running case: its state, idempotency memory and handlers, one at a time (its effects: CaseEffects). */
export class CaseRun extends CaseEffects {
  readonly seenEvents: EventMemory;
  /** Request key → fingerprint of the body that was applied. */
  readonly seenRequests: Map<string, string>;
  private busy = false;
  private lastSearchAttributes = '';
  handledAnyEvent = false;

  get seenKept(): number {
    return this.release02 ? SEEN_KEPT : SEEN_KEPT_BEFORE_0_2;
  }

  /** The time the case's first run began (continue-as-new keeps it): earlier cases had ended by then. */
  private readonly caseBegan = workflowInfo().startTime.getTime();

  constructor(
    readonly accountId: string,
    release02: boolean,
    release03: boolean,
    release04: boolean,
    carried?: CarriedState,
    /** The account's first case ever: no earlier case can have answered an event (CaseWorkflowInput). */
    private readonly firstOfAccount = false,
  ) {
    super(release02, release03, release04, carried);
    this.seenEvents = new EventMemory(carried?.seenEvents, this.seenKept, release04, carried?.handedOverAt);
    const requests = carried?.seenRequests ?? [];
    // Bare request IDs from before 0.2 match no key of today's form; they are kept only as history.
    this.seenRequests = new Map(requests.map((r): [string, string] => (typeof r === 'string' ? [r, ''] : r)));
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
      if (this.release03 && this.state && !this.recordIsCurrent())
        await records.recordRestriction.executeWithOptions(
          { ...RECORD_OPTIONS, summary: `record ${this.state.status} · ${this.state.tier}` },
          [this.restrictionRecord()],
        );
      this.busy = false;
      this.version += 1;
      this.syncSearchAttributes();
    }
  }

  view(): CaseView | null {
    return this.state ? caseViewOf(this.state) : null;
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
   * 0.5: opens the second review of the account's ended case. Only a run with no case yet opens one (the API
   * starts a new run for it); a repeat of the request that opened this case answers the case as it is.
   */
  async onSecondReview(u: SecondReviewUpdate): Promise<CaseView> {
    if (this.state !== null) return this.view()!;
    this.handledAnyEvent = true;
    const { actor, ...o } = u;
    const opened = openSecondReview({
      ...o,
      caseId: this.caseId,
      terms: { ...u.terms, rulesVersion: rulesVersionOfCase(u.terms.rulesVersion) },
      at: Date.now(),
      actor,
    });
    this.state = opened.state;
    await this.carryOut(opened.effects);
    return this.view()!;
  }

  validateSecondReview(u: SecondReviewUpdate): void {
    if (u.accountId !== this.accountId)
      throw ApplicationFailure.create({
        type: 'WRONG_ACCOUNT',
        message: 'the request is for another account',
      });
    this.refuseWhileContinuing();
    if (this.state === null) return;
    if (this.state.secondReview?.requestKey === u.requestKey) return;
    // The first case itself, still finishing (archiving): the API retries shortly.
    if (this.state.caseId === u.previousCaseId)
      throw ApplicationFailure.create({
        type: 'CASE_CONTINUING',
        message: 'the case is ending; retry shortly',
      });
    throw ApplicationFailure.create({
      type: 'CASE_OPEN',
      message: 'the account has an open case; a second review can be requested when it has ended',
    });
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
