// One case workflow per account. The pure state machine (core/case-machine) decides; this file only wires
// it to Temporal: handlers, timers, activities, search attributes and continue-as-new.
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair, UpdateDefinition } from '@temporalio/common';
import type { CaseActivities } from '../core/activity-contract';
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
  caseViewQuery,
  claimUpdate,
  decisionUpdate,
  infoUpdate,
  makeCaseId,
  riskEventUpdate,
  SA,
  verificationUpdate,
  type CarriedState,
  type CaseAction,
  type CaseResult,
  type CaseView,
  type CaseWorkflowInput,
  type OutboxMessage,
  type RiskEventResult,
  type RiskEventUpdate,
} from '../core/contracts';

const DEFAULT_HISTORY_LIMIT = 5_000;
const SEEN_EVENTS_KEPT = 500;
const SEEN_REQUESTS_KEPT = 500;

// Scoring is a local activity: it runs in the worker that handles the update, saving a server round trip on
// the path the API waits for. Data-source lookups inside have their own timeouts.
const scoring = proxyLocalActivities<CaseActivities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '200ms', maximumInterval: '10s', maximumAttempts: 10 },
});
// Restrictions and messages must happen eventually: retried durably until they succeed or fail for good.
const effects = proxyActivities<CaseActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '5m' },
});

/** The running case: its state, idempotency memory, the outbox of messages, and a lock for handlers. */
class CaseRun {
  state: CaseState | null;
  seenEvents: Record<string, RiskEventResult>;
  seenRequests: string[];
  effectSeq: number;
  outbox: OutboxMessage[];
  /** Bumped on every change so the main loop re-plans its timer. */
  version = 0;
  private busy = false;
  private lastSearchAttributes = '';
  handledAnyEvent = false;

  constructor(
    readonly accountId: string,
    carried?: CarriedState,
  ) {
    this.state = carried?.state ?? null;
    this.seenEvents = carried?.seenEvents ?? {};
    this.seenRequests = carried?.seenRequests ?? [];
    this.effectSeq = carried?.effectSeq ?? 0;
    this.outbox = carried?.outbox ?? [];
  }

  get caseId(): string {
    return makeCaseId(this.accountId, workflowInfo().firstExecutionRunId);
  }

  get idle(): boolean {
    return !this.busy && this.outbox.length === 0;
  }

  /** Runs handlers one at a time: each one's transition and effects complete before the next starts. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.busy) await condition(() => !this.busy);
    this.busy = true;
    try {
      return await fn();
    } finally {
      this.busy = false;
      this.version += 1;
      this.syncSearchAttributes();
    }
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
      pendingApproval: s.pendingClose
        ? { decidedBy: s.pendingClose.by, rationale: s.pendingClose.rationale, at: s.pendingClose.at }
        : null,
      lockoutCount: s.lockoutCount,
      missingSources: s.missingSources,
      policyVersion: s.terms.policyVersion,
      policyHash: s.terms.policyHash,
      openedAt: new Date(s.openedAt).toISOString(),
      outcome: s.outcome,
      locale: s.locale,
      timeline: s.timeline,
    };
  }

  async onRiskEvent({ event, actor }: RiskEventUpdate): Promise<RiskEventResult> {
    const seen = this.seenEvents[event.eventId];
    if (seen) return { ...seen, duplicate: true };
    this.handledAnyEvent = true;
    const { decision, terms } = await scoring.scoreRiskEvent(event);
    const now = Date.now();
    let fx: Effect[] = [];
    if (this.state === null) {
      if (decision.tier !== 'NONE') {
        const opened = openCase({
          caseId: this.caseId,
          accountId: this.accountId,
          locale: event.locale ?? 'en',
          terms,
          at: now,
          eventId: event.eventId,
          eventType: event.type,
          decision,
          actor,
        });
        this.state = opened.state;
        fx = opened.effects;
      }
    } else {
      fx = this.apply(
        { kind: 'RISK_EVENT', eventId: event.eventId, eventType: event.type, decision, actor },
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
    };
    this.remember(this.seenEvents, event.eventId, result, SEEN_EVENTS_KEPT);
    return result;
  }

  /** A human action: applied once per request ID; a repeat returns the current view and changes nothing. */
  async onAction(requestId: string | undefined, input: CaseInput): Promise<CaseView> {
    if (requestId === undefined || !this.seenRequests.includes(requestId)) {
      await this.carryOut(this.apply(input, Date.now()));
      if (requestId !== undefined) {
        this.seenRequests.push(requestId);
        if (this.seenRequests.length > SEEN_REQUESTS_KEPT) this.seenRequests.shift();
      }
    }
    return this.view()!;
  }

  /** The synchronous validator: refuses with the machine's typed reason, before anything is recorded. */
  validate(caseId: string, requestId: string | undefined, input: CaseInput): void {
    if (!this.state || this.state.caseId !== caseId)
      throw ApplicationFailure.create({ type: 'CASE_NOT_FOUND', message: "not this account's current case" });
    if (requestId !== undefined && this.seenRequests.includes(requestId)) return;
    const result = transition(this.state, input, Date.now());
    if (!result.ok)
      throw ApplicationFailure.create({ type: result.refusal.code, message: result.refusal.message });
  }

  validateRiskEvent({ event }: RiskEventUpdate): void {
    if (event.accountId !== this.accountId)
      throw ApplicationFailure.create({ type: 'WRONG_ACCOUNT', message: 'event is for another account' });
    if (this.seenEvents[event.eventId]) return;
    if (this.state?.outcome)
      throw ApplicationFailure.create({ type: 'CASE_CLOSED', message: 'the case is ending; retry shortly' });
  }

  async fireTimer(kind: TimerKind): Promise<void> {
    if (!this.state) return;
    const result = transition(this.state, { kind: 'TIMER', timer: kind }, Date.now());
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

  /** Restriction changes happen before the handler answers; messages go to the outbox, sent in order. */
  private async carryOut(fx: Effect[]): Promise<void> {
    for (const effect of fx) {
      const s = this.state!;
      const base = { caseId: s.caseId, accountId: s.accountId, idempotencyKey: this.nextKey() };
      const reasonCodes = s.reasons.map((r) => r.code);
      try {
        switch (effect.kind) {
          case 'APPLY_RESTRICTION':
            await effects.applyRestriction({
              ...base,
              tier: effect.tier,
              lockout: effect.lockout,
              reasonCodes,
            });
            recordEffect(this.state!, Date.now(), {
              type: 'RESTRICTION_APPLIED',
              tier: effect.tier,
              lockout: effect.lockout,
            });
            break;
          case 'LIFT_RESTRICTION':
            await effects.liftRestriction(base);
            recordEffect(this.state!, Date.now(), { type: 'RESTRICTION_LIFTED' });
            break;
          case 'CLOSE_ACCOUNT':
            await effects.closeAccount(base);
            recordEffect(this.state!, Date.now(), { type: 'ACCOUNT_CLOSED' });
            break;
          case 'NOTIFY_USER':
            this.outbox.push({
              kind: 'NOTIFY_USER',
              notice: {
                ...base,
                locale: s.locale,
                template: effect.template,
                tier: s.tier,
                status: s.status,
                reasonCodes,
                deadline: userDeadlineOf(s),
              },
            });
            break;
          case 'NOTIFY_BACKEND':
            this.outbox.push({
              kind: 'NOTIFY_BACKEND',
              event: {
                ...base,
                type: effect.event === 'OUTCOME' ? 'case.outcome' : 'restriction.changed',
                status: s.status,
                tier: s.tier,
                restricted: isRestricted(s),
                reasonCodes,
                outcome: s.outcome,
                at: new Date().toISOString(),
              },
            });
            break;
        }
      } catch (err) {
        // A gateway that refuses for good: keep the case going and leave the failure in its timeline.
        if (!(err instanceof ActivityFailure)) throw err;
        log.error('effect failed', { effect: effect.kind, caseId: s.caseId, error: err.cause?.message });
        recordEffect(this.state!, Date.now(), { type: 'EFFECT_FAILED', effect: effect.kind });
      }
    }
  }

  /** Sends queued messages one by one for as long as the workflow runs. */
  async drainOutbox(): Promise<never> {
    for (;;) {
      await condition(() => this.outbox.length > 0);
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

  carried(): CarriedState {
    return {
      state: this.state!,
      seenEvents: this.seenEvents,
      seenRequests: this.seenRequests,
      effectSeq: this.effectSeq,
      outbox: this.outbox,
    };
  }

  private remember<T>(map: Record<string, T>, key: string, value: T, keep: number): void {
    map[key] = value;
    const keys = Object.keys(map);
    if (keys.length > keep) delete map[keys[0]!];
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
  }
}

function userDeadlineOf(s: CaseState): string | undefined {
  const d = s.deadlines;
  const at = d.infoDueAt ?? d.lockoutLiftsAt ?? d.userDeadlineAt;
  return at === undefined ? undefined : new Date(at).toISOString();
}

export async function caseWorkflow(input: CaseWorkflowInput): Promise<CaseResult> {
  const run = new CaseRun(input.accountId, input.carried);
  const historyLimit = input.historyLimit ?? DEFAULT_HISTORY_LIMIT;

  // Every handler is registered before the first await, so updates that came with the start are seen.
  setHandler(riskEventUpdate, (u) => run.exclusive(() => run.onRiskEvent(u)), {
    validator: (u: RiskEventUpdate) => run.validateRiskEvent(u),
  });
  // Human actions: a validator refuses what the state does not allow; the handler applies it once per request.
  const action = <U extends CaseAction>(
    def: UpdateDefinition<CaseView, [U]>,
    toInput: (u: U) => [string | undefined, CaseInput],
  ) =>
    setHandler(def, (u) => run.exclusive(() => run.onAction(...toInput(u))), {
      validator: (u: U) => run.validate(u.caseId, ...toInput(u)),
    });
  action(verificationUpdate, (u) => [
    u.requestId,
    { kind: 'VERIFICATION', method: u.method, passed: u.passed, actor: u.actor },
  ]);
  action(appealUpdate, (u) => [
    u.requestId,
    { kind: 'APPEAL', statement: u.statement, evidence: u.evidence, actor: u.actor },
  ]);
  action(claimUpdate, (u) => [undefined, { kind: 'CLAIM', reviewer: u.reviewer }]);
  action(decisionUpdate, (u) => [
    u.requestId,
    { kind: 'DECISION', reviewer: u.reviewer, decision: u.decision, rationale: u.rationale },
  ]);
  action(approvalUpdate, (u) => [
    u.requestId,
    { kind: 'APPROVAL', reviewer: u.reviewer, approve: u.approve, rationale: u.rationale },
  ]);
  action(infoUpdate, (u) => [
    u.requestId,
    { kind: 'INFO', answer: u.answer, evidence: u.evidence, actor: u.actor },
  ]);
  setHandler(caseViewQuery, () => run.view());

  void run.drainOutbox();
  run.syncSearchAttributes();

  // A fresh run waits for the event it was started with; one that opened nothing ends at once.
  if (!input.carried) {
    await condition(() => run.state !== null || (run.handledAnyEvent && run.idle), '1 minute');
  }

  while (run.state !== null && run.state.outcome === null) {
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > historyLimit) {
      await condition(() => run.idle && allHandlersFinished());
      await continueAsNew<typeof caseWorkflow>({
        accountId: input.accountId,
        historyLimit,
        carried: run.carried(),
      });
    }
    const due = nextTimer(run.state);
    const seen = run.version;
    if (due === null) {
      await condition(() => run.version !== seen);
      continue;
    }
    const changed = await condition(() => run.version !== seen, Math.max(due.at - Date.now(), 1));
    if (!changed) await run.exclusive(() => run.fireTimer(due.kind));
  }

  await condition(() => run.idle && allHandlersFinished());
  return {
    caseId: run.state?.caseId ?? null,
    accountId: input.accountId,
    outcome: run.state?.outcome ?? 'NO_ACTION',
    tier: run.state?.tier ?? 'NONE',
  };
}
