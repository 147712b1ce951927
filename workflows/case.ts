// One case workflow per account. The pure state machine (core/case-machine) decides; the workflow only wires it
// to Temporal: handlers, timers, activities, search attributes and continue-as-new. The running case is CaseRun
// (case-run.ts), its effects CaseEffects (case-effects.ts), its patch markers patches.ts.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import {
  appealInput,
  approvalInput,
  breakGlassInput,
  decisionInput,
  identityOf,
  infoInput,
  retractInput,
  guardTrippedInput,
  verificationInput,
} from '../core/actions';
import { nextTimer } from '../core/case-timers';
import type { CaseInput } from '../core/case-types';
import type {
  CaseAction,
  CaseResult,
  CaseView,
  CaseWorkflowInput,
  RiskEventUpdate,
  SecondReviewUpdate,
} from '../core/contracts';
import type { RequestIdentity } from '../core/idempotency';
import { CaseRun } from './case-run';
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
  retractUpdate,
  guardTrippedUpdate,
  riskEventUpdate,
  secondReviewUpdate,
  verificationUpdate,
} from './definitions';
import { PATCHES } from './patches';

const DEFAULT_HISTORY_LIMIT = 5_000;

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
  // 0.6: a rule guard's trip noted in the timeline (a new update: no recorded history holds one).
  action(guardTrippedUpdate, (u) => [identityOf('guardTripped', u), guardTrippedInput(u)]);
  setHandler(secondReviewUpdate, (u) => run.exclusive(() => run.onSecondReview(u)), {
    validator: (u: SecondReviewUpdate) => run.validateSecondReview(u),
  });
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
