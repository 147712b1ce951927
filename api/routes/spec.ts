// What a route of the API is: one entry of the route table that drives routing, authentication, validation and
// the OpenAPI document (api/app.ts, api/openapi.ts), and that the console and the user's pages call in-process
// (api/routes/caller.ts). It imports none of its users, so every one of them may import it.
import type { z } from 'zod';
import type { Principal, Role } from '../../infra/config';

type Method = 'get' | 'post';

export interface RouteSpec<
  B extends z.ZodType = z.ZodType,
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
> {
  method: Method;
  path: string;
  summary: string;
  roles: Role[] | 'public';
  body?: B;
  params?: P;
  query?: Q;
  /** What a success answers, for the OpenAPI document (api/answers.ts); without it the document says JSON only. */
  answerSchema?: z.ZodType;
  /** Statuses this route answers beyond those every route of its kind does (for the OpenAPI document). */
  answers?: Record<number, string>;
  /** Its success status: 200 unless it only accepts work that goes on (202). */
  status?: 200 | 202;
  handle(input: {
    body: z.infer<B>;
    params: z.infer<P>;
    query: z.infer<Q>;
    principal: Principal;
  }): Promise<unknown>;
}

/** A route, typed by its schemas while it is written, then one entry of the table. */
export function route<B extends z.ZodType, P extends z.ZodType, Q extends z.ZodType>(
  r: RouteSpec<B, P, Q>,
): RouteSpec {
  return r;
}

export const ANY_STAFF: Role[] = ['backend', 'reviewer', 'senior', 'admin'];
export const BACKEND: Role[] = ['backend', 'admin'];
export const REVIEWERS: Role[] = ['reviewer', 'senior', 'admin'];
/** May take over or release a case another reviewer holds. */
export const SENIORS: Role[] = ['senior', 'admin'];
/** Policy work: simulation and the reports (no case, no personal data beyond account and event IDs). */
export const ANALYSTS: Role[] = ['analyst', 'senior', 'admin'];
