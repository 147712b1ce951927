// The two jobs over personal data at rest: removing the personal fields of settled notices after their retention
// (part of Store.purge), and sealing rows still in plaintext (written before 0.5) or under an older envelope
// (`npm run keys -- reencrypt`). Both work a page at a time, change a row only if it still holds what they read,
// and can be stopped and run again at any point.
import { parseCaseId, type CaseView, type RiskEventResult } from '../core/contracts';
import type { OutboxMessage } from '../core/messages';
import type { Database, Param } from './database';
import { DataKeyError, SEALED_PREFIX, type DataKeys } from './data-keys';
import { isErased } from './erasure-strip';
import {
  FIELD,
  eventResultIsPersonal,
  isRedacted,
  messageIsPersonal,
  openJson,
  redactNotice,
  sealJson,
} from './personal-data';

const PAGE = 500;
const RETENTION_MARK = 'messages.redacted_before';
/** Each run looks this far behind the last one again: a row settled while the last run read is not missed. */
const MARK_SLACK_MS = 10 * 60_000;

async function readMark(db: Database, name: string): Promise<number> {
  const [row] = await db.query<{ value: number }>('SELECT value FROM store_marks WHERE name = ?', [name]);
  return row ? Number(row.value) : 0;
}

async function advanceMark(db: Database, name: string, value: number): Promise<void> {
  await db.run(
    `INSERT INTO store_marks (name, value) VALUES (?, ?)
     ON CONFLICT (name) DO UPDATE SET value = excluded.value WHERE store_marks.value < excluded.value`,
    [name, value],
  );
}

/** Puts the redacted copy in place of each notice that still holds its personal fields; answers how many. */
async function redactRows(
  db: Database,
  keys: DataKeys,
  rows: { seq: number; account_id: string; payload: string }[],
): Promise<number> {
  let redacted = 0;
  await keys.preload(rows.filter((r) => r.payload.startsWith(SEALED_PREFIX)).map((r) => r.account_id));
  for (const r of rows) {
    let message: OutboxMessage;
    try {
      message = await openJson<OutboxMessage>(keys, r.account_id, FIELD.message, r.payload);
    } catch (err) {
      // Its key is gone (the account erased) or not configured: unreadable either way; the others go on.
      if (err instanceof DataKeyError) continue;
      throw err;
    }
    if (message.kind !== 'NOTIFY_USER' || isRedacted(message)) continue;
    redacted += await db.run('UPDATE messages SET payload = ? WHERE seq = ? AND payload = ?', [
      JSON.stringify(redactNotice(message)),
      r.seq,
      r.payload,
    ]);
  }
  return redacted;
}

/**
 * Every user notice of an account, redacted now whatever its status (erasure: before its data key is destroyed,
 * so the case's deliveries stay readable without it). A pending one then goes out without a contact.
 */
export async function redactNoticesOf(db: Database, keys: DataKeys, accountId: string): Promise<number> {
  const rows = await db.query<{ seq: number; account_id: string; payload: string }>(
    "SELECT seq, account_id, payload FROM messages WHERE account_id = ? AND kind = 'NOTIFY_USER'",
    [accountId],
  );
  return redactRows(db, keys, rows);
}

/**
 * Replaces every user notice delivered (or failed for good) before `cutoff` by its redacted copy. Settled rows do
 * not change their time again, so each run reads only those that settled since the last run's cutoff.
 */
export async function redactSettledNotices(db: Database, keys: DataKeys, cutoff: number): Promise<number> {
  const from = Math.max(0, (await readMark(db, RETENTION_MARK)) - MARK_SLACK_MS);
  let after: [number, number] = [from - 1, 0];
  let redacted = 0;
  for (;;) {
    const rows = await db.query<{ seq: number; account_id: string; payload: string; updated_at: number }>(
      `SELECT seq, account_id, payload, updated_at FROM messages
       WHERE kind = 'NOTIFY_USER' AND status IN ('DELIVERED', 'FAILED') AND updated_at < ?
         AND (updated_at > ? OR (updated_at = ? AND seq > ?))
       ORDER BY updated_at, seq LIMIT ${PAGE}`,
      [cutoff, after[0], after[0], after[1]],
    );
    redacted += await redactRows(db, keys, rows);
    if (rows.length < PAGE) break;
    const last = rows[rows.length - 1]!;
    after = [Number(last.updated_at), Number(last.seq)];
  }
  await advanceMark(db, RETENTION_MARK, cutoff);
  return redacted;
}

export interface ReencryptProgress {
  table: string;
  /** Rows the table had to look at when its pass began. */
  total: number;
  checked: number;
  sealed: number;
}

interface Pass {
  table: string;
  /** Rows that may need sealing: not yet in the current envelope. */
  where: string;
  key: string[];
  columns: string[];
  /** The account and the new values of the columns, or null when the row needs nothing. */
  seal(row: Record<string, unknown>): Promise<{ values: string[] } | null>;
}

const notSealed = (column: string) => `${column} NOT LIKE '${SEALED_PREFIX}%'`;

function passes(keys: DataKeys): Pass[] {
  const accountOfCase = (caseId: string, fallback?: string) => parseCaseId(caseId)?.accountId ?? fallback;
  return [
    {
      table: 'request_records',
      where: notSealed('response'),
      key: ['request_key'],
      columns: ['response'],
      async seal(r) {
        const view = JSON.parse(String(r.response)) as CaseView;
        const account = accountOfCase(String(r.case_id));
        if (!account) return null; // not a case ID: the store could not name its key either
        if (isErased(view)) return null; // nothing personal left, and its account's key is gone
        return { values: [await sealJson(keys, account, FIELD.request, view)] };
      },
    },
    {
      table: 'case_archive',
      where: `(${notSealed('view')} OR ${notSealed('requests')})`,
      key: ['case_id'],
      columns: ['view', 'requests'],
      async seal(r) {
        const account = String(r.account_id);
        const view = await openJson<CaseView>(keys, account, FIELD.archiveView, String(r.view));
        if (isErased(view)) return null; // nothing personal left, and its account's key is gone
        const requests = await openJson<unknown>(keys, account, FIELD.archiveRequests, String(r.requests));
        return {
          values: [
            await sealJson(keys, account, FIELD.archiveView, view),
            await sealJson(keys, account, FIELD.archiveRequests, requests),
          ],
        };
      },
    },
    {
      table: 'messages',
      // A redacted copy (plain by design, its marker last) is passed over in SQL.
      where: `kind = 'NOTIFY_USER' AND ${notSealed('payload')} AND payload NOT LIKE '%"redacted":true}'`,
      key: ['seq'],
      columns: ['payload'],
      async seal(r) {
        const message = JSON.parse(String(r.payload)) as OutboxMessage;
        if (!messageIsPersonal(message)) return null;
        return { values: [await sealJson(keys, String(r.account_id), FIELD.message, message)] };
      },
    },
    {
      table: 'event_ids',
      // Only answers with more than codes may need it; the text test is a coarse filter, the check is exact.
      where: `${notSealed('result')} AND result LIKE '%"note"%'`,
      key: ['account_id', 'event_id'],
      columns: ['result'],
      async seal(r) {
        const result = JSON.parse(String(r.result)) as RiskEventResult;
        if (!eventResultIsPersonal(result)) return null;
        return { values: [await sealJson(keys, String(r.account_id), FIELD.event, result)] };
      },
    },
  ];
}

/**
 * Seals every personal value still in plaintext. `limit` stops after that many rows looked at (a maintenance
 * window); running again continues where it stopped, since sealed rows are no longer selected.
 */
export async function reencryptAll(
  db: Database,
  keys: DataKeys,
  o: { batch?: number; limit?: number; onProgress?: (p: ReencryptProgress) => void } = {},
): Promise<ReencryptProgress[]> {
  const done: ReencryptProgress[] = [];
  let budget = o.limit ?? Infinity;
  for (const pass of passes(keys)) {
    const [count] = await db.query<{ n: number }>(
      `SELECT COUNT(*) AS n FROM ${pass.table} WHERE ${pass.where}`,
    );
    const progress: ReencryptProgress = {
      table: pass.table,
      total: Number(count?.n ?? 0),
      checked: 0,
      sealed: 0,
    };
    done.push(progress);
    // Keyset paging on the primary key: rows left alone (nothing personal) are passed, not read again.
    let after: Param[] | undefined;
    while (budget > 0) {
      const position = after ? `AND (${pass.key.join(', ')}) > (${pass.key.map(() => '?').join(', ')})` : '';
      const rows = await db.query(
        `SELECT * FROM ${pass.table} WHERE ${pass.where} ${position}
         ORDER BY ${pass.key.join(', ')} LIMIT ?`,
        [...(after ?? []), Math.min(o.batch ?? PAGE, budget)],
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        progress.checked++;
        budget--;
        const sealed = await pass.seal(row);
        if (!sealed) continue;
        const set = pass.columns.map((c) => `${c} = ?`).join(', ');
        const same = [...pass.key, ...pass.columns].map((c) => `${c} = ?`).join(' AND ');
        progress.sealed += await db.run(`UPDATE ${pass.table} SET ${set} WHERE ${same}`, [
          ...sealed.values,
          ...pass.key.map((c) => row[c] as Param),
          ...pass.columns.map((c) => row[c] as Param),
        ]);
      }
      after = pass.key.map((c) => rows[rows.length - 1]![c] as Param);
      o.onProgress?.(progress);
    }
  }
  return done;
}
