import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A development secret kept in the data folder: created once (mode 0600), then read, so a restart and every
 * process on the same data folder share it. Production configures its secrets and never calls this.
 */
export function devSecret(dataDir: string, name: string, bytes = 32): Buffer {
  const file = join(dataDir, name);
  const existing = readSecret(file);
  if (existing) return existing;
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(bytes);
  // Written whole under a name of its own, then linked into place: the link fails if the secret exists, so when
  // processes start together the first wins and the others read its secret, never a file still being written.
  const draft = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(draft, secret.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  try {
    linkSync(draft, file);
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const theirs = readSecret(file);
    if (!theirs)
      throw new Error(`the development secret ${name} in ${dataDir} is empty: delete it to make anew`);
    return theirs;
  } finally {
    unlinkSync(draft);
  }
}

/** The secret in the file, or null when there is none. */
function readSecret(file: string): Buffer | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const secret = Buffer.from(text.trim(), 'base64');
  return secret.length ? secret : null;
}
