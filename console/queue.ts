// The queue's order, filters and counts: pure functions over the API's review-queue items.
import type { ReviewQueueItem } from '../api/case-reads';
import { REASON_CODES, REVIEW_STATUSES, TIERS } from '../core/model';

export interface QueueRow extends Omit<ReviewQueueItem, 'reasonCodes'> {
  /** The case's reason codes (the API's queue item has them); null when they could not be read. */
  reasonCodes: string[] | null;
}

/** Queue items as queue rows: the API's items carry their reason codes (from the case's search attribute). */
export function queueRows(items: readonly ReviewQueueItem[]): QueueRow[] {
  return items.map((item) => ({ ...item, reasonCodes: [...item.reasonCodes] }));
}

export const FACETS = ['status', 'tier', 'reason', 'assignee', 'escalated', 'secondReview'] as const;
export type Facet = (typeof FACETS)[number];
export type QueueFilter = Partial<Record<Facet, string>>;

const ALLOWED: Record<Facet, readonly string[]> = {
  status: REVIEW_STATUSES,
  tier: TIERS.filter((t) => t !== 'NONE'),
  reason: REASON_CODES,
  assignee: ['mine', 'unassigned'],
  escalated: ['yes', 'no'],
  secondReview: ['yes', 'no'],
};

/** The filters of a query string: unknown values are dropped, never an error. */
export function parseFilter(query: Record<string, unknown>): QueueFilter {
  const filter: QueueFilter = {};
  for (const facet of FACETS) {
    const value = query[facet];
    if (typeof value === 'string' && ALLOWED[facet].includes(value)) filter[facet] = value;
  }
  return filter;
}

export function facetValues(facet: Facet): readonly string[] {
  return ALLOWED[facet];
}

type Deadlines = Pick<ReviewQueueItem, 'reviewDueAt' | 'approvalDueAt'>;

/** The deadline a row waits for: its review SLA, or while it waits for a second approval, the approval SLA. */
export const dueOf = (row: Deadlines): string | null => row.reviewDueAt ?? row.approvalDueAt ?? null;

/** Past its deadline: the API says so (escalated), or the deadline has passed since it answered. */
export function breached(row: Deadlines & Pick<ReviewQueueItem, 'escalated'>, now: number): boolean {
  const due = dueOf(row);
  return row.escalated || (due !== null && Date.parse(due) < now);
}

/** Breached cases first, then by the time left to the SLA (no deadline last). */
export function sortQueue<T extends Deadlines & Pick<ReviewQueueItem, 'escalated' | 'caseId'>>(
  rows: readonly T[],
  now: number,
): T[] {
  const due = (r: T) => {
    const at = dueOf(r);
    return at === null ? Number.POSITIVE_INFINITY : Date.parse(at);
  };
  return [...rows].sort(
    (a, b) =>
      Number(breached(b, now)) - Number(breached(a, now)) ||
      due(a) - due(b) ||
      a.caseId.localeCompare(b.caseId),
  );
}

function valueOf(row: QueueRow, facet: Facet, me: string, now: number): string[] {
  switch (facet) {
    case 'status':
      return [row.status];
    case 'tier':
      return [row.tier];
    case 'reason':
      return row.reasonCodes ?? [];
    case 'assignee':
      return row.assignee === null ? ['unassigned'] : row.assignee === me ? ['mine'] : [];
    case 'escalated':
      return [breached(row, now) ? 'yes' : 'no'];
    case 'secondReview':
      return [row.secondReview ? 'yes' : 'no'];
  }
}

function matches(row: QueueRow, filter: QueueFilter, me: string, now: number, except?: Facet): boolean {
  return FACETS.every((facet) => {
    const wanted = filter[facet];
    return facet === except || wanted === undefined || valueOf(row, facet, me, now).includes(wanted);
  });
}

export function applyFilter(
  rows: readonly QueueRow[],
  filter: QueueFilter,
  me: string,
  now: number,
): QueueRow[] {
  return rows.filter((r) => matches(r, filter, me, now));
}

/** For each facet value, how many cases it would show with the other filters kept. */
export function facetCounts(
  rows: readonly QueueRow[],
  filter: QueueFilter,
  me: string,
  now: number,
): Record<Facet, Map<string, number>> {
  const counts = Object.fromEntries(FACETS.map((f) => [f, new Map<string, number>()])) as Record<
    Facet,
    Map<string, number>
  >;
  for (const facet of FACETS) {
    const map = counts[facet];
    for (const row of rows) {
      if (!matches(row, filter, me, now, facet)) continue;
      map.set('', (map.get('') ?? 0) + 1);
      for (const v of new Set(valueOf(row, facet, me, now))) map.set(v, (map.get(v) ?? 0) + 1);
    }
  }
  return counts;
}
