// Policy features in Cordon's database, shared by every API process: the same values as the in-memory windows
// (core/feature-windows.ts; test/feature-store.test.ts checks both dialects against the naive reference).
//
// - feature_events: one row per recorded (account, event ID), written with an insert that leaves an existing row
//   alone, so two processes recording one event at once count it once. Its occurredAt is the event's place in
//   time; the latest occurredAt of all rows is the features' clock (what "too late" is measured from).
// - feature_hits: what a recorded event adds to each feature and key, one row per (feature, key, event) with the
//   event's time and the value summed or counted distinct. The row's key names the event (a 64-bit hash of its
//   account and event ID, 8 bytes where the two IDs would take some 60 in every index), so writing it again
//   (a crash between the two tables, a second process, a shadow policy sharing the feature) changes nothing.
//   A window's value is one indexed range read per feature: COUNT, SUM or COUNT(DISTINCT) over
//   (occurredAt − window, occurredAt]. Exact windows need every event's time (the in-memory buckets keep them
//   too), so a key holds its events of the last window + late tolerance, no more: each row carries the event
//   time after which no event that is not too late can read it, and `purge` drops the rows the clock has passed.
//
// Keys and distinct values are what the caller gives: account IDs, and entity values already keyed-hashed at
// intake; nothing here needs or sees an entity's clear value. A feature's rows are found by a hash of its
// definition, not its name: a changed definition starts empty (it warms up) instead of reading rows counted
// under another rule.
import { createHash } from 'node:crypto';
import {
  EVENT_ID_DAYS_DEFAULT,
  compileFeatures,
  type AsyncFeatureStore,
  type CompiledFeature,
  type FeatureEvent,
  type Features,
  type FeatureValues,
  type RecordOutcome,
} from '../../core/features';
import { roundSum, type FeatureWindowOptions } from '../../core/feature-windows';
import type { Database, Param } from '../database';
import { insertIgnore, type StoreContext } from './context';

const DAY_MS = 86_400_000;

interface StoredFeature {
  spec: CompiledFeature;
  /** The definition's hash: its rows in feature_hits. */
  id: string;
  /** How long after an event (event time) its row can still be read. */
  keepMs: number;
}

/** The rows of one definition: a hash of what decides its rows (not its name). */
export function featureId(spec: CompiledFeature): string {
  const definition = JSON.stringify([
    spec.aggregate,
    spec.eventTypes ? [...spec.eventTypes].sort() : null,
    spec.field ?? null,
    spec.by,
    spec.windowMs,
  ]);
  return createHash('sha256').update(definition).digest('base64url').slice(0, 8);
}

/**
 * The event's reference in feature_hits: 64 bits of SHA-256 over (account, event ID), as a decimal string (a
 * BIGINT to both databases). Two events collide with probability 2^-64: one key sharing a millisecond would
 * have to collide for a count to be off, and an erasure to touch another account's row.
 */
export function eventRef(accountId: string, eventId: string): string {
  return createHash('sha256').update(`${accountId}\u0000${eventId}`).digest().readBigInt64BE(0).toString();
}

// keyOf and valueOf are core/feature-windows.ts' rules (not exported there); the property test holds them equal.
function keyOf(by: string, e: FeatureEvent): string | undefined {
  if (by === 'account') return e.accountId;
  return e.entities?.[by.slice(7) as keyof NonNullable<FeatureEvent['entities']>];
}

function valueOf(spec: CompiledFeature, e: FeatureEvent): number | string | undefined {
  const field = spec.field!;
  let v: unknown;
  if (field === 'account') v = e.accountId;
  else if (field.startsWith('entity:')) v = e.entities?.[field.slice(7) as 'device'];
  else v = Object.prototype.hasOwnProperty.call(e.attributes, field) ? e.attributes[field] : undefined;
  if (spec.aggregate === 'sum') return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string') return v;
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

/** What a retry must repeat to be the same event: its type, attributes and entities (its time is compared too). */
export function eventFingerprint(e: FeatureEvent): string {
  const sorted = (o: Readonly<Record<string, unknown>> | undefined) =>
    Object.keys(o ?? {})
      .sort()
      .map((k) => [k, o![k]]);
  return createHash('sha256')
    .update(JSON.stringify([e.type, sorted(e.attributes), sorted(e.entities)]))
    .digest('base64url')
    .slice(0, 11);
}

/** The features' clock: the latest occurredAt recorded (ms), -Infinity before the first. */
async function latest(db: Database): Promise<number> {
  const rows = await db.query<{ t: number | null }>('SELECT MAX(occurred_at) AS t FROM feature_events');
  const t = rows[0]?.t;
  return t === null || t === undefined ? -Infinity : Number(t);
}

const HIT_COLUMNS = ['feature_id', 'key', 'at', 'ev', 'val', 'num', 'expires_at'];
/** Event references per DELETE: an IN list of bounded length. */
const CHUNK = 100;

/** The features' tables as a part of the Store: windows for a policy's features, the purge and erasure. */
export class FeatureTables {
  constructor(private readonly c: StoreContext) {}

  /** The windows of one policy's features (the live policy, a shadow candidate): both share the rows. */
  windows(features: Features | undefined, o: FeatureWindowOptions = {}): DatabaseFeatureWindows {
    return new DatabaseFeatureWindows(this.c.db, compileFeatures(features), o);
  }

  /** The latest occurredAt recorded (ms), -Infinity before the first. */
  latest(): Promise<number> {
    return latest(this.c.db);
  }

  /**
   * Drops what the clock (event time, not the wall clock) has left behind: rows no event that is not too late
   * can read, and retries no longer recognised. Answers how many rows went.
   */
  async purge(): Promise<number> {
    const { db } = this.c;
    const clock = await latest(db);
    if (clock === -Infinity) return 0;
    const hits = await db.run('DELETE FROM feature_hits WHERE expires_at <= ?', [clock]);
    // The row with the latest occurredAt expires after it: the clock survives the purge.
    return hits + (await db.run('DELETE FROM feature_events WHERE expires_at <= ?', [clock]));
  }

  /**
   * Erasure: every row the account's events wrote (its by-account keys, what its events added to entity keys,
   * its entity values among them) and its recorded events. Answers how many rows went.
   */
  async eraseAccount(accountId: string): Promise<number> {
    const { db } = this.c;
    // Its recorded events find its rows (they outlive them: a retry is remembered at least as long as a row is
    // read), so the rows go first; a run cut short between the two is finished by the next.
    const events = await db.query<{ event_id: string }>(
      'SELECT event_id FROM feature_events WHERE account_id = ?',
      [accountId],
    );
    let n = 0;
    for (let i = 0; i < events.length; i += CHUNK) {
      const refs = events.slice(i, i + CHUNK).map((e) => eventRef(accountId, e.event_id));
      n += await db.run(`DELETE FROM feature_hits WHERE ev IN (${refs.map(() => '?').join(', ')})`, refs);
    }
    return n + (await db.run('DELETE FROM feature_events WHERE account_id = ?', [accountId]));
  }
}

export interface FeatureWarmth {
  name: string;
  /** When it began to be recorded (event time, ms); null before its first event. */
  since: number | null;
  /** From when its windows hold every event they should (since + window); before that, values undercount. */
  warmFrom: number | null;
  /** Whether the features' clock (the latest event time) has reached warmFrom. */
  warm: boolean;
}

/** One policy's features over Cordon's database: core/feature-windows.ts' semantics, shared by processes. */
export class DatabaseFeatureWindows implements AsyncFeatureStore {
  private readonly features: StoredFeature[];
  private readonly lateMs: number;
  private readonly retryMs: number;

  constructor(
    private readonly db: Database,
    specs: readonly CompiledFeature[],
    o: FeatureWindowOptions = {},
  ) {
    const longest = specs.reduce((m, s) => Math.max(m, s.windowMs), 0);
    this.lateMs = o.lateToleranceMs ?? longest;
    if (!(this.lateMs >= 0)) throw new Error('lateToleranceMs must be 0 or more');
    this.retryMs = Math.max(o.retryMemoryMs ?? EVENT_ID_DAYS_DEFAULT * DAY_MS, longest + this.lateMs);
    this.features = specs.map((spec) => ({ spec, id: featureId(spec), keepMs: spec.windowMs + this.lateMs }));
  }

  /** Set once this process has noted when each definition began to be recorded. */
  private begun: Promise<void> | undefined;

  /** The features this store keeps, with the IDs of their rows. */
  stored(): readonly StoredFeature[] {
    return this.features;
  }

  /**
   * When each definition began to be recorded (event time), unless a process noted it before: a feature is warm,
   * its windows whole, one window after that.
   */
  private async noteBeginnings(t: number): Promise<void> {
    for (const { id } of this.features)
      await this.db.run(insertIgnore(this.db, 'feature_definitions', ['feature_id', 'first_at']), [id, t]);
  }

  /** Per feature: since when it is recorded (event time; null: not yet) and from when its windows are whole. */
  async warmth(): Promise<FeatureWarmth[]> {
    const clock = await latest(this.db);
    const out: FeatureWarmth[] = [];
    for (const { spec, id } of this.features) {
      const rows = await this.db.query<{ first_at: number | string }>(
        'SELECT first_at FROM feature_definitions WHERE feature_id = ?',
        [id],
      );
      const since = rows[0] ? Number(rows[0].first_at) : null;
      const warmFrom = since === null ? null : since + spec.windowMs;
      out.push({ name: spec.name, since, warmFrom, warm: warmFrom !== null && clock >= warmFrom });
    }
    return out;
  }

  async record(e: FeatureEvent): Promise<RecordOutcome> {
    return this.recordAt(e, Date.parse(e.occurredAt), await latest(this.db));
  }

  /**
   * Records the event, then reads its features (the live path): the clock read once for both. After the event
   * is recorded the clock is at least its time, so an event that was not too late to record is not too late to
   * read; only another process's events recorded in between could have moved it further, and the decision takes
   * the clock the record was judged by.
   */
  async recordAndRead(e: FeatureEvent): Promise<FeatureValues> {
    if (this.db.dialect === 'sqlite') return this.queued(e);
    const t = Date.parse(e.occurredAt);
    const clock = await latest(this.db);
    if ((await this.recordAt(e, t, clock)) === 'TOO_LATE') return {};
    return this.valuesAt(e, t, Math.max(clock, t));
  }

  /** Events waiting for the next group commit (SQLite), in the order they came. */
  private waiting: { e: FeatureEvent; settle: (r: { values?: FeatureValues; err?: unknown }) => void }[] = [];

  /**
   * SQLite: the events that reach recordAndRead in one turn of the event loop are recorded and read one after
   * another, exactly as alone, in one transaction: one commit for all of them (measured: about a third of the
   * features' cost on the harmless path was commits). Each caller is answered once the commit is done.
   */
  private queued(e: FeatureEvent): Promise<FeatureValues> {
    return new Promise((resolve, reject) => {
      this.waiting.push({
        e,
        settle: (r) => (r.err === undefined ? resolve(r.values!) : reject(asError(r.err))),
      });
      if (this.waiting.length === 1) setImmediate(() => void this.commitWaiting());
    });
  }

  private async commitWaiting(): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    const outcomes: { values?: FeatureValues; err?: unknown }[] = [];
    try {
      await this.db.batch(async () => {
        // The clock read once: in the transaction no other writer moves it, and each event recorded here moves
        // it as its own row would (what reading it again before each event would answer).
        let clock = await latest(this.db);
        for (const { e } of batch) {
          try {
            const t = Date.parse(e.occurredAt);
            const outcome = await this.recordAt(e, t, clock);
            if (outcome === 'TOO_LATE') {
              outcomes.push({ values: {} });
              continue;
            }
            outcomes.push({ values: await this.valuesAt(e, t, Math.max(clock, t)) });
            if (outcome === 'RECORDED') clock = Math.max(clock, t);
          } catch (err) {
            outcomes.push({ err });
          }
        }
      });
    } catch (err) {
      // The commit failed: nothing of the batch was recorded.
      for (const b of batch) b.settle({ err });
      return;
    }
    batch.forEach((b, i) => b.settle(outcomes[i]!));
  }

  private async recordAt(e: FeatureEvent, t: number, clock: number): Promise<RecordOutcome> {
    if (t < clock - this.lateMs) return 'TOO_LATE';
    // A failed note is tried again by the next event, not kept as every later event's failure.
    this.begun ??= this.noteBeginnings(t).catch((err: unknown) => {
      this.begun = undefined;
      throw err;
    });
    await this.begun;
    const claimed = await this.claim(e, t, clock);
    // A retry of the same event (same time, type, attributes, entities) writes its rows again: nothing if they
    // are there, what a crash between the two tables left out if not, a second policy's own features. A retry
    // that differs is the first occurrence's: it adds nothing.
    if (claimed === 'RECORDED' || claimed === 'SAME_EVENT') await this.writeHits(e, t);
    return claimed === 'RECORDED' ? 'RECORDED' : 'DUPLICATE';
  }

  /** Makes (account, eventId) this event's, unless a first occurrence is still remembered. */
  private async claim(
    e: FeatureEvent,
    t: number,
    clock: number,
  ): Promise<'RECORDED' | 'SAME_EVENT' | 'OTHER'> {
    const db = this.db;
    const fp = eventFingerprint(e);
    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted = await db.run(
        insertIgnore(db, 'feature_events', [
          'account_id',
          'event_id',
          'occurred_at',
          'expires_at',
          'fingerprint',
        ]),
        [e.accountId, e.eventId, t, t + this.retryMs, fp],
      );
      if (inserted > 0) return 'RECORDED';
      const rows = await db.query<{ occurred_at: number; fingerprint: string }>(
        'SELECT occurred_at, fingerprint FROM feature_events WHERE account_id = ? AND event_id = ?',
        [e.accountId, e.eventId],
      );
      if (!rows[0]) continue; // purged meanwhile: insert again
      const first = Number(rows[0].occurred_at);
      if (first > clock - this.retryMs)
        return first === t && rows[0].fingerprint === fp ? 'SAME_EVENT' : 'OTHER';
      // Remembered no more: this occurrence counts anew, once, whichever process gets there first.
      const taken = await db.run(
        `UPDATE feature_events SET occurred_at = ?, expires_at = ?, fingerprint = ?
         WHERE account_id = ? AND event_id = ? AND occurred_at = ?`,
        [t, t + this.retryMs, fp, e.accountId, e.eventId, first],
      );
      if (taken > 0) return 'RECORDED';
    }
    return 'OTHER';
  }

  private async writeHits(e: FeatureEvent, t: number): Promise<void> {
    const params: Param[] = [];
    const ev = eventRef(e.accountId, e.eventId);
    let rows = 0;
    for (const { spec, id, keepMs } of this.features) {
      if (spec.eventTypes !== null && !spec.eventTypes.has(e.type)) continue;
      const key = keyOf(spec.by, e);
      if (key === undefined) continue;
      let value: number | string | undefined;
      if (spec.aggregate !== 'count') {
        value = valueOf(spec, e);
        if (value === undefined) continue;
      }
      params.push(
        id,
        key,
        t,
        ev,
        typeof value === 'string' ? value : null,
        typeof value === 'number' ? value : null,
        t + keepMs,
      );
      rows++;
    }
    if (rows > 0) await this.db.run(insertRowsIgnore(this.db, 'feature_hits', HIT_COLUMNS, rows), params);
  }

  async valuesFor(e: FeatureEvent): Promise<FeatureValues> {
    const t = Date.parse(e.occurredAt);
    return this.valuesAt(e, t, await latest(this.db));
  }

  private async valuesAt(e: FeatureEvent, t: number, clock: number): Promise<FeatureValues> {
    const out: FeatureValues = {};
    if (t < clock - this.lateMs) return out;
    const parts: string[] = [];
    const params: Param[] = [];
    const asked: CompiledFeature[] = [];
    for (const { spec, id } of this.features) {
      const key = keyOf(spec.by, e);
      if (key === undefined) continue;
      const value =
        spec.aggregate === 'count'
          ? 'COUNT(*)'
          : spec.aggregate === 'sum'
            ? 'COALESCE(SUM(num), 0)'
            : 'COUNT(DISTINCT val)';
      // The index is a literal: PostgreSQL cannot type a bare parameter in a select list.
      parts.push(
        `SELECT ${asked.length} AS i, ${value} AS v FROM feature_hits
         WHERE feature_id = ? AND key = ? AND at > ? AND at <= ?`,
      );
      params.push(id, key, t - spec.windowMs, t);
      asked.push(spec);
    }
    if (!parts.length) return out;
    const rows = await this.db.query<{ i: number; v: number | string }>(parts.join(' UNION ALL '), params);
    for (const row of rows) {
      const spec = asked[Number(row.i)]!;
      const v = Number(row.v);
      out[spec.name] = spec.aggregate === 'sum' ? roundSum(v) : v;
    }
    return out;
  }
}

/**
 * What `record` then `valuesFor` would answer, writing nothing (POST /v1/simulate): the windows as they stand
 * with the event's own part added, unless the event is recorded already (then it is in them, or counts nothing).
 */
export async function peekValues(
  db: Database,
  windows: DatabaseFeatureWindows,
  e: FeatureEvent,
): Promise<FeatureValues> {
  const values = await windows.valuesFor(e);
  const t = Date.parse(e.occurredAt);
  if (Object.keys(values).length === 0) return values; // too late, or no key: nothing to add
  const known = await db.query<{ one: number }>(
    'SELECT 1 AS one FROM feature_events WHERE account_id = ? AND event_id = ?',
    [e.accountId, e.eventId],
  );
  if (known.length) return values;
  for (const { spec, id } of windows.stored()) {
    if (values[spec.name] === undefined) continue;
    if (spec.eventTypes !== null && !spec.eventTypes.has(e.type)) continue;
    if (spec.aggregate === 'count') {
      values[spec.name]! += 1;
      continue;
    }
    const value = valueOf(spec, e);
    if (value === undefined) continue;
    if (spec.aggregate === 'sum') values[spec.name] = roundSum(values[spec.name]! + (value as number));
    else {
      const seen = await db.query<{ n: number | string }>(
        'SELECT COUNT(*) AS n FROM feature_hits WHERE feature_id = ? AND key = ? AND at > ? AND at <= ? AND val = ?',
        [id, keyOf(spec.by, e)!, t - spec.windowMs, t, value],
      );
      if (Number(seen[0]?.n ?? 0) === 0) values[spec.name]! += 1;
    }
  }
  return values;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** A multi-row INSERT that leaves existing rows (same key) alone, in the database's dialect. */
function insertRowsIgnore(db: Database, table: string, columns: string[], rows: number): string {
  const row = `(${columns.map(() => '?').join(', ')})`;
  const values = Array.from({ length: rows }, () => row).join(', ');
  return db.dialect === 'postgres'
    ? `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values} ON CONFLICT DO NOTHING`
    : `INSERT OR IGNORE INTO ${table} (${columns.join(', ')}) VALUES ${values}`;
}
