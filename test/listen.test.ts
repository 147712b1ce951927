// Where the API listens: loopback unless CORDON_HOST says otherwise (development's well-known tokens and /dev/mail
// stay on this machine), for the API in this process and for `npm run api`; production must say where. Probed
// over real TCP from this machine's loopback and its other address.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../infra/config';
import { freePort } from '../scripts/dev-server';
import { exitWithin, spawnCommand, stopCordon, waitForOutput } from './helpers/cordon-process';
import { quiet } from './helpers/deps';
import { startApiHarness } from './helpers/harness';
import { accepts, nonLoopbackAddress } from './helpers/network';
import { sharedDevServer, TEST_CODEC_KEYS } from './helpers/servers';
import { requires } from './helpers/requirements';

const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

describe('trust boundaries: the listen address', function () {
  requires('temporal');
  this.timeout(120_000);
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('the API with defaults accepts connections on 127.0.0.1 only, not on the machine’s other address', async function () {
    const outside = nonLoopbackAddress();
    if (!outside) {
      process.stderr.write('      (skipped: this machine has no address but loopback)\n');
      return this.skip();
    }
    // The probe itself can tell: a plain server on that address is reached through it.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, outside, r));
    const probePort = (probe.address() as { port: number }).port;
    assert.equal(await accepts(outside, probePort), true, `the probe reaches ${outside}`);
    probe.close();

    dirs.push(tempDir('cordon-listen-'));
    const running = await startApiHarness(quiet, { CORDON_DATA_DIR: dirs.at(-1)! });
    try {
      const port = Number(new URL(running.api.url).port);
      assert.equal(running.api.url, `http://127.0.0.1:${port}`);
      assert.equal(await accepts('127.0.0.1', port), true, 'loopback');
      assert.equal(await accepts(outside, port), false, `nothing answers on ${outside}:${port}`);
    } finally {
      await running.close();
    }
  });

  it('CORDON_HOST says where it listens (here 127.0.0.2: loopback, yet not 127.0.0.1)', async () => {
    // A server of the test's own holds 127.0.0.1 on a port first, and the API is given that port: it can bind
    // only 127.0.0.2 (not every address, not 127.0.0.1), and what answers on 127.0.0.1 is the test's server.
    // (Asking whether anything answers on 127.0.0.1 at the API's port was not a proof: tests run in several
    // processes at once, and another's server may have that port on 127.0.0.1.)
    const holder = createHttpServer((_req, res) => res.writeHead(418).end('the test holds 127.0.0.1'));
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const port = (holder.address() as { port: number }).port;
    dirs.push(tempDir('cordon-listen-'));
    try {
      const running = await startApiHarness(quiet, {
        CORDON_DATA_DIR: dirs.at(-1)!,
        CORDON_HOST: '127.0.0.2',
        PORT: String(port),
      });
      try {
        assert.equal(running.api.url, `http://127.0.0.2:${port}`);
        assert.equal((await fetch(`${running.api.url}/healthz`)).status, 200);
        assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 418, 'not on 127.0.0.1');
      } finally {
        await running.close();
      }
    } finally {
      holder.close();
    }
  });

  it('`npm run api` listens on loopback only by default', async function () {
    const outside = nonLoopbackAddress();
    if (!outside) {
      process.stderr.write('      (skipped: this machine has no address but loopback)\n');
      return this.skip();
    }
    dirs.push(tempDir('cordon-listen-'));
    const port = await freePort();
    const api = spawnCommand('npm', ['run', 'api'], {
      PORT: String(port),
      TEMPORAL_ADDRESS: (await sharedDevServer()).address,
      CORDON_TASK_QUEUE: `tq-listen-${port}`,
      CORDON_CODEC_KEYS: TEST_CODEC_KEYS,
      CORDON_DATA_DIR: dirs.at(-1)!,
      CORDON_HOST: undefined,
    });
    try {
      await waitForOutput(api, 'API listening', 60_000);
      assert.equal(await accepts('127.0.0.1', port), true, 'loopback');
      assert.equal(await accepts(outside, port), false, `nothing answers on ${outside}:${port}`);
    } finally {
      assert.equal(await stopCordon(api), 0, api.output());
    }
  });

  it('production without CORDON_HOST refuses to start, naming it', async () => {
    const production = {
      CORDON_MODE: 'production',
      CORDON_TOKENS: `svc-${randomUUID()}=backend:payments-backend`,
      CORDON_SESSION_SECRET: randomBytes(24).toString('base64'),
      CORDON_CODEC_KEYS: TEST_CODEC_KEYS,
      CORDON_LINK_KEYS: `l1:${randomBytes(32).toString('base64')}`,
      PORT: String(await freePort()),
    };
    assert.throws(() => parseConfig(production), /production mode needs CORDON_HOST/);
    assert.equal(parseConfig({ ...production, CORDON_HOST: '0.0.0.0' }).host, '0.0.0.0');
    assert.equal(parseConfig({}).host, '127.0.0.1', 'development: loopback');
    assert.throws(() => parseConfig({ CORDON_HOST: 'everywhere' }), /CORDON_HOST/);
    // As the process a user or an orchestrator starts: exit 1 with the reason, before anything listens.
    const api = spawnCommand('npm', ['run', 'api'], { ...production, CORDON_HOST: undefined });
    const code = await exitWithin(api, 60_000);
    if (code === 'timeout') api.child.kill('SIGKILL');
    assert.equal(code, 1, api.output());
    assert.match(api.output(), /production mode needs CORDON_HOST/);
  });
});
