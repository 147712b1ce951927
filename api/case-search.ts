// Finding cases for reviewers: by an exact case or account ID (open cases from Temporal's visibility, ended ones
// from Cordon's archive), and the ended cases with filters, newest first. Identifiers, codes and dates only.
import type { Client } from '@temporalio/client';
import { CASE_WORKFLOW_TYPE, parseCaseId, type CaseView } from '../core/contracts';
import type { ArchiveCursor } from '../infra/stores/archive';
import { SA } from '../workflows/definitions';
import type { CaseServiceOptions } from './case-calls';
import type { CaseSummary, EndedCases } from './case-reads';
import { temporalRead, TEMPORAL_READ_MS } from './errors';
import type { EndedCasesQuery } from './schemas';

/** An account's ended cases a search lists, newest first. */
const ACCOUNT_CASES = 100;
/** Ended cases read per database query while filtering. */
const BATCH = 200;
/**
 * At most this many ended cases are read (and opened) for one page: a rare filter over a long archive answers a
 * short page with a `next` rather than reading the whole archive in one request.
 */
const SCAN_MAX = 2_000;
/** The identifiers a search may put into a visibility query: exactly what the API's schema accepts. */
const SEARCHABLE = /^[A-Za-z0-9_-]{1,64}(?:\.[0-9a-f]{12})?$/;

const cursorOf = (c: ArchiveCursor) => `${c.endedAt}~${c.caseId}`;

function endedSummary(endedAt: number, v: CaseView): CaseSummary {
  return {
    caseId: v.caseId,
    accountId: v.accountId,
    status: v.status,
    tier: v.tier,
    open: false,
    outcome: v.outcome ?? null,
    reasonCodes: v.reasons.map((r) => r.code),
    openedAt: v.openedAt ?? null,
    endedAt: new Date(endedAt).toISOString(),
  };
}

export class CaseSearch {
  constructor(
    private readonly o: CaseServiceOptions,
    private readonly client: Client,
  ) {}

  /**
   * The cases a case ID or an account ID names: an archived case answers without Temporal; an account's open case
   * (at most one) comes from visibility, which lags its case by a moment.
   */
  async search(q: string): Promise<CaseSummary[]> {
    if (!SEARCHABLE.test(q)) return [];
    const archive = this.o.store.archive;
    if (parseCaseId(q)) {
      const [ended] = await archive.newest({ caseId: q, limit: 1 });
      return ended ? [endedSummary(ended.endedAt, ended.view)] : this.openCases(`CordonCaseId = "${q}"`);
    }
    const [open, ended] = await Promise.all([
      this.openCases(`CordonAccountId = "${q}"`),
      archive.newest({ accountId: q, limit: ACCOUNT_CASES }),
    ]);
    const archived = new Set(ended.map((e) => e.view.caseId));
    // A case between its end and its workflow's completion is in both: the archive's word is final.
    return [
      ...open.filter((c) => !archived.has(c.caseId)),
      ...ended.map((e) => endedSummary(e.endedAt, e.view)),
    ];
  }

  /** Ended cases newest first, filtered by outcome, reason code and account, a page at a time. */
  async ended(q: EndedCasesQuery): Promise<EndedCases> {
    const items: CaseSummary[] = [];
    let before = q.after;
    let scanned = 0;
    for (;;) {
      const batch = await this.o.store.archive.newest({
        accountId: q.accountId,
        from: q.from,
        to: q.to,
        before,
        limit: BATCH,
      });
      for (const [i, { endedAt, view }] of batch.entries()) {
        scanned += 1;
        before = { endedAt, caseId: view.caseId };
        const wanted =
          (q.outcome === undefined || view.outcome === q.outcome) &&
          (q.reason === undefined || view.reasons.some((r) => r.code === q.reason));
        if (wanted) items.push(endedSummary(endedAt, view));
        if (items.length === q.limit) {
          const more = i < batch.length - 1 || batch.length === BATCH;
          return { items, next: more ? cursorOf(before) : null };
        }
      }
      if (batch.length < BATCH) return { items, next: null };
      if (scanned >= SCAN_MAX) return { items, next: cursorOf(before!) };
    }
  }

  /** Running case workflows matching a filter on their search attributes (codes and identifiers only). */
  private openCases(filter: string): Promise<CaseSummary[]> {
    const query = `WorkflowType = "${CASE_WORKFLOW_TYPE}" AND ExecutionStatus = "Running" AND ${filter}`;
    return temporalRead(this.client, TEMPORAL_READ_MS, async () => {
      const found: CaseSummary[] = [];
      for await (const wf of this.client.workflow.list({ query })) {
        const sa = wf.typedSearchAttributes;
        const caseId = sa.get(SA.caseId);
        if (!caseId) continue; // a run that opened no case
        found.push({
          caseId,
          accountId: sa.get(SA.accountId) ?? '',
          status: sa.get(SA.status) ?? '',
          tier: sa.get(SA.tier) ?? '',
          open: true,
          outcome: null,
          reasonCodes: sa.get(SA.reasonCodes) ?? [],
          openedAt: null,
          endedAt: null,
        });
      }
      return found;
    });
  }
}
