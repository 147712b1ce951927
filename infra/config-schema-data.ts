// The variables of what the service works with: the policy and data sources, the backend and notices, storage
// and retention, logs, the command line and development tools (one part of infra/config-schema.ts, which joins
// the parts into the one schema; descriptions are the "meaning" column of docs/configuration.md).
import { z } from 'zod';
import { DataSources, emptyAsUnset, integer, variable } from './config-values';

const PINO_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
const SDK_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

export const DATA_VARIABLES = {
  // The policy and data sources
  CORDON_POLICY_FILE: variable(
    z.string().default('policy/default.json'),
    'the policy in force: validated at start-up, and followed when the file changes',
    { group: 'policy' },
  ),
  CORDON_SHADOW_POLICY: variable(
    z.string().min(1).optional(),
    'a candidate policy scored in shadow on every live event, with no effect: disagreements are recorded (see [policy-and-lab.md](policy-and-lab.md#shadow-mode))',
    { group: 'policy' },
  ),
  CORDON_DATA_SOURCES: variable(
    DataSources,
    '`[{"name":"device","url":"http://…"}]`: each is POSTed `{accountId,type}` and answers a flat JSON object of signals',
    { group: 'policy', default: 'none' },
  ),
  CORDON_SOURCE_TIMEOUT_MS: variable(
    z.coerce.number().int().min(10).max(60_000).default(2_000),
    'how long Cordon waits for each data source',
    { group: 'policy' },
  ),

  // The backend, notices and e-mail
  CORDON_WEBHOOK_URL: variable(
    z.url().optional(),
    "the backend's webhooks (`restriction.changed`, `case.outcome`, `case.escalated`, `case.break_glass`); needs `CORDON_WEBHOOK_SECRET`",
    { group: 'backend', default: 'none: logged' },
  ),
  CORDON_WEBHOOK_SECRET: variable(
    z.string().min(16).optional(),
    '16+ characters: signs the webhooks and the user messages',
    { group: 'backend' },
  ),
  CORDON_GATEWAY_URL: variable(
    z.url().optional(),
    "the backend's account system: restriction commands to `<url>/restrictions/{apply,lift,close}`; needs `CORDON_GATEWAY_SECRET`",
    { group: 'backend', default: 'none: only the restriction record (commands logged)' },
  ),
  CORDON_GATEWAY_SECRET: variable(
    z.string().min(16).optional(),
    '16+ characters: signs the restriction commands',
    {
      group: 'backend',
    },
  ),
  CORDON_MESSAGING_URL: variable(
    z.url().optional(),
    "user messages through the backend's messaging, signed with the webhook secret (with `CORDON_WEBHOOK_URL` set)",
    { group: 'backend' },
  ),
  CORDON_SMTP_URL: variable(
    z
      .string()
      .regex(/^smtps?:\/\//, 'an smtp:// or smtps:// URL')
      .optional(),
    'e-mail notices over SMTP: `smtp://user:pass@host:587`, or `smtps://…` for TLS from the start',
    {
      group: 'backend',
      default: '(development: `npm start` runs a mail catcher)',
      production: 'unset: no e-mail notices',
    },
  ),
  CORDON_MAIL_FROM: variable(
    z.string().min(3).default('Cordon <no-reply@cordon.local>'),
    'the sender of e-mail notices',
    {
      group: 'backend',
    },
  ),
  CORDON_DIRECTORY_URL: variable(
    z.url().optional(),
    "the backend's contact directory: `GET <url>/<accountId>` for notices whose event brought no `contact`",
    { group: 'backend' },
  ),
  CORDON_DELIVERY_GIVE_UP_HOURS: variable(
    z.coerce
      .number()
      .min(0.001)
      .max(24 * 365)
      .default(72),
    'an undelivered message is marked `FAILED` after this many hours',
    { group: 'backend' },
  ),

  // Storage and retention
  CORDON_DATA_DIR: variable(
    z.string().default('data'),
    "the data folder: the dev server's SQLite file, Cordon's own SQLite database (without `CORDON_DATABASE_URL`), development secrets and mail",
    { group: 'storage' },
  ),
  CORDON_DATABASE_URL: variable(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
      .optional(),
    "`postgres://…` puts Cordon's own records in PostgreSQL; unset, an SQLite file in the data folder",
    {
      group: 'storage',
      default: '`<CORDON_DATA_DIR>/cordon.sqlite`',
      production: 'PostgreSQL for more than one process',
    },
  ),
  CORDON_EVIDENCE_URL: variable(
    z
      .string()
      .regex(/^s3(\+http)?:\/\//, 'an s3:// or s3+http:// URL')
      .optional(),
    '`s3://KEY_ID:SECRET@HOST[:PORT]/BUCKET[/PREFIX]?region=R` (`s3+http://`: plain HTTP): evidence files in an S3-compatible store (see [evidence-storage.md](evidence-storage.md))',
    { group: 'storage', default: "Cordon's database when that is PostgreSQL, else the data folder" },
  ),
  AWS_ACCESS_KEY_ID: variable(
    z.string().optional(),
    "the object store's access key ID when `CORDON_EVIDENCE_URL` carries no credentials",
    { group: 'storage' },
  ),
  AWS_SECRET_ACCESS_KEY: variable(z.string().optional(), '… and its secret', { group: 'storage' }),
  AWS_SESSION_TOKEN: variable(z.string().optional(), '… and a session token, for temporary credentials', {
    group: 'storage',
  }),
  AWS_REGION: variable(
    z.string().optional(),
    "the object store's region when `CORDON_EVIDENCE_URL` names none (then `AWS_DEFAULT_REGION`)",
    { group: 'storage', default: '`us-east-1`' },
  ),
  AWS_DEFAULT_REGION: variable(z.string().optional(), 'the region when neither of those names one', {
    group: 'storage',
    default: '`us-east-1`',
  }),
  CORDON_ARCHIVE_DAYS: variable(
    z.coerce
      .number()
      .int()
      .min(1)
      .max(36_500)
      .default(7 * 365),
    "how long an ended case stays readable in Cordon's database, for audits",
    { group: 'storage', default: '`2555` (7 years)' },
  ),
  CORDON_EVENT_ID_DAYS: variable(
    z.coerce.number().int().min(7).max(3_650).default(30),
    'how long a risk event ID (`eventId`) or a `requestId` gets its first answer back (at least the documented 7 days)',
    { group: 'storage' },
  ),
  CORDON_MESSAGE_RETENTION_DAYS: variable(
    z.coerce.number().min(0).max(3_650).default(30),
    'how long a delivered (or failed) user notice keeps its personal fields (contact, question, explanation)',
    { group: 'storage' },
  ),
  CORDON_ERASURE_MIN_HOLD_DAYS: variable(
    z.coerce.number().int().min(0).max(36_500).default(1_825),
    "an account's personal data may be erased this many days after its last case ended, at the earliest (the policy's `privacy.legalHoldDays` can only lengthen it); `0` only for development and tests (see [security.md](security.md#when-an-account-may-be-erased))",
    { group: 'storage' },
  ),

  // Logs
  LOG_FORMAT: variable(
    z.string().optional(),
    '`json`: JSON lines on stdout, for a log collector; otherwise readable lines, warnings and errors on stderr',
    { group: 'logs', default: 'readable lines', production: 'JSON lines whatever its value' },
  ),
  LOG_LEVEL: variable(
    emptyAsUnset(z.enum(PINO_LEVELS, `must be one of ${PINO_LEVELS.join(', ')}`).default('info')),
    "Cordon's log level: `debug`, `info`, `warn` or `error` (or pino's `trace`, `fatal`, `silent`)",
    { group: 'logs' },
  ),
  SDK_LOG_LEVEL: variable(
    emptyAsUnset(z.enum(SDK_LEVELS, `must be one of ${SDK_LEVELS.join(', ')}`).default('WARN')),
    "the Temporal SDK's log level (its `INFO` lines, webpack's bundle report among them, drown Cordon's own)",
    { group: 'logs' },
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: variable(
    emptyAsUnset(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional()),
    'OpenTelemetry traces: the OTLP/HTTP collector, such as `http://127.0.0.1:4318` (traces go to its `/v1/traces`); unset, tracing is off (see [operations.md](operations.md#traces))',
    { group: 'logs', default: 'none: no traces' },
  ),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: variable(
    emptyAsUnset(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional()),
    'the full URL traces are sent to, used as given (wins over `OTEL_EXPORTER_OTLP_ENDPOINT`)',
    { group: 'logs', default: 'none' },
  ),
  OTEL_EXPORTER_OTLP_PROTOCOL: variable(
    emptyAsUnset(
      z
        .enum(
          ['http/protobuf', 'http/json'],
          'must be http/protobuf or http/json (gRPC is not supported: use the OTLP/HTTP port of the collector)',
        )
        .default('http/protobuf'),
    ),
    'how traces are sent: `http/protobuf` or `http/json` (OTLP over gRPC is not supported)',
    { group: 'logs' },
  ),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: variable(
    emptyAsUnset(
      z
        .enum(
          ['http/protobuf', 'http/json'],
          'must be http/protobuf or http/json (gRPC is not supported: use the OTLP/HTTP port of the collector)',
        )
        .optional(),
    ),
    'the same for traces only (wins over `OTEL_EXPORTER_OTLP_PROTOCOL`)',
    { group: 'logs', default: '`OTEL_EXPORTER_OTLP_PROTOCOL`' },
  ),
  OTEL_SERVICE_NAME: variable(
    emptyAsUnset(z.string().min(1).max(100).optional()),
    "the service name on a process's spans",
    { group: 'logs', default: '`cordon-api`, `cordon-worker` (`npm start`: `cordon-worker`)' },
  ),

  // The command line
  CORDON_URL: variable(
    z.string().default('http://127.0.0.1:8080'),
    "Cordon's API for `cordon report` (`--url` wins)",
    {
      group: 'cli',
    },
  ),
  CORDON_TOKEN: variable(
    z.string().optional(),
    'the bearer token `cordon report` sends: the analyst (or admin) role',
    { group: 'cli' },
  ),

  // Development tools
  TEMPORAL_CLI: variable(
    z.string().optional(),
    'a Temporal CLI binary for the dev server of `npm start`, the tests, `npm run bench` and `npm run chaos`',
    { group: 'tools', default: '`temporal` on `PATH`, else built into `.tools/` with `go install`' },
  ),
  CORDON_TEMPORAL_SERVER: variable(
    z.string().optional(),
    'the Temporal server binary for `npm run cluster`',
    {
      group: 'tools',
      default: '`temporal-server` on `PATH`, else built into `.tools/`',
    },
  ),
  CORDON_TEMPORAL_SQL_TOOL: variable(z.string().optional(), 'its SQL schema tool', {
    group: 'tools',
    default: '`temporal-sql-tool` on `PATH`, else built into `.tools/`',
  }),
  CORDON_TEMPORAL_UI_SERVER: variable(z.string().optional(), 'its Web UI server', {
    group: 'tools',
    default: '`temporal-ui-server` on `PATH`, else built into `.tools/`',
  }),
  BENCH_N: variable(integer(1, 1_000_000, 100), '`npm run bench`: samples of each figure (`--n` wins)', {
    group: 'tools',
  }),
  BENCH_CONCURRENCY: variable(
    integer(1, 10_000, 20),
    '`npm run bench`: requests in flight for the figures under load (`--concurrency` wins)',
    { group: 'tools' },
  ),
  BENCH_HARMLESS: variable(
    integer(1, 10_000_000, 2_000),
    '`npm run bench`: harmless events sent into one open case',
    { group: 'tools' },
  ),
  BENCH_LAB_EVENTS: variable(integer(1, 100_000_000, 400_000), '`npm run bench-lab`: events backtested', {
    group: 'tools',
  }),
  BENCH_LAB_JRE_EVENTS: variable(
    integer(1, 100_000_000, 20_000),
    '`npm run bench-lab`: of those, events json-rules-engine evaluates',
    { group: 'tools' },
  ),
  CORDON_TEST_JOBS: variable(
    integer(1, 16, 3),
    '`npm test`: mocha processes run at once, the test files shared out between them (`1`: a single one)',
    { group: 'tools' },
  ),
};
