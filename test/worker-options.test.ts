import assert from 'node:assert/strict';
import { DEFAULT_WORKFLOW_CACHE_SIZE, workflowCacheSizeFromEnv } from '../worker/create';

describe('worker options from the environment', () => {
  it('CORDON_WORKFLOW_CACHE_SIZE: the default when unset, the number when valid, a named error otherwise', () => {
    assert.equal(workflowCacheSizeFromEnv({}), DEFAULT_WORKFLOW_CACHE_SIZE);
    assert.equal(workflowCacheSizeFromEnv({ CORDON_WORKFLOW_CACHE_SIZE: '' }), DEFAULT_WORKFLOW_CACHE_SIZE);
    assert.equal(workflowCacheSizeFromEnv({ CORDON_WORKFLOW_CACHE_SIZE: '250' }), 250);
    for (const bad of ['0', '-3', '1.5', 'lots', '1e9'])
      assert.throws(
        () => workflowCacheSizeFromEnv({ CORDON_WORKFLOW_CACHE_SIZE: bad }),
        /CORDON_WORKFLOW_CACHE_SIZE must be an integer/,
        bad,
      );
  });
});
