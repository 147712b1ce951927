// Stopping stops: SIGINT or SIGTERM to the PID a person or an orchestrator holds (npm's, for `npm start`,
// `npm run api` and `npm run worker`; node's, in the image) stops everything under it cleanly: requests in flight
// answered, the worker drained, the dev server stopped, ports free, exit code 0, the API within 10 s and the
// worker within 30 s. Linux only (process trees from /proc).
import assert from 'node:assert/strict';
import { existsSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, type RunningApi } from '../api/main';
import { parseConfig } from '../infra/config';
import { freePort } from '../scripts/dev-server';
import {
  describeProcs,
  exitWithin,
  killAll,
  portFree,
  processTree,
  spawnCommand,
  stillRunning,
  waitForOutput,
  within,
  type Proc,
  type Started,
} from './helpers/cordon-process';
import { quiet } from './helpers/deps';
import {
  containerOf,
  executeStages,
  parseDockerfile,
  podEnv,
  read,
  ROOT,
  type BuiltStage,
} from './helpers/deploy-files';
import { riskEvent, uniqueAccount } from './helpers/events';
import { sharedDevServer, TEST_CODEC_KEYS, workflowBundle } from './helpers/servers';
import { requires } from './helpers/requirements';

const npm = (script: string, env: Record<string, string>, o: { detached?: boolean } = {}) =>
  spawnCommand('npm', ['run', script], env, o);

/** Process trees a test started, and its folders: after each test whatever still runs is killed, then removed. */
const trees: Proc[][] = [];
const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};

/** GET over a connection of its own (no keep-alive pool): whether the listener still accepts new ones. */
function get(url: string): Promise<{ status: number; body: any; headers: IncomingMessage['headers'] }> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined, headers: res.headers }),
      );
    })
      .on('error', reject)
      .end();
  });
}

const refused = (url: string) =>
  get(url).then(
    () => false,
    (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED',
  );

/** Stops, then checks: exit code 0 within ms, nothing of the tree left running, the ports free. */
async function assertStoppedCleanly(
  s: Started,
  tree: Proc[],
  ports: number[],
  o: { sentAt: number; withinMs: number },
): Promise<number> {
  const code = await exitWithin(s, o.withinMs);
  const tookMs = Date.now() - o.sentAt;
  assert.notEqual(
    code,
    'timeout',
    `still running ${o.withinMs} ms after the signal:\n${s.output().slice(-3000)}`,
  );
  assert.equal(code, 0, `exit code 0, not ${code ?? s.child.signalCode}:\n${s.output().slice(-3000)}`);
  // The last of them (a watchdog told "released", esbuild's service on its closed pipe) end within moments.
  const left = () => stillRunning(tree.filter((p) => p.pid !== s.child.pid));
  assert.ok(await within(2_000, () => left().length === 0), `left running:\n${describeProcs(left())}`);
  for (const port of ports) assert.ok(await within(2_000, () => portFree(port)), `port ${port} is free`);
  return tookMs;
}

describe('stopping: SIGINT and SIGTERM', function () {
  this.timeout(180_000);
  before(function () {
    if (process.platform !== 'linux') this.skip();
  });
  afterEach(() => {
    for (const tree of trees.splice(0)) killAll(tree);
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('a repeated signal never cuts a stop short; a stop past its deadline exits 1', async () => {
    // infra/shutdown.ts in a process of its own, with a stop that never ends.
    const s = spawnCommand(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `require('./infra/shutdown').stopOnSignals({ logger: require('./infra/logger').createLogger('t'),
           deadlineMs: () => 1500, stop: () => new Promise(() => {}) });
         setInterval(() => {}, 1000); console.log('ready');`,
      ],
      {},
    );
    trees.push(processTree(s.child.pid!));
    await waitForOutput(s, 'ready', 30_000);
    const sentAt = Date.now();
    s.child.kill('SIGTERM');
    await waitForOutput(s, 'stopping signal=SIGTERM', 5_000);
    s.child.kill('SIGINT');
    s.child.kill('SIGTERM');
    await waitForOutput(s, /already stopping signal=SIGTERM/, 5_000);
    assert.equal(await exitWithin(s, 5_000), 1, s.output());
    assert.ok(Date.now() - sentAt >= 1500, 'not before the deadline');
    assert.match(s.output(), /did not stop in time/);
  });

  describe('`npm start`: every process under npm stops, the dev server too, exit 0', () => {
    requires('temporal');
    const cases: {
      title: string;
      group?: boolean;
      /** What the output says when the signal goes: by default, that everything is up. */
      when?: string;
      send: (s: Started) => Promise<void>;
    }[] = [
      {
        title: 'SIGTERM to npm, and a second SIGTERM while it stops',
        send: async (s) => {
          s.child.kill('SIGTERM');
          await waitForOutput(s, 'stopping signal=SIGTERM', 10_000);
          s.child.kill('SIGTERM');
          await waitForOutput(s, 'already stopping signal=SIGTERM', 10_000); // logged and ignored
        },
      },
      { title: 'SIGINT to npm', send: async (s) => void s.child.kill('SIGINT') },
      {
        // The terminal signals npm and Cordon alike, and npm forwards its own: Cordon gets it twice.
        title: "Ctrl-C in a terminal (SIGINT to npm's process group)",
        group: true,
        send: async (s) => void process.kill(-s.child.pid!, 'SIGINT'),
      },
      {
        // The slow part of a first start (the worker bundles the workflows) is when a person gives up.
        title: 'SIGTERM during start-up, the dev server up and the worker not yet',
        when: 'Temporal dev server ready',
        send: async (s) => void s.child.kill('SIGTERM'),
      },
    ];
    for (const c of cases)
      it(c.title, async () => {
        const ports = {
          PORT: await freePort(),
          TEMPORAL_PORT: await freePort(),
          TEMPORAL_UI_PORT: await freePort(),
          CORDON_SDK_METRICS_PORT: await freePort(),
        };
        const env = { ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
        const s = npm(
          'start',
          { ...env, CORDON_DATA_DIR: tempDir('cordon-signals-') },
          { detached: c.group },
        );
        trees.push(processTree(s.child.pid!));
        await waitForOutput(s, c.when ?? 'Cordon is up', 120_000);
        if (!c.when) assert.equal((await get(`http://127.0.0.1:${ports.PORT}/healthz`)).status, 200);
        const tree = processTree(s.child.pid!);
        trees.push(tree);
        const commands = tree.map((p) => p.args.join(' '));
        assert.ok(
          commands.some((a) => a.includes('scripts/start.ts')),
          describeProcs(tree),
        );
        assert.ok(
          commands.some((a) => a.includes('start-dev')),
          `the dev server is in npm's tree:\n${describeProcs(tree)}`,
        );

        const sentAt = Date.now();
        await c.send(s);
        const tookMs = await assertStoppedCleanly(s, tree, Object.values(ports), {
          sentAt,
          withinMs: 30_000,
        });
        assert.match(s.output(), /INFO {2}\[cordon\] stopped/);
        assert.doesNotMatch(s.output(), /did not stop in time|did not close cleanly/);
        if (c.when) assert.doesNotMatch(s.output(), /Cordon is up/, 'the stop cut the start-up short');
        assert.ok(tookMs < 30_000);
      });
  });

  describe('`npm run api`', () => {
    requires('temporal');
    let source: Server;
    let held: ServerResponse[] = [];
    let sourceUrl: string;
    before(async () => {
      // A data source the test answers when it chooses: a request to the API waits on it, in flight.
      source = createServer((_req, res) => void held.push(res));
      await new Promise<void>((r) => source.listen(0, '127.0.0.1', r));
      const address = source.address();
      sourceUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/signals`;
    });
    after(() => source.close());

    const start = async (extra: Record<string, string>) => {
      const port = await freePort();
      const s = npm('api', {
        PORT: String(port),
        TEMPORAL_ADDRESS: (await sharedDevServer()).address,
        CORDON_DATA_DIR: tempDir('cordon-signals-api-'),
        CORDON_DATA_SOURCES: JSON.stringify([{ name: 'device', url: sourceUrl }]),
        CORDON_SOURCE_TIMEOUT_MS: '20000',
        ...extra,
      });
      trees.push(processTree(s.child.pid!));
      await waitForOutput(s, 'API listening', 60_000);
      const tree = processTree(s.child.pid!);
      trees.push(tree);
      return { s, tree, port, api: `http://127.0.0.1:${port}` };
    };

    it('SIGTERM: /readyz fails at once while the listener still serves, then it closes; the request in flight is answered; exit 0 within 10 s', async () => {
      const delayMs = 3_000;
      const { s, tree, port, api } = await start({ CORDON_SHUTDOWN_DELAY_MS: String(delayMs) });
      assert.equal((await get(`${api}/readyz`)).status, 200, 'ready while it runs');

      held = [];
      const inFlight = fetch(`${api}/v1/simulate`, {
        method: 'POST',
        headers: { authorization: 'Bearer dev-backend', 'content-type': 'application/json' },
        body: JSON.stringify(
          riskEvent(uniqueAccount(), 'LOGIN', {
            newDevice: true,
            geoDistanceKm: 9000,
            minutesSinceLastLogin: 1,
          }),
        ),
      });
      assert.ok(await within(10_000, () => held.length === 1), 'the request waits on the data source');

      const sentAt = Date.now();
      s.child.kill('SIGTERM');
      let readyz: Awaited<ReturnType<typeof get>> | undefined;
      assert.ok(
        await within(2_000, async () => (readyz = await get(`${api}/readyz`)).status === 503),
        'readiness fails at once',
      );
      assert.equal(readyz!.body.code, 'STOPPING');
      assert.ok(readyz!.headers['retry-after'], 'a 503 says when to retry');
      const health = await get(`${api}/healthz`);
      assert.equal(health.status, 200, 'alive, and still accepting connections');
      assert.ok(Date.now() - sentAt < delayMs, 'both answered within the delay');

      assert.ok(await within(delayMs + 3_000, () => refused(`${api}/healthz`)), 'the listener closes');
      const closedAfterMs = Date.now() - sentAt;
      assert.ok(closedAfterMs >= delayMs, `not before the delay (${closedAfterMs} ms)`);
      assert.equal(s.child.exitCode, null, 'still running: the request in flight holds it');

      held[0]!.setHeader('content-type', 'application/json');
      held[0]!.end(JSON.stringify({ velocity: 1 }));
      const answered = await inFlight;
      assert.equal(answered.status, 200, await answered.clone().text());
      assert.ok(((await answered.json()) as { decision?: unknown }).decision, 'answered with its decision');
      assert.equal(answered.headers.get('connection'), 'close', 'and its connection closed after it');

      await assertStoppedCleanly(s, tree, [port], { sentAt, withinMs: 10_000 });
      assert.match(s.output(), /API stopped/);
    });

    it('SIGINT (a person at a terminal): no readiness delay, exit 0 at once', async () => {
      const { s, tree, port } = await start({ CORDON_SHUTDOWN_DELAY_MS: '5000' });
      const sentAt = Date.now();
      s.child.kill('SIGINT');
      const tookMs = await assertStoppedCleanly(s, tree, [port], { sentAt, withinMs: 10_000 });
      assert.ok(tookMs < 5_000, `SIGINT skips the delay (${tookMs} ms)`);
    });
  });

  describe('`npm run worker`', () => {
    requires('temporal');
    let gateway: Server;
    let applies: { key: string; res: ServerResponse; closedEarly: boolean }[] = [];
    let gatewayUrl: string;
    let api: RunningApi | undefined;
    before(async () => {
      // The account system: the first command of each test waits for the test, like a slow gateway.
      gateway = createServer((req, res) => {
        const apply = { key: String(req.headers['idempotency-key'] ?? ''), res, closedEarly: false };
        res.once('close', () => (apply.closedEarly = !res.writableFinished));
        applies.push(apply);
        req.resume();
        if (applies.length > 1) res.end('{}');
      });
      await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
      const address = gateway.address();
      gatewayUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    });
    after(() => gateway.close());
    afterEach(async () => {
      await api?.close();
      api = undefined;
    });

    it('SIGTERM with an activity in flight: the worker waits for it, stops polling, stops the dispatcher, exits 0 within 30 s; the case goes on', async () => {
      applies = [];
      const dataDir = tempDir('cordon-signals-worker-');
      const bundle = join(dataDir, 'workflow-bundle.js');
      writeFileSync(bundle, (await workflowBundle()).code);
      const metricsPort = await freePort();
      const env = {
        TEMPORAL_ADDRESS: (await sharedDevServer()).address,
        CORDON_TASK_QUEUE: `tq-signals-${metricsPort}`,
        CORDON_DATA_DIR: dataDir,
        CORDON_CODEC_KEYS: TEST_CODEC_KEYS,
        CORDON_GATEWAY_URL: gatewayUrl,
        CORDON_GATEWAY_SECRET: 'signals-test-gateway-secret',
        CORDON_WORKFLOW_BUNDLE: bundle,
        CORDON_SDK_METRICS_PORT: String(metricsPort),
      };
      const worker = npm('worker', env);
      trees.push(processTree(worker.child.pid!));
      await waitForOutput(worker, 'worker started', 60_000);
      const tree = processTree(worker.child.pid!);
      trees.push(tree);
      // The API in this process, on the worker's data folder (as the chaos run shares it) and task queue.
      api = await startApi(parseConfig({ ...env, PORT: '0' }), quiet);
      const account = uniqueAccount();
      const reported = fetch(`${api.url}/v1/risk-events`, {
        method: 'POST',
        headers: { authorization: 'Bearer dev-backend', 'content-type': 'application/json' },
        body: JSON.stringify(riskEvent(account, 'IDENTITY_CHECK', { matched: false })),
      });
      assert.ok(await within(30_000, () => applies.length === 1), 'the restriction reaches the gateway');

      const sentAt = Date.now();
      worker.child.kill('SIGTERM');
      await waitForOutput(worker, 'stopping signal=SIGTERM', 5_000);
      // Long enough for a worker that does not wait to be gone; this one waits for the gateway.
      await new Promise((r) => setTimeout(r, 1_000));
      assert.equal(worker.child.exitCode, null, `draining, not gone:\n${worker.output()}`);
      assert.equal(applies[0]!.closedEarly, false, 'the activity still waits for the gateway');
      applies[0]!.res.end('{}');
      await assertStoppedCleanly(worker, tree, [metricsPort], { sentAt, withinMs: 30_000 });
      assert.equal(applies[0]!.closedEarly, false, 'the gateway answer reached the activity');
      assert.match(worker.output(), /worker stopped/);

      // The next worker (SIGINT this time) carries the case on, without doing the finished command again.
      const next = npm('worker', env);
      trees.push(processTree(next.child.pid!));
      await waitForOutput(next, 'worker started', 60_000);
      const answer = await reported;
      assert.equal(answer.status, 200, await answer.clone().text());
      assert.equal(((await answer.json()) as { decision: { tier: string } }).decision.tier, 'FREEZE');
      assert.deepEqual(
        applies.map((a) => a.key),
        [applies[0]!.key],
        'the gateway got the command once: its completion was kept',
      );
      const nextTree = processTree(next.child.pid!);
      trees.push(nextTree);
      const stoppedAt = Date.now();
      next.child.kill('SIGINT');
      await assertStoppedCleanly(next, nextTree, [metricsPort], { sentAt: stoppedAt, withinMs: 30_000 });
    });
  });

  describe("the image: the Dockerfile's steps executed in scratch folders, then its CMD", function () {
    requires('temporal');
    this.timeout(600_000);
    let built: BuiltStage[] = [];
    after(() => {
      for (const b of built) rmSync(b.root, { recursive: true, force: true });
    });

    it('npm ci from the lock file, npm run build, npm ci --omit=dev; node on dist/ runs the API and the worker, SIGTERM stops each with 0', async () => {
      const began = Date.now();
      built = await executeStages(parseDockerfile(read('Dockerfile')), {
        context: ROOT,
        runEnv: { npm_config_prefer_offline: 'true' }, // npm's cache: no download of what it already holds
        stepTimeoutMs: 300_000,
      });
      process.stderr.write(`      (the image's steps took ${Math.round((Date.now() - began) / 1000)} s)\n`);
      const image = built.at(-1)!;
      const { env: imageEnv, cmd } = image.stage;
      assert.ok(cmd, 'the image has a CMD');
      assert.ok(
        !existsSync(join(image.workdir, 'node_modules', 'typescript')),
        'no TypeScript compiler inside',
      );
      assert.ok(
        existsSync(join(image.workdir, imageEnv.CORDON_WORKFLOW_BUNDLE!)),
        'the prebuilt workflow bundle',
      );

      // The pods' configuration (ConfigMap, Secret, their env) on the image's ENV, pointed at this machine; SQLite
      // in the image's data folder stands in for PostgreSQL.
      const port = await freePort();
      const metricsPort = await freePort();
      const here = {
        TEMPORAL_ADDRESS: (await sharedDevServer()).address,
        CORDON_TASK_QUEUE: `tq-image-${port}`,
        CORDON_DATABASE_URL: undefined,
        CORDON_SDK_METRICS_HOST: '127.0.0.1',
        CORDON_SDK_METRICS_PORT: String(metricsPort),
        // The pods' 0.0.0.0, kept to this machine's loopback here.
        CORDON_HOST: '127.0.0.1',
        PORT: String(port),
        CORDON_SHUTDOWN_DELAY_MS: '500',
      };
      const run = (name: string, command: string[]) =>
        spawnCommand(
          command[0]!,
          command.slice(1),
          { ...imageEnv, ...podEnv(containerOf(name)), ...here },
          {
            cwd: image.workdir,
          },
        );
      const worker = run('cordon-worker', containerOf('cordon-worker').command as string[]);
      trees.push(processTree(worker.child.pid!));
      await waitForOutput(worker, /"prebuiltBundle":true,"msg":"worker started"/, 60_000);
      const api = run('cordon-api', cmd);
      trees.push(processTree(api.child.pid!));
      await waitForOutput(api, 'API listening', 60_000);
      const url = `http://127.0.0.1:${port}`;
      assert.equal((await get(`${url}/healthz`)).status, 200);
      assert.equal((await get(`${url}/readyz`)).status, 200);
      const backendToken = podEnv(containerOf('cordon-api')).CORDON_TOKENS!.split(',')[0]!.split('=')[0]!;
      const reported = await fetch(`${url}/v1/risk-events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${backendToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(riskEvent(uniqueAccount(), 'IDENTITY_CHECK', { matched: false })),
      });
      assert.equal(reported.status, 200, await reported.clone().text());
      assert.equal(((await reported.json()) as { status: string }).status, 'AWAITING_USER');

      const apiTree = processTree(api.child.pid!);
      const workerTree = processTree(worker.child.pid!);
      trees.push(apiTree, workerTree);
      let sentAt = Date.now();
      api.child.kill('SIGTERM');
      await assertStoppedCleanly(api, apiTree, [port], { sentAt, withinMs: 10_000 });
      sentAt = Date.now();
      worker.child.kill('SIGTERM');
      await assertStoppedCleanly(worker, workerTree, [metricsPort], { sentAt, withinMs: 30_000 });
    });
  });
});
