// The cluster's Cordon processes share no folder, as pods on different nodes would not: each has a data folder
// of its own, and what they must agree on comes from configuration given alike to every process, as a
// deployment's Secret would give it. The development secrets (codec keys, link keys, the console's session
// secret, the verification secret) are created once into <dir>/secrets.json (mode 0600) and passed as
// environment variables; a variable already set in the cluster script's environment wins.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The variables every Cordon process must be given alike. */
export const SHARED_SECRETS = [
  'CORDON_CODEC_KEYS',
  'CORDON_LINK_KEYS',
  'CORDON_SESSION_SECRET',
  'CORDON_VERIFICATION_SECRET',
  'CORDON_AUDIT_KEYS',
  'CORDON_ENTITY_KEY',
] as const;
export type SharedSecrets = Record<(typeof SHARED_SECRETS)[number], string>;

/** A 32-byte secret as configuration takes it (base64); an earlier shared folder's, when it has one. */
function secret(legacyFile?: string): string {
  if (legacyFile && existsSync(legacyFile)) {
    const key = Buffer.from(readFileSync(legacyFile, 'utf8').trim(), 'base64');
    if (key.length === 32) return key.toString('base64');
  }
  return randomBytes(32).toString('base64');
}

/** An Ed25519 signing key for audit exports, as CORDON_AUDIT_KEYS takes it (`id:` and a 32-byte seed). */
function auditKey(): string {
  return `cluster-1:${randomBytes(32).toString('base64')}`;
}

/**
 * The cluster's secrets: read from <dir>/secrets.json, else created there. A cluster from before processes
 * had folders of their own kept its development keys in the shared folder `legacyDataDir`: those are taken
 * over (same key IDs), so its histories and links stay readable.
 */
export function clusterSecrets(
  dir: string,
  legacyDataDir: string,
  env: NodeJS.ProcessEnv = process.env,
): SharedSecrets {
  const file = join(dir, 'secrets.json');
  let kept: Partial<SharedSecrets> = {};
  try {
    kept = JSON.parse(readFileSync(file, 'utf8')) as Partial<SharedSecrets>;
  } catch {
    kept = {
      // "dev": the ID development gives the key it creates in a data folder (infra/codec.ts, infra/links.ts).
      CORDON_CODEC_KEYS: `dev:${secret(join(legacyDataDir, 'codec-key'))}`,
      CORDON_LINK_KEYS: `dev:${secret(join(legacyDataDir, 'link-key'))}`,
      CORDON_SESSION_SECRET: secret(),
      CORDON_VERIFICATION_SECRET: secret(),
      CORDON_AUDIT_KEYS: auditKey(),
      CORDON_ENTITY_KEY: secret(),
    };
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(kept, null, 2)}\n`, { mode: 0o600 });
  }
  // A cluster created before 0.5 has no audit key yet, before 0.6 no entity key: each is made once and kept, so
  // exports verify and entity counts go on after a restart.
  if (!kept.CORDON_AUDIT_KEYS || !kept.CORDON_ENTITY_KEY) {
    kept = {
      ...kept,
      CORDON_AUDIT_KEYS: kept.CORDON_AUDIT_KEYS ?? auditKey(),
      CORDON_ENTITY_KEY: kept.CORDON_ENTITY_KEY ?? secret(),
    };
    writeFileSync(file, `${JSON.stringify(kept, null, 2)}\n`, { mode: 0o600 });
  }
  return Object.fromEntries(
    SHARED_SECRETS.map((name) => [name, env[name] || kept[name] || secret()]),
  ) as SharedSecrets;
}

/**
 * A Cordon process's own data folder, <cordonDir>/<name>. It holds a link to the mail catcher's folder, so an
 * API's development mail pages (/dev/mail) show what the catcher received: the catcher stands in for the users'
 * mailboxes, a service of its own, not data a Cordon process keeps.
 */
export function processDataDir(cordonDir: string, name: string, mailDir?: string): string {
  const dataDir = join(cordonDir, name);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (mailDir)
    try {
      symlinkSync(mailDir, join(dataDir, 'mail'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // linked by an earlier start
    }
  return dataDir;
}
