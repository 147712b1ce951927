// Payload encryption: the AES-256-GCM codec and its keys, workflows that run encrypted on the real dev server,
// the /codec endpoint the Web UI and the CLI decode through, and `npm start` leaving nothing readable in the
// Temporal dev server's SQLite file.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter, type Payload } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import {
  codecFromConfig,
  EncryptionCodec,
  parseCodecKeys,
  PayloadDecryptionError,
  UnknownCodecKeyError,
  type CodecKey,
} from '../infra/codec';
import { parseConfig } from '../infra/config';
import type { Logger } from '../infra/logger';
import { failureConverter } from '../infra/failure-converter';
import { caseWorkflowId } from '../core/contracts';
import { appealUpdate, caseViewQuery, claimUpdate } from '../workflows/definitions';
import type { Actor } from '../core/model';
import { freePort } from '../scripts/dev-server';
import { ensureTemporalCli } from '../scripts/temporal-tools';
import { startCordon, stopCordon, type Started } from './helpers/cordon-process';
import { riskEvent, uniqueAccount } from './helpers/events';
import { sharedConnections, startApiHarness, withHarness, type ApiHarness } from './helpers/harness';
import { sharedDevServer, testDataConverter, workflowBundle } from './helpers/servers';
import { requires } from './helpers/requirements';

const run = promisify(execFile);
const key = (id: string): CodecKey => ({ id, key: randomBytes(32) });
const json = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const text = (p: Payload) => Buffer.from(p.data ?? []).toString();
const meta = (p: Payload, k: string) => {
  const v = p.metadata?.[k];
  return v ? Buffer.from(v).toString() : undefined;
};
const backend: Actor = { kind: 'backend', id: 'backend' };

/** Every payload in a history (as fetched, or as the CLI prints it), search attributes and headers aside. */
function payloadsOf(
  node: unknown,
  out: Record<string, unknown>[] = [],
  path = '',
): Record<string, unknown>[] {
  if (!node || typeof node !== 'object' || node instanceof Uint8Array) return out;
  const o = node as Record<string, unknown>;
  const metadata = o.metadata as Record<string, unknown> | undefined;
  if (metadata && typeof metadata === 'object' && 'encoding' in metadata) {
    Object.defineProperty(o, 'path', { value: path, enumerable: false });
    return (out.push(o), out);
  }
  for (const [k, v] of Object.entries(o))
    // Temporal indexes search attributes and never passes them (nor headers) through a codec.
    if (k !== 'searchAttributes' && k !== 'header') payloadsOf(v, out, `${path}.${k}`);
  return out;
}

/**
 * Markers the SDK's core writes itself, never through the codec: a patch's ID, and a local activity's
 * bookkeeping (sequence, attempt, type, times). Its result is an ordinary, encrypted payload.
 */
const coreBookkeeping = (p: Record<string, unknown>) =>
  /\.markerRecordedEventAttributes\.details\.(patch-data|data)\./.test((p as { path?: string }).path ?? '');

/** A payload object of a fetched history (bytes) in the remote codec JSON format (base64). */
const toJson = (p: Record<string, unknown>) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata as Record<string, Uint8Array | string>).map(([k, v]) => [
      k,
      typeof v === 'string' ? v : Buffer.from(v).toString('base64'),
    ]),
  ),
  data:
    typeof p.data === 'string'
      ? p.data
      : Buffer.from((p.data as Uint8Array | undefined) ?? []).toString('base64'),
});

const decodedText = (body: { payloads: { data: string }[] }) =>
  body.payloads.map((p) => Buffer.from(p.data, 'base64').toString()).join('\n');

/** A logger that keeps every line it is given (message and fields), to read what /codec recorded. */
function keepingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const make = (): Logger => {
    const at = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
      void lines.push({ level, msg, ...fields });
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: make };
  };
  return { logger: make(), lines };
}

/** An admin token of the test's own (development has none). */
const CODEC_ADMIN = `codec-admin-${randomUUID()}`;

describe('payload codec', () => {
  describe('AES-256-GCM with key IDs', () => {
    it('seals every payload with the newest key: binary/encrypted, its key ID, no plaintext; opens it back', async () => {
      const codec = new EncryptionCodec([key('k2'), key('k1')]);
      const original = json({ statement: 'I changed my legal name last month', evidence: ['doc-7781'] });
      const [sealed] = await codec.encode([original]);
      assert.equal(meta(sealed!, 'encoding'), 'binary/encrypted');
      assert.equal(meta(sealed!, 'encryption-key-id'), 'k2');
      assert.deepEqual(Object.keys(sealed!.metadata!).sort(), ['encoding', 'encryption-key-id']);
      assert.doesNotMatch(text(sealed!), /legal name|doc-7781|json\/plain/);
      const [opened] = await codec.decode([sealed!]);
      assert.equal(meta(opened!, 'encoding'), 'json/plain', 'the original metadata comes back');
      assert.deepEqual(defaultPayloadConverter.fromPayload(opened!), {
        statement: 'I changed my legal name last month',
        evidence: ['doc-7781'],
      });
      const [again] = await codec.encode([original]);
      assert.notDeepEqual(again!.data, sealed!.data, 'a fresh IV each time');
    });

    it('rotation: payloads sealed with an older key stay readable, new ones use the newest', async () => {
      const old = key('2025-01');
      const next = key('2026-01');
      const [sealedOld] = await new EncryptionCodec([old]).encode([json('before rotation')]);
      const rotated = new EncryptionCodec([next, old]);
      assert.equal(
        defaultPayloadConverter.fromPayload((await rotated.decode([sealedOld!]))[0]!),
        'before rotation',
      );
      const [sealedNew] = await rotated.encode([json('after rotation')]);
      assert.equal(meta(sealedNew!, 'encryption-key-id'), '2026-01');
      assert.equal(rotated.currentKeyId, '2026-01');
      // Once the old key is dropped, its payloads fail clearly: the key ID is named, nothing of the content.
      const dropped = new EncryptionCodec([next]);
      await assert.rejects(dropped.decode([sealedOld!]), (err: Error) => {
        assert.ok(err instanceof UnknownCodecKeyError);
        assert.match(err.message, /key ID "2025-01"/);
        assert.doesNotMatch(err.message, /before rotation/);
        return true;
      });
    });

    it('passes payloads without the encrypted encoding through unchanged (histories recorded in plaintext)', async () => {
      const codec = new EncryptionCodec([key('k1')]);
      const plain = [
        json({ accountId: 'acct-1' }),
        json(null),
        { metadata: {}, data: new Uint8Array([1, 2]) },
      ];
      assert.deepEqual(await codec.decode(plain), plain);
    });

    it('refuses an altered payload, or one relabelled with another key ID, naming only the key ID', async () => {
      const a = key('a');
      const codec = new EncryptionCodec([a, { id: 'b', key: a.key }]);
      const [sealed] = await codec.encode([json('secret statement')]);
      const flipped = Buffer.from(sealed!.data!);
      flipped[20] = flipped[20]! ^ 1;
      const relabelled = {
        ...sealed!,
        metadata: { ...sealed!.metadata, 'encryption-key-id': Buffer.from('b') },
      };
      for (const bad of [
        { ...sealed!, data: flipped },
        { ...sealed!, data: sealed!.data!.subarray(0, 10) },
        relabelled, // same key bytes, other ID: the ID is authenticated too
      ])
        await assert.rejects(codec.decode([bad]), (err: Error) => {
          assert.ok(err instanceof PayloadDecryptionError, err.message);
          assert.doesNotMatch(err.message, /secret/);
          return true;
        });
      const garbageId = {
        ...sealed!,
        metadata: { ...sealed!.metadata, 'encryption-key-id': Buffer.from('x y') },
      };
      await assert.rejects(codec.decode([garbageId]), /key ID "\(missing or malformed\)"/);
    });

    it('key parsing errors name the variable and the entry, never the key material', () => {
      const good = randomBytes(32).toString('base64');
      const short = randomBytes(16).toString('base64');
      assert.deepEqual(
        parseCodecKeys(`new:${good}, old:${good}`).map((k) => k.id),
        ['new', 'old'],
      );
      for (const [bad, entry] of [
        [`k1:${short}`, 1],
        [`k1:${good},${good}`, 2], // the key alone, no ID
        [`k1:${good},bad id:${good}`, 2],
        [`k1:${good},k2:${good}:extra`, 2],
        [`k1:not*base64*at*all*`, 1],
      ] as const) {
        assert.throws(
          () => parseCodecKeys(bad),
          (err: Error) => {
            assert.match(err.message, new RegExp(`^CORDON_CODEC_KEYS entry ${entry} `));
            assert.ok(!err.message.includes(good) && !err.message.includes(short), err.message);
            return true;
          },
        );
      }
      assert.throws(
        () => parseCodecKeys(`k1:${good},k1:${good}`),
        /CORDON_CODEC_KEYS lists key ID k1 more than once/,
      );
      assert.throws(() => parseCodecKeys(' , '), /CORDON_CODEC_KEYS lists no key/);
    });

    it('the failure converter puts messages and stack traces into a payload the codec encrypts', async () => {
      const failure = failureConverter.errorToFailure(
        ApplicationFailure.create({ message: 'statement: my new ID card is attached', type: 'X' }),
        defaultPayloadConverter,
      );
      assert.equal(failure.message, 'Encoded failure');
      assert.equal(failure.stackTrace, '');
      const [sealed] = await new EncryptionCodec([key('k')]).encode([failure.encodedAttributes!]);
      assert.doesNotMatch(text(sealed!), /ID card/);
    });
  });

  describe('configuration', () => {
    const keys = `k1:${randomBytes(32).toString('base64')}`;

    it('production needs CORDON_CODEC_KEYS; a bad value names the variable, not the key', () => {
      const production = {
        CORDON_MODE: 'production',
        CORDON_TOKENS: 'svc-token-0123456789abcdef=backend:payments-backend',
        CORDON_SESSION_SECRET: 'a-session-secret-of-32-characters!',
        CORDON_HOST: '127.0.0.1',
      };
      assert.throws(() => parseConfig(production), /production mode needs CORDON_CODEC_KEYS/);
      assert.equal(parseConfig({ ...production, CORDON_CODEC_KEYS: keys }).codec.keys?.[0]?.id, 'k1');
      const leaked = randomBytes(20).toString('base64');
      assert.throws(
        () => parseConfig({ CORDON_CODEC_KEYS: `k1:${leaked}` }),
        (err: Error) => /CORDON_CODEC_KEYS entry 1/.test(err.message) && !err.message.includes(leaked),
      );
      assert.throws(
        () => codecFromConfig({ mode: 'production', dataDir: '/nonexistent', codec: {} }),
        /CORDON_CODEC_KEYS/,
      );
    });

    it('allowed browser origins: the local Web UI by default in development, else CORDON_CODEC_CORS_ORIGINS', () => {
      assert.deepEqual(parseConfig({ TEMPORAL_UI_PORT: '9233' }).codec.corsOrigins, [
        'http://localhost:9233',
        'http://127.0.0.1:9233',
      ]);
      assert.deepEqual(
        parseConfig({ CORDON_CODEC_CORS_ORIGINS: 'https://temporal.example.com, http://10.0.0.5:8080' }).codec
          .corsOrigins,
        ['https://temporal.example.com', 'http://10.0.0.5:8080'],
      );
      for (const bad of [
        '*',
        'https://ui.example.com/',
        'https://ui.example.com/path',
        'ftp://x',
        'ui.example.com',
      ])
        assert.throws(
          () => parseConfig({ CORDON_CODEC_CORS_ORIGINS: bad }),
          /CORDON_CODEC_CORS_ORIGINS/,
          bad,
        );
    });

    it('development without keys: one key created in the data folder, shared by every process on it', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'cordon-codec-'));
      try {
        const first = codecFromConfig(parseConfig({ CORDON_DATA_DIR: dataDir }));
        const second = codecFromConfig(parseConfig({ CORDON_DATA_DIR: dataDir }));
        assert.equal(first.currentKeyId, 'dev');
        const [sealed] = await first.encode([json('shared')]);
        assert.equal(defaultPayloadConverter.fromPayload((await second.decode([sealed!]))[0]!), 'shared');
        assert.equal(statSync(join(dataDir, 'codec-key')).mode & 0o777, 0o600);
        const other = codecFromConfig(parseConfig({ CORDON_DATA_DIR: mkdtempSync(join(dataDir, 'x')) }));
        await assert.rejects(other.decode([sealed!]), PayloadDecryptionError, 'another folder, another key');
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });

  describe('workflows run encrypted (real dev server)', function () {
    requires('temporal');
    this.timeout(120_000);

    it('nothing in the history is readable without the key; the case reads back and replays with it', () =>
      withHarness(async (h) => {
        const account = uniqueAccount();
        const statement = `I changed my legal name ${randomUUID()}`;
        const evidence = `doc-${randomUUID()}`;
        await h.cases.reportEvent(
          riskEvent(account, 'IDENTITY_CHECK', { matched: false, field: 'name' }),
          backend,
        );
        const view = await h.act(account, appealUpdate, {
          statement,
          evidence: [evidence],
          requestId: 'a1',
          actor: { kind: 'user', id: account },
        });
        assert.equal(view.status, 'IN_REVIEW', 'the client with the key reads the result');

        const history = await h.handle(account).fetchHistory();
        const payloads = payloadsOf(history);
        assert.ok(payloads.length >= 10, `found ${payloads.length} payloads`);
        for (const p of payloads) {
          if (!coreBookkeeping(p)) assert.equal(meta(p as Payload, 'encoding'), 'binary/encrypted');
          for (const secret of [statement, evidence, account]) assert.ok(!text(p).includes(secret));
        }

        // Without the key, a client sees neither results nor refusal messages.
        const { native } = await sharedConnections();
        const keyless = new Client({ connection: native }); // deliberately without the codec
        await assert.rejects(
          keyless.workflow.getHandle(caseWorkflowId(account)).query(caseViewQuery),
          /binary\/encrypted/,
        );
        const claimOther = (client: Client) =>
          client.workflow
            .getHandle(caseWorkflowId(account))
            .executeUpdate(claimUpdate, { args: [{ caseId: 'not-this-case', reviewer: 'r1' }] });
        await assert.rejects(claimOther(h.client), (err: Error) => {
          assert.ok(err instanceof WorkflowUpdateFailedError);
          assert.equal((err.cause as Error).message, "not this account's current case");
          return true;
        });
        // The refusal's message travelled encrypted (the failure converter): without the key it cannot be read.
        await assert.rejects(claimOther(keyless), (err: Error) => {
          assert.match(err.message, /binary\/encrypted/);
          assert.doesNotMatch(err.message, /current case/);
          return true;
        });

        // The history replays with the committed test key, and not without it: as fetched, and as `npm run
        // record-histories` writes it (the CLI's JSON), which is what CI replays.
        const { address } = await sharedDevServer();
        const recorded: unknown = JSON.parse(
          (
            await run(
              await ensureTemporalCli(),
              ['workflow', 'show', '--address', address, '-w', caseWorkflowId(account), '-o', 'json'],
              { maxBuffer: 64 * 1024 * 1024 },
            )
          ).stdout,
        );
        for (const [name, h] of [
          ['fetched', history],
          ['recorded', recorded],
        ] as const) {
          await Worker.runReplayHistory(
            { workflowBundle: await workflowBundle(), dataConverter: testDataConverter },
            h,
            `encrypted-${name}`,
          );
          await assert.rejects(
            Worker.runReplayHistory(
              { workflowBundle: await workflowBundle() },
              h,
              `encrypted-${name}-no-key`,
            ),
          );
        }
      }));
  });

  describe('the /codec endpoint', function () {
    requires('temporal');
    this.timeout(120_000);
    let a: ApiHarness;
    let account: string;
    let statement: string;
    let evidence: string;
    /** The raw (encrypted) payloads of the case's history, in the remote codec JSON format. */
    let encrypted: { metadata: Record<string, string>; data: string }[];
    const ORIGIN = 'http://127.0.0.1:8233';
    const log = keepingLogger();

    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${a.api.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const staff = (token = 'dev-reviewer-1') => ({ authorization: `Bearer ${token}` });

    before(async function () {
      this.timeout(300_000);
      a = await startApiHarness(log.logger, { CORDON_TOKENS: `${CODEC_ADMIN}=admin:codec-admin` });
      account = uniqueAccount();
      statement = `My new ID card is attached ${randomUUID()}`;
      evidence = `doc-${randomUUID()}`;
      const opened = await post(
        '/v1/risk-events',
        riskEvent(account, 'IDENTITY_CHECK', { matched: false, field: 'name' }),
        staff('dev-backend'),
      );
      const { caseId } = (await opened.json()) as { caseId: string };
      const appealed = await post(
        `/v1/cases/${caseId}/appeal`,
        { statement, evidence: [evidence], requestId: 'appeal-1' },
        staff('dev-backend'),
      );
      assert.equal(appealed.status, 200, await appealed.text());
      const history = await a.h.handle(account).fetchHistory();
      encrypted = payloadsOf(history).map(toJson);
    });

    after(async () => a?.close());

    it('decodes the payloads of a history for the roles that work cases, in the remote codec JSON format', async () => {
      assert.ok(!JSON.stringify(encrypted).includes(statement));
      for (const token of ['dev-reviewer-1', 'dev-senior', CODEC_ADMIN]) {
        const r = await post(
          '/codec/decode',
          { payloads: encrypted },
          { ...staff(token), 'x-namespace': 'default' },
        );
        assert.equal(r.status, 200, token);
        assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
        assert.equal(r.headers.get('cache-control'), 'no-store');
        const body = (await r.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
        assert.equal(body.payloads.length, encrypted.length, 'one answer per payload, in order');
        assert.equal(Buffer.from(body.payloads[0]!.metadata.encoding!, 'base64').toString(), 'json/plain');
        const all = decodedText(body);
        assert.ok(all.includes(statement), 'the appeal statement, decoded');
        assert.ok(all.includes(evidence), 'the evidence reference, decoded');
      }
    });

    it("the backend's and the analyst's tokens may not decode: 403 FORBIDDEN, not a byte of plaintext", async () => {
      for (const token of ['dev-backend', 'dev-analyst']) {
        const r = await post('/codec/decode', { payloads: encrypted }, { ...staff(token), origin: ORIGIN });
        assert.equal(r.status, 403, token);
        assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
        assert.equal(r.headers.get('access-control-allow-origin'), ORIGIN, 'the UI can read why');
        const body = await r.text();
        assert.equal((JSON.parse(body) as { code: string }).code, 'FORBIDDEN', token);
        assert.ok(!body.includes(statement) && !body.includes(evidence), token);
      }
    });

    it('encoding (sealing inputs a worker would trust) is for admins only: every other role gets 403', async () => {
      const plain = [
        { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: btoa('"forged"') },
      ];
      for (const token of ['dev-backend', 'dev-reviewer-1', 'dev-senior', 'dev-analyst']) {
        const r = await post('/codec/encode', { payloads: plain }, staff(token));
        assert.equal(r.status, 403, token);
        assert.equal(((await r.json()) as { code: string }).code, 'FORBIDDEN');
      }
      assert.equal((await post('/codec/encode', { payloads: plain }, staff(CODEC_ADMIN))).status, 200);
    });

    it("every call is logged with who, their role and the workflow the caller names (the Web UI's page), never the payloads", async () => {
      const runId = randomUUID();
      const page = `${ORIGIN}/namespaces/default/workflows/${encodeURIComponent(caseWorkflowId(account))}/${runId}/history`;
      const seen = log.lines.length;
      const ui = await post(
        '/codec/decode',
        { payloads: encrypted },
        { ...staff('dev-senior'), 'x-namespace': 'default', referer: page },
      );
      assert.equal(ui.status, 200);
      const cli = await post('/codec/decode', { payloads: encrypted.slice(0, 2) }, staff());
      assert.equal(cli.status, 200);
      assert.equal((await post('/codec/decode', { payloads: encrypted }, staff('dev-backend'))).status, 403);
      const lines = log.lines.slice(seen).filter((l) => String(l.msg).startsWith('codec '));
      assert.deepEqual(
        lines.map(({ level, msg, principal, role, namespace, workflowId, runId: run, payloads }) => ({
          level,
          msg,
          principal,
          role,
          namespace,
          workflowId,
          runId: run,
          payloads,
        })),
        [
          {
            level: 'info',
            msg: 'codec decode',
            principal: 'senior',
            role: 'senior',
            namespace: 'default',
            workflowId: caseWorkflowId(account),
            runId,
            payloads: encrypted.length,
          },
          // The CLI names no workflow: its decode is logged with who and how many payloads.
          {
            level: 'info',
            msg: 'codec decode',
            principal: 'reviewer-1',
            role: 'reviewer',
            namespace: undefined,
            workflowId: undefined,
            runId: undefined,
            payloads: 2,
          },
          {
            level: 'warn',
            msg: 'codec decode refused',
            principal: 'backend',
            role: 'backend',
            namespace: undefined,
            workflowId: undefined,
            runId: undefined,
            payloads: undefined,
          },
        ],
      );
      const written = JSON.stringify(log.lines);
      assert.ok(!written.includes(statement) && !written.includes(evidence), 'no payload content in the log');
    });

    it('encodes for the UI (with the newest key) what decode reads back', async () => {
      const plain = [
        { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: btoa('"hi"') },
      ];
      const encoded = (await (
        await post('/codec/encode', { payloads: plain }, staff(CODEC_ADMIN))
      ).json()) as any;
      assert.equal(
        Buffer.from(encoded.payloads[0].metadata.encoding, 'base64').toString(),
        'binary/encrypted',
      );
      assert.equal(
        Buffer.from(encoded.payloads[0].metadata['encryption-key-id'], 'base64').toString(),
        'test-1',
      );
      const decoded = (await (await post('/codec/decode', encoded, staff())).json()) as any;
      assert.deepEqual(decoded, { payloads: plain });
    });

    it('refuses without a staff bearer token or console session: 401 problem, CORS headers kept', async () => {
      for (const headers of [{}, staff('not-a-token'), { authorization: 'Basic eDp5' }]) {
        const r = await post('/codec/decode', { payloads: encrypted }, { ...headers, origin: ORIGIN });
        assert.equal(r.status, 401);
        assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
        assert.equal(r.headers.get('www-authenticate'), 'Bearer');
        assert.equal(r.headers.get('access-control-allow-origin'), ORIGIN, 'the UI can read why');
        const body = await r.text();
        assert.match(body, /"code":"UNAUTHORIZED"/);
        assert.ok(!body.includes(statement));
      }
      assert.equal((await post('/codec/encode', { payloads: [] })).status, 401);
    });

    it('CORS: a preflight from the Web UI is answered with credentials allowed; other origins get nothing', async () => {
      const preflight = (origin: string) =>
        fetch(`${a.api.url}/codec/decode`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type,x-namespace',
          },
        });
      for (const origin of ['http://127.0.0.1:8233', 'http://localhost:8233']) {
        const r = await preflight(origin);
        assert.equal(r.status, 204);
        assert.equal(r.headers.get('access-control-allow-origin'), origin);
        assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
        assert.match(r.headers.get('access-control-allow-methods') ?? '', /\bPOST\b/);
        const allowed = (r.headers.get('access-control-allow-headers') ?? '').toLowerCase();
        for (const h of ['content-type', 'x-namespace', 'authorization']) assert.ok(allowed.includes(h), h);
        assert.match(r.headers.get('vary') ?? '', /Origin/);
      }
      const evil = await preflight('https://evil.example');
      assert.equal(evil.headers.get('access-control-allow-origin'), null);
      assert.equal(evil.headers.get('access-control-allow-credentials'), null);
      const r = await post(
        '/codec/decode',
        { payloads: encrypted },
        { ...staff(), origin: 'https://evil.example' },
      );
      assert.equal(
        r.headers.get('access-control-allow-origin'),
        null,
        'the browser keeps the answer from it',
      );
      const ok = await post('/codec/decode', { payloads: encrypted }, { ...staff(), origin: ORIGIN });
      assert.equal(ok.headers.get('access-control-allow-origin'), ORIGIN);
      assert.equal(ok.headers.get('access-control-allow-credentials'), 'true');
    });

    it('a payload sealed with an unknown key is a 422 that names the key ID only', async () => {
      const [foreign] = await new EncryptionCodec([key('retired-9')]).encode([json(statement)]);
      const r = await post(
        '/codec/decode',
        { payloads: [toJson(foreign as Record<string, unknown>)] },
        staff(),
      );
      assert.equal(r.status, 422);
      const body = (await r.json()) as { code: string; detail: string };
      assert.equal(body.code, 'UNKNOWN_CODEC_KEY');
      assert.match(body.detail, /key ID "retired-9"/);
      assert.ok(!JSON.stringify(body).includes(statement));
    });

    it('bad requests: 400 for a body not of the format, 415 for another type, 405 for another method', async () => {
      const invalid = await post('/codec/decode', { payloads: [{ data: 'not base64!' }] }, staff());
      assert.equal(invalid.status, 400);
      assert.equal(((await invalid.json()) as { code: string }).code, 'VALIDATION_FAILED');
      assert.equal((await post('/codec/decode', '{', staff())).status, 400);
      const typed = await fetch(`${a.api.url}/codec/decode`, {
        method: 'POST',
        headers: { ...staff(), 'content-type': 'text/plain' },
        body: 'x',
      });
      assert.equal(typed.status, 415);
      const get = await fetch(`${a.api.url}/codec/decode`, { headers: staff() });
      assert.equal(get.status, 405);
      assert.equal(get.headers.get('allow'), 'POST');
    });

    it('the Temporal CLI shows the history decoded through the endpoint, and encrypted without it', async () => {
      const { address } = await sharedDevServer();
      const show = async (...extra: string[]) =>
        (
          await run(
            await ensureTemporalCli(),
            ['workflow', 'show', '--address', address, '-w', caseWorkflowId(account), '-o', 'json', ...extra],
            { maxBuffer: 64 * 1024 * 1024 },
          )
        ).stdout;
      const payloadText = (out: string) =>
        payloadsOf(JSON.parse(out))
          .map((p) => Buffer.from((p.data as string | undefined) ?? '', 'base64').toString())
          .join('\n');
      const decoded = payloadText(
        await show('--codec-endpoint', `${a.api.url}/codec`, '--codec-auth', 'Bearer dev-reviewer-1'),
      );
      assert.ok(
        decoded.includes(statement) && decoded.includes(evidence),
        'decoded by the CLI through /codec',
      );
      const raw = payloadText(await show());
      assert.ok(!raw.includes(statement) && !raw.includes(evidence));
    });
  });

  describe('npm start', function () {
    requires('temporal');
    this.timeout(240_000);
    let dataDir: string;
    let cordon: Started | undefined;
    before(() => (dataDir = mkdtempSync(join(tmpdir(), 'cordon-codec-start-'))));
    after(async () => {
      if (cordon) await stopCordon(cordon);
      rmSync(dataDir, { recursive: true, force: true });
    });

    /** The bytes of the dev server's database: the SQLite file and its write-ahead log. */
    const temporalFiles = () =>
      Buffer.concat(
        readdirSync(dataDir)
          .filter((f) => f.startsWith('temporal.sqlite'))
          .map((f) => readFileSync(join(dataDir, f))),
      );

    it("points the Web UI at /codec; the dev server's SQLite holds no appeal text, /codec/decode gives it back", async () => {
      const ports = {
        PORT: String(await freePort()),
        TEMPORAL_PORT: String(await freePort()),
        TEMPORAL_UI_PORT: String(await freePort()),
      };
      const api = `http://127.0.0.1:${ports.PORT}`;
      cordon = startCordon({ ...ports, CORDON_DATA_DIR: dataDir });
      const deadline = Date.now() + 150_000;
      while (!cordon.output().includes('Cordon is up')) {
        if (cordon.child.exitCode !== null || Date.now() > deadline)
          assert.fail(`not up:\n${cordon.output()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const ui = `http://127.0.0.1:${ports.TEMPORAL_UI_PORT}`;
      const settings = (await (await fetch(`${ui}/api/v1/settings`)).json()) as {
        Codec: { Endpoint: string; IncludeCredentials: boolean };
      };
      // On the UI's own origin (Cordon's proxy there forwards /codec to the API), so the browser's calls carry
      // the console session: see test/webui.test.ts.
      assert.equal(
        settings.Codec.Endpoint,
        `${ui}/codec`,
        'the dev server UI decodes through its own origin',
      );

      const call = (path: string, body: unknown, token = 'dev-backend') =>
        fetch(`${api}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const account = uniqueAccount();
      const statement = `I changed my legal name last month ${randomUUID()}`;
      const evidence = [`doc-${randomUUID()}`, `https://files.example/${randomUUID()}`];
      const opened = await call('/v1/risk-events', riskEvent(account, 'IDENTITY_CHECK', { matched: false }));
      const { caseId } = (await opened.json()) as { caseId: string };
      const appealed = await call(`/v1/cases/${caseId}/appeal`, {
        statement,
        evidence,
        requestId: 'appeal-1',
      });
      const answer = await appealed.text();
      assert.equal(appealed.status, 200, answer);
      assert.equal((JSON.parse(answer) as { status: string }).status, 'IN_REVIEW');

      // The history as the Web UI gets it from the server: encrypted payloads, which /codec/decode opens.
      const shown = await run(
        await ensureTemporalCli(),
        [
          'workflow',
          'show',
          '--address',
          `127.0.0.1:${ports.TEMPORAL_PORT}`,
          '-w',
          caseWorkflowId(account),
        ].concat(['-o', 'json']),
        { maxBuffer: 64 * 1024 * 1024 },
      );
      const payloads = payloadsOf(JSON.parse(shown.stdout)).map(toJson);
      const decoded = await call('/codec/decode', { payloads }, 'dev-reviewer-1');
      assert.equal(decoded.status, 200);
      const all = decodedText((await decoded.json()) as { payloads: { data: string }[] });
      for (const secret of [statement, ...evidence])
        assert.ok(all.includes(secret), 'decoded by /codec/decode');
      // The same through the UI's endpoint, with the same rules: the backend's token opens nothing there either.
      const viaUi = (token: string) =>
        fetch(settings.Codec.Endpoint + '/decode', {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ payloads }),
        });
      const proxied = await viaUi('dev-reviewer-1');
      assert.equal(proxied.status, 200);
      assert.ok(decodedText((await proxied.json()) as { payloads: { data: string }[] }).includes(statement));
      assert.equal((await viaUi('dev-backend')).status, 403);

      // What the dev server stored: the case is there (its workflow ID is plaintext), its payloads are not.
      const check = () => {
        const stored = temporalFiles();
        assert.ok(stored.includes(caseWorkflowId(account)), 'the scan sees what the server stored');
        for (const secret of [statement, ...evidence])
          assert.ok(!stored.includes(secret), `${secret} is not stored in plaintext`);
      };
      check();
      assert.equal(await stopCordon(cordon), 0, cordon.output());
      cordon = undefined;
      check(); // after the write-ahead log is checkpointed into the file
    });
  });
});
