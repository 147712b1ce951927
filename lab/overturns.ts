// Overturn rates: for each rule and reason code, how many of the restrictions it caused were lifted by a
// reviewer (an UNLOCK, or a senior's break-glass LIFT) or by the user's own verification, with a Wilson 95%
// interval. The input is the case records Cordon's database archives for ended cases (infra/store.ts:
// CaseView with its reasons and timeline), so windows longer than Temporal's retention work.
import type { CaseView } from '../core/contracts';
import { wilson, type Interval } from './stats';

/** The parts of an archived case view the report reads (a CaseView is one). */
export type OverturnCase = Pick<
  CaseView,
  'caseId' | 'openedAt' | 'outcome' | 'tier' | 'reasons' | 'timeline'
>;

/** Restrictions caused within [from, to) (epoch ms), by the case's openedAt. */
export interface OverturnWindow {
  from: number;
  to: number;
}

/** How a case's restriction ended, as far as overturns are concerned. */
export type Ending =
  | 'LIFTED_BY_REVIEWER'
  | 'LIFTED_BY_VERIFICATION'
  | 'UPHELD'
  | 'CLOSED'
  /** A temporary lockout that lifted itself and whose watch period ended: no one judged it. */
  | 'SELF_LIFTED'
  /** Every event was retracted by the backend: a reporting error, not a judgement on the rule. */
  | 'RETRACTED'
  | 'OPEN';

export interface OverturnRow {
  /** The rule ID (rules) or the reason code (reasons). */
  key: string;
  restrictions: number;
  /** Restrictions someone judged: all but open, self-lifted and retracted ones (the rate's denominator). */
  decided: number;
  liftedByReviewer: number;
  liftedByVerification: number;
  /** Of liftedByReviewer: lifted by a senior's break glass. */
  breakGlass: number;
  upheld: number;
  closed: number;
  selfLifted: number;
  retracted: number;
  open: number;
  overturned: number;
  /** overturned / decided, with its Wilson 95% interval; null when nothing was decided. */
  rate: number | null;
  interval: Interval | null;
}

export interface OverturnReport {
  window: { from: string; to: string };
  cases: number;
  overall: OverturnRow;
  rules: OverturnRow[];
  reasons: OverturnRow[];
}

/** How one case ended (see Ending). */
export function endingOf(c: OverturnCase): { ending: Ending; breakGlass: boolean } {
  if (c.outcome === null) return { ending: 'OPEN', breakGlass: false };
  if (c.outcome === 'UPHELD') return { ending: 'UPHELD', breakGlass: false };
  if (c.outcome === 'CLOSED') return { ending: 'CLOSED', breakGlass: false };
  const tl = c.timeline;
  let lastDecision: string | undefined;
  let verified = false;
  let retracted = false;
  let breakGlassLift = false;
  for (const e of tl) {
    if (e.type === 'DECISION') lastDecision = String(e.decision);
    else if (e.type === 'VERIFICATION') verified = e.passed === true;
    else if (e.type === 'BREAK_GLASS' && e.action === 'LIFT') breakGlassLift = true;
    else if (e.type === 'EVENT_RETRACTED') retracted = true;
  }
  if (breakGlassLift) return { ending: 'LIFTED_BY_REVIEWER', breakGlass: true };
  const outcome = [...tl].reverse().find((e) => e.type === 'OUTCOME');
  const by = outcome?.actor.kind;
  // An UNLOCK that needed approval ends under the approver: a reviewer too.
  if (lastDecision === 'UNLOCK' && by === 'reviewer')
    return { ending: 'LIFTED_BY_REVIEWER', breakGlass: false };
  if (verified && by !== 'system') return { ending: 'LIFTED_BY_VERIFICATION', breakGlass: false };
  if (retracted) return { ending: 'RETRACTED', breakGlass: false };
  if (lastDecision === 'UNLOCK') return { ending: 'LIFTED_BY_REVIEWER', breakGlass: false };
  return { ending: 'SELF_LIFTED', breakGlass: false };
}

function emptyRow(key: string): OverturnRow {
  return {
    key,
    restrictions: 0,
    decided: 0,
    liftedByReviewer: 0,
    liftedByVerification: 0,
    breakGlass: 0,
    upheld: 0,
    closed: 0,
    selfLifted: 0,
    retracted: 0,
    open: 0,
    overturned: 0,
    rate: null,
    interval: null,
  };
}

function count(row: OverturnRow, ending: Ending, breakGlass: boolean): void {
  row.restrictions++;
  switch (ending) {
    case 'LIFTED_BY_REVIEWER':
      row.liftedByReviewer++;
      if (breakGlass) row.breakGlass++;
      break;
    case 'LIFTED_BY_VERIFICATION':
      row.liftedByVerification++;
      break;
    case 'UPHELD':
      row.upheld++;
      break;
    case 'CLOSED':
      row.closed++;
      break;
    case 'SELF_LIFTED':
      row.selfLifted++;
      break;
    case 'RETRACTED':
      row.retracted++;
      break;
    case 'OPEN':
      row.open++;
      break;
  }
}

function finish(row: OverturnRow): OverturnRow {
  row.overturned = row.liftedByReviewer + row.liftedByVerification;
  row.decided = row.overturned + row.upheld + row.closed;
  row.rate = row.decided > 0 ? row.overturned / row.decided : null;
  row.interval = wilson(row.overturned, row.decided);
  return row;
}

/**
 * The same over an async stream of cases (e.g. `store.archive.ended(from, Date.now())`), one case in memory at a
 * time: for the report route, which reads the archive in pages.
 */
export async function overturnRatesAsync(
  cases: AsyncIterable<OverturnCase> | Iterable<OverturnCase>,
  window: OverturnWindow,
): Promise<OverturnReport> {
  const acc = new OverturnAccumulator(window);
  for await (const c of cases) acc.add(c);
  return acc.report();
}

/**
 * For each rule and reason code: the restrictions it caused (cases opened within the window in which it
 * contributed), how they ended, and the overturn rate (lifted by a reviewer or by verification, out of those
 * someone judged) with its Wilson 95% interval. Rows are sorted by rate, highest first.
 */
export function overturnRates(cases: Iterable<OverturnCase>, window: OverturnWindow): OverturnReport {
  const acc = new OverturnAccumulator(window);
  for (const c of cases) acc.add(c);
  return acc.report();
}

/** Counts cases one at a time (constant memory per rule and reason), then reports. */
export class OverturnAccumulator {
  private readonly rules = new Map<string, OverturnRow>();
  private readonly reasons = new Map<string, OverturnRow>();
  private readonly overall = emptyRow('(all)');
  private n = 0;

  constructor(private readonly window: OverturnWindow) {}

  /** One case; ignored unless it opened within the window. */
  add(c: OverturnCase): void {
    const opened = Date.parse(c.openedAt);
    if (!(opened >= this.window.from && opened < this.window.to)) return;
    this.n++;
    const { ending, breakGlass } = endingOf(c);
    count(this.overall, ending, breakGlass);
    for (const id of new Set(c.reasons.map((r) => r.ruleId))) {
      if (!this.rules.has(id)) this.rules.set(id, emptyRow(id));
      count(this.rules.get(id)!, ending, breakGlass);
    }
    for (const code of new Set(c.reasons.map((r) => r.code))) {
      if (!this.reasons.has(code)) this.reasons.set(code, emptyRow(code));
      count(this.reasons.get(code)!, ending, breakGlass);
    }
  }

  report(): OverturnReport {
    const order = (a: OverturnRow, b: OverturnRow) =>
      (b.rate ?? -1) - (a.rate ?? -1) || b.restrictions - a.restrictions || (a.key < b.key ? -1 : 1);
    return {
      window: { from: new Date(this.window.from).toISOString(), to: new Date(this.window.to).toISOString() },
      cases: this.n,
      overall: finish({ ...this.overall }),
      rules: [...this.rules.values()].map((r) => finish({ ...r })).sort(order),
      reasons: [...this.reasons.values()].map((r) => finish({ ...r })).sort(order),
    };
  }
}
