// The console acts through the API's own route table: the same role check, the same zod schemas, the same
// handler. Whatever the API would refuse, the console refuses with the same Problem.
import type { z } from 'zod';
import type { RouteSpec } from '../api/app';
import { requireRole } from '../api/auth';
import { temporalUnavailable, TEMPORAL_RETRY_AFTER_S } from '../api/errors';
import { fieldErrors, Problem, type FieldError } from '../api/problems';
import type { Principal } from '../infra/config';
import type { ReviewQueueItem } from '../api/case-service';
import type { ConsoleCase } from './case-page';
import type { QueueRow } from './queue';

export interface RouteInput {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
}

export type CallRoute = (
  method: 'get' | 'post',
  path: string,
  principal: Principal,
  input?: RouteInput,
) => Promise<unknown>;

export function routeCaller(routes: readonly RouteSpec[]): CallRoute {
  const byKey = new Map(routes.map((r) => [`${r.method} ${r.path}`, r]));
  return async (method, path, principal, input = {}) => {
    const r = byKey.get(`${method} ${path}`);
    if (!r) throw new Error(`the API has no route ${method} ${path}`);
    // The API's order: the role (403) first, then the input (400).
    if (r.roles !== 'public') requireRole(principal, r.roles);
    const errors: FieldError[] = [];
    const params: unknown = parsePart(r.params, input.params, 'params', errors);
    const query: unknown = parsePart(r.query, input.query, 'query', errors);
    const body: unknown = parsePart(r.body, input.body, 'body', errors);
    if (errors.length)
      throw new Problem(400, 'Invalid request', 'the request is not valid', {
        code: 'VALIDATION_FAILED',
        errors,
      });
    try {
      return await r.handle({ params, query, body, principal });
    } catch (err) {
      throw asProblem(err);
    }
  };
}

function parsePart(
  schema: z.ZodType | undefined,
  value: unknown,
  where: string,
  errors: FieldError[],
): unknown {
  if (!schema) return undefined;
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  errors.push(...fieldErrors(where, parsed.error));
  return undefined;
}

/** Temporal out of reach is a 503 the reviewer can retry; anything else unknown stays an error to log. */
function asProblem(err: unknown): unknown {
  if (err instanceof Problem || !temporalUnavailable(err)) return err;
  return new Problem(503, 'Service unavailable', 'the case engine (Temporal) cannot be reached just now', {
    code: 'TEMPORAL_UNAVAILABLE',
    headers: { 'Retry-After': String(TEMPORAL_RETRY_AFTER_S) },
  });
}

/** The keys a body schema takes, when it is an object schema: the form sends only fields the API knows. */
export function bodyKeys(r: RouteSpec | undefined): Set<string> | undefined {
  const shape = (r?.body as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape ? new Set(Object.keys(shape)) : undefined;
}

/** Items without reason codes: at most this many are looked up per page, within this time. */
const REASON_LOOKUPS = 100;
const REASON_LOOKUP_MS = 3_000;

/**
 * Queue items with their reason codes: from the item when the API gives them, else from each case (bounded in
 * number and time, so a slow case cannot hold up the queue; what is not known in time shows as unknown).
 */
export async function withReasonCodes(
  call: CallRoute,
  items: ReviewQueueItem[],
  principal: Principal,
): Promise<QueueRow[]> {
  const rows: QueueRow[] = items.map((item) => {
    const given = (item as { reasonCodes?: unknown }).reasonCodes;
    return { ...item, reasonCodes: Array.isArray(given) ? given.map(String) : null };
  });
  const missing = rows.filter((r) => r.reasonCodes === null).slice(0, REASON_LOOKUPS);
  if (!missing.length) return rows;
  const found = new Map<string, string[]>();
  let next = 0;
  let late = false;
  const worker = async () => {
    while (!late && next < missing.length) {
      const row = missing[next++]!;
      try {
        const view = (await call('get', '/v1/cases/:caseId', principal, {
          params: { caseId: row.caseId },
        })) as ConsoleCase;
        found.set(
          row.caseId,
          view.reasons.map((r) => r.code),
        );
      } catch {
        // Unknown for now: the row shows "?" and the next refresh tries again.
      }
    }
  };
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(Array.from({ length: 8 }, worker)),
    new Promise((resolve) => (timer = setTimeout(resolve, REASON_LOOKUP_MS))),
  ]);
  clearTimeout(timer);
  late = true;
  return rows.map((r) =>
    r.reasonCodes === null && found.has(r.caseId) ? { ...r, reasonCodes: found.get(r.caseId)! } : r,
  );
}
