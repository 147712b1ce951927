// Policy checks and differences for `cordon policy validate|diff`. Validation is PolicySchema (core/policy.ts,
// what the API and the worker load) plus checks the schema cannot express: a condition on a field that the
// rule's event type never has can never hold, so the rule is dead.
import { RISK_EVENT_ATTRIBUTES, RISK_EVENT_TYPES } from '../core/events';
import { PolicySchema, type Policy } from '../core/policy';
import {
  EVENT_ID_DAYS_DEFAULT,
  FeaturesSchema,
  isFeatureField,
  undeclaredFeatureProblems,
  windowProblems,
} from '../core/features';

export interface PolicyProblem {
  /** Dotted path into the policy file, "(root)" for the whole file. */
  path: string;
  message: string;
}

function fieldsOf(eventType: string): Set<string> {
  const types = eventType === '*' ? RISK_EVENT_TYPES : [eventType];
  const fields = new Set<string>();
  for (const t of types) {
    const schema = RISK_EVENT_ATTRIBUTES[t as keyof typeof RISK_EVENT_ATTRIBUTES];
    if (schema) for (const f of Object.keys(schema.shape)) fields.add(f);
  }
  return fields;
}

/**
 * Every problem of a policy document (already parsed from JSON), each with its path; [] when it is valid.
 * zod skips a refinement (unique rule IDs, increasing thresholds) while anything inside it is wrong, so those
 * checks and the dead-condition check also run here on the raw document, wherever its shape allows.
 */
export function policyProblems(
  raw: unknown,
  /** The deployment's CORDON_EVENT_ID_DAYS: no feature window may be longer (default: the config's default). */
  o: { eventIdDays?: number } = {},
): PolicyProblem[] {
  const parsed = PolicySchema.safeParse(raw);
  const problems: PolicyProblem[] = parsed.success
    ? []
    : parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
  const features = parsed.success
    ? parsed.data.features
    : isObj(raw)
      ? FeaturesSchema.safeParse(raw.features).data
      : undefined;
  for (const p of windowProblems(features, o.eventIdDays ?? EVENT_ID_DAYS_DEFAULT))
    problems.push({ path: p.path.join('.'), message: p.message });
  const seen = new Set(problems.map((p) => `${p.path}\n${p.message}`));
  for (const p of rawProblems(raw)) {
    const key = `${p.path}\n${p.message}`;
    // The refinements' own messages sit on the parent path when zod did run them.
    const refined = problems.some(
      (q) => q.path === p.path.split('.').slice(0, 1).join('.') && q.message === p.refinement,
    );
    if (!seen.has(key) && !refined) {
      seen.add(key);
      problems.push({ path: p.path, message: p.message });
    }
  }
  return problems;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function rawProblems(raw: unknown): (PolicyProblem & { refinement?: string })[] {
  const out: (PolicyProblem & { refinement?: string })[] = [];
  if (!isObj(raw)) return out;
  const t = raw.thresholds;
  if (isObj(t)) {
    const order = ['STEP_UP', 'LIMIT', 'FREEZE', 'CLOSE'];
    for (let i = 1; i < order.length; i++) {
      const lo = t[order[i - 1]!];
      const hi = t[order[i]!];
      if (typeof lo === 'number' && typeof hi === 'number' && !(lo < hi))
        out.push({
          path: `thresholds.${order[i]}`,
          message: `must be above ${order[i - 1]} (${lo}): thresholds increase STEP_UP < LIMIT < FREEZE < CLOSE`,
          refinement: 'thresholds must increase: STEP_UP < LIMIT < FREEZE < CLOSE',
        });
    }
  }
  if (!Array.isArray(raw.rules)) return out;
  // zod checks the features rules name only when the whole policy is otherwise valid: here always.
  const rules = raw.rules.filter(isObj) as { when?: { field?: unknown; ref?: unknown }[] }[];
  if (rules.length === raw.rules.length && rules.every((r) => r.when === undefined || Array.isArray(r.when)))
    for (const p of undeclaredFeatureProblems(isObj(raw.features) ? raw.features : undefined, rules))
      out.push({ path: p.path.join('.'), message: p.message });
  const firstIndex = new Map<string, number>();
  raw.rules.forEach((rule: unknown, i: number) => {
    if (!isObj(rule)) return;
    if (typeof rule.id === 'string') {
      const first = firstIndex.get(rule.id);
      if (first === undefined) firstIndex.set(rule.id, i);
      else
        out.push({
          path: `rules.${i}.id`,
          message: `duplicate rule id "${rule.id}" (also rules.${first})`,
          refinement: 'rule ids must be unique',
        });
    }
    const eventType = typeof rule.eventType === 'string' ? rule.eventType : undefined;
    if (eventType === undefined || (eventType !== '*' && !RISK_EVENT_TYPES.includes(eventType as never)))
      return;
    const fields = fieldsOf(eventType);
    if (Array.isArray(rule.when))
      rule.when.forEach((c: unknown, j: number) => {
        if (!isObj(c)) return;
        for (const key of ['field', 'ref'] as const) {
          const name = c[key];
          if (
            typeof name !== 'string' ||
            name.length === 0 ||
            name.startsWith('source.') ||
            isFeatureField(name)
          )
            continue;
          if (!fields.has(name))
            out.push({
              path: `rules.${i}.when.${j}.${key}`,
              message: `${eventType} events have no attribute "${name}" (the condition never holds)`,
            });
        }
      });
    if (rule.lockout === true && rule.minTier !== 'FREEZE')
      out.push({ path: `rules.${i}.lockout`, message: 'a lockout rule must have minTier FREEZE' });
  });
  return out;
}

export interface Change {
  /** What changed, as a path: "rules.borrow-burst.weight", "thresholds.FREEZE", "tiers.FREEZE.reviewSla". */
  path: string;
  kind: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

export interface PolicyDiff {
  versions: { a: string; b: string };
  rules: Change[];
  weights: Change[];
  thresholds: Change[];
  terms: Change[];
  other: Change[];
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Leaf-by-leaf differences of two plain JSON values under a path. */
function leafChanges(path: string, a: unknown, b: unknown, out: Change[]): void {
  if (same(a, b)) return;
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const p = path ? `${path}.${k}` : k;
      if (!(k in a)) out.push({ path: p, kind: 'added', after: b[k] });
      else if (!(k in b)) out.push({ path: p, kind: 'removed', before: a[k] });
      else leafChanges(p, a[k], b[k], out);
    }
    return;
  }
  out.push({ path, kind: 'changed', before: a, after: b });
}

/** What differs between two validated policies: rules (by id), weights, thresholds, tier terms, the rest. */
export function diffPolicies(a: Policy, b: Policy): PolicyDiff {
  const diff: PolicyDiff = {
    versions: { a: a.version, b: b.version },
    rules: [],
    weights: [],
    thresholds: [],
    terms: [],
    other: [],
  };
  const rulesA = new Map(a.rules.map((r) => [r.id, r]));
  const rulesB = new Map(b.rules.map((r) => [r.id, r]));
  for (const [id, ra] of rulesA) {
    const rb = rulesB.get(id);
    if (!rb) {
      diff.rules.push({ path: `rules.${id}`, kind: 'removed', before: ra });
      continue;
    }
    if (ra.weight !== rb.weight)
      diff.weights.push({ path: `rules.${id}.weight`, kind: 'changed', before: ra.weight, after: rb.weight });
    const { weight: _wa, ...restA } = ra;
    const { weight: _wb, ...restB } = rb;
    leafChanges(`rules.${id}`, restA, restB, diff.rules);
  }
  for (const [id, rb] of rulesB)
    if (!rulesA.has(id)) diff.rules.push({ path: `rules.${id}`, kind: 'added', after: rb });
  const orderA = a.rules.map((r) => r.id).filter((id) => rulesB.has(id));
  const orderB = b.rules.map((r) => r.id).filter((id) => rulesA.has(id));
  if (!same(orderA, orderB))
    diff.rules.push({ path: 'rules (order)', kind: 'changed', before: orderA, after: orderB });
  leafChanges('features', a.features, b.features, diff.rules);
  leafChanges('thresholds', a.thresholds, b.thresholds, diff.thresholds);
  leafChanges('tiers', a.tiers, b.tiers, diff.terms);
  leafChanges('lockout', a.lockout, b.lockout, diff.terms);
  leafChanges('review', a.review, b.review, diff.terms);
  leafChanges('userActions', a.userActions, b.userActions, diff.other);
  leafChanges('version', a.version, b.version, diff.other);
  leafChanges('description', a.description, b.description, diff.other);
  return diff;
}

export function changeCount(d: PolicyDiff): number {
  return d.rules.length + d.weights.length + d.thresholds.length + d.terms.length + d.other.length;
}
