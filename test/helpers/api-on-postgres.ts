// An API of its own on a throwaway PostgreSQL, for tests that take the database away under it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi } from '../../api/main';
import { parseConfig } from '../../infra/config';
import { quiet } from './deps';
import { startPostgres } from './postgres';
import { sharedDevServer, TEST_CODEC_KEYS } from './servers';

export interface ApiOnPostgres {
  url: string;
  /** Stops the database (the API keeps running). */
  stopDatabase(): Promise<void>;
}

/** Runs `test` against an API on a PostgreSQL of its own; both are gone afterwards, whatever happened. */
export async function withApiOnPostgres(test: (api: ApiOnPostgres) => Promise<void>): Promise<void> {
  const postgres = await startPostgres();
  const dataDir = mkdtempSync(join(tmpdir(), 'cordon-api-pg-'));
  let own: Awaited<ReturnType<typeof startApi>> | undefined;
  try {
    own = await startApi(
      parseConfig({
        PORT: '0',
        TEMPORAL_ADDRESS: (await sharedDevServer()).address,
        CORDON_CODEC_KEYS: TEST_CODEC_KEYS,
        CORDON_DATA_DIR: dataDir,
        CORDON_DATABASE_URL: postgres.url,
      }),
      quiet,
    );
    await test({ url: own.url, stopDatabase: () => postgres.stop() });
  } finally {
    await own?.close().catch(() => undefined);
    await postgres.stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
