// What the generator (lab/gen.ts) and its entity patterns (lab/gen-entities.ts) share: the options, the seeded
// random numbers, and the shape of an event being planned. Its own module, so neither imports the other's values.
import type { Entities, RiskEvent } from '../core/events';

export interface Label {
  fraud: boolean;
  pattern: string;
}

export interface GenOptions {
  accounts: number;
  days: number;
  seed: string | number;
  /** The first day (UTC midnight); default 2026-10-01. */
  start?: string;
  /** Mean background events per account and day (default 0.8). */
  eventsPerDay?: number;
  /**
   * Entities on the events (devices, IPs, payees, lenders, card tokens) and the fraud patterns that need them:
   * a device farm, a mule payee, a credential-stuffing burst (lab/gen-entities.ts). Off: the same bytes as
   * before entities existed.
   */
  entities?: boolean;
}

/** A small, fast 32-bit PRNG (mulberry32) seeded from any string. */
export function prng(seed: string | number): () => number {
  let h = 1779033703 ^ String(seed).length;
  for (const ch of String(seed)) {
    h = Math.imul(h ^ ch.charCodeAt(0), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Draft = Omit<RiskEvent, 'eventId' | 'accountId' | 'occurredAt'>;

export interface Pending {
  at: number;
  draft: Draft;
  label: Label;
  /** Set by the entity patterns; background events get theirs when made. */
  entities?: Entities;
}
