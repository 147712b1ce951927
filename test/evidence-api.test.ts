// Evidence across API processes, as pods run them: two APIs on the same Temporal and the same PostgreSQL, each
// with a data folder of its own (pods share no disk). A user uploads a file through the first API's user page;
// the first API goes away; a reviewer opens the file through the second API's console. Once with evidence in
// Cordon's database (CORDON_DATABASE_URL is PostgreSQL), once in an S3-compatible store (CORDON_EVIDENCE_URL,
// moto's server). The sweep then keeps the file its case holds and removes one no case holds.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVIDENCE_GRACE_MS } from '../api/evidence-sweep';
import { startApi, type RunningApi } from '../api/main';
import { parseConfig } from '../infra/config';
import { openDatabase, type Database } from '../infra/database';
import { S3EvidenceStore, parseEvidenceUrl } from '../infra/evidence/s3-store';
import { evidenceKeysFrom } from '../infra/evidence/seal';
import { signLink, linkKeysFromConfig } from '../infra/links';
import { parseCodecKeys } from '../infra/codec';
import { quiet } from './helpers/deps';
import { riskEvent, uniqueAccount } from './helpers/events';
import { callApi, newHarness, type Harness } from './helpers/harness';
import { formFields, PortalAgent } from './helpers/portal-env';
import { sharedPostgres } from './helpers/postgres';
import { s3OrSkip, type TestS3 } from './helpers/s3';
import { sharedDevServer, TEST_CODEC_KEYS } from './helpers/servers';
import { requires } from './helpers/requirements';

const PDF = Buffer.from('%PDF-1.7\n1 0 obj\n<<>>\nendobj\n% my new ID card, scanned\n%%EOF\n');
const LINK_KEYS = `t1:${randomBytes(32).toString('base64')}`;

interface Setup {
  /** Configuration both APIs share beyond Temporal, the codec keys and the database. */
  env(): Promise<Record<string, string>>;
  /** Where the bytes must be once uploaded (and where they must not be). */
  check(ref: string, db: Database): Promise<void>;
  cleanup?(): Promise<void>;
}

function acrossProcesses(name: string, setup: (ctx: Mocha.Context) => Promise<Setup>) {
  describe(`evidence across API processes: ${name}`, function () {
    requires('temporal', 'postgres');
    this.timeout(120_000);
    let h: Harness | undefined;
    let workerDone: Promise<void> | undefined;
    let db: Database | undefined;
    let s: Setup;
    const dirs = [1, 2].map(() => mkdtempSync(join(tmpdir(), 'cordon-pod-')));
    let first: RunningApi | undefined;
    let second: RunningApi | undefined;

    before(async function () {
      this.timeout(900_000); // the S3 case may install moto first
      s = await setup(this);
      const url = (await sharedPostgres()).url;
      db = await openDatabase({ url, sqliteFile: '' });
      h = await newHarness();
      workerDone = h.worker.run();
      const pod = async (dataDir: string) =>
        startApi(
          parseConfig({
            PORT: '0',
            TEMPORAL_ADDRESS: (await sharedDevServer()).address,
            CORDON_TASK_QUEUE: h!.taskQueue,
            CORDON_CODEC_KEYS: TEST_CODEC_KEYS,
            CORDON_LINK_KEYS: LINK_KEYS,
            CORDON_DATABASE_URL: url,
            CORDON_DATA_DIR: dataDir,
            ...(await s.env()),
          }),
          quiet,
        );
      first = await pod(dirs[0]!);
      second = await pod(dirs[1]!);
    });

    after(async () => {
      await first?.close();
      await second?.close();
      h?.worker.shutdown();
      await workerDone;
      await db?.close();
      await s?.cleanup?.();
    });

    it('a file uploaded through one API opens through another after the first is gone', async () => {
      const account = uniqueAccount('pods');
      const reported = await callApi(
        first!.url,
        'POST',
        '/v1/risk-events',
        'dev-backend',
        riskEvent(account, 'IDENTITY_CHECK', { matched: false, field: 'name' }),
      );
      assert.equal(reported.status, 200, JSON.stringify(reported.body));
      const caseId = reported.body.caseId as string;

      // The user, through the link a notice carries, appeals with a file on the first API's page.
      const token = signLink(linkKeysFromConfig({ mode: 'development', dataDir: '', linkKeys: LINK_KEYS }), {
        caseId,
        purpose: 'case',
        expiresAt: Date.now() + 3_600_000,
      });
      const user = new PortalAgent(first!.url);
      const page = await user.send('GET', `/u/${token}`);
      assert.equal(page.status, 200);
      const form = new FormData();
      for (const [k, v] of Object.entries(formFields(page.text, `/u/${token}/appeal`))) form.append(k, v);
      form.append('statement', 'My new ID card is attached.');
      form.append('files', new Blob([PDF]), 'new-id-card.pdf');
      const sent = await user.send('POST', `/u/${token}/appeal`, { multipart: form });
      assert.equal(sent.status, 303, sent.text.slice(0, 500));
      const view = await callApi(second!.url, 'GET', `/v1/cases/${caseId}`, 'dev-reviewer-1');
      const appeal = (view.body.timeline as Array<{ type: string; evidence?: string[] }>).find(
        (e) => e.type === 'APPEAL',
      );
      const ref = appeal?.evidence?.[0];
      assert.match(ref ?? '', /^ev_/, JSON.stringify(view.body.timeline));

      // The pod that took the upload is replaced: its process ends, its disk is not where the file is.
      await first!.close();
      first = undefined;
      // A reviewer signs in to the other API's console and opens the file.
      const reviewer = new PortalAgent(second!.url);
      const login = await reviewer.send('GET', '/console/login');
      const csrf = /name="_csrf" value="([^"]+)"/.exec(login.text)?.[1];
      assert.ok(csrf, 'the sign-in form has a CSRF field');
      const signedIn = await reviewer.send('POST', '/console/login', {
        form: { _csrf: csrf, token: 'dev-reviewer-1', next: '/console/queue' },
      });
      assert.equal(signedIn.status, 303);
      const opened = await fetch(
        `${second!.url}/console/cases/${encodeURIComponent(caseId)}/evidence/${ref}`,
        { headers: { cookie: [...reviewer.jar].map(([k, v]) => `${k}=${v}`).join('; ') } },
      );
      assert.equal(opened.status, 200, 'the second API opens the file the first one stored');
      assert.equal(opened.headers.get('content-type'), 'application/pdf');
      assert.deepEqual(Buffer.from(await opened.arrayBuffer()), PDF);

      // Nothing of it on either pod's disk: it is where every API process reaches it.
      for (const dir of dirs)
        assert.ok(
          !existsSync(join(dir, 'evidence')) || readdirSync(join(dir, 'evidence')).length === 0,
          `no evidence on ${dir}`,
        );
      await s.check(ref!, db!);

      // The sweep, on the API that remains: the file the appeal holds stays, an orphan goes.
      const orphan = await second!.evidence.put(Buffer.from('never attached'), {
        type: 'text/plain',
        caseId,
        name: 'orphan.txt',
      });
      const later = Date.now() + EVIDENCE_GRACE_MS + 60_000;
      const swept = await second!.evidenceSweeper.runOnce(later);
      assert.ok(swept.kept >= 1 && swept.removed >= 1, JSON.stringify(swept));
      assert.deepEqual((await second!.evidence.get(ref!))?.content, PDF);
      assert.equal(await second!.evidence.get(orphan.ref), null);
    });
  });
}

const rowsFor = async (db: Database, ref: string) =>
  (await db.query('SELECT ref FROM evidence_files WHERE ref = ?', [ref])).length;

acrossProcesses("in Cordon's PostgreSQL database", async () => ({
  env: async () => ({}),
  async check(ref, db) {
    assert.equal(await rowsFor(db, ref), 1, 'the sealed file is a row of evidence_files');
  },
}));

acrossProcesses('in an S3-compatible store (CORDON_EVIDENCE_URL wins over the database)', async (ctx) => {
  const s3: TestS3 = await s3OrSkip(ctx);
  const url = s3.evidenceUrl(`cordon-pods-${randomUUID().slice(0, 8)}`);
  const store = new S3EvidenceStore(
    parseEvidenceUrl(url, {}),
    evidenceKeysFrom(parseCodecKeys(TEST_CODEC_KEYS)),
  );
  await store.client.createBucket();
  return {
    env: async () => ({ CORDON_EVIDENCE_URL: url }),
    async check(ref, db) {
      assert.ok(await store.client.getObject(store.objectKey(ref)), 'the sealed file is an object');
      assert.equal(await rowsFor(db, ref), 0, 'and not a row of the database');
    },
    cleanup: () => s3.stop(),
  };
});
