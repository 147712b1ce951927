// The case workflow on a real Temporal dev server. Deadline tests run a policy whose durations are seconds
// (the Java time-skipping server mishandles this workflow's update/timer mix: see docs/testing.md).
import assert from 'node:assert/strict';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { CASE_WORKFLOW_TYPE, caseWorkflowId, type CaseResult, type CaseView } from '../core/contracts';
import {
  appealUpdate,
  claimUpdate,
  decisionUpdate,
  infoUpdate,
  riskEventUpdate,
  verificationUpdate,
} from '../workflows/definitions';
import type { Actor } from '../core/model';
import { parsePolicy } from '../infra/policy-loader';
import { riskEvent, uniqueAccount } from './helpers/events';
import { eventually, newHarness, recordHistory as record, shortPolicy, withHarness } from './helpers/harness';
import { sharedDevServer, testCodec, workflowBundle } from './helpers/servers';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { requires } from './helpers/requirements';

const backend: Actor = { kind: 'backend', id: 'backend' };
const quietTypes = ['NOTIFIED', 'WEBHOOK_SENT'];
const caseOnly = (v: CaseView) => ({
  ...v,
  timeline: v.timeline.filter((t) => !quietTypes.includes(t.type)),
});
const user = (accountId: string): Actor => ({ kind: 'user', id: accountId });

async function refusalOf(p: Promise<unknown>): Promise<string | undefined> {
  const err = await p.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowUpdateFailedError, String(err));
  return (err.cause as { type?: string }).type;
}

describe('case workflow on the dev server', function () {
  requires('temporal');
  this.timeout(60_000);
  before(async function () {
    this.timeout(300_000);
    await Promise.all([sharedDevServer(), workflowBundle()]);
  });

  describe('deadlines (policy durations in seconds)', () => {
    const policy = shortPolicy();

    it('a temporary lockout lifts itself, a repeat waits longer, the next is permanent', () =>
      withHarness(
        async (h) => {
          const account = uniqueAccount();
          const first = await h.cases.reportEvent(
            riskEvent(account, 'LOGIN_FAILED', { consecutiveFailures: 6 }),
            backend,
          );
          assert.equal(first.decision.tier, 'FREEZE');
          assert.equal(first.status, 'AWAITING_USER');
          assert.equal(h.gateway.accounts.get(account)?.lockout, true);
          const v1 = await h.view(account);
          assert.equal(Date.parse(v1.deadlines.lockoutLiftsAt!) - Date.parse(v1.timeline[0]!.at), 2_000);

          await eventually(
            async () => (await h.view(account)).status === 'MONITORING',
            10_000,
            'first lockout lifted',
          );
          assert.equal((await h.view(account)).restricted, false);
          assert.equal(h.gateway.accounts.has(account), false, 'the gateway lifted the restriction');

          await h.cases.reportEvent(riskEvent(account, 'LOGIN_FAILED', { consecutiveFailures: 6 }), backend);
          const relocked = await h.view(account);
          assert.equal(relocked.lockoutCount, 2);
          const lockedAt = Date.parse(relocked.timeline.findLast((t) => t.type === 'RISK_EVENT')!.at);
          assert.equal(
            Date.parse(relocked.deadlines.lockoutLiftsAt!) - lockedAt,
            3_000,
            'the second lockout waits longer',
          );

          await eventually(
            async () => (await h.view(account)).status === 'MONITORING',
            10_000,
            'second lockout lifted',
          );
          await h.cases.reportEvent(riskEvent(account, 'LOGIN_FAILED', { consecutiveFailures: 6 }), backend);
          const permanent = await h.view(account);
          assert.equal(permanent.lockoutCount, 3);
          assert.equal(
            permanent.deadlines.lockoutLiftsAt,
            undefined,
            'after two lockouts the third is permanent',
          );
          assert.ok(h.channel.templates().includes('LOCKOUT_LIFTED'));
        },
        { policy },
      ));

    it('a lifted lockout with a quiet watch period ends restored (histories-)', () =>
      withHarness(
        async (h) => {
          const account = uniqueAccount();
          await h.cases.reportEvent(riskEvent(account, 'LOGIN_FAILED', { consecutiveFailures: 7 }), backend);
          const result: CaseResult = await h.handle(account).result();
          assert.equal(result.outcome, 'RESTORED');
          const view = await h.view(account);
          assert.deepEqual(
            caseOnly(view).timeline.map((t) => t.type),
            ['RISK_EVENT', 'RESTRICTION_APPLIED', 'LOCKOUT_EXPIRED', 'RESTRICTION_LIFTED', 'OUTCOME'],
          );
          await record('lockout-restored', h.handle(account));
        },
        { policy },
      ));

    it('STEP_UP: a reminder before the deadline, then the unverified restriction is upheld (histories-)', () =>
      withHarness(
        async (h) => {
          const account = uniqueAccount();
          const r = await h.cases.reportEvent(
            riskEvent(account, 'LOGIN', { newDevice: true, geoDistanceKm: 2000, minutesSinceLastLogin: 30 }),
            backend,
          );
          assert.equal(r.status, 'VERIFICATION_REQUIRED');
          const result: CaseResult = await h.handle(account).result();
          assert.equal(result.outcome, 'UPHELD');
          assert.deepEqual(h.channel.templates(), ['RESTRICTED', 'REMINDER', 'OUTCOME']);
          assert.equal(
            h.gateway.accounts.get(account)?.tier,
            'STEP_UP',
            'an upheld restriction stays applied',
          );
          assert.deepEqual(
            caseOnly(await h.view(account)).timeline.map((t) => t.type),
            ['RISK_EVENT', 'RESTRICTION_APPLIED', 'REMINDER_DUE', 'DEADLINE_PASSED', 'OUTCOME'],
          );
          await record('step-up-upheld', h.handle(account));
        },
        { policy },
      ));

    it('FREEZE: no answer by the deadline sends the case to review; the SLA breach is flagged, a reviewer still decides', () =>
      withHarness(
        async (h) => {
          const account = uniqueAccount();
          await h.cases.reportEvent(riskEvent(account, 'IDENTITY_CHECK', { matched: false }), backend);
          await eventually(
            async () => (await h.view(account)).status === 'IN_REVIEW',
            15_000,
            'deadline passed',
          );
          await eventually(async () => (await h.view(account)).slaBreached, 15_000, 'SLA breached');
          assert.equal((await h.view(account)).escalated, true, 'in the senior queue');
          const { caseId } = await h.view(account);
          const senior = await eventually(
            async () => {
              const items = await h.cases.reviewQueue(undefined, 500, true);
              return items.find((i) => i.caseId === caseId) ?? false;
            },
            10_000,
            'the case in the senior queue',
          );
          assert.equal(senior.escalated, true);
          const others = await h.cases.reviewQueue(undefined, 500, false);
          assert.equal(
            others.find((i) => i.caseId === caseId),
            undefined,
          );
          await h.act(account, claimUpdate, { reviewer: 'r1' });
          const done = await h.act(account, decisionUpdate, {
            reviewer: 'r1',
            decision: 'UNLOCK',
            rationale: 'documents check out',
            requestId: 'd1',
          });
          assert.equal(done.outcome, 'RESTORED');
          assert.equal(h.gateway.accounts.has(account), false);
        },
        { policy },
      ));

    it('a claim whose holder does nothing for the idle time goes back to the queue', () => {
      const raw = JSON.parse(JSON.stringify(shortPolicy().policy));
      raw.review = { claimIdle: '2s' };
      raw.tiers.FREEZE.reviewSla = '1h';
      const idlePolicy = parsePolicy(raw, 'idle claims');
      return withHarness(
        async (h) => {
          const account = uniqueAccount();
          await h.cases.reportEvent(riskEvent(account, 'IDENTITY_CHECK', { matched: false }), backend);
          await h.act(account, appealUpdate, { statement: 'me', requestId: 'a', actor: user(account) });
          const claimed = await h.act(account, claimUpdate, { reviewer: 'r1' });
          assert.ok(claimed.deadlines.claimIdleAt, 'the idle deadline is shown');
          const released = await eventually(
            async () => {
              const v = await h.view(account);
              return v.assignee === null && v;
            },
            15_000,
            'claim released',
          );
          const entry = released.timeline.filter((t) => t.type === 'RELEASED').pop();
          assert.deepEqual([entry?.holder, entry?.reason], ['r1', 'IDLE']);
          assert.equal(released.status, 'IN_REVIEW', 'still in review, back in the queue');
          assert.equal((await h.act(account, claimUpdate, { reviewer: 'r2' })).assignee, 'r2');
        },
        { policy: idlePolicy },
      );
    });

    it('PROTECT: the user can confirm only after the cooling-off period', () =>
      withHarness(
        async (h) => {
          const account = uniqueAccount();
          await h.cases.reportEvent(
            riskEvent(account, 'TRANSFER_ATTEMPT', {
              toNewPayee: true,
              amount: 3000,
              duringCall: true,
              justBorrowed: true,
            }),
            backend,
          );
          const confirm = (requestId: string) =>
            h.act(account, verificationUpdate, {
              method: 'USER_CONFIRMATION',
              passed: true,
              requestId,
              actor: user(account),
            });
          assert.equal(await refusalOf(confirm('c1')), 'COOLING_OFF');
          await eventually(
            async () => h.channel.templates().includes('CONFIRMATION_OPEN'),
            10_000,
            'cooling-off ended',
          );
          assert.equal((await confirm('c2')).outcome, 'RESTORED');
        },
        { policy },
      ));

    it('an information request returns to review at its deadline; an answer returns it at once (histories-)', () =>
      withHarness(
        async (h) => {
          const account = uniqueAccount();
          await h.cases.reportEvent(
            riskEvent(account, 'CREDIT_REPORT', { lendersLast30d: 7, scoreDelta: 0, overdueDays: 0 }),
            backend,
          );
          await h.act(account, appealUpdate, {
            statement: 'consolidating loans',
            requestId: 'a1',
            actor: user(account),
          });
          await h.act(account, claimUpdate, { reviewer: 'r1' });
          await h.act(account, decisionUpdate, {
            reviewer: 'r1',
            decision: 'REQUEST_INFO',
            rationale: 'statements',
            requestId: 'd1',
          });
          await eventually(
            async () => (await h.view(account)).status === 'IN_REVIEW',
            10_000,
            'info deadline passed',
          );
          await h.act(account, decisionUpdate, {
            reviewer: 'r1',
            decision: 'REQUEST_INFO',
            rationale: 'again',
            requestId: 'd2',
          });
          const answered = await h.act(account, infoUpdate, {
            answer: 'attached',
            evidence: ['doc-1'],
            requestId: 'i1',
            actor: user(account),
          });
          assert.equal(answered.status, 'IN_REVIEW');
          assert.equal(answered.assignee, 'r1');
          const done = await h.act(account, decisionUpdate, {
            reviewer: 'r1',
            decision: 'UNLOCK',
            rationale: 'fine',
            requestId: 'd3',
          });
          assert.equal(done.outcome, 'RESTORED');
          assert.deepEqual(
            caseOnly(done)
              .timeline.map((t) => t.type)
              .filter((t) => t !== 'SLA_BREACHED'),
            [
              'RISK_EVENT',
              'RESTRICTION_APPLIED',
              'APPEAL',
              'REVIEW_STARTED',
              'CLAIM',
              'DECISION',
              'INFO_DEADLINE_PASSED',
              'DECISION',
              'INFO_PROVIDED',
              'DECISION',
              'OUTCOME',
              'RESTRICTION_LIFTED',
            ],
          );
          await record('limit-appeal-info-unlock', h.handle(account));
        },
        { policy },
      ));
  });

  describe('idempotency, refusals and history', () => {
    it('a repeated event ID returns the first answer and has no new effect', () =>
      withHarness(async (h) => {
        const account = uniqueAccount();
        const event = riskEvent(account, 'IDENTITY_CHECK', { matched: false });
        const first = await h.cases.reportEvent(event, backend);
        const again = await h.cases.reportEvent(event, backend);
        assert.equal(again.duplicate, true);
        assert.deepEqual({ ...again, duplicate: false }, first);
        const view = await h.view(account);
        assert.equal(view.timeline.filter((t) => t.type === 'RISK_EVENT').length, 1);
        assert.equal(view.timeline.filter((t) => t.type === 'RESTRICTION_APPLIED').length, 1);
      }));

    it('refuses invalid actions with a typed reason and changes nothing', () =>
      withHarness(async (h) => {
        const account = uniqueAccount();
        await h.cases.reportEvent(riskEvent(account, 'IDENTITY_CHECK', { matched: false }), backend);
        assert.equal(await refusalOf(h.act(account, claimUpdate, { reviewer: 'r1' })), 'NOT_IN_REVIEW');
        await h.act(account, appealUpdate, { statement: 'mine', requestId: 'a1', actor: user(account) });
        const before = caseOnly(await h.view(account));
        assert.equal(
          await refusalOf(
            h.act(account, appealUpdate, { statement: 'again', requestId: 'a2', actor: user(account) }),
          ),
          'ALREADY_APPEALED',
        );
        assert.equal(
          await refusalOf(
            h.act(account, verificationUpdate, {
              method: 'OTP',
              passed: true,
              requestId: 'v1',
              actor: user(account),
            }),
          ),
          'NOT_AWAITING_VERIFICATION',
        );
        assert.equal(
          await refusalOf(
            h.act(account, decisionUpdate, {
              reviewer: 'r1',
              decision: 'UNLOCK',
              rationale: 'x',
              requestId: 'd1',
            }),
          ),
          'NOT_CLAIMED',
        );
        assert.deepEqual(caseOnly(await h.view(account)), before);
        const otherCase = `${account}.0123456789ab`;
        assert.equal(
          await refusalOf(
            h.handle(account).executeUpdate(claimUpdate, { args: [{ caseId: otherCase, reviewer: 'r1' }] }),
          ),
          'CASE_NOT_FOUND',
          'an action naming another case of the account never lands on this one',
        );
        // The same request ID again is the same request: answered, not refused, not applied twice.
        const repeat = await h.act(account, appealUpdate, {
          statement: 'mine',
          requestId: 'a1',
          actor: user(account),
        });
        assert.equal(repeat.timeline.filter((t) => t.type === 'APPEAL').length, 1);
      }));

    it('continues as new on a long history and carries the whole case over', () =>
      withHarness(async (h) => {
        const account = uniqueAccount();
        await h.client.workflow.start(CASE_WORKFLOW_TYPE, {
          workflowId: caseWorkflowId(account),
          taskQueue: h.taskQueue,
          args: [{ accountId: account, historyLimit: 30 }],
        });
        // An event ID that names an Object property must survive continue-as-new as an ordinary ID.
        const opening = riskEvent(
          account,
          'LOGIN',
          { newDevice: true, geoDistanceKm: 2000, minutesSinceLastLogin: 30 },
          '__proto__',
        );
        const first = await h.cases.reportEvent(opening, backend);
        const firstRun = (await h.handle(account).describe()).runId;
        for (let i = 0; i < 6; i++)
          await h.cases.reportEvent(riskEvent(account, 'LOGIN_FAILED', { consecutiveFailures: 1 }), backend);
        const after = await eventually(
          async () => {
            const d = await h.handle(account).describe();
            return d.runId !== firstRun && d;
          },
          10_000,
          'continue-as-new',
        );
        assert.equal(after.status.name, 'RUNNING');
        const view = await h.view(account);
        assert.equal(view.caseId, first.caseId, 'the case ID survives continue-as-new');
        // The six harmless events are counted, not listed: what the case carries does not grow with them.
        assert.equal(view.timeline.filter((t) => t.type === 'RISK_EVENT').length, 1);
        assert.equal(view.unchangedEvents.count, 6);
        // Straight to the workflow (the API would answer from Cordon's database first).
        const dup = await h
          .handle(account)
          .executeUpdate(riskEventUpdate, { args: [{ event: opening, actor: backend }] });
        assert.equal(dup.duplicate, true, 'event IDs seen before continue-as-new are still known');
        const done = await h.act(account, verificationUpdate, {
          method: 'OTP',
          passed: true,
          requestId: 'v1',
          actor: user(account),
        });
        assert.equal(done.outcome, 'RESTORED');
      }));

    it('tells an operator in the Web UI what the case is, what it waits for and what it did', () =>
      withHarness(async (h) => {
        const account = uniqueAccount();
        await h.cases.reportEvent(
          riskEvent(account, 'IDENTITY_CHECK', { matched: false, field: 'name' }),
          backend,
        );
        const handle = h.handle(account);
        const described = await handle.describe();
        assert.equal(
          await described.staticSummary(),
          `Cordon case · account ${account} · FREEZE · IDENTITY_MISMATCH`,
        );
        const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
        assert.match(metadata.currentDetails ?? '', /\*\*AWAITING_USER\*\* · tier FREEZE/);
        assert.match(metadata.currentDetails ?? '', /next: REMINDER at \d{4}-/);
        // Summaries are payloads too: encrypted in the history, read here with the tests' key.
        const summaryOf = async (p: Payload | null | undefined) =>
          p ? defaultPayloadConverter.fromPayload<string>((await testCodec.decode([p]))[0]!) : undefined;
        const { events } = await handle.fetchHistory();
        const timers = await Promise.all(
          events!
            .filter((e) => e.timerStartedEventAttributes)
            .map((e) => summaryOf(e.userMetadata?.summary as Payload)),
        );
        assert.match(timers[0] ?? '', /^REMINDER at \d{4}-/, 'the timer is named');
        const activities = await Promise.all(
          events!
            .filter((e) => e.activityTaskScheduledEventAttributes)
            .map((e) => summaryOf(e.userMetadata?.summary as Payload)),
        );
        // The restriction is an activity that hands the transition's messages to the outbox once it is done.
        assert.ok(
          activities.includes('apply FREEZE, then send notice RESTRICTED, webhook restriction.changed'),
          JSON.stringify(activities),
        );
      }));

    it('a first event that restricts nothing opens no case and the workflow ends', () =>
      withHarness(async (h) => {
        const account = uniqueAccount();
        const wf = await h.client.workflow.start(CASE_WORKFLOW_TYPE, {
          workflowId: caseWorkflowId(account),
          taskQueue: h.taskQueue,
          args: [{ accountId: account }],
        });
        const r = await wf.executeUpdate(riskEventUpdate, {
          args: [{ event: riskEvent(account, 'LOGIN', { newDevice: false }), actor: backend }],
        });
        assert.equal(r.status, 'NO_ACTION');
        assert.equal(r.caseId, null);
        const result: CaseResult = await wf.result();
        assert.equal(result.outcome, 'NO_ACTION');
        assert.equal(h.channel.sent.length, 0);
      }));

    it('tells the user in their language why and what to do, without thresholds, and tells the backend', () =>
      withHarness(async (h) => {
        const account = uniqueAccount();
        const event = {
          ...riskEvent(account, 'CREDIT_REPORT', { lendersLast30d: 7, scoreDelta: 0, overdueDays: 0 }),
          locale: 'zh-CN' as const,
        };
        await h.cases.reportEvent(event, backend);
        await eventually(
          async () => h.backend.events.length > 0 && h.channel.sent.length > 0,
          10_000,
          'messages sent',
        );
        const [sent] = h.channel.sent;
        assert.equal(sent!.message.locale, 'zh-CN');
        assert.match(sent!.message.body, /多家机构/);
        assert.doesNotMatch(
          sent!.message.body.split('\n').slice(0, -1).join('\n'),
          /\d/,
          'no numbers apart from the deadline line',
        );
        assert.equal(h.backend.events[0]!.type, 'restriction.changed');
        assert.equal(h.backend.events[0]!.restricted, true);
      }));
  });

  describe('durability', () => {
    it('a case survives its worker stopping: a new worker picks it up, deadlines included', async () => {
      const policy = shortPolicy();
      const first = await newHarness({ policy });
      const account = uniqueAccount();
      await first.worker.runUntil(
        first.cases.reportEvent(riskEvent(account, 'IDENTITY_CHECK', { matched: false }), backend),
      );
      // No worker now: the deadline passes while nobody is polling.
      await new Promise((r) => setTimeout(r, 5_000));
      const second = await newHarness({ policy, taskQueue: first.taskQueue });
      await second.worker.runUntil(async () => {
        await eventually(
          async () => (await second.view(account)).status === 'IN_REVIEW',
          15_000,
          'deadline handled by the new worker',
        );
        await second.act(account, claimUpdate, { reviewer: 'r1' });
        const done = await second.act(account, decisionUpdate, {
          reviewer: 'r1',
          decision: 'UPHOLD',
          rationale: 'ok',
          requestId: 'd1',
        });
        assert.equal(done.outcome, 'UPHELD');
        const applied = done.timeline.filter((t) => t.type === 'RESTRICTION_APPLIED');
        assert.equal(applied.length, 1, 'the restriction was applied exactly once across both workers');
      });
    });
  });
});
