// The variables of the service itself: the API, access, sessions and keys, Temporal, the worker (one part of
// infra/config-schema.ts, which joins the parts into the one schema; descriptions are the "meaning" column of
// docs/configuration.md).
import { z } from 'zod';
import { bool, DEV_SECRET, integer, Origins, port, REQUIRED, Tokens, variable } from './config-values';
import { EVENT_MAX_FUTURE_S_DEFAULT } from '../core/events';

/**
 * The worker's workflow cache: open cases wait days for their users, so they pile up far beyond what memory
 * holds. An evicted case replays its history when it is next touched. The default keeps worker and API together
 * under 1 GB (docs/releases.md, _The benchmark_, has the figures it was chosen from).
 */
export const DEFAULT_WORKFLOW_CACHE_SIZE = 250;

/**
 * Workflow tasks a worker takes at once. Its workflows run on one thread, so tasks in hand beyond what keeps that
 * thread busy only wait in the worker while their timeout (10 s) runs. With the SDK's default of 40 on a
 * CPU-starved machine (load about 10) tasks took 8 s at the median, many past their timeout, and the failed
 * retries replayed whole histories, which starved the worker further. Beyond this number tasks wait at the
 * server, where no timeout runs. 20 keeps a quiet worker's throughput at 20 requests in flight (8 cost a quarter
 * of it), and with four busy processes beside the chaos run no task took over 5 s.
 */
export const DEFAULT_WORKFLOW_TASK_SLOTS = 20;

export const SERVICE_VARIABLES = {
  // Mode and the API
  CORDON_MODE: variable(
    z.enum(['development', 'production']).default('development'),
    '`production` refuses to start without the variables marked required, accepts only `CORDON_TOKENS` (no development tokens) and creates no secret of its own',
    { group: 'api', production: '`production`' },
  ),
  PORT: variable(port.default(8080), 'the port the API listens on', { group: 'api' }),
  CORDON_HOST: variable(
    z.union([z.ipv4(), z.ipv6()], 'an IPv4 or IPv6 address, such as 127.0.0.1 or 0.0.0.0').optional(),
    'the address the API listens on; `0.0.0.0` (every interface) in a container',
    { group: 'api', default: '`127.0.0.1`', production: REQUIRED },
  ),
  CORDON_PUBLIC_URL: variable(z.url().optional(), "where users reach Cordon's pages: the links in notices", {
    group: 'api',
    default: '`http://127.0.0.1:<PORT>`',
  }),
  CORDON_TRUST_PROXY: variable(
    z
      .string()
      .regex(
        /^(\d{1,2}|[0-9a-fA-F:./, ]+|loopback|linklocal|uniquelocal)$/,
        'a hop count, or addresses and subnets',
      )
      .optional()
      .transform((v) => (v === undefined ? undefined : /^\d+$/.test(v) ? Number(v) : v)),
    "proxies in front of the API whose `X-Forwarded-For` is believed (express's trust proxy): a hop count, addresses and subnets, or `loopback`; per-IP limits need it right",
    { group: 'api', default: "none: the client's address is the socket's" },
  ),
  CORDON_TEMPORAL_CALL_MS: variable(
    z.coerce.number().int().min(1_000).max(300_000).default(20_000),
    'how long the API waits for a case to take an event or action before it answers 503 `TEMPORAL_BUSY` with `Retry-After`; the request may still be applied, and a retry with the same ID gets its answer',
    { group: 'api' },
  ),
  CORDON_EVENT_MAX_FUTURE_S: variable(
    z.coerce.number().int().min(0).max(86_400).default(EVENT_MAX_FUTURE_S_DEFAULT),
    "how far ahead of the API's clock a risk event's `occurredAt` may be (clock skew), in seconds; further ahead: 400 `OCCURRED_IN_FUTURE`",
    { group: 'api' },
  ),
  CORDON_SHUTDOWN_DELAY_MS: variable(
    z.coerce.number().int().min(0).max(60_000).optional(),
    'on SIGTERM the API answers `GET /readyz` 503 for this long while it still serves, then closes its listener (load balancers learn late; see [deploy.md](deploy.md))',
    { group: 'api', default: '`0`', production: '`3000` by default' },
  ),

  // Access, sessions and keys
  CORDON_TOKENS: variable(
    Tokens,
    "the API's bearer tokens: `token=role:id,…`; roles `backend`, `reviewer`, `senior`, `admin`, `analyst`; tokens of 16+ characters",
    { group: 'access', default: 'none (development adds its printed `dev-…` tokens)', production: REQUIRED },
  ),
  CORDON_SESSION_SECRET: variable(
    z.string().min(32, 'at least 32 characters').optional(),
    "32+ characters: signs the console's and user pages' cookies; the same on every API process",
    { group: 'access', default: DEV_SECRET, production: REQUIRED },
  ),
  CORDON_SESSION_IDLE_MINUTES: variable(
    z.coerce
      .number()
      .min(0.01)
      .max(24 * 60)
      .default(30),
    'a console session ends after this long without a request (fractions allowed: tests use seconds)',
    { group: 'access' },
  ),
  CORDON_SESSION_MAX_HOURS: variable(
    z.coerce
      .number()
      .min(0.001)
      .max(7 * 24)
      .default(8),
    '… and this long after sign-in whatever its use: a reviewer signs in again each working day',
    { group: 'access' },
  ),
  CORDON_CODEC_KEYS: variable(
    z.string().optional(),
    "`id:base64key,…`, newest first (32-byte keys): encrypt every Temporal payload and wrap each account's data key; the same on every process",
    { group: 'access', default: DEV_SECRET, production: REQUIRED },
  ),
  CORDON_CODEC_CORS_ORIGINS: variable(
    Origins,
    "browser origins (the Temporal Web UI's) allowed to call `/codec` with credentials, comma-separated, such as `https://temporal-ui.example.com`",
    {
      group: 'access',
      default: '(development: the local Web UI on `TEMPORAL_UI_PORT`)',
      production: 'none unless set',
    },
  ),
  CORDON_LINK_KEYS: variable(
    z.string().optional(),
    "`id:base64key,…`, newest first (32+ bytes each): sign the links to the user's case page in notices",
    { group: 'access', default: DEV_SECRET, production: REQUIRED },
  ),
  CORDON_AUDIT_KEYS: variable(
    z.string().optional(),
    '`id:key,…`, newest first: Ed25519 keys that sign audit exports; the first signs, all are published ([audit.md](audit.md))',
    { group: 'access', default: DEV_SECRET, production: REQUIRED },
  ),
  CORDON_ENTITY_KEY: variable(
    z.string().optional(),
    "base64 of 32+ random bytes: the HMAC key entity values (`device`, `ip`, `payee`…) are hashed with at intake, before anything counts, stores or logs them; one key for every API process, kept as long as the features' windows ([features.md](features.md))",
    { group: 'access', default: DEV_SECRET, production: REQUIRED },
  ),
  CORDON_VERIFICATION_URL: variable(
    z.url().optional(),
    "the platform's identity provider the user's page sends users to for step-up verification",
    {
      group: 'access',
      default: '(development: the stand-in at `/u/dev-verify`)',
      production: "unset: no verification on the user's page",
    },
  ),
  CORDON_VERIFICATION_SECRET: variable(
    z.string().min(32, 'at least 32 characters').optional(),
    "32+ characters: signs the identity provider's results",
    { group: 'access', default: DEV_SECRET, production: 'required with `CORDON_VERIFICATION_URL`' },
  ),

  // Temporal
  TEMPORAL_ADDRESS: variable(
    z.string().optional(),
    'an existing Temporal cluster, `host:port`: `npm start` then starts no dev server',
    { group: 'temporal', default: '`127.0.0.1:<TEMPORAL_PORT>`' },
  ),
  TEMPORAL_NAMESPACE: variable(z.string().default('default'), "the namespace of Cordon's cases", {
    group: 'temporal',
  }),
  TEMPORAL_API_KEY: variable(z.string().optional(), 'an API key for the cluster (implies TLS)', {
    group: 'temporal',
  }),
  TEMPORAL_TLS: variable(bool, '`true` or `1`: connect to the cluster over TLS', {
    group: 'temporal',
    default: '`false` (TLS when an API key or client certificate is set)',
  }),
  TEMPORAL_TLS_CERT: variable(z.string().optional(), "the client certificate's file, PEM (implies TLS)", {
    group: 'temporal',
  }),
  TEMPORAL_TLS_KEY: variable(z.string().optional(), "the client certificate's private key file, PEM", {
    group: 'temporal',
  }),
  TEMPORAL_TLS_CA: variable(
    z.string().optional(),
    "a CA certificate file, PEM, for the cluster's certificate",
    {
      group: 'temporal',
      default: "the system's CAs",
    },
  ),
  TEMPORAL_TLS_SERVER_NAME: variable(
    z.string().optional(),
    "the name expected in the cluster's certificate",
    {
      group: 'temporal',
      default: "the address's host",
    },
  ),
  TEMPORAL_PORT: variable(
    port.default(7233),
    "the local dev server's port (`npm start` without `TEMPORAL_ADDRESS`)",
    {
      group: 'temporal',
    },
  ),
  TEMPORAL_UI_PORT: variable(port.default(8233), "the local dev server's Web UI port", { group: 'temporal' }),
  CORDON_TASK_QUEUE: variable(z.string().optional(), "the task queue of Cordon's workflows and activities", {
    group: 'temporal',
    default: '`cordon-cases`',
  }),

  // The worker
  CORDON_WORKFLOW_CACHE_SIZE: variable(
    integer(1, 1_000_000, DEFAULT_WORKFLOW_CACHE_SIZE),
    'case workflows the worker keeps in memory; the others replay from their history when next touched (see [releases.md](releases.md#the-benchmark))',
    { group: 'worker' },
  ),
  CORDON_WORKFLOW_TASK_SLOTS: variable(
    integer(2, 100, DEFAULT_WORKFLOW_TASK_SLOTS),
    'workflow tasks a worker takes at once; more wait at the server, where no timeout runs (see [releases.md](releases.md#under-load-04))',
    { group: 'worker' },
  ),
  CORDON_BULK_MAX: variable(
    integer(1, 100_000, 10_000),
    "the most open cases one bulk action's dry run takes (oldest first; the answer says `capped` when more matched): see [operations.md](operations.md#rolling-back-a-misfiring-rule)",
    { group: 'api' },
  ),
  CORDON_BULK_RATE: variable(
    integer(1, 100, 5),
    'cases per second an approved bulk action acts on, one at a time (its workflow waits between cases, so the API and the workers keep answering risk events)',
    { group: 'api' },
  ),
  CORDON_WORKFLOW_BUNDLE: variable(
    z.string().optional(),
    'a workflow bundle prebuilt by `writeWorkflowBundle` (`worker/create.ts`; the image sets `dist/workflow-bundle.js`), loaded instead of bundling at start-up; it must come from the same workflow code',
    { group: 'worker', default: 'none: bundled at start-up' },
  ),
  CORDON_SDK_METRICS_PORT: variable(
    port.optional(),
    "the Temporal SDK's Prometheus exporter listens at this port; the API appends what it serves to its `/metrics`, and the worker's probes reach it",
    { group: 'worker', default: 'none: off' },
  ),
  CORDON_SDK_METRICS_HOST: variable(
    z.union([z.ipv4(), z.literal('localhost')]).default('127.0.0.1'),
    'where that exporter listens: `0.0.0.0` in a container, for probes and scrapers',
    { group: 'worker' },
  ),
};
