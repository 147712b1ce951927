// Issue 15, defect 5: the workflow, not the API, decides which rules of the case machine a new case follows,
// and records it in the case's history (one patch marker per rules version). An API deployed before the
// workers may stamp rules this worker has no code for; an older API stamps older ones: neither decides.
import assert from 'node:assert/strict';
import type { temporal } from '@temporalio/proto';
import { CaseService } from '../api/case-service';
import type { Scorer } from '../activities/scorer';
import { CASE_RULES_VERSION } from '../core/policy';
import type { Actor } from '../core/model';
import { RULES_PATCHES } from '../workflows/patches';
import { riskEvent, uniqueAccount } from './helpers/events';
import { quiet } from './helpers/deps';
import { withHarness, type Harness } from './helpers/harness';
import { requires } from './helpers/requirements';

const backend: Actor = { kind: 'backend', id: 'backend' };

/** The scorer of an API of another release: the same decisions, terms stamped with other rules. */
function stamping(scorer: Scorer, rulesVersion: number): Scorer {
  const restamp = async (event: Parameters<Scorer['score']>[0]) => {
    const { result, sources } = await scorer.scoreDetailed(event);
    return { result: { ...result, terms: { ...result.terms, rulesVersion } }, sources };
  };
  return {
    policy: scorer.policy,
    scoreDetailed: restamp,
    score: async (event) => (await restamp(event)).result,
  };
}

function apiOfRelease(h: Harness, rulesVersion: number): CaseService {
  return new CaseService({
    client: h.client,
    scorer: stamping(h.deps.scorer, rulesVersion),
    logger: quiet,
    store: h.store,
    eventIdWindowMs: 7 * 24 * 3600_000,
    taskQueue: h.taskQueue,
  });
}

/** The patch IDs the case's history records (the SDK writes each as a core_patch marker). */
async function patchMarkers(h: Harness, accountId: string): Promise<string[]> {
  const history = await h.handle(accountId).fetchHistory();
  return (history.events ?? [])
    .map((e: temporal.api.history.v1.IHistoryEvent) => e.markerRecordedEventAttributes)
    .filter((m) => m?.markerName === 'core_patch')
    .map((m) => {
      const data = m!.details?.['patch-data']?.payloads?.[0]?.data;
      return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id : '';
    });
}

describe('the workflow decides the rules a case follows (issue 15, defect 5)', function () {
  requires('temporal');
  this.timeout(60_000);

  it('knows a marker for the rules this release scores with, newest first', () => {
    assert.equal(RULES_PATCHES[0]![0], CASE_RULES_VERSION, 'a new rules version needs its patch marker');
    const versions = RULES_PATCHES.map(([v]) => v);
    assert.deepEqual(
      versions,
      [...versions].sort((a, b) => b - a),
    );
  });

  for (const [who, stamped] of [
    ['a newer API (deployed before the workers)', CASE_RULES_VERSION + 1],
    ['an older API', 1],
  ] as const)
    it(`a case opened through ${who} follows this worker's rules, recorded in its history`, () =>
      withHarness(async (h) => {
        const account = uniqueAccount();
        const api = apiOfRelease(h, stamped);
        const r = await api.reportEvent(
          riskEvent(account, 'IDENTITY_CHECK', { matched: false, field: 'name' }),
          backend,
        );
        assert.equal(r.status, 'AWAITING_USER');
        const view = await h.view(account);
        assert.equal(view.rulesVersion, CASE_RULES_VERSION, `not the stamped ${stamped}`);
        const markers = await patchMarkers(h, account);
        assert.ok(
          markers.includes(`cordon-rules-${CASE_RULES_VERSION}`),
          `the history records the rules: ${JSON.stringify(markers)}`,
        );
      }));
});
