// Risk events into their cases, and the cases staff open by hand: scored here first, answered at once when
// nothing need happen, else sent to the account's case workflow (started if none runs).
import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/client';
import {
  CASE_WORKFLOW_TYPE,
  caseWorkflowId,
  type CaseWorkflowInput,
  type RiskEventResult,
  type RiskEventUpdate,
} from '../core/contracts';
import { STAFF_EVENT_PREFIX, withoutEntities, type RiskEvent } from '../core/events';
import { fingerprint } from '../core/idempotency';
import type { Actor, Decision } from '../core/model';
import { riskEventUpdate, SA } from '../workflows/definitions';
import {
  keyReused,
  refusalType,
  retryMomentary,
  retryWhenBusy,
  type CaseCalls,
  type CaseServiceOptions,
} from './case-calls';
import { evidenceOfEvent } from './case-evidence';
import { busyProblem, workflowTaskTrouble } from './overload';
import type { ManualCase } from './schemas';

/** How long an event waits for the account's ending case to finish before the answer is a 503. */
const CASE_ENDING_WAIT_MS = 20_000;

/** The event ID of a staff member's case opening: its own space, since backend event IDs never begin so. */
export function staffEventId(principalId: string, requestId: string): string {
  return `${STAFF_EVENT_PREFIX}${principalId}:${requestId}`;
}

export class CaseEvents {
  constructor(
    private readonly o: CaseServiceOptions,
    private readonly calls: CaseCalls,
  ) {}

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
    const first = await this.o.store.events.find(event.accountId, event.eventId, this.o.eventIdWindowMs);
    if (first) {
      if (requestFingerprint && first.requestFingerprint && first.requestFingerprint !== requestFingerprint)
        throw keyReused();
      return { ...first, duplicate: true };
    }
    // The policy this scoring uses (a reload swaps it between calls, never during one): the rules' fields.
    const scoredWith = this.o.scorer.policy;
    await this.o.features?.sighted(scoredWith, event);
    const features = this.o.features;
    // Rules whose guard tripped with capAtStepUp: read for the policy that is scoring now (a staff opening is a
    // person's judgement, never capped).
    const guarded =
      this.o.guards && event.type !== 'STAFF_REPORT' ? await this.o.guards.capped(scoredWith) : undefined;
    const {
      result: { decision, terms },
      sources,
    } = await this.o.scorer.scoreDetailed(
      event,
      features ? (policy) => features.decide(policy, event) : undefined,
      guarded,
    );
    const workflowId = caseWorkflowId(event.accountId);
    // Read before the start: an account without a record has never had a case (see withStart).
    const firstOfAccount =
      decision.tier !== 'NONE' && (await this.o.store.restrictions.of([event.accountId]))[0] === null;
    // No update ID: the workflow remembers event IDs itself (across continue-as-new) and flags repeats. The
    // entities stay here: they have been counted, and a case needs only the features' values its decision holds.
    const update: RiskEventUpdate = {
      event: withoutEntities(event),
      actor,
      scored: { decision, terms },
      checkedAt,
      ...(requestFingerprint ? { fingerprint: requestFingerprint } : {}),
    };
    const updateOptions = { args: [update] as [RiskEventUpdate] };
    let result: RiskEventResult | undefined;
    if (decision.tier !== 'NONE') {
      result = await this.calls.perAccount.run(event.accountId, () =>
        this.calls.eventCall(() =>
          retryWhenBusy(() =>
            this.withStart(workflowId, event.accountId, decision, updateOptions, firstOfAccount),
          ),
        ),
      );
    } else if ((await this.o.store.restrictions.of([event.accountId]))[0]?.open) {
      // A harmless event goes to an open case only (it counts it); for any other account, no Temporal call.
      try {
        result = await this.calls.perAccount.run(event.accountId, () =>
          this.calls.eventCall(() =>
            retryWhenBusy(() =>
              retryMomentary(
                () =>
                  this.calls.client.workflow
                    .getHandle(workflowId)
                    .executeUpdate(riskEventUpdate, updateOptions),
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
    // What the case's reviewers read the event by, kept before the answer (a retry writes nothing again).
    const evidence = evidenceOfEvent(event, result, scoredWith, sources);
    if (evidence) await this.o.store.eventEvidence.record(evidence);
    await this.o.store.events.record(result);
    // Bulk actions find open cases by the rules that restricted them (infra/stores/bulk-actions.ts).
    if (result.caseId && result.decision.tier !== 'NONE')
      await this.o.store.bulkActions.indexCase(
        result.caseId,
        result.decision.reasons.map((r) => r.ruleId),
        result.decision.policyVersion,
      );
    await this.o.guards?.afterDecision(scoredWith, result);
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
        taskQueue: this.calls.taskQueue,
        args: [{ accountId, ...(first ? { firstOfAccount: true } : {}) } satisfies CaseWorkflowInput],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: first ? 'REJECT_DUPLICATE' : 'ALLOW_DUPLICATE',
        typedSearchAttributes: [{ key: SA.accountId, value: accountId }],
        // What the Web UI shows first: which account, and why the case opened (codes only).
        staticSummary: `Cordon case · account ${accountId} · ${decision.tier} · ${decision.reasons[0]?.code ?? 'no reason'}`,
      });
      try {
        return await this.calls.client.workflow.executeUpdateWithStart(riskEventUpdate, {
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
}
