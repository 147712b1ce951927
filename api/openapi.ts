import { z } from 'zod';
import type { RouteSpec } from './routes/spec';

const PROBLEM_CONTENT = {
  'application/problem+json': {
    schema: {
      type: 'object',
      properties: {
        type: { type: 'string' },
        title: { type: 'string' },
        status: { type: 'integer' },
        detail: { type: 'string' },
        code: { type: 'string' },
        errors: {
          type: 'array',
          items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
        },
      },
    },
  },
};

/** A problem response (RFC 9457) with what it means, and the headers that come with it. */
const problem = (description: string, headers?: Record<string, string>) => ({
  description,
  ...(headers
    ? {
        headers: Object.fromEntries(
          Object.entries(headers).map(([name, d]) => [name, { description: d, schema: { type: 'string' } }]),
        ),
      }
    : {}),
  content: PROBLEM_CONTENT,
});

/**
 * A request schema (or, with io 'output', an answer's) as JSON Schema. Schemas given an ID (`.meta({ id })`, e.g. the contact with its time zones)
 * are written once, into `shared` (the document's components), and referred to from every use.
 */
function jsonSchema(
  schema: z.ZodType,
  shared: Record<string, unknown>,
  io: 'input' | 'output' = 'input',
): Record<string, unknown> {
  const {
    $schema: _ignored,
    $defs,
    ...rest
  } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  });
  for (const [id, def] of Object.entries($defs ?? {})) shared[id] = def;
  // zod refers to them as "#/$defs/<id>": in an OpenAPI document "#" is the document, not this schema.
  return JSON.parse(JSON.stringify(rest).replaceAll('"#/$defs/', '"#/components/schemas/')) as Record<
    string,
    unknown
  >;
}

/** Every status a route can answer: what the route table says it takes, and what the app around it adds. */
function responses(r: RouteSpec, shared: Record<string, unknown>): Record<string, unknown> {
  const caseRoute = r.path.includes(':caseId');
  return {
    [r.status ?? 200]: {
      description: r.status === 202 ? 'Accepted: the work goes on' : 'OK',
      content: {
        'application/json': r.answerSchema ? { schema: jsonSchema(r.answerSchema, shared, 'output') } : {},
      },
    },
    ...(r.body || r.params || r.query
      ? {
          400: problem(
            `Invalid ${[r.params && 'path', r.query && 'query', r.body && 'body'].filter(Boolean).join(', ')}` +
              ` (VALIDATION_FAILED, with field paths${r.body ? '; MALFORMED_JSON for a body that is not JSON; DUPLICATE_KEY for an object that names a member twice' : ''})`,
          ),
        }
      : {}),
    ...(r.roles === 'public'
      ? {}
      : {
          401: problem('No valid bearer token (UNAUTHORIZED)', { 'WWW-Authenticate': 'Bearer' }),
          403: problem(`The token's role may not do this (FORBIDDEN); allowed: ${r.roles.join(', ')}`),
        }),
    ...(caseRoute ? { 404: problem('No such case (CASE_NOT_FOUND)') } : {}),
    405: problem('Another method on this path (METHOD_NOT_ALLOWED)', {
      Allow: 'The methods this path answers',
    }),
    ...(caseRoute && r.method === 'post'
      ? {
          409: problem(
            "The case's state does not allow this action now, or the case has ended (CASE_CLOSED)",
          ),
        }
      : {}),
    ...(r.body
      ? {
          413: problem('The body exceeds 64 KiB (BODY_TOO_LARGE)'),
          415: problem(
            'The body is not application/json, or declares a charset other than UTF-8 (UNSUPPORTED_MEDIA_TYPE)',
          ),
        }
      : {}),
    ...Object.fromEntries(Object.entries(r.answers ?? {}).map(([status, text]) => [status, problem(text)])),
    500: problem('The request could not be completed; it is safe to retry'),
    503: problem(
      'Temporal cannot be reached, or a read of it did not answer in time (TEMPORAL_UNAVAILABLE); retry after Retry-After seconds',
      { 'Retry-After': 'Seconds to wait before retrying' },
    ),
  };
}

/** The OpenAPI 3.1 document, generated from the same zod schemas the routes validate with. */
export function buildOpenApi(routes: RouteSpec[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const schemas: Record<string, unknown> = {};
  for (const r of routes) {
    const path = r.path.replace(/:(\w+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ['path', r.params],
      ['query', r.query],
    ] as const) {
      if (!schema) continue;
      const s = jsonSchema(schema, schemas) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, prop] of Object.entries(s.properties ?? {}))
        parameters.push({
          name,
          in: where,
          required: where === 'path' || (s.required ?? []).includes(name),
          // Where readers of the document look for what a parameter means (the schema keeps it too).
          ...((prop as { description?: string }).description
            ? { description: (prop as { description: string }).description }
            : {}),
          schema: prop,
        });
    }
    paths[path] ??= {};
    paths[path][r.method] = {
      summary: r.summary,
      ...(r.roles === 'public' ? { security: [] } : { 'x-roles': r.roles }),
      ...(parameters.length ? { parameters } : {}),
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(r.body, schemas) } },
            },
          }
        : {}),
      responses: responses(r, schemas),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Cordon API',
      version: '1',
      description: 'Lock-and-appeal process engine for consumer credit and payments.',
    },
    components: { schemas, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
