// A throwaway PostgreSQL server for the tests: initdb into a temp folder, its own port on 127.0.0.1, trust
// authentication, stopped at the end. Uses the installed PostgreSQL (PATH or /usr/lib/postgresql/*/bin);
// as root it runs the server as the `postgres` user, which PostgreSQL requires.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/dev-server';

export interface TestPostgres {
  url: string;
  stop(): Promise<void>;
}

function binDir(): string | null {
  const onPath = spawnSync('sh', ['-c', 'command -v pg_ctl'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return null; // use PATH
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) throw new Error('PostgreSQL is not installed (apt-get install -y postgresql)');
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  return join(root, versions[0]!, 'bin');
}

let shared: Promise<TestPostgres> | undefined;

/** One server for the whole test run. */
export function sharedPostgres(): Promise<TestPostgres> {
  shared ??= startPostgres();
  return shared;
}

export async function stopSharedPostgres(): Promise<void> {
  if (shared) await (await shared).stop();
  shared = undefined;
}

export async function startPostgres(): Promise<TestPostgres> {
  const dir = binDir();
  const bin = (name: string) => (dir ? join(dir, name) : name);
  const data = mkdtempSync(join(tmpdir(), 'cordon-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(data, uid, gid);
  }
  const run = (cmd: string, args: string[]) =>
    asRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' })
      : execFileSync(cmd, args, { stdio: 'pipe' });
  const port = await freePort();
  run(bin('initdb'), ['-D', join(data, 'db'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  run(bin('pg_ctl'), [
    '-D',
    join(data, 'db'),
    '-o',
    `-p ${port} -k ${data} -c listen_addresses=127.0.0.1 -c fsync=off`,
    '-l',
    join(data, 'log'),
    '-w',
    'start',
  ]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      try {
        run(bin('pg_ctl'), ['-D', join(data, 'db'), '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(data, { recursive: true, force: true });
      }
    },
  };
}
