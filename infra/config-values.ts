// The pieces infra/config-schema.ts builds its schema from: the types of the values (tokens, origins, data
// sources, integers in a range) and how each variable is documented for docs/configuration.md.
import { z } from 'zod';

export const ROLES = ['backend', 'reviewer', 'senior', 'admin', 'analyst'] as const;
export type Role = (typeof ROLES)[number];
export interface Principal {
  role: Role;
  /** Recorded as the actor on every action. */
  id: string;
}

/**
 * Bearer token → principal. A Map, never a plain object: a token such as `constructor` or `__proto__` must not
 * find anything on Object.prototype.
 */
export type TokenTable = ReadonlyMap<string, Principal>;

/** The sections of docs/configuration.md, in its order. */
export const ENV_GROUPS = {
  api: 'Mode and the API',
  access: 'Access, sessions and keys',
  temporal: 'Temporal',
  worker: 'The worker',
  policy: 'The policy and data sources',
  backend: 'The backend, notices and e-mail',
  storage: 'Storage and retention',
  logs: 'Logs',
  cli: 'The `cordon` command line',
  tools: 'Development tools',
} as const;
export type EnvGroup = keyof typeof ENV_GROUPS;

export interface EnvDoc {
  group: EnvGroup;
  /** The default as an operator reads it, when the schema's own `.default()` does not say it (or has none). */
  default?: string;
  /** `required` (production refuses to start without it), `required with X`, or what differs in production. */
  production?: string;
}

/** The documentation of each variable's schema (its meaning is the schema's `.describe()`). */
export const envDocs = z.registry<EnvDoc>();

export function variable<T extends z.ZodType>(schema: T, description: string, doc: EnvDoc): T {
  const described = schema.describe(description);
  envDocs.add(described, doc);
  return described;
}

/** An empty value is the same as none (`VAR= npm start`). */
export const emptyAsUnset = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema);

/** An integer in [min, max]; the message follows the variable's name ("X must be an integer from 1 to 9"). */
export function integer(min: number, max: number, fallback: number) {
  const message = `must be an integer from ${min} to ${max}`;
  return emptyAsUnset(
    z.coerce
      .number(message)
      .refine((n) => Number.isInteger(n) && n >= min && n <= max, message)
      .default(fallback),
  );
}

export const bool = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1');

export const port = z.coerce.number().int().min(0).max(65535);

/** "token=role:id,token2=role:id" — the tokens a production deployment accepts. */
export const Tokens = z
  .string()
  .optional()
  .transform((text, ctx) => {
    const tokens = new Map<string, Principal>();
    for (const entry of (text ?? '')
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)) {
      const match = /^([^=]{16,})=([a-z]+):([A-Za-z0-9._-]{1,64})$/.exec(entry);
      const role = match?.[2] as Role | undefined;
      if (!match || !role || !ROLES.includes(role)) {
        ctx.addIssue({
          code: 'custom',
          message: 'expected token=role:id entries (token at least 16 characters)',
        });
        return z.NEVER;
      }
      tokens.set(match[1]!, { role, id: match[3]! });
    }
    return tokens;
  });

export const DataSources = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (!text) return [];
    try {
      return z
        .array(z.strictObject({ name: z.string().regex(/^[a-zA-Z0-9_]{1,32}$/), url: z.url() }))
        .parse(JSON.parse(text));
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected a JSON array of {"name","url"}' });
      return z.NEVER;
    }
  });

/** "https://ui.example.com,http://127.0.0.1:8233": browser origins (scheme://host[:port], nothing more). */
export const Origins = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (text === undefined) return undefined;
    const origins: string[] = [];
    for (const entry of text
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)) {
      let origin: string | undefined;
      try {
        const url = new URL(entry);
        origin = /^https?:$/.test(url.protocol) ? url.origin : undefined;
      } catch {
        origin = undefined;
      }
      // Compared as browsers send them in Origin: no path, no trailing slash, no default port, lower case.
      if (origin !== entry) {
        ctx.addIssue({
          code: 'custom',
          message: 'expected comma-separated origins as browsers send them, such as https://ui.example.com',
        });
        return z.NEVER;
      }
      origins.push(origin);
    }
    return origins;
  });

/** The production column of the configuration table: a variable production refuses to start without. */
export const REQUIRED = 'required';
/** The default column of a secret development creates for itself. */
export const DEV_SECRET = '(development: created once in the data folder)';
