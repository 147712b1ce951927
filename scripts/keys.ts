// `npm run keys -- rewrap | reencrypt`: the maintenance of personal data at rest
// (docs/security.md#personal-data-at-rest).
//   rewrap     wraps every account's data key with the newest CORDON_CODEC_KEYS key (after a rotation), so the
//              older key can be removed from the list. The sealed data does not change.
//   reencrypt  seals what is still in plaintext in Cordon's database (rows written before 0.5) under each
//              account's data key, and seals evidence files written before 0.5 again under it.
// Both are idempotent and resumable: what is done is not selected again, so a run stopped halfway (Ctrl-C, a
// maintenance window's --limit) continues where it stopped. Progress goes to stdout; IDs only, never content.
import { parseConfig } from '../infra/config';
import { chooseEvidenceStore, evidenceKeysOf } from '../infra/evidence/from-config';
import { resealEvidence } from '../infra/evidence/reseal';
import { AccountSealer } from '../infra/evidence/sealer';
import type { ResealableEvidence } from '../infra/evidence/types';
import { reencryptAll } from '../infra/personal-data-jobs';
import { openStore, type Store } from '../infra/store';

export const USAGE = `npm run keys -- <command> [options]

Commands:
  rewrap      wrap every account's data key with the newest key of CORDON_CODEC_KEYS (the first listed);
              run it after adding a new key first, before removing the old one
  reencrypt   seal personal data still in plaintext (written before 0.5) under each account's data key,
              and evidence files written before 0.5 under their account's key

Options:
  --batch N   rows per page (default 500)
  --limit N   reencrypt: stop after looking at N rows (run again to continue)
  --vacuum    reencrypt: then rewrite the tables, so the plaintext they held is not left in the database's
              free space (SQLite: VACUUM, the write-ahead log truncated; PostgreSQL: VACUUM FULL, which locks
              each table while it runs: a maintenance window)
  --help      this text

The keys come from CORDON_CODEC_KEYS (in development: the codec key in CORDON_DATA_DIR), the database from
CORDON_DATABASE_URL or the data folder, as for the API and the worker.`;

interface Options {
  command?: 'rewrap' | 'reencrypt';
  batch?: number;
  limit?: number;
  vacuum: boolean;
  help: boolean;
}

export function parseKeysOptions(argv: string[]): Options {
  const o: Options = { help: false, vacuum: false };
  const count = (name: string, v: string | undefined) => {
    const n = Number(v);
    if (!v || !Number.isInteger(n) || n < 1) throw new Error(`${name} needs a whole number above 0`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === 'rewrap' || arg === 'reencrypt') {
      if (o.command) throw new Error('give one command');
      o.command = arg;
    } else if (arg === '--batch') o.batch = count(arg, argv[++i]);
    else if (arg === '--limit') o.limit = count(arg, argv[++i]);
    else if (arg === '--vacuum') o.vacuum = true;
    else if (arg === '--help' || arg === '-h') o.help = true;
    else throw new Error(`unknown argument ${arg} (npm run keys -- --help)`);
  }
  if (!o.command && !o.help) throw new Error('which command? rewrap or reencrypt (npm run keys -- --help)');
  return o;
}

type Out = (line: string) => void;

export async function rewrap(store: Store, o: Options, out: Out): Promise<number> {
  out(`re-wrapping account data keys with key ID ${store.dataKeys.newestWrapKeyId}`);
  const r = await store.dataKeys.rewrap({
    batch: o.batch,
    onProgress: (p) => out(`  ${p.rewrapped} of ${p.total} re-wrapped`),
  });
  out(`re-wrapped ${r.rewrapped} of ${r.total}; every other key is already under the newest`);
  if (r.unreadable.length) {
    out(
      `${r.unreadable.length} key(s) wrapped with a key not configured (accounts: ${r.unreadable.join(', ')})`,
    );
    return 1;
  }
  return 0;
}

export async function reencrypt(
  store: Store,
  config: ReturnType<typeof parseConfig>,
  o: Options,
  out: Out,
): Promise<number> {
  const tables = await reencryptAll(store.db, store.dataKeys, {
    batch: o.batch,
    limit: o.limit,
    onProgress: (p) => out(`  ${p.table}: ${p.checked} of ${p.total} looked at, ${p.sealed} sealed`),
  });
  for (const t of tables) out(`${t.table}: sealed ${t.sealed} of ${t.total} row(s) not yet sealed`);
  const limited = o.limit !== undefined && tables.reduce((n, t) => n + t.checked, 0) >= o.limit;
  if (limited) {
    out(`stopped after --limit ${o.limit} rows: run it again to continue`);
    return 0;
  }
  // Evidence files (CEV1 to CEV2) before the vacuum: in PostgreSQL they are rows too.
  const chosen = chooseEvidenceStore(config, store.db);
  const evidence = chosen.store as Partial<ResealableEvidence>;
  let unreadable: string[] = [];
  if (evidence.allRefs && evidence.getSealed && evidence.replaceSealed) {
    const r = await resealEvidence(
      evidence as ResealableEvidence,
      new AccountSealer(evidenceKeysOf(config), store.dataKeys),
      {
        onProgress: (p) =>
          out(`  evidence (${chosen.description}): ${p.checked} looked at, ${p.resealed} resealed`),
      },
    );
    out(`evidence: resealed ${r.resealed} of ${r.checked} file(s)`);
    unreadable = r.unreadable;
  }
  if (o.vacuum && !(await vacuum(store.db, out))) {
    out(
      "the write-ahead log could not be truncated: another process kept checkpointing or reading it; stop Cordon's processes and run reencrypt --vacuum again",
    );
    return 1;
  }
  if (unreadable.length) {
    out(
      `${unreadable.length} evidence file(s) do not open with the configured keys: ${unreadable.join(', ')}`,
    );
    return 1;
  }
  return 0;
}

/**
 * Rewrites the tables that held plaintext: an UPDATE leaves the old row's bytes in free pages until then. On
 * SQLite the write-ahead log, which still holds the old pages, is then truncated. False if it could not be.
 */
async function vacuum(db: Store['db'], out: Out): Promise<boolean> {
  out('rewriting the tables (vacuum)');
  if (db.dialect === 'sqlite') {
    await db.run('VACUUM');
    return truncateWal(db);
  }
  for (const table of ['request_records', 'case_archive', 'messages', 'event_ids', 'evidence_files'])
    await db.run(`VACUUM FULL ${table}`);
  return true;
}

const WAL_TRUNCATE_WAIT_MS = 30_000;

/**
 * Truncates SQLite's write-ahead log to nothing. A running Cordon process's checkpoint thread
 * (infra/sqlite-checkpointer.ts) may hold the checkpoint for a moment, and SQLite then answers busy at once
 * instead of waiting: the checkpoint is tried again for up to WAL_TRUNCATE_WAIT_MS.
 */
async function truncateWal(db: Store['db']): Promise<boolean> {
  const giveUpAt = Date.now() + WAL_TRUNCATE_WAIT_MS;
  for (;;) {
    // One row: busy (0 or 1), frames in the log, frames checkpointed.
    const [row] = await db.query<{ busy: number }>('PRAGMA wal_checkpoint(TRUNCATE)');
    if (row && Number(row.busy) === 0) return true;
    if (Date.now() > giveUpAt) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function main(): Promise<number> {
  const o = parseKeysOptions(process.argv.slice(2));
  if (o.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = parseConfig();
  const store = await openStore(config.database);
  const out: Out = (line) => void process.stdout.write(`${line}\n`);
  try {
    return o.command === 'rewrap' ? await rewrap(store, o, out) : await reencrypt(store, config, o, out);
  } finally {
    await store.db.close();
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`keys: ${err.message}\n`);
      process.exit(2);
    },
  );
}
