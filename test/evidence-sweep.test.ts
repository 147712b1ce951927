// The evidence sweep against a real case on the dev server, the API over HTTP and the real file store: files a
// case holds stay, files no case holds (or whose case is gone) go once their grace period is over, and nothing
// goes while the case cannot be asked.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { CaseService } from '../api/case-service';
import { EVIDENCE_GRACE_MS, referencesFromCases, sweepEvidence } from '../api/evidence-sweep';
import type { RunningApi } from '../api/main';
import { quiet } from './helpers/deps';
import { riskEvent, uniqueAccount } from './helpers/events';
import { callApi, startApiHarness, type ApiHarness } from './helpers/harness';
import { requires } from './helpers/requirements';

describe('evidence sweep', function () {
  requires('temporal');
  this.timeout(60_000);
  let running: ApiHarness;
  let api: RunningApi;
  const dataDir = mkdtempSync(join(tmpdir(), 'cordon-sweep-'));

  before(async function () {
    this.timeout(300_000);
    running = await startApiHarness(quiet, { CORDON_DATA_DIR: dataDir });
    ({ api } = running);
  });
  after(() => running?.close());

  const put = (caseId: string, text: string) =>
    api.evidence.put(Buffer.from(text), { type: 'text/plain', caseId, name: 'statement.txt' });
  const exists = async (ref: string) => (await api.evidence.get(ref)) !== null;

  it('keeps what a case holds, removes what no case holds and what belongs to no case, after the grace period', async () => {
    const account = uniqueAccount();
    const opened = await callApi(
      api.url,
      'POST',
      '/v1/risk-events',
      'dev-backend',
      riskEvent(account, 'IDENTITY_CHECK', { matched: false }),
    );
    assert.equal(opened.status, 200);
    const caseId = opened.body.caseId as string;
    const attached = (await put(caseId, 'my passport scan')).ref;
    const abandoned = (await put(caseId, 'an upload whose action never arrived')).ref;
    const noCase = (await put(`${uniqueAccount()}.01a200000000`, 'for a case that never was')).ref;
    const appeal = await callApi(api.url, 'POST', `/v1/cases/${caseId}/appeal`, 'dev-backend', {
      statement: 'it was me',
      evidence: [attached],
      requestId: `req-${caseId}`,
    });
    assert.equal(appeal.status, 200);

    // Within the grace period nothing is even looked at: an action may still be on its way.
    assert.deepEqual(await api.evidenceSweeper.runOnce(), { checked: 0, kept: 0, removed: 0, deferred: 0 });
    assert.equal(await exists(abandoned), true);

    const later = Date.now() + EVIDENCE_GRACE_MS + 60_000;
    assert.deepEqual(await api.evidenceSweeper.runOnce(later), {
      checked: 3,
      kept: 1,
      removed: 2,
      deferred: 0,
    });
    assert.equal(await exists(attached), true, 'the appeal holds it');
    assert.equal(await exists(abandoned), false);
    assert.equal(await exists(noCase), false);
    // The case still shows its evidence to reviewers.
    const view = await callApi(api.url, 'GET', `/v1/cases/${caseId}`, 'dev-reviewer-1');
    assert.ok(JSON.stringify(view.body.timeline).includes(attached));
  });

  it('keeps every file while the case cannot be asked, and clears what an interrupted write left', async () => {
    const ref = (await put(`${uniqueAccount()}.01a200000001`, 'kept while Temporal is away')).ref;
    const leftover = join(dataDir, 'evidence', '.ev_interrupted.0a0b0c.tmp');
    writeFileSync(leftover, 'half a file');
    const old = new Date(Date.now() - EVIDENCE_GRACE_MS - 60_000);
    utimesSync(leftover, old, old);
    // A case service whose Temporal is unreachable (nothing listens on port 1; no retry interceptor, so each
    // question fails at once).
    const unreachable = new CaseService({
      client: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', interceptors: [] }) }),
      scorer: running.h.deps.scorer,
      logger: quiet,
      store: running.h.store,
      eventIdWindowMs: 1,
    });
    const result = await sweepEvidence(
      {
        evidence: api.evidence,
        referencesOf: referencesFromCases((caseId) => unreachable.getCase(caseId)),
        logger: quiet,
      },
      Date.now() + EVIDENCE_GRACE_MS + 60_000,
    );
    assert.equal(result.removed, 0);
    assert.ok(result.deferred >= 1);
    assert.equal(await exists(ref), true);
    assert.ok(
      !readdirSync(join(dataDir, 'evidence')).some((f) => f.endsWith('.tmp')),
      'the leftover is gone',
    );
  });
});
