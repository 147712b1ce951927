import type { Response } from 'express';
import type { z } from 'zod';

/** An error the API answers with as application/problem+json (RFC 9457). */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly extra: {
      code?: string;
      errors?: FieldError[];
      /** Response headers that go with the problem: Allow for a 405, Retry-After for a 503... */
      headers?: Record<string, string>;
      /** Members of its own a problem carries (RFC 9457 extensions), e.g. LEGAL_HOLD's `holdUntil`. */
      members?: Record<string, string | number>;
    } = {},
  ) {
    super(detail ?? title);
  }
}

/** Seconds a client waits before retrying a 503 (every 503 says so: Retry-After). */
export const RETRY_AFTER_S = 5;

/** The headers that go with a problem; a 503 always carries Retry-After. */
export function problemHeaders(p: Problem): Record<string, string> {
  const headers = { ...p.extra.headers };
  if (p.status === 503 && !Object.keys(headers).some((h) => h.toLowerCase() === 'retry-after'))
    headers['Retry-After'] = String(RETRY_AFTER_S);
  return headers;
}

export interface FieldError {
  /** Where in the request: body.attributes.matched, params.caseId, query.limit... */
  path: string;
  message: string;
}

export function fieldErrors(where: string, error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

const STANDARD_MEMBERS = new Set(['type', 'title', 'status', 'detail', 'code', 'errors']);

export function sendProblem(res: Response, p: Problem): void {
  res.set(problemHeaders(p));
  res
    .status(p.status)
    .type('application/problem+json')
    .json({
      type: p.extra.code
        ? `https://cordon.dev/problems/${p.extra.code.toLowerCase().replace(/_/g, '-')}`
        : 'about:blank',
      title: p.title,
      status: p.status,
      ...(p.detail ? { detail: p.detail } : {}),
      ...(p.extra.code ? { code: p.extra.code } : {}),
      ...(p.extra.errors ? { errors: p.extra.errors } : {}),
      // After the standard members' names are taken: an extension never replaces one.
      ...Object.fromEntries(Object.entries(p.extra.members ?? {}).filter(([k]) => !STANDARD_MEMBERS.has(k))),
    });
}
