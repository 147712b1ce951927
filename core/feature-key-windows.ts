// The windows of one group of features (those with the same `by`) for every key, for core/feature-windows.ts.
// Built for millions of events: a key is a slot, and a slot's numbers (for each feature: its cursor, bounds and
// aggregate) sit side by side in one Float64Array, so reading a key's features touches one small stretch of
// memory and none of those numbers is an object for the garbage collector; a window's events are two plain
// arrays, times (unboxed doubles) and values, made at its first event.
//
// A window holds its feature's events for the key sorted by time (ties in arrival order) and a cursor: the
// aggregate (count, compensated sum, or how many events carry each distinct value) of the positions [lo, hi) the
// last read covered. A read moves the cursor's ends to (t − window, t]: in time order that is the new position
// added and the few the window left behind taken out (amortised O(1)), and when the key recorded nothing new for
// the feature and nothing left the window, nothing at all (the arrays are not even read). A late event is
// inserted where its time puts it and the cursor is fitted again in full at the next read. Positions at or
// before the clock − (window + late tolerance) are dropped from a window's head when it is next touched.

/** A window's events: all that is not a number in its slot. */
interface WindowEvents {
  /** occurredAt (ms), ascending; ties in arrival order. */
  readonly times: number[];
  /** sum: the attribute's value; distinct: the value's DistinctValue; count: empty. */
  readonly values: (number | DistinctValue)[];
  /** distinct: the values the window's positions hold. */
  readonly distinct: Map<string, DistinctValue> | null;
}

/** A distinct value in one window: the positions holding it share it (no string kept per event). */
interface DistinctValue {
  readonly value: string;
  /** Positions of the window holding it (until they are dropped); at 0 it leaves the window's map. */
  refs: number;
  /** Positions of the cursor holding it. */
  inCursor: number;
}

export type Aggregate = 'count' | 'sum' | 'distinct';

/** What the windows need of a feature. */
export interface WindowFeature {
  aggregate: Aggregate;
  windowMs: number;
}

// A slot's numbers: the key's newest event and the expiry slot it was last queued in, then per feature:
const KEY_NEWEST = 0;
const QUEUED = 1;
const KEY_FIELDS = 2;
/** times[start] (Infinity when empty): whether anything expired is checked without reading the arrays. */
const OLDEST = 0;
/** The feature's latest event for the key (-Infinity when none). */
const NEWEST = 1;
/**
 * The window start (t − window) the cursor was last fitted to: every position below lo is at or before it, and
 * EDGE (times[lo], Infinity past the end) after it. NaN once a late event is inserted: fit it again in full.
 */
const FITTED = 2;
const EDGE = 3;
const LO = 4;
const HI = 5;
/** Positions below START are expired; END is the arrays' length. */
const END = 6;
const START = 7;
/** sum: a compensated (Neumaier) running sum, SUM + COMP, so adding and removing values does not drift. */
const SUM = 8;
const COMP = 9;
/** distinct: how many distinct values the cursor holds. */
const DISTINCT = 10;
const FEATURE_FIELDS = 11;
/** A window's arrays are compacted once this many expired positions lead them and they are half of it. */
const COMPACT_AFTER = 32;

/** The times of a window with no event yet (never written). */
const NO_TIMES: readonly number[] = [];

const COUNT = 0;
const SUM_OF = 1;
const DISTINCT_OF = 2;

export class KeyWindows {
  /** Each key's slot. */
  private readonly keys = new Map<string, number>();
  private readonly keyOfSlot: (string | undefined)[] = [];
  private readonly free: number[] = [];
  private slots = 0;
  private readonly stride: number;
  private readonly fresh: Float64Array;
  private num: Float64Array;
  private readonly agg: number[];
  private readonly windowMs: number[];
  /** Per slot and feature (slot · features + f): the window's events, from its first. */
  private readonly events: (WindowEvents | undefined)[] = [];

  constructor(features: readonly WindowFeature[]) {
    this.agg = features.map((f) =>
      f.aggregate === 'count' ? COUNT : f.aggregate === 'sum' ? SUM_OF : DISTINCT_OF,
    );
    this.windowMs = features.map((f) => f.windowMs);
    this.stride = KEY_FIELDS + features.length * FEATURE_FIELDS;
    this.fresh = new Float64Array(this.stride);
    this.fresh[KEY_NEWEST] = -Infinity;
    this.fresh[QUEUED] = NaN;
    for (let f = 0; f < features.length; f++) {
      const b = KEY_FIELDS + f * FEATURE_FIELDS;
      this.fresh[b + OLDEST] = Infinity;
      this.fresh[b + NEWEST] = -Infinity;
      this.fresh[b + FITTED] = NaN;
      this.fresh[b + EDGE] = Infinity;
    }
    this.num = new Float64Array(64 * this.stride);
  }

  /** Keys with a slot. */
  get size(): number {
    return this.keys.size;
  }

  /** The key's slot, -1 if it has none. */
  find(key: string): number {
    return this.keys.get(key) ?? -1;
  }

  /** The key's slot, a new one if it has none. */
  open(key: string): number {
    const known = this.keys.get(key);
    if (known !== undefined) return known;
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.slots++;
      if (this.slots * this.stride > this.num.length) {
        const num = new Float64Array(this.num.length * 2);
        num.set(this.num);
        this.num = num;
      }
    }
    this.num.set(this.fresh, slot * this.stride);
    this.keys.set(key, slot);
    this.keyOfSlot[slot] = key;
    return slot;
  }

  /** Drops the key of `slot` if its newest event is at or before `cut` (a slot may be queued more than once). */
  closeIfIdle(slot: number, cut: number): void {
    const key = this.keyOfSlot[slot];
    if (key === undefined || !(this.num[slot * this.stride + KEY_NEWEST]! <= cut)) return;
    this.keys.delete(key);
    this.keyOfSlot[slot] = undefined;
    const n = this.agg.length;
    for (let k = slot * n; k < slot * n + n; k++) this.events[k] = undefined;
    this.free.push(slot);
  }

  /** Notes an event at `t` for the key; returns the expiry slot to queue it in, or NaN if it is queued there. */
  touch(slot: number, t: number, slotMs: number): number {
    const b = slot * this.stride;
    const num = this.num;
    if (!(t > num[b + KEY_NEWEST]!)) return NaN;
    num[b + KEY_NEWEST] = t;
    const queue = Math.floor(t / slotMs);
    if (queue === num[b + QUEUED]) return NaN;
    num[b + QUEUED] = queue;
    return queue;
  }

  /** Records one event of feature f at `t` (value: sum's number, distinct's string), after equal times. */
  insert(slot: number, f: number, t: number, value: number | string, cut: number): void {
    const num = this.num;
    const b = slot * this.stride + KEY_FIELDS + f * FEATURE_FIELDS;
    const k = slot * this.agg.length + f;
    if (num[b + OLDEST]! <= cut) this.dropExpired(b, k, f, cut);
    const agg = this.agg[f]!;
    let events = this.events[k];
    if (!events)
      this.events[k] = events = { times: [], values: [], distinct: agg === DISTINCT_OF ? new Map() : null };
    const { times, values } = events;
    let stored: number | DistinctValue | undefined;
    if (agg === SUM_OF) stored = value as number;
    const start = num[b + START]!;
    const end = num[b + END]!;
    if (events.distinct) {
      // Most often the value of the key's last event again (a device's one account): no map look-up then.
      const last = end > start ? (values[end - 1] as DistinctValue) : undefined;
      stored = last !== undefined && last.value === value ? last : events.distinct.get(value as string);
      if (!stored)
        events.distinct.set(value as string, (stored = { value: value as string, refs: 0, inCursor: 0 }));
      stored.refs++;
    }
    // NEWEST is times[end - 1] whenever a position is kept (the latest goes last, and expires last).
    if (end === start || num[b + NEWEST]! <= t) {
      // In time order (nearly always): appended; the cursor is fitted at the next read.
      times.push(t);
      if (stored !== undefined) values.push(stored);
      if (end === start) num[b + OLDEST] = t;
    } else {
      // A late event: into its place. The cursor's positions at or after it move up one; if it falls inside
      // the cursor, the cursor now covers it too.
      const p = upperBound(times, start, end, t);
      times.splice(p, 0, t);
      if (stored !== undefined) values.splice(p, 0, stored);
      if (p === start) num[b + OLDEST] = t;
      if (p < num[b + LO]!) {
        num[b + LO]!++;
        num[b + HI]!++;
      } else if (p < num[b + HI]!) {
        num[b + HI]!++;
        this.put(b, k, agg, p);
      }
      num[b + FITTED] = NaN;
    }
    num[b + END] = end + 1;
    if (t > num[b + NEWEST]!) num[b + NEWEST] = t;
  }

  /** Feature f's value over (t − window, t] for the key: its cursor moved there. */
  read(slot: number, f: number, t: number, cut: number): number {
    const num = this.num;
    const b = slot * this.stride + KEY_FIELDS + f * FEATURE_FIELDS;
    const k = slot * this.agg.length + f;
    if (num[b + OLDEST]! <= cut) this.dropExpired(b, k, f, cut);
    const from = t - this.windowMs[f]!; // exclusive
    // Unchanged since the last read (no event past the cursor, none leaving it): nothing to move.
    if (!(
      num[b + HI] === num[b + END] &&
      num[b + NEWEST]! <= t &&
      from >= num[b + FITTED]! &&
      num[b + EDGE]! > from
    ))
      this.fit(b, k, f, t, from);
    const agg = this.agg[f]!;
    return agg === COUNT
      ? num[b + HI]! - num[b + LO]!
      : agg === SUM_OF
        ? roundSum(num[b + SUM]! + num[b + COMP]!)
        : num[b + DISTINCT]!;
  }

  /** Moves the cursor to the positions in (from, t]. */
  private fit(b: number, k: number, f: number, t: number, from: number): void {
    const num = this.num;
    const agg = this.agg[f]!;
    const times = this.events[k]?.times ?? NO_TIMES;
    const end = num[b + END]!;
    const hi = num[b + NEWEST]! <= t ? end : upperBound(times, num[b + START]!, end, t);
    let lo: number;
    if (from >= num[b + FITTED]!) {
      // Forward from the last fit (every position below LO is at or before `from`): a short walk.
      lo = num[b + LO]!;
      while (lo < hi && times[lo]! <= from) lo++;
    } else lo = upperBound(times, num[b + START]!, hi, from);
    if (lo >= num[b + HI]! || hi <= num[b + LO]!) this.clearCursor(b, k, agg, lo);
    // Grow before shrinking, so the cursor never turns inside out; in time order: one put, a few takes.
    let cHi = num[b + HI]!;
    let cLo = num[b + LO]!;
    while (cHi < hi) this.put(b, k, agg, cHi++);
    while (cLo > lo) this.put(b, k, agg, --cLo);
    while (cHi > hi) this.take(b, k, agg, --cHi);
    while (cLo < lo) this.take(b, k, agg, cLo++);
    num[b + HI] = hi;
    num[b + LO] = lo;
    num[b + FITTED] = from;
    num[b + EDGE] = lo < end ? times[lo]! : Infinity;
    if (agg === SUM_OF) {
      // Nothing left: exactly zero, whatever the additions left. A sum past the largest double (only attributes
      // without a bound can get there) cannot be taken apart again: add the cursor's values afresh, plainly if
      // even they pass it (Infinity, as a rescan gives).
      if (hi === lo) num[b + SUM] = num[b + COMP] = 0;
      else if (!Number.isFinite(num[b + SUM]! + num[b + COMP]!)) {
        num[b + SUM] = num[b + COMP] = 0;
        for (let p = lo; p < hi; p++) this.put(b, k, agg, p);
        if (!Number.isFinite(num[b + SUM]! + num[b + COMP]!)) {
          const values = this.events[k]!.values;
          let plain = 0;
          for (let p = lo; p < hi; p++) plain += values[p] as number;
          num[b + SUM] = plain;
          num[b + COMP] = 0;
        }
      }
    }
  }

  /** Drops the positions at or before `cut` (no read that is not too late reaches them). */
  private dropExpired(b: number, k: number, f: number, cut: number): void {
    const num = this.num;
    const { times, values, distinct } = this.events[k]!;
    const end = num[b + END]!;
    const from = num[b + START]!;
    let start = from;
    while (start < end && times[start]! <= cut) start++;
    num[b + OLDEST] = start < end ? times[start]! : Infinity;
    const agg = this.agg[f]!;
    if (num[b + LO]! < start) {
      // The cursor covered some of them: leave it on the first position kept, to be fitted again.
      if (num[b + HI]! <= start) this.clearCursor(b, k, agg, start);
      else {
        for (let p = num[b + LO]!; p < start; p++) this.take(b, k, agg, p);
        num[b + LO] = start;
      }
      num[b + FITTED] = NaN;
    }
    if (agg === DISTINCT_OF) {
      for (let p = from; p < start; p++) {
        const d = values[p] as DistinctValue;
        if (--d.refs === 0) distinct!.delete(d.value);
      }
    }
    num[b + START] = start;
    if (start >= COMPACT_AFTER && start * 2 >= end) {
      times.copyWithin(0, start, end);
      times.length = end - start;
      if (values.length) {
        values.copyWithin(0, start, end);
        values.length = end - start;
      }
      num[b + LO] = num[b + LO]! - start;
      num[b + HI] = num[b + HI]! - start;
      num[b + END] = end - start;
      num[b + START] = 0;
    }
  }

  /** Adds position p to the cursor's aggregate. */
  private put(b: number, k: number, agg: number, p: number): void {
    if (agg === SUM_OF) this.addToSum(b, this.events[k]!.values[p] as number);
    else if (agg === DISTINCT_OF && (this.events[k]!.values[p] as DistinctValue).inCursor++ === 0)
      this.num[b + DISTINCT]!++;
  }

  /** Takes position p out of the cursor's aggregate. */
  private take(b: number, k: number, agg: number, p: number): void {
    if (agg === SUM_OF) this.addToSum(b, -(this.events[k]!.values[p] as number));
    else if (agg === DISTINCT_OF && --(this.events[k]!.values[p] as DistinctValue).inCursor === 0)
      this.num[b + DISTINCT]!--;
  }

  /** Neumaier's compensated addition: the low-order part each addition loses is kept in COMP. */
  private addToSum(b: number, x: number): void {
    const num = this.num;
    const sum = num[b + SUM]!;
    const t = sum + x;
    num[b + COMP] = num[b + COMP]! + (Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum);
    num[b + SUM] = t;
  }

  /** An empty cursor at position p. */
  private clearCursor(b: number, k: number, agg: number, p: number): void {
    const num = this.num;
    if (agg === DISTINCT_OF && num[b + HI]! > num[b + LO]!) {
      const values = this.events[k]!.values;
      for (let q = num[b + LO]!; q < num[b + HI]!; q++) (values[q] as DistinctValue).inCursor = 0;
    }
    num[b + LO] = num[b + HI] = p;
    num[b + SUM] = num[b + COMP] = num[b + DISTINCT] = 0;
  }
}

/** The first position in [from, to) whose time is after `t` (to when none). */
function upperBound(times: readonly number[], from: number, to: number, t: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A sum as every store reports it: to 6 decimal places, so the order of the additions does not show. */
export function roundSum(sum: number): number {
  return Math.round(sum * 1e6) / 1e6;
}
