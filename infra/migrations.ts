// The schema of Cordon's own database, as numbered migrations applied in order. Never edit a released
// migration: add the next one. Every statement is idempotent (IF NOT EXISTS) so concurrent starts are safe.
type Dialect = 'sqlite' | 'postgres';

export interface Migration {
  version: number;
  up(dialect: Dialect): string[];
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    up: (d) => [
      // Answers to risk events by event ID, so a retried event gets its first answer across cases.
      `CREATE TABLE IF NOT EXISTS event_ids (
        account_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        result TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (account_id, event_id))`,
      'CREATE INDEX IF NOT EXISTS event_ids_created ON event_ids (created_at)',
      // Human actions by (case, action, principal, requestId): the body's fingerprint and the first answer.
      `CREATE TABLE IF NOT EXISTS request_records (
        request_key TEXT PRIMARY KEY,
        case_id TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        response TEXT NOT NULL,
        created_at BIGINT NOT NULL)`,
      // Messages owed to users and the backend, delivered in order per account; also the backend's change feed.
      `CREATE TABLE IF NOT EXISTS messages (
        seq ${d === 'postgres' ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT'},
        idempotency_key TEXT NOT NULL UNIQUE,
        account_id TEXT NOT NULL,
        case_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at BIGINT NOT NULL,
        leased_until BIGINT,
        last_error TEXT,
        channels TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL)`,
      'CREATE INDEX IF NOT EXISTS messages_pending ON messages (status, account_id, seq)',
      'CREATE INDEX IF NOT EXISTS messages_case ON messages (case_id, seq)',
      'CREATE INDEX IF NOT EXISTS messages_kind ON messages (kind, seq)',
      // Every ended case's final view and timeline, readable long after Temporal's retention.
      `CREATE TABLE IF NOT EXISTS case_archive (
        case_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        ended_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        view TEXT NOT NULL,
        requests TEXT NOT NULL)`,
      'CREATE INDEX IF NOT EXISTS case_archive_expires ON case_archive (expires_at)',
    ],
  },
  {
    version: 2,
    up: () => [
      // Fixed-window counters for rate limits, shared by every API process (key: what is limited, e.g. an IP).
      `CREATE TABLE IF NOT EXISTS rate_limits (
        limit_key TEXT NOT NULL,
        window_start BIGINT NOT NULL,
        hits INTEGER NOT NULL,
        PRIMARY KEY (limit_key, window_start))`,
      'CREATE INDEX IF NOT EXISTS rate_limits_window ON rate_limits (window_start)',
      // What a channel that cannot deduplicate by itself (SMTP) has sent, by idempotency key: a retry of a
      // notice (another channel failed, a lease expired) does not mail the user twice.
      // The hot-path restriction check: one row per account, written by its case (see AccountRestriction).
      `CREATE TABLE IF NOT EXISTS account_restrictions (
        account_id TEXT PRIMARY KEY,
        case_id TEXT NOT NULL,
        status TEXT NOT NULL,
        tier TEXT NOT NULL,
        restricted INTEGER NOT NULL,
        is_open INTEGER NOT NULL,
        version TEXT NOT NULL,
        updated_at BIGINT NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS channel_deliveries (
        channel TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        delivered_at BIGINT NOT NULL,
        PRIMARY KEY (channel, idempotency_key))`,
    ],
  },
  {
    version: 3,
    up: () => [
      // Shadow mode: how many live events a candidate policy scored per day, and where it disagreed.
      `CREATE TABLE IF NOT EXISTS shadow_counts (
        day TEXT NOT NULL,
        live_version TEXT NOT NULL,
        candidate_version TEXT NOT NULL,
        scored INTEGER NOT NULL,
        disagreements INTEGER NOT NULL,
        PRIMARY KEY (day, live_version, candidate_version))`,
      `CREATE TABLE IF NOT EXISTS shadow_disagreements (
        account_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        candidate_version TEXT NOT NULL,
        live_version TEXT NOT NULL,
        at BIGINT NOT NULL,
        event_type TEXT NOT NULL,
        live_tier TEXT NOT NULL,
        candidate_tier TEXT NOT NULL,
        live_score INTEGER NOT NULL,
        candidate_score INTEGER NOT NULL,
        live_reasons TEXT NOT NULL,
        candidate_reasons TEXT NOT NULL,
        PRIMARY KEY (account_id, event_id, candidate_version))`,
      'CREATE INDEX IF NOT EXISTS shadow_disagreements_at ON shadow_disagreements (at)',
      // Overturn reports read ended cases by when they ended.
      'CREATE INDEX IF NOT EXISTS case_archive_ended ON case_archive (ended_at)',
    ],
  },
  {
    version: 4,
    up: (d) => [
      // Evidence files users sent, sealed client-side (AES-256-GCM, see infra/evidence/seal.ts), so every API
      // process reads what any of them stored. The case ID (no more personal than the other tables' account IDs)
      // lets the hourly sweep find each file's case without reading the bytes; created_at is its time order.
      `CREATE TABLE IF NOT EXISTS evidence_files (
        ref TEXT PRIMARY KEY,
        case_id TEXT,
        sealed ${d === 'postgres' ? 'BYTEA' : 'BLOB'} NOT NULL,
        created_at BIGINT NOT NULL)`,
      'CREATE INDEX IF NOT EXISTS evidence_files_created ON evidence_files (created_at, ref)',
    ],
  },
];
