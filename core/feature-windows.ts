// The policy's features over time, in memory: the window state the lab uses and the reference a database store
// must agree with (test/features.property.test.ts). Pure and exact: no clock but the events' own occurredAt.
//
// Semantics (docs/policy-and-lab.md, "Features"):
// - a feature's value for an event at t covers the recorded events with occurredAt in (t − window, t], the event
//   itself included, that match the feature's event types and have the event's key (its account, or its entity);
// - events may come in any order. The clock is the latest occurredAt recorded. An event more than `lateToleranceMs`
//   behind the clock is TOO_LATE: not recorded, and its own features are missing (its rules on features do not
//   hold) rather than wrong, because what its window needs may have expired;
// - a retried event (same accountId and eventId) is recorded once while the clock is less than `retryMemoryMs`
//   past its first occurrence (default: the event-ID window, CORDON_EVENT_ID_DAYS' default, as the API's);
// - sum adds a numeric attribute; distinct counts exactly (the values themselves are kept, never estimated).
//
// Built for the backtest's millions of events: features with the same `by` form a group, so an event costs one
// lookup per key it has (its account, its device...), whatever the number of features; a group's windows per key
// are core/feature-key-windows.ts (typed arrays, a cursor per window, amortised O(1) per event in time order), and
// retries core/feature-event-ids.ts (no string kept per event). A feature's events older than clock − (window +
// lateToleranceMs) can never be read again: they are dropped from a window when it is next touched, and a key
// whose newest event is older than its group's longest such span is dropped whole by an expiry wheel (slots of a
// tenth of that span). Memory: docs/policy-and-lab.md ("Features").
import {
  EVENT_ID_DAYS_DEFAULT,
  compileFeatures,
  type CompiledFeature,
  type FeatureEvent,
  type Features,
  type FeatureStore,
  type FeatureValues,
  type RecordOutcome,
} from './features';
import { RecordedEventIds } from './feature-event-ids';
import { KeyWindows } from './feature-key-windows';

export { roundSum } from './feature-key-windows';

/** Expiry slots per kept span (window + late tolerance): an idle key outlives its span by at most a tenth. */
const SLOTS_PER_SPAN = 10;

type EntityKey = keyof NonNullable<FeatureEvent['entities']>;

interface FeatureState {
  spec: CompiledFeature;
  /** sum and distinct: where the value comes from. */
  field: { kind: 'account' } | { kind: 'entity'; entity: EntityKey } | { kind: 'attribute'; name: string };
  /** Events at or before clock − keepMs can no longer be read by any event that is not too late. */
  keepMs: number;
}

/** The features with one `by`: one map lookup per event for all of them. */
interface Group {
  /** The entity kind `by` names, or null for `account`. */
  byEntity: EntityKey | null;
  features: FeatureState[];
  /** Where each feature sits in the policy's declaration order. */
  order: number[];
  /** The longest keepMs of the features: a key idle that long is dropped. */
  keepMs: number;
  slotMs: number;
  windows: KeyWindows;
  /** Key slots queued at each expiry slot (by their newest event): what to check when the clock passes it. */
  expiry: Map<number, number[]>;
  /** Every expiry slot below this has been checked. */
  checkedBelow: number;
}

export interface FeatureWindowOptions {
  /** How far behind the latest event an event may arrive and still count (default: the longest window). */
  lateToleranceMs?: number;
  /**
   * How long after its first occurrence (by the clock) a retry is recognised: default the event-ID window
   * (CORDON_EVENT_ID_DAYS' default), never less than the longest window plus the late tolerance.
   */
  retryMemoryMs?: number;
}

/** The key an event has for a group's `by` ("account" or "entity:<kind>"), or undefined when it has none. */
function keyOf(g: Group, e: FeatureEvent): string | undefined {
  return g.byEntity === null ? e.accountId : e.entities?.[g.byEntity];
}

/** The value a sum or distinct feature takes from an event, or undefined when the event does not carry it. */
function valueOf(s: FeatureState, e: FeatureEvent): number | string | undefined {
  const f = s.field;
  let v: unknown;
  if (f.kind === 'account') v = e.accountId;
  else if (f.kind === 'entity') v = e.entities?.[f.entity];
  else v = Object.prototype.hasOwnProperty.call(e.attributes, f.name) ? e.attributes[f.name] : undefined;
  if (s.spec.aggregate === 'sum') return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string') return v;
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

function groupsOf(specs: readonly CompiledFeature[], lateMs: number): Group[] {
  const byBy = new Map<string, number[]>();
  specs.forEach((spec, i) => byBy.set(spec.by, [...(byBy.get(spec.by) ?? []), i]));
  return [...byBy].map(([by, order]) => {
    const features = order.map((i): FeatureState => {
      const spec = specs[i]!;
      const field = spec.field ?? '';
      return {
        spec,
        field:
          field === 'account'
            ? { kind: 'account' }
            : field.startsWith('entity:')
              ? { kind: 'entity', entity: field.slice(7) as EntityKey }
              : { kind: 'attribute', name: field },
        keepMs: spec.windowMs + lateMs,
      };
    });
    const keepMs = Math.max(...features.map((f) => f.keepMs));
    return {
      byEntity: by === 'account' ? null : (by.slice(7) as EntityKey),
      features,
      order,
      keepMs,
      slotMs: Math.max(1, Math.ceil(keepMs / SLOTS_PER_SPAN)),
      windows: new KeyWindows(features.map((f) => f.spec)),
      expiry: new Map(),
      checkedBelow: -Infinity,
    };
  });
}

/** The in-memory feature windows of one policy's features. */
export class FeatureWindows implements FeatureStore {
  private readonly groups: Group[];
  private readonly names: string[];
  private readonly lateMs: number;
  private clock = -Infinity;
  private readonly ids: RecordedEventIds;
  /**
   * The event `record` last recorded, with each group's key and its slot (undefined: not looked up), so the
   * read that follows (core/feature-decide.ts) does not look them up again.
   */
  private lastEvent: FeatureEvent | null = null;
  private readonly lastKeys: (string | undefined)[];
  /** The key's slot, -1 when it has none, undefined when not looked up. */
  private readonly lastSlots: (number | undefined)[];
  /** valuesFor's working space: each feature's value in declaration order, and whether the event has its key. */
  private readonly values: Float64Array;
  private readonly keyed: Uint8Array;

  constructor(features: Features | readonly CompiledFeature[] | undefined, o: FeatureWindowOptions = {}) {
    const specs = Array.isArray(features)
      ? (features as readonly CompiledFeature[])
      : compileFeatures(features as Features | undefined);
    const longest = specs.reduce((m, s) => Math.max(m, s.windowMs), 0);
    this.lateMs = o.lateToleranceMs ?? longest;
    if (!(this.lateMs >= 0)) throw new Error('lateToleranceMs must be 0 or more');
    this.groups = groupsOf(specs, this.lateMs);
    this.names = specs.map((s) => s.name);
    this.ids = new RecordedEventIds(
      Math.max(o.retryMemoryMs ?? EVENT_ID_DAYS_DEFAULT * 86_400_000, longest + this.lateMs),
    );
    this.lastKeys = this.groups.map(() => undefined);
    this.lastSlots = this.groups.map(() => undefined);
    this.values = new Float64Array(specs.length);
    this.keyed = new Uint8Array(specs.length);
  }

  /** The latest occurredAt recorded (ms), -Infinity before the first. */
  get latest(): number {
    return this.clock;
  }

  /** Windows kept (a key's window of each feature of its group), over all features (for memory figures). */
  get activeKeys(): number {
    return this.groups.reduce((n, g) => n + g.windows.size * g.features.length, 0);
  }

  /** The last occurredAt parsed: the decision path reads an event's features right after recording it. */
  private lastIso = '';
  private lastMs = NaN;
  private timeOf(iso: string): number {
    if (iso !== this.lastIso) {
      this.lastIso = iso;
      this.lastMs = instantMs(iso);
    }
    return this.lastMs;
  }

  record(e: FeatureEvent): RecordOutcome {
    this.lastEvent = null;
    const t = this.timeOf(e.occurredAt);
    if (t < this.clock - this.lateMs) return 'TOO_LATE';
    if (!this.ids.add(e.accountId, e.eventId, t, this.clock)) return 'DUPLICATE';
    const advanced = t > this.clock;
    if (advanced) this.clock = t;
    const groups = this.groups;
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g]!;
      const key = keyOf(group, e);
      this.lastKeys[g] = key;
      this.lastSlots[g] = key === undefined ? undefined : this.recordInGroup(group, key, e, t);
    }
    if (advanced) this.expire();
    this.lastEvent = e;
    return 'RECORDED';
  }

  /** Records `e` in each of the group's features that counts it; the key's slot if it was looked up. */
  private recordInGroup(group: Group, key: string, e: FeatureEvent, t: number): number | undefined {
    let slot: number | undefined;
    const features = group.features;
    for (let f = 0; f < features.length; f++) {
      const s = features[f]!;
      const spec = s.spec;
      if (spec.eventTypes !== null && !spec.eventTypes.has(e.type)) continue;
      let value: number | string = 0;
      if (spec.aggregate !== 'count') {
        const v = valueOf(s, e);
        if (v === undefined) continue;
        value = v;
      }
      slot ??= group.windows.open(key);
      group.windows.insert(slot, f, t, value, this.clock - s.keepMs);
    }
    if (slot !== undefined) {
      const queue = group.windows.touch(slot, t, group.slotMs);
      if (!Number.isNaN(queue)) {
        const list = group.expiry.get(queue);
        if (list) list.push(slot);
        else group.expiry.set(queue, [slot]);
      }
    }
    return slot;
  }

  valuesFor(e: FeatureEvent): FeatureValues {
    const out: FeatureValues = {};
    const t = this.timeOf(e.occurredAt);
    if (t < this.clock - this.lateMs) return out;
    const known = e === this.lastEvent;
    const groups = this.groups;
    const { values, keyed } = this;
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g]!;
      const key = known ? this.lastKeys[g] : keyOf(group, e);
      const { features, order, windows } = group;
      if (key === undefined) {
        for (let f = 0; f < order.length; f++) keyed[order[f]!] = 0;
        continue;
      }
      const slot = (known ? this.lastSlots[g] : undefined) ?? windows.find(key);
      for (let f = 0; f < features.length; f++) {
        keyed[order[f]!] = 1;
        values[order[f]!] = slot < 0 ? 0 : windows.read(slot, f, t, this.clock - features[f]!.keepMs);
      }
    }
    // In the policy's order, so decisions list their features the same way whatever the grouping.
    const names = this.names;
    for (let i = 0; i < names.length; i++) if (keyed[i]) out[names[i]!] = values[i]!;
    return out;
  }

  /** Drops what the clock has left behind: keys no event that is not too late can read, and old retries. */
  private expire(): void {
    for (const g of this.groups) {
      // Slot i holds newest times up to (i + 1) · slotMs − 1; it is checked once that is at or before clock − keepMs.
      const below = Math.floor((this.clock - g.keepMs + 1) / g.slotMs);
      if (below <= g.checkedBelow) continue;
      const cut = this.clock - g.keepMs;
      dropBelow(g.expiry, g.checkedBelow, below, (slots) => {
        // A key queued again since (a newer event) is kept; the check is on the key's own newest event.
        for (const slot of slots) g.windows.closeIfIdle(slot, cut);
      });
      g.checkedBelow = below;
    }
    this.ids.expire(this.clock);
  }
}

/** Calls `drop` for each index in [from, below) present in `index` and removes it; cheap for any jump. */
function dropBelow<V>(
  index: Map<number, V[]>,
  from: number,
  below: number,
  drop: (values: V[]) => void,
): void {
  if (below - from > index.size) {
    for (const [idx, values] of index)
      if (idx < below) {
        drop(values);
        index.delete(idx);
      }
    return;
  }
  for (let idx = from; idx < below; idx++) {
    const values = index.get(idx);
    if (values) {
      drop(values);
      index.delete(idx);
    }
  }
}

/** The number the `count` decimal digits at `at` write, NaN if one is not a digit (NaN fails every range check). */
function digits(s: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    n = n * 10 + c;
  }
  return n;
}

const DAYS_BEFORE_MONTH = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

/**
 * Date.parse(iso), fast for the form every event file and the API's clients write ("2026-10-01T08:30:00.000Z",
 * with or without the milliseconds) and Date.parse itself for any other: the same number for every string.
 */
export function instantMs(iso: string): number {
  const n = iso.length;
  if ((n !== 24 && n !== 20) || iso.charCodeAt(n - 1) !== 90 /* Z */) return Date.parse(iso);
  const year = digits(iso, 0, 4);
  const month = digits(iso, 5, 2);
  const day = digits(iso, 8, 2);
  const hour = digits(iso, 11, 2);
  const minute = digits(iso, 14, 2);
  const second = digits(iso, 17, 2);
  const ms = n === 24 ? digits(iso, 20, 3) : 0;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const monthDays =
    month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  // Every separator where the form has it, every field in range.
  if (!(
    iso.charCodeAt(4) === 45 &&
    iso.charCodeAt(7) === 45 &&
    iso.charCodeAt(10) === 84 &&
    iso.charCodeAt(13) === 58 &&
    iso.charCodeAt(16) === 58 &&
    (n === 20 || iso.charCodeAt(19) === 46) &&
    year >= 0 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= monthDays &&
    hour >= 0 &&
    hour <= 23 &&
    minute >= 0 &&
    minute <= 59 &&
    second >= 0 &&
    second <= 59 &&
    ms >= 0 &&
    ms <= 999
  ))
    return Date.parse(iso);
  // Days since 1970-01-01: whole years (leap days before `year`), then the months and days of this one.
  const y = year - 1;
  const leapDays = Math.floor(y / 4) - Math.floor(y / 100) + Math.floor(y / 400) - 477; // 477: leap days 1..1969
  const days =
    (year - 1970) * 365 + leapDays + DAYS_BEFORE_MONTH[month - 1]! + (month > 2 && leap ? 1 : 0) + day - 1;
  return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + ms;
}
