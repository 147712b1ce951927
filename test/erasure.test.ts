// The right to erasure (issue 16): an admin requests an account's erasure, another approves it, over real HTTP
// with a real worker on the Temporal dev server, on SQLite and on PostgreSQL. A whole case carrying personal data
// (a contact, an appeal's statement, a reviewer's question, an answer with a file, an explanation) is erased;
// afterwards nothing personal can be read back from any store: not from the raw files, not through any reader
// even with the account's old data key put back (as a database backup would hold it), not from Temporal, while
// decisions, reason codes, outcomes, times and actors stay readable. (Refusals and the hold: erasure-refusals.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { WebhookNotifier } from '../activities/channels';
import { parseCaseId, type CaseView } from '../core/contracts';
import { parseCodecKeys } from '../infra/codec';
import { FIELD, openJson } from '../infra/personal-data';
import { openStore } from '../infra/store';
import {
  ADMIN_ONE,
  approve,
  everyRow,
  requestErasure,
  runsOf,
  sealedUnder,
  TOKENS,
} from './helpers/erasure-env';
import { eventually } from './helpers/harness';
import {
  assertNothingOf,
  BACKEND,
  call,
  driveCase,
  filesUnder,
  personalData,
  REVIEWER,
  startOn,
  type PersonalData,
  type Running,
} from './helpers/personal-case';
import { startPostgres, type TestPostgres } from './helpers/postgres';
import { TEST_CODEC_KEYS } from './helpers/servers';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver';
import { requires, requiresInTest } from './helpers/requirements';

const WEBHOOK_SECRET = 'erasure-test-webhook-secret';
const codecKeys = parseCodecKeys(TEST_CODEC_KEYS);

/** The whole erasure of one case's account, and every check that nothing personal is left. */
async function eraseAndCheck(
  r: Running,
  receiver: WebhookReceiver,
  p: PersonalData,
  rawFiles: () => Promise<Buffer[]>,
) {
  const base = r.api.url;
  const caseId = await driveCase(r, p);
  const accountId = parseCaseId(caseId)!.accountId;
  const before = await call(base, 'GET', `/v1/cases/${caseId}`, REVIEWER);
  const ref = (
    before.json.timeline.find((e: { type: string }) => e.type === 'INFO_PROVIDED').evidence as string[]
  )[0]!;
  assert.equal((await r.api.evidence.get(ref))?.content.toString(), p.fileText, 'the file is stored');
  // What someone could have kept from before: the account's wrapped data key, as a database backup holds it.
  const [keyRow] = await r.store.db.query<Record<string, string | number>>(
    'SELECT * FROM account_keys WHERE account_id = ?',
    [accountId],
  );
  assert.ok(keyRow, 'the account has a data key');
  const keyId = String(keyRow.data_key_id);
  const evidenceDir = r.store.db.dialect === 'sqlite' ? join(r.dataDir, 'evidence') : undefined;
  assert.ok(
    (await sealedUnder(r.store.db, keyId, evidenceDir)).length >= 4,
    'the scan sees what is sealed under the key (views, requests, notices, the file)',
  );
  const runs = await eventually(async () => {
    const found = await runsOf(r.h.client, accountId);
    return found.length > 0 && found;
  });

  const requested = await requestErasure(base, accountId);
  assert.equal(requested.status, 202, requested.text);
  assert.equal(requested.json.status, 'PENDING_APPROVAL');
  const erasureId = requested.json.erasureId as string;
  const approved = await approve(base, erasureId);
  assert.equal(approved.status, 202, approved.text);
  assert.ok(['IN_PROGRESS', 'DONE'].includes(approved.json.status), approved.text);
  const record = await eventually(
    async () => {
      const got = await call(base, 'GET', `/v1/erasures/${erasureId}`, ADMIN_ONE);
      assert.notEqual(got.json.status, 'FAILED', got.text);
      return got.json.status === 'DONE' && got.json;
    },
    150_000,
    'the erasure done',
  );

  // The audit record: codes, times and actors only.
  assert.equal(record.accountId, accountId);
  assert.equal(record.reason, 'DATA_SUBJECT_REQUEST');
  assert.equal(record.requestedBy, 'admin-one');
  assert.equal(record.approvedBy, 'admin-two');
  assert.deepEqual(
    record.approvals.map((a: { by: string }) => a.by),
    ['admin-two'],
  );
  assert.ok(record.requestedAt <= record.approvals[0].at && record.approvals[0].at <= record.approvedAt);
  assert.equal(record.lastStep, 'WEBHOOK');
  assert.equal(record.failure, null);
  for (const at of [record.requestedAt, record.approvedAt, record.startedAt, record.completedAt])
    assert.ok(!Number.isNaN(Date.parse(at)) && at <= record.completedAt, `a time: ${at}`);
  assert.ok(record.counts.evidenceFiles >= 1 && record.counts.caseViews === 1 && record.counts.dataKey === 1);
  assert.ok(record.counts.workflowRuns >= 1 && record.counts.notices >= 1, JSON.stringify(record.counts));
  const [auditRow] = await r.store.db.query('SELECT * FROM erasures WHERE id = ?', [erasureId]);
  for (const value of Object.values(auditRow!))
    assert.ok(
      value === null ||
        typeof value === 'number' ||
        (typeof value === 'string' && /^[\w.:{}",[\]-]*$/.test(value)),
      `only codes, IDs, times and counts in the audit record: ${JSON.stringify(value)}`,
    );

  // The backend heard, signed, in the envelope of its own (no case), and the change feed lists it.
  const hook = await eventually(
    async () =>
      receiver.received.find((h) => h.body.type === 'account.erased' && h.body.erasureId === erasureId) ??
      false,
  );
  assert.deepEqual(Object.keys(hook.body).sort(), [
    'accountId',
    'at',
    'caseId',
    'erasureId',
    'idempotencyKey',
    'type',
  ]);
  assert.equal(hook.body.accountId, accountId);
  assert.equal(hook.body.caseId, null);
  assert.equal(hook.idempotencyKey, hook.body.idempotencyKey);
  assert.ok(!Number.isNaN(Date.parse(String(hook.body.at))));
  assert.equal(receiver.refused, 0);
  await eventually(async () => {
    const changes = await call(base, 'GET', '/v1/changes?after=0&limit=1000', BACKEND);
    return changes.json.items.some(
      (c: { type: string; event: { erasureId?: string } }) =>
        c.type === 'account.erased' && c.event.erasureId === erasureId,
    );
  });

  // Decisions, reason codes, outcome, times and actors read back, through the API; nothing written in words.
  const after = await call(base, 'GET', `/v1/cases/${caseId}`, REVIEWER);
  assert.equal(after.status, 200, after.text);
  assert.equal(after.json.outcome, 'RESTORED');
  assert.deepEqual(
    after.json.reasons.map((x: { code: string }) => x.code),
    before.json.reasons.map((x: { code: string }) => x.code),
  );
  const entries = after.json.timeline as Record<string, unknown>[];
  assert.deepEqual(
    entries.filter((e) => e.type === 'DECISION').map((e) => [e.decision, (e.actor as { id: string }).id]),
    [
      ['REQUEST_INFO', 'reviewer-1'],
      ['UNLOCK', 'reviewer-1'],
    ],
  );
  const appeal = entries.find((e) => e.type === 'APPEAL')!;
  assert.equal(appeal.statement, undefined);
  assert.deepEqual(appeal.erasedFields, ['statement']);
  assert.deepEqual(entries.find((e) => e.type === 'INFO_PROVIDED')!.erasedFields, ['answer', 'evidence']);
  assert.equal(after.json.explanation.code, 'IDENTITY_MISMATCH');
  assert.equal(after.json.erased.erasureId, erasureId);
  assertNothingOf(p, [Buffer.from(after.text)], 'the case view');
  const restriction = await call(base, 'GET', `/v1/accounts/${accountId}/restriction`, BACKEND);
  assert.deepEqual([restriction.json.status, restriction.json.caseId], ['RESTORED', caseId], 'history stays');

  // Nothing personal in plaintext in any file; nothing sealed under the account's key in any live row or file.
  assertNothingOf(p, await rawFiles(), 'the stores');
  assert.deepEqual(await sealedUnder(r.store.db, keyId, evidenceDir), []);
  assert.equal(await r.api.evidence.get(ref), null, 'the file is gone');
  assert.deepEqual(
    await r.store.db.query('SELECT 1 FROM account_keys WHERE account_id = ?', [accountId]),
    [],
  );

  // With the old key put back (a backup restored), every reader still finds nothing personal.
  await r.store.db.run(
    `INSERT INTO account_keys (${Object.keys(keyRow).join(', ')}) VALUES (${Object.keys(keyRow)
      .map(() => '?')
      .join(', ')})`,
    Object.values(keyRow),
  );
  const readable = [
    JSON.stringify(await r.store.archive.find(caseId)),
    JSON.stringify(await r.store.outbox.messagesOf(caseId)),
    ...(
      await r.store.db.query<{ response: string }>('SELECT response FROM request_records WHERE case_id = ?', [
        caseId,
      ])
    ).map((row) => row.response),
    JSON.stringify(await everyRow(r.store.db)),
  ];
  for (const row of await r.store.db.query<{ view: string }>(
    'SELECT view FROM case_archive WHERE account_id = ?',
    [accountId],
  ))
    readable.push(
      JSON.stringify(await openJson<CaseView>(r.store.dataKeys, accountId, FIELD.archiveView, row.view)),
    );
  assertNothingOf(
    p,
    readable.map((t) => Buffer.from(t)),
    'the readers, with the old key back',
  );
  assert.equal(await r.api.evidence.get(ref), null);
  await r.store.dataKeys.destroy(accountId);

  // Temporal keeps no run of the account.
  for (const run of runs)
    await assert.rejects(
      r.h.client.workflow.getHandle(run.workflowId, run.runId).describe(),
      WorkflowNotFoundError,
      `run ${run.runId}`,
    );
  return { accountId, caseId, erasureId };
}

describe('erasure of an account', function () {
  requires('temporal');
  this.timeout(240_000);

  it('SQLite: two admins erase a whole case; nothing personal can be read back from any store', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cordon-erase-lite-'));
    const receiver = await startWebhookReceiver(WEBHOOK_SECRET);
    const store = await openStore({ sqliteFile: join(dataDir, 'cordon.sqlite'), codecKeys });
    const r = await startOn(store, dataDir, {
      env: { CORDON_TOKENS: TOKENS, CORDON_ERASURE_MIN_HOLD_DAYS: '0' },
      backend: new WebhookNotifier(receiver.url, WEBHOOK_SECRET),
    });
    const p = personalData();
    try {
      await eraseAndCheck(r, receiver, p, async () => filesUnder(dataDir, (name) => name === 'mail'));
    } finally {
      await r.close();
      await store.db.close();
      await receiver.close();
    }
    // Closed: the write-ahead log is checkpointed into the file.
    assertNothingOf(
      p,
      filesUnder(dataDir, (name) => name === 'mail'),
      `${dataDir} after close`,
    );
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("PostgreSQL: two admins erase a whole case; nothing personal in the server's data directory or any reader", async function () {
    requiresInTest(this, 'postgres');
    const pg: TestPostgres = await startPostgres();
    const dataDir = mkdtempSync(join(tmpdir(), 'cordon-erase-pg-'));
    const receiver = await startWebhookReceiver(WEBHOOK_SECRET);
    const store = await openStore({ url: pg.url, sqliteFile: join(dataDir, 'cordon.sqlite'), codecKeys });
    const r = await startOn(store, dataDir, {
      env: { CORDON_TOKENS: TOKENS, CORDON_ERASURE_MIN_HOLD_DAYS: '0' },
      backend: new WebhookNotifier(receiver.url, WEBHOOK_SECRET),
    });
    try {
      await eraseAndCheck(r, receiver, personalData(), async () => {
        const [{ data_directory: pgData } = { data_directory: '' }] = await store.db.query<{
          data_directory: string;
        }>('SHOW data_directory');
        await store.db.run('CHECKPOINT');
        return [...filesUnder(pgData), ...filesUnder(dataDir, (name) => name === 'mail')];
      });
    } finally {
      await r.close();
      await store.db.close();
      await receiver.close();
      await pg.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
