import { DefaultLogger, Runtime } from '@temporalio/worker';
import { closeSharedConnections } from './helpers/harness';
import { stopSharedPostgres } from './helpers/postgres';
import { stopSharedServers } from './helpers/servers';

// The SDK's INFO lines would bury mocha's report; warnings still show.
Runtime.install({ logger: new DefaultLogger('ERROR') });

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    await closeSharedConnections();
    await stopSharedServers();
    await stopSharedPostgres();
  },
};
