import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A development secret kept in the data folder: created once (mode 0600), then read, so a restart and every
 * process on the same data folder share it. Production configures its secrets and never calls this.
 */
export function devSecret(dataDir: string, name: string, bytes = 32): Buffer {
  const file = join(dataDir, name);
  try {
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const secret = randomBytes(bytes);
    try {
      // 'wx': when two processes start together, the first writer wins and the other reads its secret.
      writeFileSync(file, secret.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
      return secret;
    } catch {
      return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    }
  }
}
