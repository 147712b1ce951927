// Where evidence lives, from the configuration: an S3-compatible store when CORDON_EVIDENCE_URL is set; else
// Cordon's database when that is PostgreSQL (every API process reaches it); else the local folder
// <CORDON_DATA_DIR>/evidence, the single-machine default. Every store keeps the same sealed bytes, with keys
// derived from the payload codec's (same IDs, same rotation).
import type { Database } from '../database';
import { DataKeys, registeredDataKeys, wrapKeysOf } from '../data-keys';
import { devSecret } from '../dev-secrets';
import type { Logger } from '../logger';
import { DatabaseEvidenceStore } from './database-store';
import { FileEvidenceStore } from './file-store';
import { S3EvidenceStore, parseEvidenceUrl } from './s3-store';
import { evidenceKeysFrom } from './seal';
import { AccountSealer } from './sealer';
import type { EvidenceKey, EvidenceStore, SealedEvidenceTarget } from './types';

export interface EvidenceConfig {
  mode?: string;
  dataDir: string;
  /** CORDON_EVIDENCE_URL, raw (it may hold the object store's secret). */
  evidenceUrl?: string;
  codec: { keys?: readonly { id: string; key: Buffer }[] };
}

export type EvidenceLocation = 's3' | 'database' | 'folder';

export interface ChosenEvidenceStore {
  store: EvidenceStore & Partial<SealedEvidenceTarget>;
  where: EvidenceLocation;
  /** Where, for a log line: no credentials. */
  description: string;
}

/** Keys from CORDON_CODEC_KEYS; unset (development), from the codec key created once in the data folder. */
export function evidenceKeysOf(config: EvidenceConfig): EvidenceKey[] {
  return evidenceKeysFrom(
    config.codec.keys ?? [{ id: 'dev', key: devSecret(config.dataDir, 'codec-key', 32) }],
  );
}

/** The store a configuration names, and where that is. */
export function chooseEvidenceStore(
  config: EvidenceConfig,
  db: Database,
  env: NodeJS.ProcessEnv = process.env,
): ChosenEvidenceStore {
  // Files go under their account's data key: the Store's on this database handle (one cache, one set of keys),
  // else keys wrapped as the Store's would be (a tool that opened only the database).
  const dataKeys =
    registeredDataKeys(db) ??
    new DataKeys(db, wrapKeysOf({ codecKeys: config.codec.keys, dataDir: config.dataDir }));
  const keys = new AccountSealer(evidenceKeysOf(config), dataKeys);
  if (config.evidenceUrl) {
    const at = parseEvidenceUrl(config.evidenceUrl, env);
    return { store: new S3EvidenceStore(at, keys), where: 's3', description: `object store ${at.display}` };
  }
  if (db.dialect === 'postgres')
    return {
      store: new DatabaseEvidenceStore(db, keys),
      where: 'database',
      description: "Cordon's PostgreSQL database",
    };
  return {
    store: new FileEvidenceStore(config.dataDir, keys),
    where: 'folder',
    description: 'the local data folder (this machine only)',
  };
}

/** The API's evidence store (api/main.ts): says once where files are kept. */
export function evidenceStoreFromConfig(
  config: EvidenceConfig,
  db: Database,
  logger?: Logger,
): EvidenceStore {
  const chosen = chooseEvidenceStore(config, db);
  logger?.info('evidence store', { where: chosen.description });
  // Legitimate for one API process with a lasting disk; wrong for replicas or pods without a volume.
  if (chosen.where === 'folder' && config.mode === 'production')
    logger?.warn('evidence files are kept on this machine only: other API processes cannot open them', {
      fix: 'CORDON_DATABASE_URL (PostgreSQL) or CORDON_EVIDENCE_URL',
    });
  return chosen.store;
}
