// Determinism: histories recorded from real runs (test/histories, written by `npm run record-histories`)
// must replay cleanly against the current workflow code. A change that would break running cases fails here.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from './helpers/servers';

const HISTORIES = join(__dirname, 'histories');

describe('replay of recorded histories', function () {
  this.timeout(120_000);
  const files = existsSync(HISTORIES) ? readdirSync(HISTORIES).filter((f) => f.endsWith('.json')) : [];

  it('has recorded histories to replay', () => {
    assert.ok(files.length >= 3, `found ${files.length}`);
  });

  for (const file of files) {
    it(`replays ${file} deterministically`, async () => {
      const history: unknown = JSON.parse(readFileSync(join(HISTORIES, file), 'utf8'));
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file);
    });
  }
});
