// The naive reference for feature windows: every recorded event kept in a list, every value recomputed by
// scanning it. Same rules as core/feature-windows.ts (too late, retries), none of its buckets or expiry, so a
// store (the in-memory windows now, the database store later) can be checked against it event by event.
import {
  compileFeatures,
  type CompiledFeature,
  type FeatureEvent,
  type Features,
  type FeatureStore,
  type FeatureValues,
  type RecordOutcome,
} from '../../core/features';
import { roundSum } from '../../core/feature-windows';

function keyOf(by: string, e: FeatureEvent): string | undefined {
  if (by === 'account') return e.accountId;
  return (e.entities as Record<string, string> | undefined)?.[by.slice(7)];
}

function valueOf(spec: CompiledFeature, e: FeatureEvent): number | string | undefined {
  const f = spec.field!;
  const v =
    f === 'account'
      ? e.accountId
      : f.startsWith('entity:')
        ? (e.entities as Record<string, string> | undefined)?.[f.slice(7)]
        : e.attributes[f];
  if (spec.aggregate === 'sum') return typeof v === 'number' ? v : undefined;
  if (typeof v === 'string') return v;
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

export class ReferenceWindows implements FeatureStore {
  private readonly specs: CompiledFeature[];
  private readonly events: FeatureEvent[] = [];
  /** (accountId, eventId) → the occurredAt it was first recorded with. */
  private readonly ids = new Map<string, number>();
  private readonly retryMs: number;
  private clock = -Infinity;
  private readonly lateMs: number;

  constructor(features: Features, o: { lateToleranceMs?: number; retryMemoryMs?: number } = {}) {
    this.specs = compileFeatures(features);
    const longest = Math.max(0, ...this.specs.map((s) => s.windowMs));
    this.lateMs = o.lateToleranceMs ?? longest;
    this.retryMs = Math.max(o.retryMemoryMs ?? 30 * 86_400_000, longest + this.lateMs);
  }

  record(e: FeatureEvent): RecordOutcome {
    const t = Date.parse(e.occurredAt);
    if (t < this.clock - this.lateMs) return 'TOO_LATE';
    const id = `${e.accountId} ${e.eventId}`;
    const first = this.ids.get(id);
    if (first !== undefined && first > this.clock - this.retryMs) return 'DUPLICATE';
    this.ids.set(id, t);
    this.events.push(e);
    this.clock = Math.max(this.clock, t);
    return 'RECORDED';
  }

  valuesFor(e: FeatureEvent): FeatureValues {
    const t = Date.parse(e.occurredAt);
    const out: FeatureValues = {};
    if (t < this.clock - this.lateMs) return out;
    for (const s of this.specs) {
      const key = keyOf(s.by, e);
      if (key === undefined) continue;
      const inWindow = this.events.filter((x) => {
        const at = Date.parse(x.occurredAt);
        return (
          at > t - s.windowMs &&
          at <= t &&
          (s.eventTypes === null || s.eventTypes.has(x.type)) &&
          keyOf(s.by, x) === key &&
          (s.aggregate === 'count' || valueOf(s, x) !== undefined)
        );
      });
      out[s.name] =
        s.aggregate === 'count'
          ? inWindow.length
          : s.aggregate === 'sum'
            ? roundSum(inWindow.reduce((n, x) => n + (valueOf(s, x) as number), 0))
            : new Set(inWindow.map((x) => valueOf(s, x))).size;
    }
    return out;
  }
}
