// Safe deploys: the histories every release recorded (test/histories/<release>/, written by `npm run
// record-histories`, never deleted) must replay cleanly against the current workflow code. A change that
// would break a case opened under an earlier release fails here, and so fails CI. Histories are replayed with
// the tests' codec key (test/histories/codec-test-keys.txt): those recorded since payloads are encrypted need
// it, the plaintext ones of earlier releases pass through the codec unchanged.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../infra/codec';
import { testDataConverter, workflowBundle } from './helpers/servers';

const HISTORIES = join(__dirname, 'histories');

function recorded(): { release: string; file: string; path: string }[] {
  if (!existsSync(HISTORIES)) return [];
  return readdirSync(HISTORIES, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      readdirSync(join(HISTORIES, d.name))
        .filter((f) => f.endsWith('.json'))
        .map((file) => ({ release: d.name, file, path: join(HISTORIES, d.name, file) })),
    );
}

const load = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

describe("replay of every release's recorded histories", function () {
  this.timeout(180_000);
  const histories = recorded();
  const releases = [...new Set(histories.map((h) => h.release))];

  it('has histories from more than one release', () => {
    assert.ok(histories.length >= 3, `found ${histories.length}`);
    assert.ok(releases.includes('0.1.0'), 'the histories of release 0.1.0 are kept');
  });

  for (const h of histories) {
    it(`replays ${h.release}/${h.file} deterministically`, async () => {
      await Worker.runReplayHistory(
        { workflowBundle: await workflowBundle(), dataConverter: testDataConverter },
        load(h.path),
        h.file,
      );
    });
  }

  it('refuses a deliberately incompatible workflow change (what CI would catch)', async () => {
    const incompatible = await bundleWorkflowCode({
      workflowsPath: require.resolve('./fixtures/incompatible-workflow'),
      failureConverterPath: FAILURE_CONVERTER_PATH,
      ignoreModules: ['zod', 'express'],
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    });
    let failures = 0;
    for (const h of histories) {
      try {
        await Worker.runReplayHistory(
          { workflowBundle: incompatible, dataConverter: testDataConverter },
          load(h.path),
          h.file,
        );
      } catch (err) {
        assert.equal((err as Error).name, 'DeterminismViolationError', h.file);
        failures += 1;
      }
    }
    assert.equal(failures, histories.length, 'every recorded history refuses the incompatible change');
  });
});
