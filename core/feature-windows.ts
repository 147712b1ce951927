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
// Memory: per feature and key (an account, a device...), events sit in time buckets of a tenth of the window
// (epoch-aligned), and a bucket is dropped when the clock has passed it by window + lateToleranceMs. A window's
// value is the aggregate of the buckets inside it plus a scan of the two at its edges. Exact windows need every
// event's time near an edge, so a key's memory is bounded by its events within that horizon (not by a constant).
// Measured (V8, heap after GC; docs/policy-and-lab.md): a key with one event costs about 700 bytes per feature
// (its map, one bucket), each further event about 200 bytes over three features plus its retry entry; 200,000
// devices with 10 events each over 12 days and three features took 8 KB per device.
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

/** Buckets per window: the edge scans read about two of them, the rest is summed. */
const BUCKETS_PER_WINDOW = 10;

interface Bucket {
  /** occurredAt (ms) of each event, in arrival order. */
  times: number[];
  /** sum: the attribute's value; distinct: the value counted; count: unused. */
  values: (number | string)[];
  count: number;
  sum: number;
  /** distinct: how many of the bucket's events carry each value. */
  distinct: Map<string, number> | null;
}

interface FeatureState {
  spec: CompiledFeature;
  bucketMs: number;
  /** Events at or before clock − keepMs can no longer be read by any event that is not too late. */
  keepMs: number;
  keys: Map<string, Map<number, Bucket>>;
  /** Which keys have a bucket at each bucket index: what to drop when the clock passes it. */
  expiry: Map<number, string[]>;
  /** Every bucket index below this has been dropped. */
  droppedBelow: number;
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

const KEY_SEP = '\u0000';

/** The key an event has for `by` ("account" or "entity:<kind>"), or undefined when it has none. */
function keyOf(by: string, e: FeatureEvent): string | undefined {
  if (by === 'account') return e.accountId;
  return e.entities?.[by.slice(7) as keyof NonNullable<FeatureEvent['entities']>];
}

/** The value a sum or distinct feature takes from an event, or undefined when the event does not carry it. */
function valueOf(spec: CompiledFeature, e: FeatureEvent): number | string | undefined {
  const field = spec.field!;
  let v: unknown;
  if (field === 'account') v = e.accountId;
  else if (field.startsWith('entity:')) v = e.entities?.[field.slice(7) as 'device'];
  else v = Object.prototype.hasOwnProperty.call(e.attributes, field) ? e.attributes[field] : undefined;
  if (spec.aggregate === 'sum') return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string') return v;
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

/** The in-memory feature windows of one policy's features. */
export class FeatureWindows implements FeatureStore {
  private readonly states: FeatureState[];
  private readonly lateMs: number;
  private clock = -Infinity;
  /** Recorded events (accountId, eventId) → their occurredAt (ms), for retries. */
  private readonly seen = new Map<string, number>();
  private readonly seenExpiry = new Map<number, string[]>();
  private readonly seenBucketMs: number;
  private readonly seenKeepMs: number;
  private seenDroppedBelow = -Infinity;

  constructor(features: Features | readonly CompiledFeature[] | undefined, o: FeatureWindowOptions = {}) {
    const specs = Array.isArray(features)
      ? (features as readonly CompiledFeature[])
      : compileFeatures(features as Features | undefined);
    const longest = specs.reduce((m, s) => Math.max(m, s.windowMs), 0);
    this.lateMs = o.lateToleranceMs ?? longest;
    if (!(this.lateMs >= 0)) throw new Error('lateToleranceMs must be 0 or more');
    this.states = specs.map((spec) => ({
      spec,
      bucketMs: Math.max(1, Math.ceil(spec.windowMs / BUCKETS_PER_WINDOW)),
      keepMs: spec.windowMs + this.lateMs,
      keys: new Map(),
      expiry: new Map(),
      droppedBelow: -Infinity,
    }));
    this.seenKeepMs = Math.max(o.retryMemoryMs ?? EVENT_ID_DAYS_DEFAULT * 86_400_000, longest + this.lateMs);
    this.seenBucketMs = Math.max(1, Math.ceil(this.seenKeepMs / BUCKETS_PER_WINDOW));
  }

  /** The latest occurredAt recorded (ms), -Infinity before the first. */
  get latest(): number {
    return this.clock;
  }

  /** Keys with at least one bucket, over all features (for memory figures). */
  get activeKeys(): number {
    return this.states.reduce((n, s) => n + s.keys.size, 0);
  }

  /** The last occurredAt parsed: the decision path reads an event's features right after recording it. */
  private lastIso = '';
  private lastMs = NaN;
  private timeOf(iso: string): number {
    if (iso !== this.lastIso) {
      this.lastIso = iso;
      this.lastMs = Date.parse(iso);
    }
    return this.lastMs;
  }

  record(e: FeatureEvent): RecordOutcome {
    const t = this.timeOf(e.occurredAt);
    if (t < this.clock - this.lateMs) return 'TOO_LATE';
    const id = e.accountId + KEY_SEP + e.eventId;
    // A bucket is dropped only once all of it is old enough: the first occurrence's own time decides.
    const first = this.seen.get(id);
    if (first !== undefined && first > this.clock - this.seenKeepMs) return 'DUPLICATE';
    this.seen.set(id, t);
    push(this.seenExpiry, Math.floor(t / this.seenBucketMs), id);
    for (const s of this.states) {
      const spec = s.spec;
      if (spec.eventTypes !== null && !spec.eventTypes.has(e.type)) continue;
      const key = keyOf(spec.by, e);
      if (key === undefined) continue;
      let value: number | string | undefined;
      if (spec.aggregate !== 'count') {
        value = valueOf(spec, e);
        if (value === undefined) continue;
      }
      const idx = Math.floor(t / s.bucketMs);
      let buckets = s.keys.get(key);
      if (!buckets) s.keys.set(key, (buckets = new Map<number, Bucket>()));
      let b = buckets.get(idx);
      if (!b) {
        b = {
          times: [],
          values: [],
          count: 0,
          sum: 0,
          distinct: spec.aggregate === 'distinct' ? new Map<string, number>() : null,
        };
        buckets.set(idx, b);
        push(s.expiry, idx, key);
      }
      b.times.push(t);
      b.count++;
      if (spec.aggregate === 'sum') {
        b.values.push(value!);
        b.sum += value as number;
      } else if (spec.aggregate === 'distinct') {
        b.values.push(value!);
        b.distinct!.set(value as string, (b.distinct!.get(value as string) ?? 0) + 1);
      }
    }
    if (t > this.clock) {
      this.clock = t;
      this.expire();
    }
    return 'RECORDED';
  }

  valuesFor(e: FeatureEvent): FeatureValues {
    const out: FeatureValues = {};
    const t = this.timeOf(e.occurredAt);
    if (t < this.clock - this.lateMs) return out;
    for (const s of this.states) {
      const key = keyOf(s.spec.by, e);
      if (key === undefined) continue;
      out[s.spec.name] = windowValue(s, s.keys.get(key), t);
    }
    return out;
  }

  /** Drops what the clock has left behind: buckets no event that is not too late can read, and old retries. */
  private expire(): void {
    for (const s of this.states) {
      // Bucket i holds times up to (i + 1) · bucketMs − 1; it can go once that is at or before clock − keepMs.
      const below = Math.floor((this.clock - s.keepMs + 1) / s.bucketMs);
      if (below <= s.droppedBelow) continue;
      dropBelow(s.expiry, s.droppedBelow, below, (idx, keys) => {
        for (const key of keys) {
          const buckets = s.keys.get(key);
          if (!buckets) continue;
          buckets.delete(idx);
          if (buckets.size === 0) s.keys.delete(key);
        }
      });
      s.droppedBelow = below;
    }
    const below = Math.floor((this.clock - this.seenKeepMs + 1) / this.seenBucketMs);
    if (below > this.seenDroppedBelow) {
      dropBelow(this.seenExpiry, this.seenDroppedBelow, below, (idx, ids) => {
        // A retry recorded anew since sits in a later bucket: keep it.
        for (const id of ids)
          if (Math.floor(this.seen.get(id)! / this.seenBucketMs) === idx) this.seen.delete(id);
      });
      this.seenDroppedBelow = below;
    }
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Calls `drop` for each index in [from, below) present in `index` and removes it; cheap for any jump. */
function dropBelow<V>(
  index: Map<number, V[]>,
  from: number,
  below: number,
  drop: (idx: number, values: V[]) => void,
): void {
  if (below - from > index.size) {
    for (const [idx, values] of index)
      if (idx < below) {
        drop(idx, values);
        index.delete(idx);
      }
    return;
  }
  for (let idx = from; idx < below; idx++) {
    const values = index.get(idx);
    if (values) {
      drop(idx, values);
      index.delete(idx);
    }
  }
}

/** The feature's value over (t − window, t] for one key's buckets. */
function windowValue(s: FeatureState, buckets: Map<number, Bucket> | undefined, t: number): number {
  const { aggregate, windowMs } = s.spec;
  const from = t - windowMs; // exclusive
  const lo = Math.floor(from / s.bucketMs);
  const hi = Math.floor(t / s.bucketMs);
  let count = 0;
  let sum = 0;
  const distinct = aggregate === 'distinct' ? new Set<string>() : null;
  if (!buckets) return 0;
  for (let idx = lo; idx <= hi; idx++) {
    const b = buckets.get(idx);
    if (!b) continue;
    if (idx > lo && idx < hi) {
      // Wholly inside the window.
      count += b.count;
      sum += b.sum;
      if (distinct) for (const v of b.distinct!.keys()) distinct.add(v);
      continue;
    }
    const { times, values } = b;
    for (let i = 0; i < times.length; i++) {
      const at = times[i]!;
      if (at <= from || at > t) continue;
      count++;
      if (aggregate === 'sum') sum += values[i] as number;
      else if (distinct) distinct.add(values[i] as string);
    }
  }
  // Sums are rounded to 6 decimals: bucket totals add in another order than a scan, and the store that replaces
  // this one must give the same figure.
  return aggregate === 'count' ? count : aggregate === 'sum' ? roundSum(sum) : distinct!.size;
}

/** A sum as every store reports it: to 6 decimal places, so the order of the additions does not show. */
export function roundSum(sum: number): number {
  return Math.round(sum * 1e6) / 1e6;
}
