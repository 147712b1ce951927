// What live scoring does with an account's decisions over time, reproduced for the backtest. Scoring itself
// is stateless (core/scoring.ts scores each event alone, and the backtest calls the same function), but the
// case an event lands in is not: one case per account, a later event only changes it when it is more severe
// (escalation, never de-escalation), and a milder one is counted and changes nothing (core/case-machine.ts).
//
// What happens to a case after it opens depends on people (verifications, appeals, reviewers), which a file of
// past events does not contain. The approximation: a case stays open until its tier's user deadline (from the
// policy's terms; for a PROTECT the cooling-off comes first; for a self-lifting lockout, the first wait plus
// the lockout memory), counted from its last escalation. Events are expected in time order per account.
import { isMoreSevere, type Decision, type RestrictiveTier, type Tier } from '../core/model';
import type { CaseTerms } from '../core/model';

export type CaseEffect =
  { kind: 'NONE' } | { kind: 'OPENED' | 'ESCALATED'; tier: RestrictiveTier } | { kind: 'UNCHANGED' };

interface OpenCase {
  tier: RestrictiveTier;
  until: number;
}

export class CaseTracker {
  private readonly open = new Map<string, OpenCase>();
  private latest = -Infinity;
  private sinceSweep = 0;

  constructor(
    private readonly terms: CaseTerms,
    /** Expired cases are dropped every this many events, so memory follows the open cases only. */
    private readonly sweepEvery = 50_000,
  ) {}

  /** How long a case of this tier is taken to stay open. */
  lifetime(tier: RestrictiveTier, lockout: boolean): number {
    if (lockout) return (this.terms.lockout.waitsMs[0] ?? 0) + this.terms.lockout.memoryMs;
    const t = this.terms.tiers[tier];
    return t.coolingOffMs + t.userDeadlineMs;
  }

  /** Applies one scored event of an account at time `at` (ms) and says what it did to the account's case. */
  apply(accountId: string, at: number, decision: Pick<Decision, 'tier' | 'lockout'>): CaseEffect {
    if (at > this.latest) this.latest = at;
    if (++this.sinceSweep >= this.sweepEvery) this.sweep();
    const tier: Tier = decision.tier;
    let current = this.open.get(accountId);
    if (current && current.until <= at) {
      this.open.delete(accountId);
      current = undefined;
    }
    if (tier === 'NONE') return current ? { kind: 'UNCHANGED' } : { kind: 'NONE' };
    if (!current) {
      this.open.set(accountId, { tier, until: at + this.lifetime(tier, decision.lockout) });
      return { kind: 'OPENED', tier };
    }
    if (isMoreSevere(tier, current.tier)) {
      current.tier = tier;
      // A lockout on top of another restriction is a plain freeze (the case machine's rule).
      current.until = at + this.lifetime(tier, false);
      return { kind: 'ESCALATED', tier };
    }
    return { kind: 'UNCHANGED' };
  }

  get openCases(): number {
    return this.open.size;
  }

  private sweep(): void {
    this.sinceSweep = 0;
    for (const [id, c] of this.open) if (c.until <= this.latest) this.open.delete(id);
  }
}
