// The console and the user's pages act through the API's own route table: the same role check, the same zod
// schemas, the same handler. Whatever the API would refuse, they refuse with the same Problem.
import type { z } from 'zod';
import type { Principal } from '../../infra/config';
import { requireRole } from '../auth';
import { temporalUnavailable, temporalUnavailableProblem } from '../errors';
import { fieldErrors, Problem, type FieldError } from '../../web/problems';
import type { RouteSpec } from './spec';

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

/** Temporal out of reach is a 503 the page's user can retry; anything else unknown stays an error to log. */
export function asProblem(err: unknown): unknown {
  if (err instanceof Problem || !temporalUnavailable(err)) return err;
  return temporalUnavailableProblem('the case engine (Temporal) cannot be reached just now');
}
