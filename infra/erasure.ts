// Erasing an account's personal data, once two admins agreed (api/erasure.ts checks and starts it). The steps run
// in order, each idempotent, and the record remembers the last one done, so a run that failed or whose process
// died is resumed by another approval and finishes what was left:
//
//   NOTICES    every user notice of the account redacted (contact, question, explanation gone; see redactNotice)
//   EVIDENCE   every evidence file of the account's cases deleted from the evidence store (named in its views, or
//              found by the case its sealed header names)
//   CASES      archived views, request answers and event answers rewritten without anything written in words:
//              decisions, reason codes, outcomes, times and actors stay, as plain JSON that needs no key; what
//              each event brought (attributes, data sources' answers: infra/stores/event-evidence.ts) deleted
//              and the rows its events added to policy features (infra/stores/feature-store.ts) deleted
//   HISTORIES  the account's closed workflow runs deleted from Temporal
//   KEY        the account's data key destroyed: whatever is still sealed under it, in any copy or backup whose
//              codec key is rotated away, never opens again
//   WEBHOOK    account.erased queued for the backend, in order after the account's other messages
//
// Only codes, counts and times are written to the record or the log.
import type { AccountMessage } from '../core/messages';
import { parseCaseId, type ArchivedRequest, type CaseView, type RiskEventResult } from '../core/contracts';
import { DataKeyError } from './data-keys';
import {
  ERASURE_STEPS,
  ErasureStepError,
  type ErasureCounts,
  type ErasureRecord,
  type ErasureRecords,
  type ErasureStep,
} from './erasure-record';
import { isErased, stripEventResult, stripView, type ErasureMark } from './erasure-strip';
import type { HistoryEraser } from './erasure-temporal';
import { EVIDENCE_REF, type EvidenceStore } from './evidence/types';
import type { Logger } from './logger';
import { FIELD, openJson } from './personal-data';
import type { Store } from './store';

export interface ErasureDeps {
  store: Store;
  evidence: EvidenceStore;
  histories: HistoryEraser;
  records: ErasureRecords;
  logger: Logger;
  /** How long a run holds its erasure before another process may take it over (renewed at every step). */
  leaseMs: number;
}

/**
 * Files younger than this are not scanned for (the folder store also clears abandoned temporary files older than
 * what it is asked for, and an upload in progress must keep its own): a file that new is named in a view.
 */
const SCAN_MARGIN_MS = 60_000;

/** Runs the erasure's remaining steps and records how it ended; never throws for a step that failed. */
export async function runErasure(d: ErasureDeps, record: ErasureRecord): Promise<void> {
  const counts: ErasureCounts = { ...record.counts };
  const done = record.step ? ERASURE_STEPS.indexOf(record.step) : -1;
  const mark: ErasureMark = { erasureId: record.id, at: new Date().toISOString() };
  let step: ErasureStep | undefined;
  try {
    for (step of ERASURE_STEPS.slice(done + 1)) {
      await STEPS[step](d, record, counts, mark);
      await d.records.stepDone(record.id, step, counts, d.leaseMs);
    }
    await d.records.done(record.id, counts);
    d.logger.info('erasure done', { erasureId: record.id, accountId: record.accountId, counts });
  } catch (err) {
    const failure = failureOf(step, err);
    d.logger.warn('erasure failed', { erasureId: record.id, step, code: failure.code });
    await d.records.failed(record.id, failure);
  }
}

/** A failure as the record keeps it: a step's own code and message, else the kind of error only. */
function failureOf(step: ErasureStep | undefined, err: unknown): { code: string; message: string } {
  if (err instanceof ErasureStepError) return { code: err.code, message: err.message };
  if (err instanceof DataKeyError)
    return {
      code: err.reason === 'WRAP_KEY_UNKNOWN' ? 'WRAP_KEY_UNKNOWN' : 'DATA_KEY',
      message: `${step}: a data key could not be used (${err.reason}); see the logs of the key rotation`,
    };
  if (unreachable(err))
    return { code: 'TEMPORAL_UNAVAILABLE', message: `${step}: Temporal did not answer; approve again later` };
  return {
    code: 'STEP_FAILED',
    message: `${step}: ${(err as Error)?.name ?? 'error'}; approve again to resume`,
  };
}

/** gRPC UNAVAILABLE or DEADLINE_EXCEEDED anywhere in the error's causes (the client wraps the call's error). */
function unreachable(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 8; depth++) {
    if (e.code === 14 || e.code === 4) return true;
    e = e.cause as typeof e;
  }
  return false;
}

type Step = (d: ErasureDeps, r: ErasureRecord, counts: ErasureCounts, mark: ErasureMark) => Promise<void>;

const STEPS: Record<ErasureStep, Step> = {
  async NOTICES(d, r, counts) {
    counts.notices = await d.store.outbox.redactNoticesOf(r.accountId);
  },

  async EVIDENCE(d, r, counts) {
    const refs = new Set<string>();
    for (const view of await viewsOf(d.store, r.accountId))
      for (const entry of view.timeline)
        for (const ref of Array.isArray(entry.evidence) ? entry.evidence : [])
          if (typeof ref === 'string' && EVIDENCE_REF.test(ref)) refs.add(ref);
    for await (const { ref, caseId } of d.evidence.listBefore(Date.now() - SCAN_MARGIN_MS))
      if (caseId && parseCaseId(caseId)?.accountId === r.accountId) refs.add(ref);
    for (const ref of refs) await d.evidence.delete(ref);
    counts.evidenceFiles = refs.size;
  },

  async CASES(d, r, counts, mark) {
    const { store } = d;
    const account = r.accountId;
    counts.caseViews = 0;
    const archived = await store.db.query<{ case_id: string; view: string; requests: string }>(
      'SELECT case_id, view, requests FROM case_archive WHERE account_id = ?',
      [account],
    );
    for (const row of archived) {
      const view = await opened<CaseView>(store, account, FIELD.archiveView, row.view);
      const requests = await opened<ArchivedRequest[]>(store, account, FIELD.archiveRequests, row.requests);
      if (view === GONE || requests === GONE) {
        // Sealed under a key an earlier erasure destroyed: unreadable already, and of no use to anyone.
        await store.db.run('DELETE FROM case_archive WHERE case_id = ?', [row.case_id]);
        continue;
      }
      if (isErased(view) && !row.requests.startsWith('cdk1:')) continue;
      counts.caseViews += await store.db.run(
        'UPDATE case_archive SET view = ?, requests = ? WHERE case_id = ? AND view = ?',
        [
          JSON.stringify(isErased(view) ? view : stripView(view, mark)),
          JSON.stringify(requests.map((q) => ({ key: q.key, fingerprint: q.fingerprint }))),
          row.case_id,
          row.view,
        ],
      );
    }
    // Request records name their case, whose ID begins with the account's (a scan: erasures are rare).
    counts.requestRecords = 0;
    const requests = await store.db.query<{ request_key: string; response: string }>(
      'SELECT request_key, response FROM request_records WHERE substr(case_id, 1, ?) = ?',
      [account.length + 1, `${account}.`],
    );
    for (const row of requests) {
      const view = await opened<CaseView>(store, account, FIELD.request, row.response);
      if (view !== GONE && isErased(view)) continue;
      counts.requestRecords +=
        view === GONE
          ? await store.db.run('DELETE FROM request_records WHERE request_key = ?', [row.request_key])
          : await store.db.run(
              'UPDATE request_records SET response = ? WHERE request_key = ? AND response = ?',
              [JSON.stringify(stripView(view, mark)), row.request_key, row.response],
            );
    }
    // Event answers are sealed only when they carry a staff member's note.
    counts.eventAnswers = 0;
    const events = await store.db.query<{ event_id: string; result: string }>(
      "SELECT event_id, result FROM event_ids WHERE account_id = ? AND result LIKE 'cdk1:%'",
      [account],
    );
    for (const row of events) {
      const result = await opened<RiskEventResult>(store, account, FIELD.event, row.result);
      counts.eventAnswers +=
        result === GONE
          ? await store.db.run('DELETE FROM event_ids WHERE account_id = ? AND event_id = ?', [
              account,
              row.event_id,
            ])
          : await store.db.run(
              'UPDATE event_ids SET result = ? WHERE account_id = ? AND event_id = ? AND result = ?',
              [JSON.stringify(stripEventResult(result)), account, row.event_id, row.result],
            );
    }
    // What events brought (attributes, data sources' answers) is personal through and through: it goes.
    counts.eventEvidence = await store.eventEvidence.eraseAccount(account);
    // Policy features: what its events added (its entity values' hashes among it) and its recorded events.
    counts.featureRows = await store.features.eraseAccount(account);
    counts.entityLinks = await store.links.eraseAccount(account);
    counts.guardMatches = await store.guards.eraseAccount(account);
  },

  async HISTORIES(d, r, counts) {
    counts.workflowRuns = await d.histories.eraseRuns(r.accountId);
  },

  async KEY(d, r, counts) {
    // A case opened meanwhile would lose what it sealed: stop, and finish once it has ended.
    const [record] = await d.store.restrictions.of([r.accountId]);
    if (record?.open)
      throw new ErasureStepError(
        'CASE_OPEN',
        'a case of the account opened during the erasure: approve again once it has ended',
      );
    counts.dataKey = (await d.store.dataKeys.destroy(r.accountId)) ? 1 : 0;
  },

  async WEBHOOK(d, r) {
    const message: AccountMessage = {
      kind: 'NOTIFY_BACKEND',
      event: {
        type: 'account.erased',
        accountId: r.accountId,
        caseId: null,
        erasureId: r.id,
        at: new Date().toISOString(),
        // One per erasure: a resumed run queues nothing twice.
        idempotencyKey: `account.erased:${r.id}`,
      },
    };
    await d.store.outbox.enqueue([message]);
  },
};

const GONE = Symbol('sealed under a destroyed key');

/** A stored value opened, GONE when its data key no longer exists; a wrapping key not configured throws. */
async function opened<T>(
  store: Store,
  accountId: string,
  field: (typeof FIELD)[keyof typeof FIELD],
  stored: string,
): Promise<T | typeof GONE> {
  try {
    return await openJson<T>(store.dataKeys, accountId, field, stored);
  } catch (err) {
    if (err instanceof DataKeyError && err.reason === 'GONE') return GONE;
    throw err;
  }
}

/** The account's archived views and request answers that still open (what names its evidence files). */
async function viewsOf(store: Store, accountId: string): Promise<CaseView[]> {
  const rows = [
    ...(await store.db.query<{ value: string; field: string }>(
      `SELECT view AS value, '${FIELD.archiveView}' AS field FROM case_archive WHERE account_id = ?`,
      [accountId],
    )),
    ...(await store.db.query<{ value: string; field: string }>(
      `SELECT response AS value, '${FIELD.request}' AS field FROM request_records WHERE substr(case_id, 1, ?) = ?`,
      [accountId.length + 1, `${accountId}.`],
    )),
  ];
  const views: CaseView[] = [];
  for (const row of rows) {
    const view = await opened<CaseView>(store, accountId, row.field as typeof FIELD.request, row.value);
    if (view !== GONE) views.push(view);
  }
  return views;
}
