// The end of a chaos run: every case against what its lifecycle must have left at the receivers (one key per
// effect: a second key for the same effect is a duplicate, an effect never received is lost), Cordon's outbox
// drained, and every case workflow's history replayed against the bundle the worker ran.
import { dirname } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { CASE_WORKFLOW_TYPE, type CaseView } from '../../core/contracts';
import { codecDataConverter, codecFromConfig } from '../../infra/codec';
import type { Store } from '../../infra/store';
import type { CaseRecord } from './driver';
import { expectedEffects, timelineCommands, type Counts, type ExpectedEffects } from './plan';
import type { Receiver, ReceiverKind } from './receivers';

export interface EffectTally {
  /** Effects the lifecycles of the cases that reached their outcome call for. */
  expected: number;
  /** Distinct idempotency keys received for those cases. */
  received: number;
  /** Keys beyond one per effect (a second key for the same effect, or an effect the lifecycle has not). */
  duplicates: number;
  /** Effects of cases that reached their outcome that never arrived. */
  missing: number;
  /** The same key sent again (after a crash, a cut answer...) and answered 409: expected, deduplicated. */
  resentSameKey: number;
  /** A key seen again with another body. */
  conflicts: number;
}

export interface Tally {
  expected: number;
  reached: number;
  /** Cases that did not reach their outcome. */
  lostCases: number;
  gateway: EffectTally;
  messaging: EffectTally;
  webhook: EffectTally;
  outbox: { messages: number; pending: number; failed: number; notAtReceiver: number };
  /** Cases whose timeline records other restriction commands than their lifecycle calls for. */
  timelineMismatches: number;
  /** Cases nobody opened (a risk event that opened a second case): all their effects are duplicates. */
  extraCases: number;
  /** Requests the receivers refused: a bad signature or a malformed body (Cordon must never send those). */
  refusedByReceivers: number;
  /** The first problems found, for the report. */
  problems: string[];
}

const MAX_PROBLEMS = 30;

function emptyTally(): EffectTally {
  return { expected: 0, received: 0, duplicates: 0, missing: 0, resentSameKey: 0, conflicts: 0 };
}

function countOf(received: { what: string }[]): Counts {
  const counts: Counts = {};
  for (const r of received) counts[r.what] = (counts[r.what] ?? 0) + 1;
  return counts;
}

function sum(c: Counts): number {
  return Object.values(c).reduce((a, b) => a + b, 0);
}

/** Waits until every case that reached its outcome is archived and the outbox has nothing pending. */
export async function settle(store: Store, records: CaseRecord[], deadline: number): Promise<boolean> {
  const reached = records.filter((r) => r.caseId && r.outcome === r.expectedOutcome);
  const archived = new Set<string>();
  for (;;) {
    for (const r of reached)
      if (!archived.has(r.caseId!) && (await store.archive.find(r.caseId!))) archived.add(r.caseId!);
    const pending = await store.outbox.pendingCount();
    if (archived.size === reached.length && pending === 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

export async function tally(
  store: Store,
  records: CaseRecord[],
  receivers: Record<ReceiverKind, Receiver>,
): Promise<Tally> {
  const t: Tally = {
    expected: records.length,
    reached: 0,
    lostCases: 0,
    gateway: emptyTally(),
    messaging: emptyTally(),
    webhook: emptyTally(),
    outbox: { messages: 0, pending: 0, failed: 0, notAtReceiver: 0 },
    timelineMismatches: 0,
    extraCases: 0,
    refusedByReceivers: 0,
    problems: [],
  };
  const problem = (text: string) => {
    if (t.problems.length < MAX_PROBLEMS) t.problems.push(text);
  };
  const byCase = {
    gateway: receivers.gateway.byCase(),
    messaging: receivers.messaging.byCase(),
    webhook: receivers.webhook.byCase(),
  };
  const known = new Set(records.map((r) => r.caseId).filter(Boolean));

  for (const r of records) {
    const reached = r.caseId !== undefined && r.outcome === r.expectedOutcome;
    if (reached) t.reached += 1;
    else {
      t.lostCases += 1;
      problem(
        `lost: ${r.accountId} case ${r.index} (${r.flow}) ${r.caseId ?? '(no case ID)'}: ${r.error ?? r.outcome}`,
      );
    }
    if (!r.caseId) continue;
    const archive = await store.archive.find(r.caseId);
    const view: CaseView | undefined = archive?.view;
    if (reached && !view) problem(`${r.caseId}: reached ${r.outcome} but is not archived`);
    const timeline = view?.timeline ?? [];
    // At most one reminder per case in these flows (one tier entry, one reminder offset).
    const reminders = view ? timeline.filter((e) => e.type === 'REMINDER_DUE').length : 1;
    // A review that outlasts its SLA escalates (cases under rules 3): one case.escalated per breach recorded.
    const escalations = timeline.filter(
      (e) => (e.type === 'SLA_BREACHED' && e.escalated === true) || e.type === 'APPROVAL_SLA_BREACHED',
    ).length;
    const expected: ExpectedEffects = expectedEffects(r.flow, reminders, escalations);
    if (view) {
      const fromTimeline = timelineCommands(timeline);
      if (JSON.stringify(sorted(fromTimeline)) !== JSON.stringify(sorted(expected.gateway))) {
        t.timelineMismatches += 1;
        problem(`${r.caseId} (${r.flow}): timeline records commands ${JSON.stringify(fromTimeline)}`);
      }
    }
    for (const kind of ['gateway', 'messaging', 'webhook'] as const) {
      const got = countOf(byCase[kind].get(r.caseId) ?? []);
      const want = expected[kind];
      const tk = t[kind];
      if (reached) {
        tk.expected += sum(want);
        tk.received += sum(got);
      }
      for (const what of new Set([...Object.keys(got), ...Object.keys(want)])) {
        const extra = (got[what] ?? 0) - (want[what] ?? 0);
        if (extra > 0) {
          tk.duplicates += extra;
          problem(
            `duplicate: ${r.caseId} (${r.flow}) ${kind} ${what}: ${got[what]} keys, ${want[what] ?? 0} expected`,
          );
        } else if (extra < 0 && reached) {
          tk.missing -= extra;
          problem(
            `missing: ${r.caseId} (${r.flow}) ${kind} ${what}: ${got[what] ?? 0} of ${want[what]} received`,
          );
        }
      }
    }
    // Commands in the order the lifecycle has them: the restriction before its lift or the closing.
    const commands = (byCase.gateway.get(r.caseId) ?? []).map((c) => c.what);
    if (commands.length > 1 && commands[0] !== 'apply')
      problem(`${r.caseId}: gateway commands in order ${commands.join(', ')}`);
  }

  for (const kind of ['gateway', 'messaging', 'webhook'] as const) {
    const receiver = receivers[kind];
    t[kind].resentSameKey = receiver.stats.resent;
    t[kind].conflicts = receiver.stats.conflicts;
    if (receiver.stats.conflicts)
      problem(`${kind}: ${receiver.stats.conflicts} keys resent with another body`);
    t.refusedByReceivers += receiver.stats.badSignature + receiver.stats.malformed;
  }
  // Effects of a case the driver never opened: a risk event that opened a second case (its retry landing
  // after the first case had ended), or something else no lifecycle asked for. Every one is a duplicate.
  const extra = new Set<string>();
  for (const kind of ['gateway', 'messaging', 'webhook'] as const)
    for (const caseId of byCase[kind].keys()) if (!known.has(caseId)) extra.add(caseId);
  const byEvent = new Map(records.filter((r) => r.eventId).map((r) => [r.eventId!, r]));
  for (const caseId of extra) {
    t.extraCases += 1;
    const counts = (['gateway', 'messaging', 'webhook'] as const).map((kind) => {
      const n = byCase[kind].get(caseId)?.length ?? 0;
      t[kind].duplicates += n;
      return `${n} ${kind}`;
    });
    const opening = (await store.archive.find(caseId))?.view.timeline.find((e) => e.type === 'RISK_EVENT');
    const first = typeof opening?.eventId === 'string' ? byEvent.get(opening.eventId) : undefined;
    problem(
      first
        ? `duplicate case: event ${first.eventId} (${first.flow}, answered with ${first.caseId}) also opened ${caseId} at ${opening!.at}: ${counts.join(', ')} keys`
        : `keys for a case no lifecycle opened (${caseId}): ${counts.join(', ')}`,
    );
  }
  if (t.refusedByReceivers)
    problem(`receivers refused ${t.refusedByReceivers} requests (bad signature or body)`);

  // Cordon's outbox: every message delivered, and delivered where it belongs.
  const rows = await store.db.query<{ idempotency_key: string; kind: string; status: string }>(
    'SELECT idempotency_key, kind, status FROM messages',
  );
  t.outbox.messages = rows.length;
  for (const row of rows) {
    if (row.status === 'PENDING') t.outbox.pending += 1;
    if (row.status === 'FAILED') {
      t.outbox.failed += 1;
      problem(`outbox: ${row.idempotency_key} FAILED`);
    }
    const receiver = row.kind === 'NOTIFY_USER' ? receivers.messaging : receivers.webhook;
    if (row.status === 'DELIVERED' && !receiver.received.has(row.idempotency_key)) {
      t.outbox.notAtReceiver += 1;
      problem(`outbox: ${row.idempotency_key} marked delivered, never received`);
    }
  }
  return t;
}

function sorted(c: Counts): [string, number][] {
  return Object.entries(c).sort(([a], [b]) => a.localeCompare(b));
}

export interface ReplayTally {
  histories: number;
  clean: number;
  failed: number;
  /** Workflow runs visibility lists (every case is at least one run). */
  runs: number;
  failures: string[];
  /** The time ran out before every history was replayed. */
  unfinished: boolean;
}

/**
 * Replays every case workflow history on the server against the bundle the worker ran, with the payload codec
 * the chaos processes used: they run in development mode on one data folder (by default the bundle's, where
 * chaos writes it), so its development codec key is there.
 */
export async function replayAll(
  address: string,
  bundlePath: string,
  deadline: number,
  dataDir = dirname(bundlePath),
): Promise<ReplayTally> {
  const r: ReplayTally = { histories: 0, clean: 0, failed: 0, runs: 0, failures: [], unfinished: false };
  const dataConverter = codecDataConverter(codecFromConfig({ mode: 'development', dataDir, codec: {} }));
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection, dataConverter });
    const query = `WorkflowType = "${CASE_WORKFLOW_TYPE}"`;
    r.runs = (await client.workflow.count(query)).count;
    const histories = client.workflow.list({ query }).intoHistories({ concurrency: 16 });
    const results = Worker.runReplayHistories(
      { workflowBundle: { codePath: bundlePath }, replayName: 'cordon-chaos-replay', dataConverter },
      histories,
    );
    for await (const result of results) {
      r.histories += 1;
      if (result.error) {
        r.failed += 1;
        if (r.failures.length < 10)
          r.failures.push(
            `replay: ${result.workflowId} ${result.runId}: ${result.error.name}: ${briefly(result.error.message)}`,
          );
      } else r.clean += 1;
      if (Date.now() > deadline) {
        r.unfinished = r.histories < r.runs;
        break;
      }
    }
  } finally {
    await connection.close();
  }
  return r;
}

/** The nondeterminism itself out of the SDK's long message. */
function briefly(message: string): string {
  return /\[TMPRL\d+\][^"]*/.exec(message)?.[0] ?? message.slice(0, 300);
}
