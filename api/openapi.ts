import { z } from 'zod';
import type { RouteSpec } from './app';

const PROBLEM = {
  description: 'A problem (RFC 9457)',
  content: {
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
  },
};

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
  });
  return rest;
}

/** The OpenAPI 3.1 document, generated from the same zod schemas the routes validate with. */
export function buildOpenApi(routes: RouteSpec[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:(\w+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ['path', r.params],
      ['query', r.query],
    ] as const) {
      if (!schema) continue;
      const s = jsonSchema(schema) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, prop] of Object.entries(s.properties ?? {}))
        parameters.push({
          name,
          in: where,
          required: where === 'path' || (s.required ?? []).includes(name),
          schema: prop,
        });
    }
    paths[path] ??= {};
    paths[path][r.method] = {
      summary: r.summary,
      ...(r.roles === 'public' ? { security: [] } : { 'x-roles': r.roles }),
      ...(parameters.length ? { parameters } : {}),
      ...(r.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body) } } } }
        : {}),
      responses: {
        200: { description: 'OK', content: { 'application/json': {} } },
        ...(r.body || r.params || r.query ? { 400: PROBLEM } : {}),
        ...(r.roles === 'public' ? {} : { 401: PROBLEM, 403: PROBLEM }),
        ...(r.path.includes(':caseId') ? { 404: PROBLEM } : {}),
        ...(r.path.includes(':caseId') && r.method === 'post' ? { 409: PROBLEM } : {}),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Cordon API',
      version: '1',
      description: 'Lock-and-appeal process engine for consumer credit and payments.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
