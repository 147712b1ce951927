// A reproducible synthetic stream of risk events with labels, for backtests and the what-if that anyone can
// regenerate: the same options always give the same events in the same order. Events are produced in time
// order with one small state per account (a heap keyed by each account's next event), so memory grows with
// the number of accounts, never with the number of days or events.
import type { Entities, RiskEvent } from '../core/events';
import { entityPlanner, type EntityPlanner } from './gen-entities';
import { prng, type Draft, type GenOptions, type Label, type Pending } from './gen-kit';

export { prng, type Draft, type GenOptions, type Label, type Pending } from './gen-kit';

export const PATTERNS = [
  'legitimate',
  'account-takeover',
  'scam-after-borrowing',
  'many-lender-borrowing',
  'data-source-outage',
] as const;
/** The patterns only `entities: true` (`gen --entities`) produces (lab/gen-entities.ts). */
export const ENTITY_PATTERNS = ['device-farm', 'mule-payee', 'credential-stuffing'] as const;
export type Pattern = (typeof PATTERNS)[number];

export interface LabelledEvent {
  event: RiskEvent;
  label: Label;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

interface AccountState {
  index: number;
  id: string;
  /** The next background event (Infinity: none before the end). */
  nextBackground: number;
  /** Events of an incident already planned, in time order (a handful at most). */
  planned: Pending[];
  /** An incident yet to begin (its start), or Infinity. */
  incidentAt: number;
  incident: Pattern | null;
}

const LEGIT: Label = { fraud: false, pattern: 'legitimate' };
const SOURCES = ['credit-bureau', 'device-intel', 'watchlist'];

/** Min-heap of accounts by their next event time, ties broken by account index (deterministic). */
class Heap {
  private items: AccountState[] = [];
  constructor(private readonly key: (a: AccountState) => number) {}
  get size(): number {
    return this.items.length;
  }
  private less(a: AccountState, b: AccountState): boolean {
    const ka = this.key(a);
    const kb = this.key(b);
    return ka < kb || (ka === kb && a.index < b.index);
  }
  push(a: AccountState): void {
    const items = this.items;
    items.push(a);
    let i = items.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(items[i]!, items[p]!)) break;
      [items[i], items[p]] = [items[p]!, items[i]!];
      i = p;
    }
  }
  pop(): AccountState | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && this.less(items[l]!, items[m]!)) m = l;
        if (r < items.length && this.less(items[r]!, items[m]!)) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m]!, items[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** The synthetic stream, in time order. */
export function* generateEvents(o: GenOptions): Generator<LabelledEvent> {
  if (!(Number.isInteger(o.accounts) && o.accounts > 0))
    throw new Error('accounts must be a positive integer');
  if (!(o.days > 0)) throw new Error('days must be positive');
  const rand = prng(o.seed);
  const start = Date.parse(o.start ?? '2026-10-01T00:00:00Z');
  if (Number.isNaN(start)) throw new Error(`invalid start ${o.start}`);
  const end = start + o.days * DAY;
  const perDay = o.eventsPerDay ?? 0.8;
  const width = String(o.accounts - 1).length;

  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const chance = (p: number) => rand() < p;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const gap = () => (-Math.log(1 - rand()) / perDay) * DAY;

  // Data-source outages: on about one day in four a source fails for 30 minutes to 3 hours; every lookup an
  // account's event makes meanwhile also yields a DATA_SOURCE_ERROR (never evidence of risk).
  const outages: { from: number; to: number; source: string }[] = [];
  for (let d = 0; d < o.days; d++) {
    if (chance(0.25) || d === 0) {
      const from = start + d * DAY + int(0, 20) * HOUR;
      outages.push({ from, to: from + int(30, 180) * MINUTE, source: pick(SOURCES) });
    }
  }

  const key = (a: AccountState) => Math.min(a.nextBackground, a.planned[0]?.at ?? Infinity, a.incidentAt);
  const heap = new Heap(key);
  // Its own random stream, so the events without entities stay exactly those of a run without them.
  const ents: EntityPlanner | null = o.entities ? entityPlanner(o, start, end, width) : null;
  for (let i = 0; i < o.accounts; i++) {
    const roll = rand();
    const incident: Pattern | null =
      roll < 0.008
        ? 'account-takeover'
        : roll < 0.013
          ? 'scam-after-borrowing'
          : roll < 0.02
            ? 'many-lender-borrowing'
            : null;
    const a: AccountState = {
      index: i,
      id: `acct-${String(i).padStart(width, '0')}`,
      nextBackground: start + gap(),
      planned: [],
      incidentAt: incident ? start + rand() * (end - start) : Infinity,
      incident,
    };
    // Coverage for small streams: the first accounts have every incident kind, and the fourth the rare
    // legitimate events (a regulatory hold, an unconfirmed fraud report...) on its first day.
    if (i < 3 && o.accounts >= 3) {
      a.incident = (['account-takeover', 'scam-after-borrowing', 'many-lender-borrowing'] as const)[i]!;
      a.incidentAt = start + rand() * Math.min(end - start, DAY / 2);
    }
    if (i === 3) {
      const rare: Draft[] = [
        { type: 'REGULATORY_HOLD', attributes: { reference: `REG-${int(1000, 99999)}` } },
        { type: 'FRAUD_REPORT', attributes: { source: 'consortium', confirmed: false } },
        { type: 'VERIFICATION_FAILED', attributes: { method: 'OTP' } },
        { type: 'USER_ACTION_BURST', attributes: { action: 'link' } },
      ];
      for (const draft of rare)
        a.planned.push({ at: start + rand() * Math.min(end - start, DAY), draft, label: LEGIT });
      a.planned.sort((x, y) => x.at - y.at);
    }
    if (ents) {
      const extra = ents.patternEvents(i);
      if (extra.length) {
        a.planned.push(...extra);
        a.planned.sort((x, y) => x.at - y.at);
      }
    }
    if (key(a) < end) heap.push(a);
  }

  let seq = 0;
  const iso = (t: number) => new Date(Math.floor(t)).toISOString();
  const make = (
    a: AccountState,
    at: number,
    draft: Draft,
    label: Label,
    entities?: Entities,
  ): LabelledEvent => {
    const event = {
      eventId: `ev-${o.seed}-${seq++}`.replace(/[^A-Za-z0-9._:-]/g, '_').slice(0, 128),
      accountId: a.id,
      type: draft.type,
      occurredAt: iso(at),
      attributes: draft.attributes,
    } as RiskEvent & { entities?: Entities };
    if (ents) {
      const e = entities ?? ents.background(a.index, draft, label);
      if (e) event.entities = e;
    }
    return { event, label };
  };

  const background = (): Draft => {
    const r = rand();
    if (r < 0.5)
      return chance(0.9)
        ? { type: 'LOGIN', attributes: { newDevice: false, minutesSinceLastLogin: int(30, 5000) } }
        : {
            type: 'LOGIN',
            attributes: {
              newDevice: true,
              geoDistanceKm: chance(0.85) ? int(0, 300) : int(300, 9000),
              minutesSinceLastLogin: int(60, 20000),
            },
          };
    if (r < 0.6)
      return {
        type: 'LOGIN_FAILED',
        attributes: { consecutiveFailures: chance(0.95) ? int(1, 2) : int(3, 5) },
      };
    if (r < 0.75) {
      const newPayee = chance(0.15);
      return {
        type: 'TRANSFER_ATTEMPT',
        attributes: { toNewPayee: newPayee, amount: chance(0.96) ? int(5, 2000) : int(2000, 12000) },
      };
    }
    if (r < 0.84) {
      const limit = pick([1000, 2000, 5000, 10000, 20000]);
      return {
        type: 'BORROW_REQUEST',
        attributes: {
          amount: Math.round(limit * rand() * 0.95),
          requestsLast24h: int(0, 3),
          creditLimit: limit,
        },
      };
    }
    if (r < 0.9)
      return {
        type: 'CREDIT_REPORT',
        attributes: {
          lendersLast30d: chance(0.97) ? int(0, 3) : int(4, 5),
          scoreDelta: chance(0.97) ? int(-60, 40) : int(-120, -60),
          overdueDays: chance(0.98) ? 0 : int(1, 60),
        },
      };
    if (r < 0.995)
      return {
        type: 'IDENTITY_CHECK',
        attributes: chance(0.99)
          ? { matched: true }
          : { matched: false, field: pick(['name', 'address', 'dob']) },
      };
    if (r < 0.9965)
      return { type: 'VERIFICATION_FAILED', attributes: { method: pick(['OTP', 'DOCUMENT', 'SELFIE']) } };
    if (r < 0.9975)
      return {
        type: 'FRAUD_REPORT',
        attributes: { source: pick(['card-network', 'consortium']), confirmed: chance(0.05) },
      };
    if (r < 0.9985)
      return {
        type: 'USER_ACTION_BURST',
        attributes: { action: pick(['appeal', 'info', 'verification', 'confirmation', 'link'] as const) },
      };
    return chance(0.3)
      ? { type: 'REGULATORY_HOLD', attributes: { reference: `REG-${int(1000, 99999)}` } }
      : { type: 'LOGIN', attributes: { newDevice: false } };
  };

  const plan = (a: AccountState, at0: number): void => {
    const label: Label = { fraud: true, pattern: a.incident! };
    const out: Pending[] = [];
    let at = at0;
    const add = (dt: number, draft: Draft) => {
      at += dt;
      out.push({ at, draft, label });
    };
    switch (a.incident) {
      case 'account-takeover': {
        const tries = int(3, 9);
        for (let f = 1; f <= tries; f++)
          add(int(5, 40) * 1000, { type: 'LOGIN_FAILED', attributes: { consecutiveFailures: f } });
        add(int(1, 30) * MINUTE, {
          type: 'LOGIN',
          attributes: { newDevice: true, geoDistanceKm: int(500, 9000), minutesSinceLastLogin: int(5, 170) },
        });
        if (chance(0.5))
          add(int(1, 10) * MINUTE, {
            type: 'IDENTITY_CHECK',
            attributes: { matched: false, field: 'phone' },
          });
        if (chance(0.4))
          add(int(1, 10) * MINUTE, { type: 'VERIFICATION_FAILED', attributes: { method: 'OTP' } });
        if (chance(0.2))
          add(int(1, 5) * MINUTE, { type: 'USER_ACTION_BURST', attributes: { action: 'verification' } });
        if (chance(0.7))
          add(int(2, 30) * MINUTE, {
            type: 'TRANSFER_ATTEMPT',
            attributes: { toNewPayee: true, amount: int(3000, 20000) },
          });
        if (chance(0.3))
          add(int(2, 48) * HOUR, {
            type: 'FRAUD_REPORT',
            attributes: { source: 'card-network', confirmed: true },
          });
        break;
      }
      case 'scam-after-borrowing': {
        const limit = pick([2000, 5000, 10000, 20000]);
        add(0, {
          type: 'BORROW_REQUEST',
          attributes: {
            amount: Math.round(limit * (0.85 + rand() * 0.15)),
            requestsLast24h: int(0, 2),
            creditLimit: limit,
          },
        });
        add(int(3, 40) * MINUTE, {
          type: 'TRANSFER_ATTEMPT',
          attributes: {
            toNewPayee: true,
            amount: Math.round(limit * (0.8 + rand() * 0.2)),
            duringCall: chance(0.8),
            justBorrowed: true,
          },
        });
        if (chance(0.3))
          add(int(1, 20) * MINUTE, {
            type: 'TRANSFER_ATTEMPT',
            attributes: { toNewPayee: true, amount: int(500, 3000), duringCall: true, justBorrowed: true },
          });
        break;
      }
      case 'many-lender-borrowing': {
        add(0, {
          type: 'CREDIT_REPORT',
          attributes: {
            lendersLast30d: int(5, 12),
            scoreDelta: int(-160, -30),
            overdueDays: chance(0.4) ? int(30, 120) : 0,
          },
        });
        const limit = pick([1000, 2000, 5000]);
        const n = int(2, 6);
        for (let k = 0; k < n; k++)
          add(int(20, 300) * MINUTE, {
            type: 'BORROW_REQUEST',
            attributes: {
              amount: Math.round(limit * (0.6 + rand() * 0.4)),
              requestsLast24h: k + int(2, 4),
              creditLimit: limit,
            },
          });
        break;
      }
      default:
        break;
    }
    a.planned.push(...out);
    a.planned.sort((x, y) => x.at - y.at);
  };

  while (heap.size) {
    const a = heap.pop()!;
    const plannedAt = a.planned[0]?.at ?? Infinity;
    const at = key(a);
    if (at >= end) continue;
    if (a.incidentAt === at) {
      a.incidentAt = Infinity;
      plan(a, at);
    } else if (plannedAt === at) {
      const p = a.planned.shift()!;
      yield make(a, p.at, p.draft, p.label, p.entities);
    } else {
      yield make(a, at, background(), LEGIT);
      a.nextBackground = at + gap();
      const outage = outages.find((w) => w.from <= at && at < w.to);
      if (outage && chance(0.7))
        a.planned.unshift({
          at: at + 1000,
          draft: { type: 'DATA_SOURCE_ERROR', attributes: { source: outage.source } },
          label: { fraud: false, pattern: 'data-source-outage' },
        });
      a.planned.sort((x, y) => x.at - y.at);
    }
    if (key(a) < end) heap.push(a);
  }
}
