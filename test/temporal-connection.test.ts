// The API waits for its Temporal calls (retries included) before it closes its connection: a retry timer that
// fires on a closed channel throws where nobody can catch it.
import assert from 'node:assert/strict';
import { Connection } from '@temporalio/client';
import { callTracker } from '../infra/temporal';
import { freePort } from '../scripts/dev-server';

describe('Temporal connection call tracker', () => {
  it('counts a call that is being retried until it ends, then reports idle', async () => {
    const calls = callTracker();
    // Nothing listens: the call fails UNAVAILABLE and the SDK's retry interceptor keeps retrying it.
    const connection = Connection.lazy({
      address: `127.0.0.1:${await freePort()}`,
      interceptors: calls.interceptors,
    });
    try {
      assert.equal(await calls.idle(0), true, 'idle before any call');
      const call = connection.withDeadline(Date.now() + 1_500, () =>
        connection.workflowService.getSystemInfo({}),
      );
      const outcome = call.then(
        () => 'answered',
        () => 'failed',
      );
      assert.equal(await calls.idle(600), false, 'still retrying after 600 ms');
      assert.equal(await outcome, 'failed');
      assert.equal(await calls.idle(1_000), true, 'idle once the deadline ended it');
      assert.equal(calls.started(), 1, 'a retried call counts once');
    } finally {
      await connection.close();
    }
  });
});
