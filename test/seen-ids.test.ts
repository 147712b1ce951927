// Issue 15, defect 1: an event ID seen by any case of the account, open, finishing or ended, gets its first
// answer for the whole window, however the timing falls. Each test sends what an API whose lookup in Cordon's
// database came too early would send (the update with its scoring and the time of that lookup), straight to the
// case, so the race the chaos run found under load happens every time. Real worker, real dev server.
import assert from 'node:assert/strict';
import { WithStartWorkflowOperation } from '@temporalio/client';
import {
  CASE_WORKFLOW_TYPE,
  caseWorkflowId,
  type RiskEventResult,
  type RiskEventUpdate,
} from '../core/contracts';
import { breakGlassUpdate, caseStatsQuery, riskEventUpdate } from '../workflows/definitions';
import type { RiskEvent } from '../core/events';
import type { Actor } from '../core/model';
import { riskEvent, uniqueAccount } from './helpers/events';
import { eventually, recordHistory, withHarness, type Harness } from './helpers/harness';
import { requires } from './helpers/requirements';

const backend: Actor = { kind: 'backend', id: 'backend' };
const freeze = (account: string) => riskEvent(account, 'IDENTITY_CHECK', { matched: false, field: 'name' });
const harmless = (account: string) =>
  riskEvent(account, 'LOGIN', { newDevice: false, geoDistanceKm: 3, minutesSinceLastLogin: 600 });

/** The update an API sends after its lookup at `checkedAt` found no first answer. */
async function updateOf(h: Harness, event: RiskEvent, checkedAt: number): Promise<RiskEventUpdate> {
  const { decision, terms } = await h.deps.scorer.score(event);
  return { event, actor: backend, scored: { decision, terms }, checkedAt };
}

/** As the API sends a restricting event: update-with-start on the account's workflow. */
async function sendWithStart(h: Harness, update: RiskEventUpdate): Promise<RiskEventResult> {
  const accountId = update.event.accountId;
  return h.client.workflow.executeUpdateWithStart(riskEventUpdate, {
    args: [update],
    startWorkflowOperation: new WithStartWorkflowOperation(CASE_WORKFLOW_TYPE, {
      workflowId: caseWorkflowId(accountId),
      taskQueue: h.taskQueue,
      args: [{ accountId }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    }),
  });
}

/** A senior lifts the case at once: it ends RESTORED, is archived and its workflow completes. */
async function endCase(h: Harness, account: string, caseId: string): Promise<void> {
  await h.act(account, breakGlassUpdate, {
    by: 'senior-1',
    action: 'LIFT',
    rationale: 'ended for the test',
    requestId: `end-${caseId}`,
    principal: 'senior-1',
  });
  await h.handle(account).result();
  assert.ok(await h.store.archive.find(caseId), 'the ended case is archived');
}

/** How many local activities the run's history records (a lookup in Cordon's database is one). */
async function localActivities(h: Harness, account: string, runId?: string): Promise<number> {
  const history = await h.client.workflow.getHandle(caseWorkflowId(account), runId).fetchHistory();
  return (history.events ?? []).filter(
    (e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
  ).length;
}

describe('event IDs across the cases of an account (issue 15, defect 1)', function () {
  requires('temporal');
  this.timeout(120_000);

  it('a late retry of an event the ended case answered gets its first answer and opens no second case (histories-)', () =>
    withHarness(async (h) => {
      const account = uniqueAccount();
      const event = freeze(account);
      const lookedUpAt = Date.now();
      const first = await h.cases.reportEvent(event, backend);
      assert.equal(first.status, 'AWAITING_USER');
      await endCase(h, account, first.caseId!);
      assert.equal(h.gateway.accounts.get(account), undefined, 'the restriction is lifted');

      // The retry's API looked in the database before the case's archive was written; its update now starts
      // a fresh run, since the case's workflow has completed.
      const retry = await sendWithStart(h, await updateOf(h, event, lookedUpAt));
      assert.equal(retry.duplicate, true, 'the retry is recognised');
      assert.equal(retry.caseId, first.caseId, 'with the first answer');
      assert.equal(h.gateway.accounts.get(account), undefined, 'the account is not locked again');
      const run = await h.handle(account).result();
      assert.equal(run.outcome, 'NO_ACTION', 'the fresh run opened nothing and ended');
      assert.equal(await localActivities(h, account), 1, 'the fresh run looked the event up');
      await recordHistory('late-retry-fresh-run', h.handle(account));
    }));

  it("the account's first case looks nothing up; a start that finds an earlier run after all is made the usual way", () =>
    withHarness(async (h) => {
      const account = uniqueAccount();
      const first = await h.cases.reportEvent(freeze(account), backend);
      assert.equal(first.status, 'AWAITING_USER');
      const firstRun = (await h.handle(account).describe()).runId;
      assert.equal(await localActivities(h, account, firstRun), 0, 'no earlier case to ask about');
      await endCase(h, account, first.caseId!);

      // The API finds no restriction record (as if it read before the earlier case wrote one): it starts as
      // the account's first case, the server refuses since an earlier run exists, and the start is made again.
      await h.store.db.run('DELETE FROM account_restrictions WHERE account_id = ?', [account]);
      const second = await h.cases.reportEvent(freeze(account), backend);
      assert.equal(second.status, 'AWAITING_USER');
      assert.notEqual(second.caseId, first.caseId);
      assert.equal(await localActivities(h, account), 1, 'this case looked up its first event');
    }));

  it("an open case recognises an event its account's previous case answered, when the API looked before it began", () =>
    withHarness(async (h) => {
      const account = uniqueAccount();
      const event = freeze(account);
      const lookedUpAt = Date.now();
      const first = await h.cases.reportEvent(event, backend);
      await endCase(h, account, first.caseId!);
      const second = await h.cases.reportEvent(freeze(account), backend);
      assert.notEqual(second.caseId, first.caseId, 'a new event opened a new case');
      const before = (await h.view(account)).timeline.filter((e) => e.type === 'RISK_EVENT').length;

      const retry = await sendWithStart(h, await updateOf(h, event, lookedUpAt));
      assert.equal(retry.duplicate, true);
      assert.equal(retry.caseId, first.caseId, "the previous case's answer");
      const after = (await h.view(account)).timeline.filter((e) => e.type === 'RISK_EVENT').length;
      assert.equal(after, before, 'the open case did not record the event again');
    }));

  it('hands the IDs it stops remembering to the database, and still recognises them (histories-)', () =>
    withHarness(async (h) => {
      const account = uniqueAccount();
      await h.cases.reportEvent(freeze(account), backend);
      const handle = h.client.workflow.getHandle(caseWorkflowId(account));
      // Straight to the case, as an API that died before writing its own record of each answer.
      const events = Array.from({ length: 140 }, () => harmless(account));
      const lookedUpAt = Date.now();
      for (const e of events)
        await handle.executeUpdate(riskEventUpdate, { args: [await updateOf(h, e, Date.now())] });
      const stats = await handle.query(caseStatsQuery);
      assert.ok(stats.seenEvents <= 128, `the case keeps ${stats.seenEvents} IDs`);
      const oldest = events[0]!;
      const recorded = await eventually(
        async () => (await h.store.events.find(account, oldest.eventId, 3_600_000)) ?? false,
        20_000,
        'the oldest answer in the database',
      );
      assert.equal(recorded.eventId, oldest.eventId);
      const retry = await handle.executeUpdate(riskEventUpdate, {
        args: [await updateOf(h, oldest, lookedUpAt)],
      });
      assert.equal(retry.duplicate, true, 'a retry looked up before the hand-over is still recognised');
      const view = await h.view(account);
      assert.equal(view.unchangedEvents.count, events.length, 'each harmless event was counted once');
      await recordHistory('hand-over-event-ids', handle);
    }));
});
