// Linked accounts: when a case ends CLOSED for one of the policy's fraud reasons, every account that shared a
// declared entity (a device, a payee…) with the closed one within the policy's window receives a
// LINKED_ACCOUNT_RISK event, which the policy scores like any other. This module is the policy's `linked` section
// and the pure choice of whom to signal; infra/stores/entity-links.ts keeps the sightings, api/linker.ts sends.
// Pure: no I/O, no clock.
import { z } from 'zod';
import { parseDuration } from './durations';
import { ENTITY_KINDS, LINKED_EVENT_PREFIX, LINKED_EVENT_TYPE, type EntityKind } from './events';
import { REASON_CODES, type ReasonCode } from './model';

export { LINKED_EVENT_PREFIX, LINKED_EVENT_TYPE };

export const LinkedSchema = z.strictObject({
  /** A case ending CLOSED with one of these reasons signals the accounts linked to it. */
  fromReasons: z
    .array(z.enum(REASON_CODES))
    .min(1)
    .refine((r) => new Set(r).size === r.length, { message: 'each reason once' }),
  /** The kinds of entity that link two accounts. */
  entities: z
    .array(z.enum(ENTITY_KINDS))
    .min(1)
    .refine((k) => new Set(k).size === k.length, { message: 'each kind once' }),
  /** How recently both accounts must have used the entity (counted back from the closure). */
  window: z.string().refine((s) => (parseDuration(s) ?? 0) > 0, {
    message: 'a duration such as "7d" or "30d"',
  }),
  /**
   * An entity seen on more accounts than this within the window links none of them: a carrier's shared IP, a
   * family tablet, a payroll payee say nothing about fraud.
   */
  maxAccountsPerEntity: z.number().int().min(2).max(1_000),
});
export type Linked = z.infer<typeof LinkedSchema>;

type Problem = { path: (string | number)[]; message: string };

/** Nothing links without a rule: a `linked` section needs a rule that scores the event it sends. */
export function linkedProblems(
  linked: Linked | undefined,
  rules: readonly { eventType: string }[],
): Problem[] {
  if (!linked) return [];
  if (rules.some((r) => r.eventType === LINKED_EVENT_TYPE)) return [];
  return [
    {
      path: ['linked'],
      message: `no rule has eventType "${LINKED_EVENT_TYPE}": the signals would change nothing`,
    },
  ];
}

/** One account's recent use of an entity (the value keyed-hashed at intake). */
export interface Sighting {
  kind: EntityKind;
  value: string;
  accountId: string;
  /** The latest event time it was seen at (ms). */
  lastAt: number;
}

export interface LinkTarget {
  accountId: string;
  /** The first of the policy's kinds (in its order) the two accounts shared: what the user and reviewer read. */
  entityKind: EntityKind;
}

/**
 * Whom a closure signals. `sightings` are every sighting of the entities the closed account used (its own among
 * them). An entity counts if the closed account used it within the window before `closedAt`, and so did the other
 * account; an entity more than `maxAccountsPerEntity` accounts used within the window links nobody. No transitive
 * links: only accounts that shared an entity with the closed account itself. Sorted by account ID.
 */
export function linkTargets(
  linked: Linked,
  sourceAccountId: string,
  sightings: readonly Sighting[],
  closedAt: number,
): LinkTarget[] {
  const since = closedAt - parseDuration(linked.window)!;
  const recent = sightings.filter(
    (s) => linked.entities.includes(s.kind) && s.lastAt > since && s.lastAt <= closedAt,
  );
  const byEntity = new Map<string, Set<string>>();
  for (const s of recent) {
    const key = `${s.kind}\u0000${s.value}`;
    let accounts = byEntity.get(key);
    if (!accounts) byEntity.set(key, (accounts = new Set()));
    accounts.add(s.accountId);
  }
  const kinds = new Map<string, EntityKind[]>();
  for (const [key, accounts] of byEntity) {
    if (!accounts.has(sourceAccountId) || accounts.size > linked.maxAccountsPerEntity) continue;
    const kind = key.slice(0, key.indexOf('\u0000')) as EntityKind;
    for (const account of accounts) {
      if (account === sourceAccountId) continue;
      const list = kinds.get(account) ?? [];
      list.push(kind);
      kinds.set(account, list);
    }
  }
  return [...kinds.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([accountId, shared]) => ({
      accountId,
      entityKind: linked.entities.find((k) => shared.includes(k))!,
    }));
}

/** Whether a case that ended CLOSED with these reasons signals its linked accounts. */
export function closureLinks(linked: Linked | undefined, reasons: readonly ReasonCode[]): boolean {
  return !!linked && reasons.some((r) => linked.fromReasons.includes(r));
}
