// `npm run evidence-migrate [-- --to database|s3] [--from DATA_DIR] [--remove]`: copies every evidence file
// from a local data folder into the store the configuration names (CORDON_EVIDENCE_URL, else Cordon's
// PostgreSQL database), as sealed: same reference, same bytes, no re-encryption. Each file is opened with the
// configured keys first (so nothing unreadable is carried over unnoticed) and copied only where its reference
// is free, so running it again, or while the APIs already write to the new store, copies nothing twice.
// With --remove, a file leaves the folder once the new store gives it back intact.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseConfig } from '../infra/config';
import { openDatabase } from '../infra/database';
import { evidenceDir, FileEvidenceStore } from '../infra/evidence/file-store';
import { chooseEvidenceStore, evidenceKeysOf, type EvidenceLocation } from '../infra/evidence/from-config';
import { openEvidence } from '../infra/evidence/seal';
import type {
  EvidenceKey,
  EvidenceStore,
  SealedEvidenceTarget,
  StoredEvidence,
} from '../infra/evidence/types';
import { AccountSealer } from '../infra/evidence/sealer';
import { DataKeys, wrapKeysOf } from '../infra/data-keys';

export const USAGE = `npm run evidence-migrate [-- options]

Copies the evidence files of a local data folder, sealed as they are, into the store the configuration
names: CORDON_EVIDENCE_URL (an S3-compatible store), else Cordon's database when CORDON_DATABASE_URL is
PostgreSQL. Safe to run again: a file already there is left alone.

  --to database|s3    refuse unless the configuration names that store (a guard against a wrong shell)
  --from DATA_DIR     the data folder whose evidence/ to copy (default CORDON_DATA_DIR)
  --remove            remove each file from the folder once the new store gives it back intact
  --help              this text

The keys are the ones the files were sealed with: CORDON_CODEC_KEYS, or in development the codec key in the
data folder.`;

export interface MigrationResult {
  copied: number;
  /** Already in the new store under the same reference. */
  present: number;
  /** Cannot be opened with the configured keys: left in the folder, listed by reference. */
  unreadable: string[];
  removed: number;
}

/** Copies every file of `from` into `to`; `log` gets a line per file that could not be copied. */
export async function migrateEvidence(o: {
  from: FileEvidenceStore;
  to: EvidenceStore & SealedEvidenceTarget;
  keys: readonly EvidenceKey[];
  /** Opens a file (to check it before it is copied); default: with `keys` (files sealed before 0.5). */
  open?: (ref: string, sealed: Buffer) => Promise<StoredEvidence>;
  remove?: boolean;
  log?: (line: string) => void;
}): Promise<MigrationResult> {
  const open = o.open ?? (async (ref: string, sealed: Buffer) => openEvidence(o.keys, ref, sealed));
  const result: MigrationResult = { copied: 0, present: 0, unreadable: [], removed: 0 };
  for (const ref of await o.from.refs()) {
    const sealed = await o.from.getSealed(ref);
    if (!sealed) continue; // removed meanwhile
    let opened;
    try {
      opened = await open(ref, sealed);
    } catch (err) {
      result.unreadable.push(ref);
      o.log?.(`not copied: ${(err as Error).message}`);
      continue;
    }
    if (await o.to.putSealed(ref, sealed, opened.meta)) result.copied++;
    else result.present++;
    if (o.remove) {
      const back = await o.to.get(ref);
      if (!back?.content.equals(opened.content))
        throw new Error(`evidence ${ref} does not read back from the new store: the folder keeps it`);
      await o.from.delete(ref);
      result.removed++;
    }
  }
  return result;
}

interface Options {
  to?: Exclude<EvidenceLocation, 'folder'>;
  from?: string;
  remove: boolean;
  help: boolean;
}

export function parseMigrateOptions(argv: string[]): Options {
  const o: Options = { remove: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i]!.includes('=') ? argv[i]!.split(/=(.*)/s, 2) : [argv[i]!, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value`);
      return v;
    };
    if (name === '--to') {
      const to = value();
      if (to !== 'database' && to !== 's3') throw new Error('--to must be database or s3');
      o.to = to;
    } else if (name === '--from') o.from = value();
    else if (name === '--remove') o.remove = true;
    else if (name === '--help' || name === '-h') o.help = true;
    else throw new Error(`unknown option ${name} (npm run evidence-migrate -- --help)`);
  }
  return o;
}

async function main(): Promise<number> {
  const o = parseMigrateOptions(process.argv.slice(2));
  if (o.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = parseConfig();
  const fromDir = resolve(o.from ?? config.dataDir);
  if (!existsSync(evidenceDir(fromDir)))
    throw new Error(`${fromDir} has no evidence folder: nothing to copy`);
  if (!config.codec.keys && !existsSync(join(fromDir, 'codec-key')))
    throw new Error(
      `no CORDON_CODEC_KEYS, and no development codec key in ${fromDir}: the files cannot be opened`,
    );
  // In development the files were sealed with the codec key of the folder they are in.
  const sourceConfig = { ...config, dataDir: fromDir };
  const db = await openDatabase(config.database);
  try {
    const chosen = chooseEvidenceStore(sourceConfig, db);
    if (chosen.where === 'folder')
      throw new Error(
        'the configuration keeps evidence in the local folder: set CORDON_EVIDENCE_URL, or CORDON_DATABASE_URL ' +
          'to PostgreSQL, as the APIs will have it',
      );
    if (o.to && o.to !== chosen.where)
      throw new Error(`--to ${o.to}, but the configuration keeps evidence in ${chosen.description}`);
    const to = chosen.store as EvidenceStore & SealedEvidenceTarget;
    const keys = evidenceKeysOf(sourceConfig);
    const from = new FileEvidenceStore(fromDir, keys);
    // Files the API sealed under an account's data key open with Cordon's database keys.
    const sealer = new AccountSealer(
      keys,
      new DataKeys(db, wrapKeysOf({ codecKeys: config.codec.keys, dataDir: fromDir })),
    );
    process.stdout.write(`copying the evidence files of ${fromDir} into ${chosen.description}\n`);
    const r = await migrateEvidence({
      from,
      to,
      keys,
      open: (ref, sealed) => sealer.open(ref, sealed),
      remove: o.remove,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    process.stdout.write(
      `copied ${r.copied}, already there ${r.present}, not copied ${r.unreadable.length}` +
        `${o.remove ? `, removed from the folder ${r.removed}` : ''}\n`,
    );
    return r.unreadable.length ? 1 : 0;
  } finally {
    await db.close();
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`evidence-migrate: ${err.message}\n`);
      process.exit(2);
    },
  );
}
