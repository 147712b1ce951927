// `npm run cluster` end to end (opt-in: CORDON_CLUSTER_TEST=1; a cold machine builds the Temporal server for
// minutes first). Starts scripts/cluster.ts as a person would, in a folder of its own: the acceptance walkthrough
// over HTTP across both APIs, the server checked in PostgreSQL itself (4+ history shards, the case's workflow in
// its tables), one worker SIGKILLed while the other carries every case, then Ctrl-C stops every process.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { parse } from 'yaml';
import { caseWorkflowId, SEARCH_ATTRIBUTE_FLAGS } from '../core/contracts';
import { parseClusterOptions } from '../scripts/cluster/options';
import {
  cordonSearchAttributes,
  DYNAMIC_CONFIG,
  serverPortList,
  writeServerConfig,
} from '../scripts/cluster/temporal';
import { findTool, TOOLS } from '../scripts/cluster/tools';
import { assertPortFree } from '../scripts/dev-server';
import { ROOT } from '../scripts/temporal-tools';
import { riskEvent, uniqueAccount } from './helpers/events';

const ENABLED = process.env.CORDON_CLUSTER_TEST === '1';

interface ClusterState {
  scriptPid: number;
  up: boolean;
  temporal: { address: string; shards: number; persistence: string };
  ui?: string;
  postgres: { port: number; url: string; dataDir: string };
  apis: Array<{ name: string; url: string; pid: number }>;
  workers: Array<{ name: string; pid: number }>;
  processes: Array<{ name: string; pid: number }>;
  timings: Record<string, number>;
}

interface Ports {
  api: number;
  temporal: number;
  ui: number;
  pg: number;
}

async function allFree(ports: number[]): Promise<boolean> {
  for (const port of ports)
    if (
      !(await assertPortFree(port, '').then(
        () => true,
        () => false,
      ))
    )
      return false;
  return true;
}

/** The documented ports when they are free (the usual case), else a free set elsewhere. */
async function choosePorts(): Promise<Ports> {
  const list = (p: Ports) => [
    p.api,
    p.api + 1,
    p.ui,
    p.pg,
    ...serverPortList(p.temporal).map(([port]) => port),
  ];
  const usual = { api: 8080, temporal: 7233, ui: 8233, pg: 55432 };
  if (await allFree(list(usual))) return usual;
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    const p = { api: base + 20, temporal: base + 400, ui: base + 30, pg: base + 40 };
    if (await allFree(list(p))) return p;
  }
  throw new Error('no free set of ports for the cluster');
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function http(
  base: string,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
  const started = Date.now();
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown>,
    ms: Date.now() - started,
  };
}

(ENABLED ? describe : describe.skip)('npm run cluster (CORDON_CLUSTER_TEST=1)', function () {
  // A cold machine builds the server, the SQL tool and the UI server first.
  this.timeout(40 * 60_000);
  let dir: string;
  let child: ChildProcess;
  let output = '';
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
    assert.match(output, new RegExp(`${victim!.name} exited \\(SIGKILL\\): 1 of 2 workers still running`));
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

  it("registers the dev server's search attributes", () => {
    assert.deepEqual(
      Object.keys(cordonSearchAttributes()).sort(),
      SEARCH_ATTRIBUTE_FLAGS.map((f) => f.split('=')[0]).sort(),
    );
  });
});
