// A PostgreSQL server of Cordon's own, out of the installed PostgreSQL (PATH, else the newest
// /usr/lib/postgresql/*/bin): `initdb` into a folder (trust authentication, on 127.0.0.1 only, its own port),
// `pg_ctl start`, `pg_ctl stop`. The tests start a throwaway one in a temporary folder (test/helpers/postgres.ts);
// `npm run cluster` keeps one in .cordon-cluster/postgres across runs. As root, the server runs as the
// `postgres` user, which PostgreSQL requires.
import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface PostgresOptions {
  /** The server's folder: its data in `<dir>/db`, its log in `<dir>/log`, its socket in `<dir>`. */
  dir: string;
  port: number;
  /** Off for throwaway servers (the tests): faster, and nothing to keep after a crash. Default on. */
  fsync?: boolean;
  maxConnections?: number;
  /** A server already running on this folder (left by a process that died) is stopped first; this is told. */
  onNotice?: (message: string) => void;
}

export interface PostgresServer {
  /** The superuser's URL (`postgres`, trust authentication): postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  dataDir: string;
  /** The command that stops it, for a watchdog that outlives this process. */
  stopCommand: string[];
  stop(): Promise<void>;
}

/** The folder of the PostgreSQL programs; null: they are on PATH. */
export function postgresBinDir(): string | null {
  const onPath = spawnSync('sh', ['-c', 'command -v pg_ctl'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return null;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) throw new Error('PostgreSQL is not installed (apt-get install -y postgresql)');
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error(`PostgreSQL is not installed: ${root} is empty`);
  return join(root, versions[0], 'bin');
}

const asRoot = () => process.getuid?.() === 0;

/** [command, ...args], run as the `postgres` user when this process is root. */
function command(name: string, args: string[]): string[] {
  const dir = postgresBinDir();
  const cmd = dir ? join(dir, name) : name;
  return asRoot() ? ['runuser', '-u', 'postgres', '--', cmd, ...args] : [cmd, ...args];
}

function exec(argv: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise) => {
    execFile(argv[0]!, argv.slice(1), { encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolvePromise({ code, output: `${stdout}${stderr}`.trim() || (err?.message ?? '') });
    });
  });
}

async function must(argv: string[], what: string): Promise<void> {
  const { code, output } = await exec(argv);
  if (code !== 0) throw new Error(`${what} failed (${argv.join(' ')}):\n${output}`);
}

/**
 * Stops the server running on the folder (one a hard-killed process left behind), if any: `pg_ctl status`
 * answers 0 when a postmaster runs on the data folder. Answers whether there was one.
 */
export async function stopPostgresIfRunning(dir: string): Promise<boolean> {
  const dataDir = join(dir, 'db');
  if (!existsSync(join(dataDir, 'postmaster.pid'))) return false;
  if ((await exec(command('pg_ctl', ['-D', dataDir, 'status']))).code !== 0) return false;
  await must(
    command('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']),
    'stopping a PostgreSQL server left running',
  );
  return true;
}

/** Initialises the folder if it holds no server yet, stops a leftover server on it, and starts it. */
export async function startPostgresServer(o: PostgresOptions): Promise<PostgresServer> {
  const dataDir = join(o.dir, 'db');
  mkdirSync(o.dir, { recursive: true });
  if (asRoot()) {
    const id = (flag: string) =>
      Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(o.dir, id('-u'), id('-g'));
    if (spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-w', o.dir]).status !== 0)
      throw new Error(
        `PostgreSQL runs as the postgres user, which cannot reach ${o.dir}: a folder above it is closed to ` +
          'other users (chmod o+x it, or choose a folder elsewhere)',
      );
  }
  if (!existsSync(join(dataDir, 'PG_VERSION')))
    await must(
      command('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']),
      'initdb',
    );
  const stopCommand = command('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
  if (await stopPostgresIfRunning(o.dir))
    o.onNotice?.(`stopped a PostgreSQL server left running on ${dataDir}`);
  const settings = [
    `-p ${o.port}`,
    `-k ${o.dir}`,
    '-c listen_addresses=127.0.0.1',
    `-c max_connections=${o.maxConnections ?? 100}`,
    ...(o.fsync === false ? ['-c fsync=off'] : []),
  ].join(' ');
  // pg_ctl puts the server in a session of its own (setsid): a Ctrl-C in the terminal does not reach it.
  await must(
    command('pg_ctl', ['-D', dataDir, '-o', settings, '-l', join(o.dir, 'log'), '-w', '-t', '60', 'start']),
    `starting PostgreSQL (log: ${join(o.dir, 'log')})`,
  );
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${o.port}/postgres`,
    port: o.port,
    dataDir,
    stopCommand,
    async stop() {
      if (stopped) return;
      stopped = true;
      await must(stopCommand, 'stopping PostgreSQL');
    },
  };
}
