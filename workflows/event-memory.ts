// What a case remembers of the risk events it answered: the most recent event IDs with their first answers
// (carried across continue-as-new), and, from 0.4, the answers it pushes out of that memory until Cordon's
// database holds them. An ID is thus always in the case or in the database, never in neither.
import type { RiskEventResult } from '../core/contracts';

/** Maps are immune to caller-supplied keys such as `__proto__` or `constructor`; payloads carry entries. */
export function entriesOf<T>(carried: [string, T][] | Record<string, T> | undefined): [string, T][] {
  if (!carried) return [];
  return Array.isArray(carried) ? carried : Object.entries(carried);
}

export class EventMemory {
  private readonly recent: Map<string, RiskEventResult>;
  /** Answers pushed out of `recent` and not yet written to Cordon's database (0.4 runs only). */
  private readonly leaving = new Map<string, RiskEventResult>();
  /**
   * When the case last forgot answers it had handed over (workflow time): an API that looked in the database
   * before then may have missed them, so the case looks again for such an event (see mayBeAnsweredElsewhere).
   */
  handedOverAt: number | undefined;

  constructor(
    carried: [string, RiskEventResult][] | Record<string, RiskEventResult> | undefined,
    private readonly keep: number,
    /** 0.4: an answer pushed out is kept until the database holds it; before, it was simply dropped. */
    private readonly handsOver: boolean,
    handedOverAt?: number,
  ) {
    this.recent = new Map(entriesOf(carried));
    this.handedOverAt = handedOverAt;
    // A run that continued as new before its last answers were handed over carries them: hand them over again.
    while (this.handsOver && this.recent.size > this.keep) this.evictOldest();
  }

  answerOf(eventId: string): RiskEventResult | undefined {
    return this.recent.get(eventId) ?? this.leaving.get(eventId);
  }

  remember(result: RiskEventResult): void {
    this.recent.delete(result.eventId);
    this.recent.set(result.eventId, result);
    if (this.recent.size > this.keep) this.evictOldest();
  }

  private evictOldest(): void {
    const [oldestId, oldest] = this.recent.entries().next().value!;
    this.recent.delete(oldestId);
    if (this.handsOver) this.leaving.set(oldestId, oldest);
  }

  get size(): number {
    return this.recent.size;
  }

  /**
   * What continue-as-new carries, oldest first: the answers still on their way to the database too (the case
   * does not wait for them; the next run hands them over again, and a second write changes nothing).
   */
  entries(): [string, RiskEventResult][] {
    return [...this.leaving, ...this.recent];
  }

  /** Every answer the case still holds: what its archive writes to the database when it ends. */
  answers(): RiskEventResult[] {
    return [...this.leaving.values(), ...this.recent.values()];
  }

  get handingOver(): boolean {
    return this.leaving.size > 0;
  }

  /** The answers to write now; `handedOver` drops them once the database holds them. */
  leavingBatch(): RiskEventResult[] {
    return [...this.leaving.values()];
  }

  handedOver(batch: RiskEventResult[], at: number): void {
    for (const r of batch) if (this.leaving.get(r.eventId) === r) this.leaving.delete(r.eventId);
    this.handedOverAt = at;
  }
}
