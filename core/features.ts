// Policy features: aggregates over a window of past events (velocity, sums, distinct counts), declared in the
// policy file and used by rules as `feature.<name>`. This module is the declaration (its zod schema and the
// checks the schema cannot make alone) and the vocabulary shared with the window state
// (core/feature-windows.ts) and the stores that will hold it. Pure: no I/O, no clock.
import { z } from 'zod';
import { parseDuration } from './durations';
import { ENTITY_KINDS, RISK_EVENT_ATTRIBUTES, RISK_EVENT_TYPES, type EntityKind } from './events';

/** CORDON_EVENT_ID_DAYS unless configured (infra/config-schema.ts; test/features.test.ts checks they agree). */
export const EVENT_ID_DAYS_DEFAULT = 30;
const DAY_MS = 86_400_000;

/** What a rule writes before a feature's name: `feature.failedLogins10m`. */
export const FEATURE_PREFIX = 'feature.';

const FeatureName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'a name of letters, digits and "_"');
const KINDS = ENTITY_KINDS.join(', ');
const By = z
  .string()
  .regex(
    new RegExp(`^(account|entity:(${ENTITY_KINDS.join('|')}))$`),
    `"account" or "entity:<kind>" (kinds: ${KINDS})`,
  );
const Field = z.string().min(1).max(80);

const FeatureSpecInput = z
  .strictObject({
    aggregate: z.enum(['count', 'sum', 'distinct']),
    /** Absent: every event type. */
    eventTypes: z
      .array(z.enum(RISK_EVENT_TYPES as [string, ...string[]]))
      .min(1)
      .refine((t) => new Set(t).size === t.length, { message: 'each event type once' })
      .optional(),
    /** sum: a numeric attribute; distinct: an attribute, `entity:<kind>` or `account`; count: none. */
    field: Field.optional(),
    by: By,
    window: z.string().refine((s) => (parseDuration(s) ?? 0) > 0, {
      message: 'a duration such as "10m", "24h" or "7d"',
    }),
  })
  .superRefine((spec, ctx) => {
    for (const problem of specProblems(spec)) ctx.addIssue({ code: 'custom', ...problem });
  });
export type FeatureSpec = z.infer<typeof FeatureSpecInput>;

/** The `features` map of a policy: name → declaration. At most 64 (each costs memory per active key). */
export const FeaturesSchema = z
  .record(FeatureName, FeatureSpecInput)
  .refine((f) => Object.keys(f).length <= 64, { message: 'at most 64 features' });
export type Features = z.infer<typeof FeaturesSchema>;

/** What a rule condition may name: `feature.<name>` must be declared. */
export function isFeatureField(field: string): boolean {
  return field.startsWith(FEATURE_PREFIX);
}

type Problem = { path: (string | number)[]; message: string };

function attributeShape(type: string): Record<string, z.ZodType> {
  return RISK_EVENT_ATTRIBUTES[type as keyof typeof RISK_EVENT_ATTRIBUTES]?.shape ?? {};
}

function isNumeric(schema: z.ZodType): boolean {
  let s: z.ZodType = schema;
  while (s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
  return s instanceof z.ZodNumber;
}

/** The problems of one declaration that its shape alone does not show (paths relative to the feature). */
function specProblems(spec: {
  aggregate: string;
  eventTypes?: string[] | undefined;
  field?: string | undefined;
  by: string;
}): Problem[] {
  const out: Problem[] = [];
  const { aggregate, field, by } = spec;
  if (aggregate === 'count') {
    if (field !== undefined)
      out.push({ path: ['field'], message: 'count takes no field (it counts events)' });
    return out;
  }
  if (field === undefined) {
    out.push({ path: ['field'], message: `${aggregate} needs a field` });
    return out;
  }
  const types = spec.eventTypes ?? RISK_EVENT_TYPES;
  if (field === 'account' || field.startsWith('entity:')) {
    if (aggregate === 'sum')
      out.push({ path: ['field'], message: `sum needs a numeric attribute, not "${field}"` });
    else if (field !== 'account' && !ENTITY_KINDS.includes(field.slice(7) as EntityKind))
      out.push({ path: ['field'], message: `unknown entity kind "${field.slice(7)}" (kinds: ${KINDS})` });
    else if (field === by) out.push({ path: ['field'], message: `distinct ${field} by ${by} is always 1` });
    return out;
  }
  // An attribute: every listed type must have it (without eventTypes, at least one type does).
  const having = types.filter((t) => field in attributeShape(t));
  if (spec.eventTypes) {
    const lacking = types.filter((t) => !(field in attributeShape(t)));
    if (lacking.length)
      out.push({ path: ['field'], message: `${lacking.join(', ')} events have no attribute "${field}"` });
  } else if (having.length === 0)
    out.push({ path: ['field'], message: `no event type has an attribute "${field}"` });
  if (aggregate === 'sum') {
    const notNumeric = having.filter((t) => !isNumeric(attributeShape(t)[field]!));
    if (notNumeric.length)
      out.push({
        path: ['field'],
        message: `sum needs a numeric attribute: "${field}" is not a number in ${notNumeric.join(', ')}`,
      });
  }
  return out;
}

/** The policy-wide checks: every `feature.X` a rule names is declared (paths from the policy's root). */
export function undeclaredFeatureProblems(
  features: Record<string, unknown> | undefined,
  rules: readonly { when?: readonly { field?: unknown; ref?: unknown }[] }[],
): Problem[] {
  const out: Problem[] = [];
  rules.forEach((rule, i) =>
    (rule.when ?? []).forEach((c, j) => {
      if (typeof c !== 'object' || c === null) return;
      for (const key of ['field', 'ref'] as const) {
        const name = c[key];
        if (typeof name !== 'string' || !isFeatureField(name)) continue;
        const feature = name.slice(FEATURE_PREFIX.length);
        if (!features || !Object.prototype.hasOwnProperty.call(features, feature))
          out.push({
            path: ['rules', i, 'when', j, key],
            message: `"${name}" is not declared in the policy's features`,
          });
      }
    }),
  );
  return out;
}

/**
 * Windows longer than the event-ID window: a retry is recognised only that long, so a longer window could count
 * one event twice. The policy does not know the deployment's CORDON_EVENT_ID_DAYS: the checks take it as a
 * parameter, the config's default unless told (`cordon policy validate` reads the variable; the API will pass
 * its configuration when it loads a policy with features).
 */
export function windowProblems(
  features: Features | undefined,
  eventIdDays: number = EVENT_ID_DAYS_DEFAULT,
): Problem[] {
  const out: Problem[] = [];
  for (const [name, spec] of Object.entries(features ?? {})) {
    const ms = parseDuration(spec.window);
    if (ms !== undefined && ms > eventIdDays * DAY_MS)
      out.push({
        path: ['features', name, 'window'],
        message: `longer than the event-ID window (CORDON_EVENT_ID_DAYS: ${eventIdDays} days): retries would count twice`,
      });
  }
  return out;
}

/** A declaration with its window in milliseconds, as the window state uses it. */
export interface CompiledFeature {
  name: string;
  aggregate: 'count' | 'sum' | 'distinct';
  /** null: every event type. */
  eventTypes: ReadonlySet<string> | null;
  /** The attribute, `entity:<kind>` or `account` (sum and distinct). */
  field: string | undefined;
  by: string;
  windowMs: number;
}

export function compileFeatures(features: Features | undefined): CompiledFeature[] {
  return Object.entries(features ?? {}).map(([name, f]) => ({
    name,
    aggregate: f.aggregate,
    eventTypes: f.eventTypes ? new Set(f.eventTypes) : null,
    field: f.field,
    by: f.by,
    windowMs: parseDuration(f.window)!,
  }));
}

/** A feature's value at a decision, by name; a feature whose key the event lacks (no device) is absent. */
export type FeatureValues = Record<string, number>;

/** What the window state needs of an event (a risk event is one). */
export interface FeatureEvent {
  eventId: string;
  accountId: string;
  type: string;
  occurredAt: string;
  attributes: Readonly<Record<string, unknown>>;
  entities?: Readonly<Partial<Record<EntityKind, string>>> | undefined;
}

/** What recording an event did: a retry of a recorded event, and an event too late to count, count nothing. */
export type RecordOutcome = 'RECORDED' | 'DUPLICATE' | 'TOO_LATE';

/**
 * Where events are written: the in-memory windows (the lab) and, later, Cordon's database. `record` is
 * idempotent per (accountId, eventId).
 */
export interface FeatureSink {
  record(event: FeatureEvent): RecordOutcome;
}
/** Where feature values are read at a decision: the window (occurredAt − window, occurredAt], event included. */
export interface FeatureSource {
  valuesFor(event: FeatureEvent): FeatureValues;
}
export type FeatureStore = FeatureSink & FeatureSource;

/**
 * The same contract behind I/O: Cordon's database (infra/stores/feature-store.ts), shared by API processes. Here
 * rather than in infra/ so the live decision path in core can name it without importing infrastructure.
 */
export interface AsyncFeatureStore {
  record(event: FeatureEvent): Promise<RecordOutcome>;
  valuesFor(event: FeatureEvent): Promise<FeatureValues>;
}
