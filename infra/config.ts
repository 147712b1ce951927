import { resolve } from 'node:path';
import { z } from 'zod';
import { parseCodecKeys, type CodecKey } from './codec';
import { EVENT_MAX_FUTURE_S_DEFAULT } from '../core/events';

// Configuration comes from the environment, parsed once at start-up. A bad value stops the process with a
// message naming the variable.

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

/** Development tokens: printed at start-up, refused in production. */
export const DEV_TOKENS: TokenTable = new Map<string, Principal>([
  ['dev-backend', { role: 'backend', id: 'backend' }],
  ['dev-reviewer-1', { role: 'reviewer', id: 'reviewer-1' }],
  ['dev-reviewer-2', { role: 'reviewer', id: 'reviewer-2' }],
  ['dev-senior', { role: 'senior', id: 'senior' }],
  ['dev-analyst', { role: 'analyst', id: 'analyst' }],
]);

const DAY_MS = 24 * 3_600_000;

const bool = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1');

const port = z.coerce.number().int().min(0).max(65535);

/** "token=role:id,token2=role:id" — the tokens a production deployment accepts. */
const Tokens = z
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

const DataSources = z
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
const Origins = z
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

const EnvSchema = z.object({
  CORDON_MODE: z.enum(['development', 'production']).default('development'),
  PORT: port.default(8080),
  /** The address the API listens on: loopback unless set (production: required; 0.0.0.0 in a container). */
  CORDON_HOST: z
    .union([z.ipv4(), z.ipv6()], 'an IPv4 or IPv6 address, such as 127.0.0.1 or 0.0.0.0')
    .optional(),
  CORDON_DATA_DIR: z.string().default('data'),
  CORDON_POLICY_FILE: z.string().default('policy/default.json'),
  /** A candidate policy scored in shadow on every live event, with no effect: disagreements are recorded. */
  CORDON_SHADOW_POLICY: z.string().min(1).optional(),
  CORDON_TOKENS: Tokens,
  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_API_KEY: z.string().optional(),
  TEMPORAL_TLS: bool,
  TEMPORAL_TLS_CERT: z.string().optional(),
  TEMPORAL_TLS_KEY: z.string().optional(),
  TEMPORAL_TLS_CA: z.string().optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
  TEMPORAL_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  CORDON_TASK_QUEUE: z.string().optional(),
  /**
   * How long the API waits for a case to take an event or an action before it answers 503 with Retry-After (a
   * starved or failing worker); the request may still be applied, and a retry with the same ID gets its answer.
   */
  CORDON_TEMPORAL_CALL_MS: z.coerce.number().int().min(1_000).max(300_000).default(20_000),
  CORDON_WEBHOOK_URL: z.url().optional(),
  CORDON_WEBHOOK_SECRET: z.string().min(16).optional(),
  CORDON_GATEWAY_URL: z.url().optional(),
  CORDON_GATEWAY_SECRET: z.string().min(16).optional(),
  CORDON_MESSAGING_URL: z.url().optional(),
  CORDON_DATA_SOURCES: DataSources,
  CORDON_SOURCE_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(2_000),
  /** postgres://… puts Cordon's own records in PostgreSQL; unset, an SQLite file in the data folder. */
  CORDON_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
    .optional(),
  /**
   * s3://KEY_ID:SECRET@HOST[:PORT]/BUCKET[/PREFIX]?region=R (s3+http:// for plain HTTP): evidence files in an
   * S3-compatible store. Unset: in Cordon's database when that is PostgreSQL, else in the data folder.
   * Parsed by infra/evidence/s3-store.ts.
   */
  CORDON_EVIDENCE_URL: z
    .string()
    .regex(/^s3(\+http)?:\/\//, 'an s3:// or s3+http:// URL')
    .optional(),
  /** How long an ended case stays readable in Cordon's database (years by default, for audits). */
  CORDON_ARCHIVE_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .max(36_500)
    .default(7 * 365),
  /** How far ahead of the API's clock a risk event's occurredAt may be (clock skew), in seconds; beyond: 400. */
  CORDON_EVENT_MAX_FUTURE_S: z.coerce.number().int().min(0).max(86_400).default(EVENT_MAX_FUTURE_S_DEFAULT),
  /** How long a risk event ID gets its first answer back (at least the documented 7 days). */
  CORDON_EVENT_ID_DAYS: z.coerce.number().int().min(7).max(3_650).default(30),
  /** A delivered (or failed) user notice keeps its personal fields (contact, question, explanation) this long. */
  CORDON_MESSAGE_RETENTION_DAYS: z.coerce.number().min(0).max(3_650).default(30),
  /**
   * An account's personal data may be erased this many days after its last case ended, at the earliest (the
   * policy's privacy.legalHoldDays can only lengthen it). 0 only for development and tests.
   */
  CORDON_ERASURE_MIN_HOLD_DAYS: z.coerce.number().int().min(0).max(36_500).default(1_825),
  /** Undelivered messages are marked FAILED after this many hours. */
  /** The Temporal SDK's Prometheus exporter, on 127.0.0.1 at this port (off when unset). */
  CORDON_SDK_METRICS_PORT: port.optional(),
  /** Where that exporter listens: 127.0.0.1 by default; 0.0.0.0 in a container, for probes and scrapers. */
  CORDON_SDK_METRICS_HOST: z.union([z.ipv4(), z.literal('localhost')]).default('127.0.0.1'),
  /**
   * On SIGTERM the API answers GET /readyz with 503 for this long while it still serves, then closes its
   * listener (load balancers learn late). Unset: 3000 in production, 0 in development. See docs/deploy.md.
   */
  CORDON_SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).max(60_000).optional(),
  /** Where users reach Cordon's pages (links in notices); default http://127.0.0.1:<PORT>. */
  CORDON_PUBLIC_URL: z.url().optional(),
  /** smtp://user:pass@host:port (smtps:// for TLS): notices go out as e-mail. Unset in development: a catcher. */
  CORDON_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'an smtp:// or smtps:// URL')
    .optional(),
  CORDON_MAIL_FROM: z.string().min(3).default('Cordon <no-reply@cordon.local>'),
  /** The backend's contact directory (GET <url>/<accountId>), for notices whose event brought no contact. */
  CORDON_DIRECTORY_URL: z.url().optional(),
  /**
   * Proxies in front of the API whose X-Forwarded-For is believed (express's "trust proxy"): a hop count, or
   * addresses and subnets. Unset: none, and the client address is the socket's (per-IP limits need it right).
   */
  CORDON_TRUST_PROXY: z
    .string()
    .regex(
      /^(\d{1,2}|[0-9a-fA-F:./, ]+|loopback|linklocal|uniquelocal)$/,
      'a hop count, or addresses and subnets',
    )
    .optional()
    .transform((v) => (v === undefined ? undefined : /^\d+$/.test(v) ? Number(v) : v)),
  /** Keys that sign the links in notices: id:base64key,... newest first (production: required). */
  CORDON_LINK_KEYS: z.string().optional(),
  /** Signs the reviewer console's session and CSRF cookies; shared by every API process (production: required). */
  CORDON_SESSION_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  /** A console session ends after this long without a request (fractions allowed: tests use seconds). */
  CORDON_SESSION_IDLE_MINUTES: z.coerce
    .number()
    .min(0.01)
    .max(24 * 60)
    .default(30),
  /** ... and this long after sign-in whatever its use: a reviewer signs in again each working day. */
  CORDON_SESSION_MAX_HOURS: z.coerce
    .number()
    .min(0.001)
    .max(7 * 24)
    .default(8),
  /** Payload encryption keys: id:base64key,... newest first (production: required). Parsed by infra/codec.ts. */
  CORDON_CODEC_KEYS: z.string().optional(),
  /** Browser origins (the Temporal Web UI's) allowed to call the codec endpoint with credentials. */
  CORDON_CODEC_CORS_ORIGINS: Origins,
  /** The platform's identity provider for step-up verification from the user's page (see portal/verification.ts). */
  CORDON_VERIFICATION_URL: z.url().optional(),
  /** Signs the provider's results (32+ characters); required with CORDON_VERIFICATION_URL in production. */
  CORDON_VERIFICATION_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  CORDON_DELIVERY_GIVE_UP_HOURS: z.coerce
    .number()
    .min(0.001)
    .max(24 * 365)
    .default(72),
});

export type Config = ReturnType<typeof parseConfig>;

export function parseConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n  ');
    throw new Error(`invalid configuration:\n  ${problems}`);
  }
  const e = parsed.data;
  const production = e.CORDON_MODE === 'production';
  if (production && e.CORDON_TOKENS.size === 0)
    throw new Error('invalid configuration: production mode needs CORDON_TOKENS (token=role:id,...)');
  if (production && !e.CORDON_SESSION_SECRET)
    throw new Error('invalid configuration: production mode needs CORDON_SESSION_SECRET (32+ characters)');
  if (production && !e.CORDON_CODEC_KEYS)
    throw new Error('invalid configuration: production mode needs CORDON_CODEC_KEYS (id:base64key,...)');
  if (production && e.CORDON_VERIFICATION_URL && !e.CORDON_VERIFICATION_SECRET)
    throw new Error(
      'invalid configuration: CORDON_VERIFICATION_URL needs CORDON_VERIFICATION_SECRET (32+ characters) in production',
    );
  // Development's well-known tokens and /dev/mail stay on this machine (loopback by default); production says
  // where it listens, so a deployment never opens to the network by accident.
  if (production && !e.CORDON_HOST)
    throw new Error(
      'invalid configuration: production mode needs CORDON_HOST, the address the API listens on (0.0.0.0: every interface)',
    );
  let codecKeys: CodecKey[] | undefined;
  try {
    codecKeys = e.CORDON_CODEC_KEYS ? parseCodecKeys(e.CORDON_CODEC_KEYS) : undefined;
  } catch (err) {
    // The parser's message names the variable and the entry, never the key.
    throw new Error(`invalid configuration: ${(err as Error).message}`);
  }
  const tokens: TokenTable = production ? e.CORDON_TOKENS : new Map([...DEV_TOKENS, ...e.CORDON_TOKENS]);
  const secretFor = (url: string | undefined, secret: string | undefined, name: string) => {
    if (url && !secret)
      throw new Error(`invalid configuration: ${name}_URL needs ${name}_SECRET to sign requests`);
    return url && secret ? { url, secret } : undefined;
  };
  return {
    mode: e.CORDON_MODE,
    port: e.PORT,
    host: e.CORDON_HOST ?? '127.0.0.1',
    dataDir: resolve(e.CORDON_DATA_DIR),
    policyFile: resolve(e.CORDON_POLICY_FILE),
    shadowPolicyFile: e.CORDON_SHADOW_POLICY === undefined ? undefined : resolve(e.CORDON_SHADOW_POLICY),
    tokens,
    temporal: {
      /** Unset: `npm start` runs a local dev server on TEMPORAL_PORT. */
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      apiKey: e.TEMPORAL_API_KEY,
      tls: e.TEMPORAL_TLS || Boolean(e.TEMPORAL_TLS_CERT) || Boolean(e.TEMPORAL_API_KEY),
      tlsCert: e.TEMPORAL_TLS_CERT,
      tlsKey: e.TEMPORAL_TLS_KEY,
      tlsCa: e.TEMPORAL_TLS_CA,
      tlsServerName: e.TEMPORAL_TLS_SERVER_NAME,
      devPort: e.TEMPORAL_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
    },
    taskQueue: e.CORDON_TASK_QUEUE,
    temporalCallMs: e.CORDON_TEMPORAL_CALL_MS,
    /** An event whose occurredAt is further ahead than this is refused (OCCURRED_IN_FUTURE). */
    eventMaxFutureMs: e.CORDON_EVENT_MAX_FUTURE_S * 1_000,
    webhook: secretFor(e.CORDON_WEBHOOK_URL, e.CORDON_WEBHOOK_SECRET, 'CORDON_WEBHOOK'),
    gateway: secretFor(e.CORDON_GATEWAY_URL, e.CORDON_GATEWAY_SECRET, 'CORDON_GATEWAY'),
    /** User messages go to the backend's messaging endpoint, signed with the webhook secret. */
    messagingUrl: e.CORDON_MESSAGING_URL,
    dataSources: e.CORDON_DATA_SOURCES,
    sdkMetricsAddress:
      e.CORDON_SDK_METRICS_PORT === undefined
        ? undefined
        : `${e.CORDON_SDK_METRICS_HOST}:${e.CORDON_SDK_METRICS_PORT}`,
    database: {
      url: e.CORDON_DATABASE_URL,
      sqliteFile: resolve(e.CORDON_DATA_DIR, 'cordon.sqlite'),
      archiveKeepMs: e.CORDON_ARCHIVE_DAYS * DAY_MS,
      eventIdWindowMs: e.CORDON_EVENT_ID_DAYS * DAY_MS,
      deliveryGiveUpMs: e.CORDON_DELIVERY_GIVE_UP_HOURS * 3_600_000,
      messageRetentionMs: e.CORDON_MESSAGE_RETENTION_DAYS * DAY_MS,
      /** Wrap each account's data key (infra/data-keys.ts); unset in development: the data folder's codec key. */
      codecKeys,
    },
    /** Raw (it may hold the object store's secret): see infra/evidence/from-config.ts. */
    evidenceUrl: e.CORDON_EVIDENCE_URL,
    /** Erasure of an account's personal data (api/erasure.ts): the deployment's shortest legal hold. */
    erasure: { minHoldDays: e.CORDON_ERASURE_MIN_HOLD_DAYS },
    sourceTimeoutMs: e.CORDON_SOURCE_TIMEOUT_MS,
    /** Unset in development: a secret created once in the data folder (see infra/dev-secrets.ts). */
    sessionSecret: e.CORDON_SESSION_SECRET,
    /** Console sessions (kept in Cordon's database): idle and absolute timeouts. */
    sessions: {
      idleMs: e.CORDON_SESSION_IDLE_MINUTES * 60_000,
      maxMs: e.CORDON_SESSION_MAX_HOURS * 3_600_000,
    },
    publicUrl: (e.CORDON_PUBLIC_URL ?? `http://127.0.0.1:${e.PORT}`).replace(/\/+$/, ''),
    mail: { smtpUrl: e.CORDON_SMTP_URL, from: e.CORDON_MAIL_FROM, directoryUrl: e.CORDON_DIRECTORY_URL },
    /**
     * The identity provider the user's page sends users to. Unset URL: development uses its stand-in at
     * /u/dev-verify; unset secret (development only): a secret created once in the data folder.
     */
    verification: { url: e.CORDON_VERIFICATION_URL, secret: e.CORDON_VERIFICATION_SECRET },
    trustProxy: e.CORDON_TRUST_PROXY,
    shutdownDelayMs: e.CORDON_SHUTDOWN_DELAY_MS ?? (production ? 3_000 : 0),
    /** Raw; parsed by infra/links.ts. Unset in development: a key created once in the data folder. */
    linkKeys: e.CORDON_LINK_KEYS,
    codec: {
      /** Unset in development: a key created once in the data folder (see infra/codec.ts). */
      keys: codecKeys,
      /** Who may call /codec from a browser: by default in development, the local Web UI. */
      corsOrigins:
        e.CORDON_CODEC_CORS_ORIGINS ??
        (production
          ? []
          : [`http://localhost:${e.TEMPORAL_UI_PORT}`, `http://127.0.0.1:${e.TEMPORAL_UI_PORT}`]),
    },
  };
}
