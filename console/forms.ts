// Forms to API bodies: what a reviewer typed, typed as the API's JSON would be.
import type { RouteSpec } from '../api/routes/spec';
import type { CaseAction } from './case-page';

/** The keys a body schema takes, when it is an object schema: the form sends only fields the API knows. */
export function bodyKeys(r: RouteSpec | undefined): Set<string> | undefined {
  const shape = (r?.body as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape ? new Set(Object.keys(shape)) : undefined;
}

/** The form's string fields (the CSRF token left out). */
export function formValues(body: unknown): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries((body ?? {}) as Record<string, unknown>))
    if (typeof v === 'string' && k !== '_csrf') values[k] = v;
  return values;
}

const numberOrText = (v: string | undefined) => (v !== undefined && /^\d{1,9}$/.test(v) ? Number(v) : v);
const text = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v);

/**
 * The API body for a form: typed as the API's JSON would be, and only with the fields the route's schema
 * takes (`fields`; all of them when the schema's keys cannot be read). The schema then judges it.
 */
export function bodyOf(
  action: CaseAction,
  f: Record<string, string>,
  fields: Set<string> | undefined,
): unknown {
  if (action === 'claim' || action === 'release') return undefined;
  const body: Record<string, unknown> =
    action === 'decision'
      ? {
          decision: f.decision,
          rationale: f.rationale,
          requestId: f.requestId,
          evidenceVersion: numberOrText(f.evidenceVersion),
          // The question belongs to REQUEST_INFO, the user's explanation to outcomes.
          question: f.decision === 'REQUEST_INFO' ? text(f.question) : undefined,
          explanation:
            f.decision !== 'REQUEST_INFO' && text(f.explanationText)
              ? { code: f.explanationCode, text: f.explanationText }
              : undefined,
        }
      : {
          approve: f.approve === 'true' ? true : f.approve === 'false' ? false : f.approve,
          rationale: f.rationale,
          requestId: f.requestId,
          evidenceVersion: numberOrText(f.evidenceVersion),
        };
  return Object.fromEntries(
    Object.entries(body).filter(([k, v]) => v !== undefined && (!fields || fields.has(k))),
  );
}
