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
  {
    version: 5,
    up: () => [
      // Reviewer console sessions (infra/sessions.ts): the browser holds a random ID, this table only its
      // SHA-256, so a copy of the database signs no one in. Sign-out and an admin's revoke delete rows; every
      // request checks the row, its idle time (last_seen_at) and its absolute end (expires_at).
      `CREATE TABLE IF NOT EXISTS console_sessions (
        id_hash TEXT PRIMARY KEY,
        principal_id TEXT NOT NULL,
        role TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        last_seen_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL)`,
      'CREATE INDEX IF NOT EXISTS console_sessions_principal ON console_sessions (principal_id)',
      'CREATE INDEX IF NOT EXISTS console_sessions_seen ON console_sessions (last_seen_at)',
      'CREATE INDEX IF NOT EXISTS console_sessions_expires ON console_sessions (expires_at)',
    ],
  },
  {
    version: 6,
    up: () => [
      // Each account's data key, wrapped by a CORDON_CODEC_KEYS key (infra/data-keys.ts): personal values are
      // sealed under it, so deleting the row makes them unreadable wherever they are copied. Base64 text.
      `CREATE TABLE IF NOT EXISTS account_keys (
        account_id TEXT PRIMARY KEY,
        data_key_id TEXT NOT NULL,
        wrap_key_id TEXT NOT NULL,
        wrapped TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL)`,
      'CREATE INDEX IF NOT EXISTS account_keys_wrap ON account_keys (wrap_key_id, account_id)',
      // How far a periodic job has come (the retention of notices' personal fields: settled before this time).
      `CREATE TABLE IF NOT EXISTS store_marks (
        name TEXT PRIMARY KEY,
        value BIGINT NOT NULL)`,
      // Settled notices by when they settled, for that retention.
      'CREATE INDEX IF NOT EXISTS messages_settled ON messages (kind, status, updated_at, seq)',
    ],
  },
  {
    version: 7,
    up: () => [
      // Erasures of accounts' personal data (infra/erasure.ts): the audit record, codes, times and principal IDs
      // only. `step` is the last step done (a run resumes after it); `lease_until` keeps two processes from
      // running one erasure at once; `failure` is a code and a message without personal data.
      `CREATE TABLE IF NOT EXISTS erasures (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        requested_at BIGINT NOT NULL,
        request_key TEXT NOT NULL UNIQUE,
        request_fingerprint TEXT NOT NULL,
        approved_by TEXT,
        approved_at BIGINT,
        started_at BIGINT,
        lease_until BIGINT,
        step TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        completed_at BIGINT,
        failed_at BIGINT,
        failure TEXT,
        counts TEXT)`,
      'CREATE INDEX IF NOT EXISTS erasures_account ON erasures (account_id, requested_at)',
      // One unfinished erasure per account at a time: a second request is refused, whichever process takes it.
      "CREATE UNIQUE INDEX IF NOT EXISTS erasures_unfinished ON erasures (account_id) WHERE status <> 'DONE'",
      // Each approval of an erasure by (principal, requestId): a repeat gets its first answer. (A request's own
      // key is the erasure row's request_key.)
      `CREATE TABLE IF NOT EXISTS erasure_requests (
        request_key TEXT PRIMARY KEY,
        erasure_id TEXT NOT NULL,
        action TEXT NOT NULL,
        principal_id TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        answer TEXT NOT NULL,
        created_at BIGINT NOT NULL)`,
      'CREATE INDEX IF NOT EXISTS erasure_requests_erasure ON erasure_requests (erasure_id, created_at)',
      // An account's ended cases, by when they ended: its legal hold counts from the last one.
      'CREATE INDEX IF NOT EXISTS case_archive_account ON case_archive (account_id, ended_at)',
    ],
  },
  {
    version: 8,
    up: () => [
      // Second reviews (api/second-review.ts): one per ended case. The row is written before the new case starts
      // (second_case_id NULL until it has), so two requests for one case never open two; no personal data.
      `CREATE TABLE IF NOT EXISTS second_reviews (
        case_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        request_key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        second_case_id TEXT,
        requested_at BIGINT NOT NULL)`,
      'CREATE INDEX IF NOT EXISTS second_reviews_second ON second_reviews (second_case_id)',
      'CREATE INDEX IF NOT EXISTS second_reviews_requested ON second_reviews (requested_at)',
    ],
  },
  {
    version: 9,
    up: () => [
      // What each risk event that reached a case rests on (infra/stores/event-evidence.ts): its attributes, the
      // rules that fired with the fields they read, the data sources' answers, sealed under the account's data
      // key. One row per event ID; the case ID finds a case's rows when its archive period ends.
      `CREATE TABLE IF NOT EXISTS event_evidence (
        account_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        case_id TEXT NOT NULL,
        evidence TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (account_id, event_id))`,
      'CREATE INDEX IF NOT EXISTS event_evidence_case ON event_evidence (case_id)',
    ],
  },
  {
    version: 10,
    up: (d) => [
      // Policy features (infra/stores/feature-store.ts). Each event recorded once per (account, event ID): its
      // occurredAt decides which windows it counts in, the latest one is the features' clock; expires_at (event
      // time) is when a retry stops being recognised; fingerprint (a hash of its type, attributes and entities)
      // tells a retry of the same event, which may write its rows again, from a different one under its ID.
      `CREATE TABLE IF NOT EXISTS feature_events (
        account_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        occurred_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        fingerprint TEXT NOT NULL,
        PRIMARY KEY (account_id, event_id))${d === 'sqlite' ? ' WITHOUT ROWID' : ''}`,
      'CREATE INDEX IF NOT EXISTS feature_events_occurred ON feature_events (occurred_at)',
      'CREATE INDEX IF NOT EXISTS feature_events_expires ON feature_events (expires_at)',
      // What each recorded event adds to each feature (by its definition's hash) and key (an account ID, or an
      // entity value already keyed-hashed at intake): its time, and the value summed or counted distinct. `ev`
      // is a 64-bit hash of (account, event ID): it makes the row the event's (written twice, it stays one) and
      // finds an account's rows for erasure. expires_at (event time): when no event that is not too late can read
      // it any more.
      `CREATE TABLE IF NOT EXISTS feature_hits (
        feature_id TEXT NOT NULL,
        key TEXT NOT NULL,
        at BIGINT NOT NULL,
        ev BIGINT NOT NULL,
        val TEXT,
        num ${d === 'postgres' ? 'DOUBLE PRECISION' : 'REAL'},
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (feature_id, key, at, ev))${d === 'sqlite' ? ' WITHOUT ROWID' : ''}`,
      'CREATE INDEX IF NOT EXISTS feature_hits_ev ON feature_hits (ev)',
      'CREATE INDEX IF NOT EXISTS feature_hits_expires ON feature_hits (expires_at)',
    ],
  },
  {
    version: 11,
    up: (d) => [
      // When each feature definition (by its hash) began to be recorded (event time): it is warm, its windows
      // whole, one window after that (infra/stores/feature-store.ts).
      `CREATE TABLE IF NOT EXISTS feature_definitions (
        feature_id TEXT PRIMARY KEY,
        first_at BIGINT NOT NULL)`,
      // Linked accounts (infra/stores/entity-links.ts): which account used which entity (its value keyed-hashed
      // at intake), last when (event time); kept for the policy's linked window, erased with the account.
      `CREATE TABLE IF NOT EXISTS entity_sightings (
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        account_id TEXT NOT NULL,
        last_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (kind, value, account_id))${d === 'sqlite' ? ' WITHOUT ROWID' : ''}`,
      'CREATE INDEX IF NOT EXISTS entity_sightings_account ON entity_sightings (account_id)',
      'CREATE INDEX IF NOT EXISTS entity_sightings_expires ON entity_sightings (expires_at)',
      // What a case's end asks of the linker (LINK: a closure; WITHDRAW: a second review that overturned it),
      // written by the worker as the case is archived, done by whichever API process claims it first.
      `CREATE TABLE IF NOT EXISTS link_jobs (
        case_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        account_id TEXT NOT NULL,
        reasons TEXT NOT NULL,
        ended_at BIGINT NOT NULL,
        claimed_until BIGINT,
        done_at BIGINT,
        outcome TEXT,
        PRIMARY KEY (case_id, kind))`,
      'CREATE INDEX IF NOT EXISTS link_jobs_pending ON link_jobs (done_at)',
      // Each signal sent: to which account, for which entity kind, and whether it was withdrawn.
      `CREATE TABLE IF NOT EXISTS linked_signals (
        source_case_id TEXT NOT NULL,
        account_id TEXT NOT NULL,
        entity_kind TEXT NOT NULL,
        sent_at BIGINT NOT NULL,
        withdrawn_at BIGINT,
        PRIMARY KEY (source_case_id, account_id))`,
      'CREATE INDEX IF NOT EXISTS linked_signals_account ON linked_signals (account_id)',
    ],
  },
  {
    version: 12,
    up: (d) => [
      // Rule guards (infra/stores/guards.ts): each decision in which a guarded rule fired and the account was
      // restricted, once per (rule, account, event), by wall-clock time: the sliding hour and the 7-day baseline
      // are counted from here by every API process.
      `CREATE TABLE IF NOT EXISTS guard_matches (
        rule_id TEXT NOT NULL,
        account_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        case_id TEXT,
        at BIGINT NOT NULL,
        PRIMARY KEY (rule_id, account_id, event_id))${d === 'sqlite' ? ' WITHOUT ROWID' : ''}`,
      'CREATE INDEX IF NOT EXISTS guard_matches_at ON guard_matches (rule_id, at)',
      // A rule's trip: when, the counts that tripped it, and its re-arming by a senior (a new trip is a new row).
      `CREATE TABLE IF NOT EXISTS guard_trips (
        rule_id TEXT NOT NULL,
        tripped_at BIGINT NOT NULL,
        hour_count INTEGER NOT NULL,
        baseline_per_hour ${d === 'postgres' ? 'DOUBLE PRECISION' : 'REAL'} NOT NULL,
        on_trip TEXT NOT NULL,
        rearmed_at BIGINT,
        rearmed_by TEXT,
        PRIMARY KEY (rule_id, tripped_at))`,
      // One open trip per rule, however many processes see the threshold crossed at once.
      'CREATE UNIQUE INDEX IF NOT EXISTS guard_trips_one_open ON guard_trips (rule_id) WHERE rearmed_at IS NULL',
    ],
  },
  {
    version: 13,
    up: () => [
      // Traces (infra/tracing.ts): the W3C traceparent of the activity that queued a message, so its delivery
      // joins that trace. A table beside `messages`, not a column: SQLite cannot add a column idempotently, and
      // processes migrate at once. Written only while tracing is on; a row goes once its message is settled.
      `CREATE TABLE IF NOT EXISTS message_traces (
        idempotency_key TEXT PRIMARY KEY,
        traceparent TEXT NOT NULL)`,
    ],
  },
  {
    version: 14,
    up: () => [
      // A guard's trip noted in each case its rule restricted in the tripping hour (api/guard-notes.ts): queued
      // by the process that tripped it, sent by whichever API process claims each note first.
      `CREATE TABLE IF NOT EXISTS guard_notes (
        rule_id TEXT NOT NULL,
        tripped_at BIGINT NOT NULL,
        case_id TEXT NOT NULL,
        claimed_until BIGINT,
        done_at BIGINT,
        PRIMARY KEY (rule_id, tripped_at, case_id))`,
      'CREATE INDEX IF NOT EXISTS guard_notes_pending ON guard_notes (done_at)',
    ],
  },
  {
    version: 15,
    up: () => [
      // Reviewed bulk actions (infra/stores/bulk-actions.ts): the intake's index of restricting rules per case
      // (no personal data), each bulk action, and the exact cases its dry run matched with what became of each.
      `CREATE TABLE IF NOT EXISTS bulk_case_index (
        case_id TEXT NOT NULL,
        rule_id TEXT NOT NULL,
        policy_version TEXT NOT NULL,
        opened_at BIGINT NOT NULL,
        PRIMARY KEY (case_id, rule_id))`,
      'CREATE INDEX IF NOT EXISTS bulk_case_index_rule ON bulk_case_index (rule_id, opened_at)',
      'CREATE INDEX IF NOT EXISTS bulk_case_index_policy ON bulk_case_index (policy_version, opened_at)',
      'CREATE INDEX IF NOT EXISTS bulk_case_index_opened ON bulk_case_index (opened_at)',
      `CREATE TABLE IF NOT EXISTS bulk_actions (
        bulk_id TEXT PRIMARY KEY,
        requested_by TEXT NOT NULL,
        request_id TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        action TEXT NOT NULL,
        selector TEXT NOT NULL,
        explanation TEXT NOT NULL,
        policy_hash TEXT,
        status TEXT NOT NULL,
        total INTEGER NOT NULL,
        cancel_requested INTEGER NOT NULL,
        approved_by TEXT,
        approved_at BIGINT,
        created_at BIGINT NOT NULL,
        finished_at BIGINT)`,
      'CREATE UNIQUE INDEX IF NOT EXISTS bulk_actions_request ON bulk_actions (requested_by, request_id)',
      'CREATE INDEX IF NOT EXISTS bulk_actions_created ON bulk_actions (created_at)',
      `CREATE TABLE IF NOT EXISTS bulk_action_cases (
        bulk_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        case_id TEXT NOT NULL,
        evidence_version INTEGER NOT NULL,
        state TEXT NOT NULL,
        reason TEXT,
        PRIMARY KEY (bulk_id, seq))`,
      'CREATE INDEX IF NOT EXISTS bulk_action_cases_state ON bulk_action_cases (bulk_id, state)',
    ],
  },
  {
    version: 16,
    up: () => [
      // Traces: a message's W3C tracestate (a vendor's part of the trace context its activity ran in) beside its
      // traceparent (migration 13), so the delivery carries the whole trace context. A table of its own for the
      // same reason as message_traces; a row only when the trace had a tracestate, gone once the message settles.
      `CREATE TABLE IF NOT EXISTS message_tracestates (
        idempotency_key TEXT PRIMARY KEY,
        tracestate TEXT NOT NULL)`,
    ],
  },
];
