// The activities of a reviewed bulk action (workflows/bulk-action.ts): one step per case of the dry run's list.
// A step reads the bulk action and the case's row in Cordon's database, reads the case's view, and either skips
// it with a reason (it ended, its evidence changed since the dry run, a RESCORE still restricts it) or lifts it
// through the case's own break-glass LIFT, by the approver, under the request ID `bulk:<bulkId>:<caseId>`. The
// row is settled once; a retried step finds the request answered (Temporal's update ID on the same run, the
// request store, the archive of the ended case) and acts on nothing twice.
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { identityOf } from '../core/actions';
import { caseWorkflowId, parseCaseId, type BreakGlassUpdate, type CaseView } from '../core/contracts';
import type { RiskEvent } from '../core/events';
import { updateIdOf, type RequestIdentity } from '../core/idempotency';
import type { LoadedPolicy } from '../core/policy';
import { scoreEvent } from '../core/scoring';
import type { BulkAction, BulkCase } from '../infra/stores/bulk-actions';
import { breakGlassUpdate, caseViewQuery } from '../workflows/definitions';
import type { ActivityDeps } from './index';

/** What one case came to, and why when it was not acted on. */
interface CaseOutcome {
  state: 'DONE' | 'SKIPPED';
  reason: string | null;
}
const done: CaseOutcome = { state: 'DONE', reason: null };
const skipped = (reason: string): CaseOutcome => ({ state: 'SKIPPED', reason });

/** The break-glass LIFT a bulk action sends to one case: the same fields on every attempt. */
export function bulkLiftOf(bulk: BulkAction, caseId: string, evidenceVersion?: number): BreakGlassUpdate {
  const by = bulk.approvedBy ?? bulk.requestedBy;
  return {
    caseId,
    by,
    principal: by,
    action: 'LIFT',
    rationale: `bulk action ${bulk.bulkId} (${bulk.action}), requested by ${bulk.requestedBy}, approved by ${by}`,
    // The user reads the outcome code in their own language (core/outcomes.ts) and the operators' words.
    explanation: {
      code: (bulk.explanation.code ?? 'RESTRICTED_IN_ERROR') as NonNullable<
        BreakGlassUpdate['explanation']
      >['code'],
      text: bulk.explanation.text,
    },
    requestId: `bulk:${bulk.bulkId}:${caseId}`,
    // Cases under rules 5 refuse it if evidence came after the dry run (the read below cannot see a race).
    ...(evidenceVersion !== undefined ? { evidenceVersion } : {}),
  };
}

export function createBulkActivities(deps: ActivityDeps) {
  const bulks = () => deps.store.bulkActions;

  /** The case's own word that this request was answered (ended: its archive; open: the request store). */
  async function answered(caseId: string, identity: RequestIdentity): Promise<'ANSWERED' | 'ENDED' | null> {
    const archived = await deps.store.archive.find(caseId);
    if (archived) return archived.requests.some((r) => r.key === identity.key) ? 'ANSWERED' : 'ENDED';
    return (await deps.store.requests.find(identity.key)) ? 'ANSWERED' : null;
  }

  /**
   * RESCORE: whether the case's events, scored again under the running policy from what Cordon kept of each,
   * still restrict. Null: none does (lift it). A reason: keep it (still restricted, or what to score is missing).
   */
  async function stillRestricts(view: CaseView, policy: LoadedPolicy): Promise<string | null> {
    const fromTimeline = view.timeline.flatMap((e) =>
      e.type === 'RISK_EVENT' && typeof e.eventId === 'string' ? [e.eventId] : [],
    );
    const retracted = new Set(view.retractedEvents);
    const ids = [...new Set([...fromTimeline, ...(await bulks().eventIdsOfCase(view.caseId))])].filter(
      (id) => !retracted.has(id),
    );
    if (ids.length === 0) return 'EVIDENCE_MISSING';
    const kept = await deps.store.eventEvidence.find(view.accountId, ids);
    const readsFeatures = Object.keys(policy.policy.features ?? {}).length > 0;
    for (const id of ids) {
      const evidence = kept.get(id);
      if (!evidence) return 'EVIDENCE_MISSING';
      // Features as the decision recorded them: a window's count cannot be taken again later.
      const first = await deps.store.events.find(view.accountId, id, Number.MAX_SAFE_INTEGER);
      const features = first?.decision.features;
      if (readsFeatures && !features) return 'EVIDENCE_MISSING';
      const event = {
        eventId: id,
        accountId: view.accountId,
        type: evidence.eventType,
        occurredAt: evidence.occurredAt,
        attributes: evidence.attributes,
      } as unknown as RiskEvent;
      const sources = evidence.sources.map((s) => ({
        source: s.name,
        available: s.available,
        signals: s.available ? s.signals : {},
      }));
      const decision = scoreEvent(policy, event, sources, features);
      if (decision.tier !== 'NONE') return 'STILL_RESTRICTED';
    }
    return null;
  }

  async function actOn(client: Client, bulk: BulkAction, row: BulkCase): Promise<CaseOutcome> {
    const parsed = parseCaseId(row.caseId);
    if (!parsed) return skipped('CASE_NOT_FOUND');
    const update = bulkLiftOf(bulk, row.caseId, row.evidenceVersion);
    const identity = identityOf('breakGlass', update)!;
    const before = await answered(row.caseId, identity);
    if (before === 'ANSWERED') return done;
    if (before === 'ENDED') return skipped('CASE_ENDED');
    const handle = client.workflow.getHandle(caseWorkflowId(parsed.accountId));
    let view: CaseView | null = null;
    try {
      view = await handle.query(caseViewQuery);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    if (!view || view.caseId !== row.caseId || view.outcome !== null) {
      // Ended: by this very request (an attempt lost before it settled the row) or by something else.
      if ((await answered(row.caseId, identity)) === 'ANSWERED') return done;
      const ours =
        view?.caseId === row.caseId &&
        view.timeline.some((e) => e.type === 'BREAK_GLASS' && String(e.rationale).includes(bulk.bulkId));
      return ours ? done : skipped('CASE_ENDED');
    }
    // The read skips at once; the LIFT itself names the version, so a case under rules 5 refuses evidence that
    // arrives in between (EVIDENCE_CHANGED, skipped below). Older cases rely on this read alone.
    if (view.evidenceVersion !== row.evidenceVersion) return skipped('EVIDENCE_CHANGED');
    if (bulk.action === 'RESCORE') {
      const reason = await stillRestricts(view, deps.scorer.policy);
      if (reason) return skipped(reason);
    }
    let lifted: CaseView;
    try {
      lifted = await handle.executeUpdate(breakGlassUpdate, {
        args: [update],
        // The same request on the same run is answered by Temporal with its first outcome.
        updateId: updateIdOf(identity.key + identity.fingerprint),
      });
    } catch (err) {
      if (
        err instanceof WorkflowUpdateFailedError &&
        err.cause instanceof ApplicationFailure &&
        err.cause.type
      )
        return err.cause.type === 'CASE_NOT_FOUND' || err.cause.type === 'CASE_CLOSED'
          ? (await answered(row.caseId, identity)) === 'ANSWERED'
            ? done
            : skipped('CASE_ENDED')
          : skipped(err.cause.type);
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      return (await answered(row.caseId, identity)) === 'ANSWERED' ? done : skipped('CASE_ENDED');
    }
    // As the API records a break-glass it answered: a repeat through the API finds it.
    await deps.store.requests.record(identity.key, row.caseId, identity.fingerprint, lifted);
    return done;
  }

  return {
    async bulkActOnCase(bulkId: string, seq: number) {
      const bulk = await bulks().find(bulkId);
      const row = bulk ? await bulks().caseAt(bulkId, seq) : null;
      if (!bulk || !row) return 'END' as const;
      if (row.state !== 'PENDING') return row.state; // settled by an earlier attempt
      if (bulk.cancelRequested) return 'CANCELLED' as const;
      // The policy the dry run captured must still be the running one (a reload meanwhile stops the action).
      if (bulk.action === 'RESCORE' && deps.scorer.policy.hash !== bulk.policyHash)
        return 'POLICY_CHANGED' as const;
      const outcome = await actOn(Context.current().client, bulk, row);
      await bulks().settle(bulkId, seq, outcome.state, outcome.reason);
      return outcome.state;
    },
    async bulkCaseFailed(bulkId: string, seq: number, reason: string) {
      await bulks().settle(bulkId, seq, 'FAILED', reason.slice(0, 200));
    },
    async bulkFinish(bulkId: string, status: 'DONE' | 'CANCELLED' | 'POLICY_CHANGED') {
      await bulks().finish(bulkId, status);
    },
  };
}
