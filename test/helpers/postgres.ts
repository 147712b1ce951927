// A throwaway PostgreSQL server for the tests: initdb into a temp folder, its own port on 127.0.0.1, trust
// authentication, stopped at the end (scripts/postgres.ts does the work; `npm run cluster` uses it too).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/dev-server';
import { startPostgresServer } from '../../scripts/postgres';

export interface TestPostgres {
  url: string;
  stop(): Promise<void>;
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
  const dir = mkdtempSync(join(tmpdir(), 'cordon-pg-'));
  const server = await startPostgresServer({ dir, port: await freePort(), fsync: false });
  return {
    url: server.url,
    async stop() {
      try {
        await server.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
