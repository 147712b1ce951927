import { resolve } from 'node:path';
import { parseCodecKeys, type CodecKey } from './codec';
import { ENV_SCHEMA } from './config-schema';
import type { Principal, TokenTable } from './config-values';

// Configuration comes from the environment, parsed once at start-up against the one schema of every variable
// (infra/config-schema.ts, which docs/configuration.md is generated from). A bad value stops the process with a
// message naming the variable.

export { ROLES, type Principal, type Role, type TokenTable } from './config-values';

/** Development tokens: printed at start-up, refused in production. */
export const DEV_TOKENS: TokenTable = new Map<string, Principal>([
  ['dev-backend', { role: 'backend', id: 'backend' }],
  ['dev-reviewer-1', { role: 'reviewer', id: 'reviewer-1' }],
  ['dev-reviewer-2', { role: 'reviewer', id: 'reviewer-2' }],
  ['dev-senior', { role: 'senior', id: 'senior' }],
  ['dev-analyst', { role: 'analyst', id: 'analyst' }],
]);

const DAY_MS = 24 * 3_600_000;

export type Config = ReturnType<typeof parseConfig>;

export function parseConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = ENV_SCHEMA.safeParse(env);
  if (!parsed.success) {
    // One line per problem (a value can break two checks with the same message).
    const problems = [...new Set(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`))].join(
      '\n  ',
    );
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
    /** Raw; parsed by infra/audit-keys.ts. Unset in development: a key created once in the data folder. */
    auditKeys: e.CORDON_AUDIT_KEYS,
    /** Raw; parsed by infra/entity-key.ts. Unset in development: a key created once in the data folder. */
    entityKey: e.CORDON_ENTITY_KEY,
    /** Reviewed bulk actions (api/bulk-actions.ts): the most cases a dry run takes, cases acted on per second. */
    bulk: { maxCases: e.CORDON_BULK_MAX, ratePerSecond: e.CORDON_BULK_RATE },
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
