// Development secrets (infra/dev-secrets.ts) created by several processes starting together on one data folder:
// every process gets the same secret, whole, never an empty one read while another process was writing it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devSecret } from '../infra/dev-secrets';

const PROCESSES = 6;
const NAMES = 150;

/** A process that waits for the start file, then asks for every secret and prints them. */
function contender(
  dir: string,
  start: string,
): { ready: Promise<void>; done: Promise<Record<string, string>> } {
  const script = `
    const { existsSync } = require('node:fs');
    const { devSecret } = require(${JSON.stringify(join(__dirname, '../infra/dev-secrets.ts'))});
    process.stdout.write('ready\\n');
    while (!existsSync(${JSON.stringify(start)})) {}
    const out = {};
    for (let i = 0; i < ${NAMES}; i++) out['s' + i] = devSecret(${JSON.stringify(dir)}, 's' + i).toString('base64');
    process.stdout.write(JSON.stringify(out) + '\\n');
  `;
  const child = spawn(process.execPath, ['-r', require.resolve('tsx/cjs'), '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  let isReady: () => void;
  const ready = new Promise<void>((r) => (isReady = r));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('ready\n')) isReady();
  });
  const done = new Promise<Record<string, string>>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`a contender exited with ${code}`));
      resolve(JSON.parse(out.split('\n')[1]!) as Record<string, string>);
    });
  });
  return { ready, done };
}

describe('development secrets', () => {
  it('dev-secret-race: processes starting together on one folder all get the same whole secret', async function () {
    this.timeout(120_000);
    const dir = mkdtempSync(join(tmpdir(), 'cordon-secrets-'));
    const start = join(dir, 'go');
    try {
      const contenders = Array.from({ length: PROCESSES }, () => contender(join(dir, 'data'), start));
      // Each says "ready" before it spins; the start file goes down once every one is spinning.
      await Promise.all(contenders.map((c) => c.ready));
      writeFileSync(start, '');
      const results = await Promise.all(contenders.map((c) => c.done));
      for (let i = 0; i < NAMES; i++) {
        const name = `s${i}`;
        const values = new Set(results.map((r) => r[name]));
        assert.equal(values.size, 1, `${name}: the processes got ${values.size} different secrets`);
        assert.equal(Buffer.from([...values][0]!, 'base64').length, 32, `${name}: not 32 bytes`);
        assert.deepEqual(devSecret(join(dir, 'data'), name).toString('base64'), [...values][0]);
        assert.equal(statSync(join(dir, 'data', name)).mode & 0o777, 0o600);
      }
      assert.deepEqual(
        readdirSync(join(dir, 'data')).filter((f) => f.endsWith('.tmp')),
        [],
        'no draft left behind',
      );
    } finally {
      writeFileSync(start, '');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an empty secret file with a message naming it, rather than using no key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cordon-secrets-'));
    try {
      writeFileSync(join(dir, 'k'), '\n');
      assert.throws(() => devSecret(dir, 'k'), /development secret k .* is empty/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
