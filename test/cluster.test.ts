// `npm run cluster` end to end (opt-in: CORDON_CLUSTER_TEST=1; a cold machine builds the Temporal server for
// minutes first). Starts scripts/cluster.ts as a person would, in a folder of its own: the acceptance walkthrough
// over HTTP across both APIs, the server checked in PostgreSQL itself (4+ history shards, the case's workflow in
// its tables), one worker SIGKILLed while the other carries every case, a file a user uploaded through one API
// read by a reviewer through the other after the first is SIGKILLed (no process shares a folder with another),
// then Ctrl-C stops every process.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { parse } from 'yaml';
import { caseWorkflowId, SEARCH_ATTRIBUTE_FLAGS } from '../core/contracts';
import { parseConfig } from '../infra/config';
import { linkKeysFromConfig } from '../infra/links';
import { parseClusterOptions } from '../scripts/cluster/options';
import { clusterSecrets, processDataDir } from '../scripts/cluster/secrets';
import {
  cordonSearchAttributes,
  DYNAMIC_CONFIG,
  serverPortList,
  writeServerConfig,
} from '../scripts/cluster/temporal';
import { findTool, TOOLS } from '../scripts/cluster/tools';
import { ROOT } from '../scripts/temporal-tools';
import { riskEvent, uniqueAccount } from './helpers/events';
import {
  allFree,
  choosePorts,
  consoleSession,
  http,
  noticeLink,
  running,
  sleep,
  type ClusterState,
} from './helpers/cluster';
import { formFields, PortalAgent } from './helpers/portal-env';
import { launchBrowser } from './helpers/browser';
import { CIPHERTEXT_MARKERS, decodedTexts, readCaseInWebUi } from './helpers/webui';
import { requires } from './helpers/requirements';

const ENABLED = process.env.CORDON_CLUSTER_TEST === '1';

(ENABLED ? describe : describe.skip)('npm run cluster (CORDON_CLUSTER_TEST=1)', function () {
  requires('cluster-tools', 'postgres', 'chromium');
  // A cold machine builds the server, the SQL tool and the UI server first.
  this.timeout(40 * 60_000);
  let dir: string;
  let child: ChildProcess;
  let output = '';
  /** The cluster reports what it saw when it saw it: wait for the line (bounded), then check it. */
  const outputMatches = async (pattern: RegExp, timeoutMs = 15_000) => {
    for (const end = Date.now() + timeoutMs; !pattern.test(output) && Date.now() < end;) await sleep(100);
    assert.match(output, pattern);
  };
  let exited: Promise<number | null>;
  let state: ClusterState;
  let api1: string;
  let api2: string;
  const pids: number[] = [];
  const log = (line: string) => process.stderr.write(`      [cluster test] ${line}\n`);

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'cordon-cluster-test-'));
    chmodSync(dir, 0o755); // PostgreSQL runs as the postgres user when the tests run as root
    const ports = await choosePorts();
    const args = [
      '--import',
      'tsx',
      'scripts/cluster.ts',
      '--dir',
      dir,
      '--api-port',
      String(ports.api),
      '--temporal-port',
      String(ports.temporal),
      '--ui-port',
      String(ports.ui),
      '--pg-port',
      String(ports.pg),
    ];
    const started = Date.now();
    child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    exited = new Promise((r) => child.once('exit', (code) => r(code)));
    const stateFile = join(dir, 'cluster.json');
    let lastBuildLine = '';
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the cluster exited while starting:\n${output}`);
      if (/Cordon cluster is up/.test(output) && existsSync(stateFile)) {
        state = JSON.parse(readFileSync(stateFile, 'utf8')) as ClusterState;
        if (state.up) break;
      }
      const building = output.match(/.*(building|still building).*/g)?.pop() ?? '';
      if (building !== lastBuildLine) log((lastBuildLine = building));
      await sleep(250);
    }
    api1 = state.apis[0]!.url;
    api2 = state.apis[1]!.url;
    pids.push(
      state.scriptPid,
      ...state.processes.map((p) => p.pid),
      Number(readFileSync(join(state.postgres.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]),
    );
    log(
      `up in ${Math.round((Date.now() - started) / 1000)} s (${Object.entries(state.timings)
        .map(([k, v]) => `${k} ${v} s`)
        .join(', ')})`,
    );
  });

  after(async function () {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    for (const pid of pids) if (running(pid)) process.kill(pid, 'SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('both APIs answer /healthz, the Web UI serves, two workers run', async () => {
    assert.equal(state.apis.length, 2);
    assert.equal(state.workers.length, 2);
    for (const a of state.apis) assert.equal((await fetch(`${a.url}/healthz`)).status, 200, a.url);
    assert.equal((await fetch(state.ui!)).status, 200, 'the Web UI');
    for (const w of state.workers) assert.ok(running(w.pid), `${w.name} runs`);
  });

  let walkthroughAccount: string;

  it('runs the acceptance walkthrough across both APIs: freeze → appeal → claim → UNLOCK → restored', async () => {
    const account = (walkthroughAccount = uniqueAccount());
    const reported = await http(api1, 'POST', '/v1/risk-events', 'dev-backend', {
      ...riskEvent(account, 'IDENTITY_CHECK', { matched: false, field: 'name' }),
    });
    assert.equal(reported.status, 200, JSON.stringify(reported.body));
    assert.equal(reported.body.status, 'AWAITING_USER');
    const caseId = reported.body.caseId as string;
    // Read-after-write on the other API: the restriction record is in the shared PostgreSQL.
    for (const base of [api1, api2]) {
      const check = await http(base, 'GET', `/v1/accounts/${account}/restriction`, 'dev-backend');
      assert.deepEqual(
        { restricted: check.body.restricted, tier: check.body.tier, status: check.body.status },
        { restricted: true, tier: 'FREEZE', status: 'AWAITING_USER' },
        base,
      );
    }
    const read = await http(api2, 'GET', `/v1/cases/${caseId}`, 'dev-backend');
    assert.equal(read.status, 200);
    assert.equal(read.body.status, 'AWAITING_USER');

    const appeal = await http(api2, 'POST', `/v1/cases/${caseId}/appeal`, 'dev-backend', {
      statement: 'I changed my legal name last month; my new ID card is attached.',
      evidence: ['doc-7781'],
      requestId: 'appeal-1',
    });
    assert.equal(appeal.status, 200, JSON.stringify(appeal.body));
    assert.equal(appeal.body.status, 'IN_REVIEW');
    // The review queue comes from Temporal's visibility, here PostgreSQL's temporal_visibility: allow a moment.
    let queued = false;
    for (let i = 0; i < 40 && !queued; i++) {
      const queue = await http(api1, 'GET', '/v1/review-queue', 'dev-reviewer-1');
      queued = (queue.body.items as Array<{ caseId: string }>).some((item) => item.caseId === caseId);
      if (!queued) await sleep(250);
    }
    assert.ok(queued, 'the case is in the review queue');
    const claim = await http(api1, 'POST', `/v1/cases/${caseId}/claim`, 'dev-reviewer-1');
    assert.equal(claim.status, 200);
    assert.equal(claim.body.assignee, 'reviewer-1');
    const decision = await http(api2, 'POST', `/v1/cases/${caseId}/decision`, 'dev-reviewer-1', {
      decision: 'UNLOCK',
      rationale: 'Name change confirmed against the new ID card.',
      requestId: 'decision-1',
    });
    assert.equal(decision.status, 200, JSON.stringify(decision.body));
    assert.equal(decision.body.outcome, 'RESTORED');

    const restored = await http(api1, 'GET', `/v1/cases/${caseId}`, 'dev-backend');
    assert.equal(restored.body.outcome, 'RESTORED');
    const timeline = (restored.body.timeline as Array<{ type: string }>).map((e) => e.type);
    for (const type of [
      'RISK_EVENT',
      'RESTRICTION_APPLIED',
      'APPEAL',
      'CLAIM',
      'DECISION',
      'RESTRICTION_LIFTED',
    ])
      assert.ok(timeline.includes(type), `${type} in ${timeline.join(',')}`);
    for (const base of [api1, api2]) {
      const check = await http(base, 'GET', `/v1/accounts/${account}/restriction`, 'dev-backend');
      assert.deepEqual(
        { restricted: check.body.restricted, tier: check.body.tier, status: check.body.status },
        { restricted: false, tier: 'NONE', status: 'RESTORED' },
        base,
      );
    }
  });

  it('its Web UI shows a case decoded in headless Chromium after console sign-in (at the other API), no setting changed', async () => {
    const account = uniqueAccount();
    const opened = await http(api2, 'POST', '/v1/risk-events', 'dev-backend', {
      ...riskEvent(account, 'IDENTITY_CHECK', { matched: false, field: 'name' }),
    });
    assert.equal(opened.status, 200, JSON.stringify(opened.body));
    const browser = await launchBrowser();
    try {
      const signedIn = await readCaseInWebUi(browser, {
        webUi: state.ui!,
        account,
        signInAt: api2,
        token: 'dev-reviewer-1',
      });
      for (const w of decodedTexts(account)) assert.ok(signedIn.text.includes(w), `decoded: ${w}`);
      for (const m of CIPHERTEXT_MARKERS) assert.ok(!signedIn.text.includes(m), `no ciphertext (${m})`);
      assert.ok(signedIn.decodes.length > 0 && signedIn.decodes.every((s) => s === 200));
      const stranger = await readCaseInWebUi(browser, { webUi: state.ui!, account });
      assert.ok(
        CIPHERTEXT_MARKERS.some((m) => stranger.text.includes(m)),
        'without sign-in: ciphertext',
      );
      for (const w of decodedTexts(account)) assert.ok(!stranger.text.includes(w), `not decoded: ${w}`);
    } finally {
      await browser.close();
    }
  });

  it('is a Temporal server on PostgreSQL with 4 or more history shards', async () => {
    const connection = await Connection.connect({ address: state.temporal.address });
    try {
      const info = await connection.workflowService.getClusterInfo({});
      assert.equal(info.persistenceStore, 'postgres12');
      assert.equal(info.visibilityStore, 'postgres12');
      assert.ok((info.historyShardCount ?? 0) >= 4, `${info.historyShardCount} shards`);
    } finally {
      await connection.close();
    }
    // And in PostgreSQL itself: the shards Temporal owns, and the walkthrough's case in its tables.
    const url = (db: string) => state.postgres.url.replace(/\/postgres$/, `/${db}`);
    const temporalDb = new PgClient({ connectionString: url('temporal') });
    await temporalDb.connect();
    try {
      const shards = await temporalDb.query<{ n: string }>('SELECT count(*) AS n FROM shards');
      assert.ok(Number(shards.rows[0]!.n) >= 4, `${shards.rows[0]!.n} rows in temporal.shards`);
      const current = await temporalDb.query<{ shard_id: number }>(
        'SELECT shard_id FROM current_executions WHERE workflow_id = $1',
        [caseWorkflowId(walkthroughAccount)],
      );
      assert.equal(current.rowCount, 1, 'the case workflow is in temporal.current_executions');
      log(`the walkthrough's case lives in history shard ${current.rows[0]!.shard_id}`);
    } finally {
      await temporalDb.end();
    }
    const visibility = new PgClient({ connectionString: url('temporal_visibility') });
    await visibility.connect();
    try {
      const rows = await visibility.query('SELECT 1 FROM executions_visibility WHERE workflow_id = $1', [
        caseWorkflowId(walkthroughAccount),
      ]);
      assert.ok((rows.rowCount ?? 0) >= 1, 'the case is in temporal_visibility');
    } finally {
      await visibility.end();
    }
  });

  it('a worker killed with SIGKILL leaves the other carrying every case', async () => {
    // Cases spread over both workers (each workflow stays on the worker that ran it, in its cache).
    const cases: Array<{ account: string; caseId: string }> = [];
    for (let i = 0; i < 8; i++) {
      const account = uniqueAccount();
      const r = await http(i % 2 ? api2 : api1, 'POST', '/v1/risk-events', 'dev-backend', {
        ...riskEvent(account, 'IDENTITY_CHECK', { matched: false }),
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      cases.push({ account, caseId: r.body.caseId as string });
    }
    // The worker that applied most of those restrictions goes: its cases must move to the other.
    const workerLog = (name: string) => readFileSync(join(dir, 'logs', `${name}.log`), 'utf8');
    const handled = (name: string) =>
      cases.filter((c) => workerLog(name).includes(`restriction applied caseId=${c.caseId}`));
    const [victim, survivor] = [...state.workers].sort(
      (a, b) => handled(b.name).length - handled(a.name).length,
    );
    const orphaned = handled(victim!.name);
    assert.ok(orphaned.length > 0, 'the worker to kill ran some of the cases');
    log(`${victim!.name} ran ${orphaned.length} of ${cases.length} cases; SIGKILL to it`);
    process.kill(victim!.pid, 'SIGKILL');
    for (let i = 0; i < 50 && running(victim!.pid); i++) await sleep(100);
    assert.ok(!running(victim!.pid), `${victim!.name} is gone`);

    // Actions on every existing case (those of the dead worker included) and new events all complete.
    const started = Date.now();
    const appeals = await Promise.all(
      cases.map((c, i) =>
        http(i % 2 ? api1 : api2, 'POST', `/v1/cases/${c.caseId}/appeal`, 'dev-backend', {
          statement: 'It was me.',
          requestId: `appeal-${c.caseId}`,
        }),
      ),
    );
    for (const a of appeals) assert.equal(a.status, 200, JSON.stringify(a.body));
    for (const a of appeals) assert.equal(a.body.status, 'IN_REVIEW');
    const fresh = await Promise.all(
      [0, 1, 2].map((i) =>
        http(i % 2 ? api1 : api2, 'POST', '/v1/risk-events', 'dev-backend', {
          ...riskEvent(uniqueAccount(), 'FRAUD_REPORT', { source: 'card-network', confirmed: true }),
        }),
      ),
    );
    for (const f of fresh) assert.equal(f.status, 200, JSON.stringify(f.body));
    for (const f of fresh) assert.equal(f.body.status, 'AWAITING_USER');
    log(
      `after the kill: ${appeals.length} appeals (slowest ${Math.max(...appeals.map((a) => a.ms))} ms: ` +
        `the dead worker's sticky queue times out) and ${fresh.length} new events ` +
        `(slowest ${Math.max(...fresh.map((f) => f.ms))} ms) in ${Date.now() - started} ms`,
    );
    // One of the dead worker's cases to its end, on the survivor.
    const last = orphaned[0]!;
    assert.equal((await http(api1, 'POST', `/v1/cases/${last.caseId}/claim`, 'dev-reviewer-2')).status, 200);
    const decided = await http(api2, 'POST', `/v1/cases/${last.caseId}/decision`, 'dev-reviewer-2', {
      decision: 'UNLOCK',
      rationale: 'Confirmed by phone.',
      requestId: `decision-${last.caseId}`,
    });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    assert.equal(decided.body.outcome, 'RESTORED');
    assert.ok(
      workerLog(survivor!.name).includes(`restriction lifted caseId=${last.caseId}`),
      `${survivor!.name} lifted the restriction of a case ${victim!.name} had run`,
    );
    for (const base of [api1, api2]) {
      const check = await http(base, 'GET', `/v1/accounts/${last.account}/restriction`, 'dev-backend');
      assert.equal(check.body.restricted, false, base);
    }
    await outputMatches(new RegExp(`${victim!.name} exited \\(SIGKILL\\): 1 of 2 workers still running`));
  });

  it('keeps evidence where every API reaches it: uploaded through one API, read through the other once it is killed', async () => {
    // Like pods on different nodes: a data folder each, none shared.
    const folders = [...state.apis, ...state.workers].map((p) => p.dataDir);
    assert.equal(new Set(folders).size, folders.length, folders.join(', '));
    const account = uniqueAccount();
    const email = `${account}@example.test`;
    const reported = await http(api2, 'POST', '/v1/risk-events', 'dev-backend', {
      ...riskEvent(account, 'IDENTITY_CHECK', { matched: false, field: 'name' }),
      contact: { email },
    });
    assert.equal(reported.status, 200, JSON.stringify(reported.body));
    const caseId = reported.body.caseId as string;
    // The notice's link (to the first API, the public URL), as the user receives it.
    const link = await noticeLink(join(dir, 'cordon', 'mail'), email);
    const path = new URL(link).pathname;
    const user = new PortalAgent(api1);
    const page = await user.send('GET', path);
    assert.equal(page.status, 200);
    const form = new FormData();
    for (const [k, v] of Object.entries(formFields(page.text, `${path}/appeal`))) form.append(k, v);
    form.append('statement', 'My new ID card is attached.');
    const file = Buffer.from(`%PDF-1.7\n% new ID card of ${account}\n%%EOF\n`);
    form.append('files', new Blob([file]), 'new-id-card.pdf');
    const sent = await user.send('POST', `${path}/appeal`, { multipart: form });
    assert.equal(sent.status, 303, sent.text.slice(0, 300));
    const view = await http(api2, 'GET', `/v1/cases/${caseId}`, 'dev-backend');
    const ref = (view.body.timeline as Array<{ type: string; evidence?: string[] }>).find(
      (e) => e.type === 'APPEAL',
    )?.evidence?.[0];
    assert.match(ref ?? '', /^ev_/);

    // The API that took the upload dies; the other serves the file to a reviewer.
    const victim = state.apis[0]!;
    process.kill(victim.pid, 'SIGKILL');
    for (let i = 0; i < 50 && running(victim.pid); i++) await sleep(100);
    assert.ok(!running(victim.pid), `${victim.name} is gone`);
    const reviewer = await consoleSession(api2, 'dev-reviewer-1');
    const opened = await reviewer(`/console/cases/${encodeURIComponent(caseId)}/evidence/${ref}`);
    assert.equal(opened.status, 200, `${state.apis[1]!.name} opens the file ${victim.name} stored`);
    assert.deepEqual(Buffer.from(await opened.arrayBuffer()), file);
    // It is a row of Cordon's database, sealed; no process keeps it on its disk.
    const cordonDb = new PgClient({ connectionString: state.postgres.cordonUrl });
    await cordonDb.connect();
    try {
      const rows = await cordonDb.query<{ sealed: Buffer }>(
        'SELECT sealed FROM evidence_files WHERE ref = $1',
        [ref],
      );
      assert.equal(rows.rowCount, 1);
      // Its header names the case (the sweep reads it without a key); the content is ciphertext.
      assert.ok(!rows.rows[0]!.sealed.includes(file), 'sealed, not plaintext');
    } finally {
      await cordonDb.end();
    }
    for (const folder of folders)
      assert.ok(!existsSync(join(folder, 'evidence', `${ref}.bin`)), `not in ${folder}`);
    await outputMatches(new RegExp(`${victim.name} exited \\(SIGKILL\\): 1 of 2 APIs still running`));
  });

  it('Ctrl-C stops every process: Cordon, the Web UI, the Temporal server and PostgreSQL', async () => {
    const started = Date.now();
    child.kill('SIGINT');
    const code = await Promise.race([exited, sleep(120_000).then(() => 'hung' as const)]);
    assert.equal(code, 0, output.slice(-3_000));
    log(`stopped in ${Date.now() - started} ms`);
    // pg_ctl's stop returns as the postmaster exits: give the last pids a moment to be reaped.
    for (let i = 0; i < 50 && pids.some(running); i++) await sleep(100);
    assert.deepEqual(pids.filter(running), [], 'no process of the cluster is left running');
    assert.ok(await allFree([...state.apis.map((a) => Number(new URL(a.url).port)), state.postgres.port]));
    const order = ['Cordon processes stopped', 'Temporal server stopped', 'PostgreSQL stopped'].map((line) =>
      output.indexOf(line),
    );
    assert.ok(
      order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]!)),
      `stop order: ${order.join(', ')}`,
    );
  });
});

// Always run: the parts of the script that need no server.
describe('npm run cluster: options and configuration', () => {
  it('defaults to two workers, two APIs on 8080 and 8081, 4 shards; refuses bad options', () => {
    const o = parseClusterOptions([]);
    assert.deepEqual(
      {
        workers: o.workers,
        apis: o.apis,
        shards: o.shards,
        api: o.apiPort,
        temporal: o.temporalPort,
        ui: o.uiPort,
      },
      { workers: 2, apis: 2, shards: 4, api: 8080, temporal: 7233, ui: 8233 },
    );
    assert.equal(parseClusterOptions(['--workers', '3', '--apis=1', '--fresh']).workers, 3);
    assert.throws(() => parseClusterOptions(['--workers', '0']), /--workers must be a whole number/);
    assert.throws(() => parseClusterOptions(['--shards']), /--shards needs a value/);
    assert.throws(() => parseClusterOptions(['--nope']), /unknown option --nope/);
  });

  it('writes a server configuration on PostgreSQL with the shards asked for, tuned, on distinct ports', () => {
    const root = mkdtempSync(join(tmpdir(), 'cordon-cluster-config-'));
    try {
      const env = writeServerConfig({
        root,
        frontendPort: 7233,
        shards: 4,
        postgres: { host: '127.0.0.1', port: 55432, user: 'temporal', password: 'temporal' },
      });
      const config = parse(readFileSync(join(root, 'config', `${env}.yaml`), 'utf8')) as {
        persistence: {
          numHistoryShards: number;
          datastores: Record<string, { sql: { pluginName: string } }>;
        };
        dynamicConfigClient: { filepath: string };
        services: Record<string, { rpc: { grpcPort: number; bindOnLocalHost: boolean } }>;
      };
      assert.equal(config.persistence.numHistoryShards, 4);
      for (const store of Object.values(config.persistence.datastores))
        assert.equal(store.sql.pluginName, 'postgres12');
      assert.equal(config.services.frontend!.rpc.grpcPort, 7233);
      assert.ok(Object.values(config.services).every((s) => s.rpc.bindOnLocalHost));
      assert.ok(config.dynamicConfigClient.filepath.startsWith('/'), 'an absolute dynamic config path');
      const dynamic = parse(readFileSync(config.dynamicConfigClient.filepath, 'utf8')) as Record<
        string,
        Array<{ value: unknown }>
      >;
      for (const key of ['transfer', 'timer', 'visibility', 'outbound'])
        assert.equal(dynamic[`history.${key}ProcessorMaxPollRPS`]![0]!.value, 1000);
      assert.deepEqual(Object.keys(dynamic).sort(), Object.keys(DYNAMIC_CONFIG).sort());
      const ports = serverPortList(7233).map(([port]) => port);
      assert.equal(new Set(ports).size, ports.length, 'no port used twice');
      // With the server built, it knows every key (an unknown one is only a warning, so read its output).
      const server = findTool(TOOLS.server);
      if (server) {
        const out = execFileSync(server, ['validate-dynamic-config', config.dynamicConfigClient.filepath], {
          encoding: 'utf8',
        });
        assert.doesNotMatch(out, /warning|error/i, out);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("gives every process the same secrets by configuration, kept in the cluster's folder, and a folder each", () => {
    const root = mkdtempSync(join(tmpdir(), 'cordon-cluster-secrets-'));
    try {
      // A cluster from before: development keys in the folder every process shared.
      const shared = join(root, 'cordon');
      mkdirSync(shared);
      const codecKey = randomBytes(32).toString('base64');
      writeFileSync(join(shared, 'codec-key'), `${codecKey}\n`);
      const first = clusterSecrets(root, shared, {});
      assert.equal(first.CORDON_CODEC_KEYS, `dev:${codecKey}`, 'its codec key is taken over');
      assert.equal(statSync(join(root, 'secrets.json')).mode & 0o777, 0o600);
      assert.deepEqual(clusterSecrets(root, shared, {}), first, 'the same at every start');
      const config = parseConfig({ ...first, CORDON_DATA_DIR: join(root, 'nowhere') });
      assert.equal(config.codec.keys?.[0]?.key.toString('base64'), codecKey);
      assert.equal(linkKeysFromConfig(config)[0]!.secret.length, 32);
      assert.ok(config.sessionSecret && config.verification.secret);
      const own = clusterSecrets(root, shared, { CORDON_SESSION_SECRET: 's'.repeat(40) });
      assert.equal(own.CORDON_SESSION_SECRET, 's'.repeat(40), "the script's environment wins");
      const mail = join(shared, 'mail'); // the mail catcher's, made before any process starts
      mkdirSync(mail);
      const dirs = ['api-1', 'api-2', 'worker-1'].map((name) => processDataDir(shared, name, mail));
      assert.equal(new Set(dirs).size, 3);
      assert.equal(processDataDir(shared, 'api-1', mail), dirs[0], 'again at the next start');
      assert.equal(
        realpathSync(join(dirs[0]!, 'mail')),
        mail,
        "an API's /dev/mail reads the catcher's folder",
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("registers the dev server's search attributes", () => {
    assert.deepEqual(
      Object.keys(cordonSearchAttributes()).sort(),
      SEARCH_ATTRIBUTE_FLAGS.map((f) => f.split('=')[0]).sort(),
    );
  });
});
