// The audit export end to end: cases driven over real HTTP through the API and a real worker on the Temporal dev
// server, their exports fetched over HTTP (GET /v1/cases/{id}/audit) with the public keys (GET /v1/audit-keys),
// then checked by the real command line (`cordon audit verify`, a child process): intact exports exit 0, every
// kind of tampered copy exits 1 naming what is wrong, usage errors exit 2. An ended case exports from the
// archive, and still verifies once its account is erased (its Temporal runs deleted, its words gone); a case
// opened before the chain is listed and says so.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { genesisOf, hashOf, type ChainedEntry } from '../core/audit-chain';
import { openCase, transition } from '../core/case-machine';
import { caseViewOf } from '../core/case-view';
import { parseCaseId } from '../core/contracts';
import { CASE_RULES_VERSION, caseTermsOf } from '../core/policy';
import { AuditKeyRing, parseAuditKeys, type PublishedAuditKeys } from '../infra/audit-keys';
import { parseCodecKeys } from '../infra/codec';
import { openStore, type Store } from '../infra/store';
import type { AuditExport } from '../api/audit-export';
import { AuditExportAnswer, AuditKeysAnswer } from '../api/routes/audit';
import { defaultPolicy } from './helpers/deps';
import { ADMIN_1, ADMIN_ONE, approve, requestErasure, TOKENS } from './helpers/erasure-env';
import { riskEvent, uniqueAccount } from './helpers/events';
import { eventually } from './helpers/harness';
import {
  assertNothingOf,
  BACKEND,
  call,
  driveCase,
  personalData,
  REVIEWER,
  startOn,
  type PersonalData,
  type Running,
} from './helpers/personal-case';
import { requires } from './helpers/requirements';
import { TEST_CODEC_KEYS } from './helpers/servers';

const ROOT = resolve(__dirname, '..');
const BIN = join(ROOT, 'cli', 'cordon');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `cordon <args>` as a child process. */
function cordon(args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8' }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('audit export: over HTTP, checked by the command line', function () {
  requires('temporal');
  this.timeout(300_000);
  let dataDir: string;
  let files: string;
  let store: Store;
  let r: Running;
  let base: string;
  let keysFile: string;
  /** A case left open, in review, with an appeal: read from its running workflow. */
  let open: { caseId: string; accountId: string; statement: string; exported: AuditExport; file: string };
  /** A whole case that has ended: from the archive. */
  let ended: { caseId: string; p: PersonalData; exported: AuditExport; file: string };

  const write = (name: string, value: unknown) => {
    const path = join(files, name);
    writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
    return path;
  };
  const fetchExport = async (caseId: string, token = 'dev-reviewer-1') => {
    const got = await call(base, 'GET', `/v1/cases/${caseId}/audit`, auth(token));
    assert.equal(got.status, 200, got.text);
    return { exported: got.json as AuditExport, text: got.text };
  };
  const verify = (file: string, keys = keysFile) => cordon(['audit', 'verify', file, '--keys', keys]);

  before(async function () {
    this.timeout(300_000);
    dataDir = mkdtempSync(join(tmpdir(), 'cordon-audit-'));
    files = mkdtempSync(join(tmpdir(), 'cordon-audit-files-'));
    store = await openStore({
      sqliteFile: join(dataDir, 'cordon.sqlite'),
      codecKeys: parseCodecKeys(TEST_CODEC_KEYS),
    });
    r = await startOn(store, dataDir, { env: { CORDON_TOKENS: TOKENS, CORDON_ERASURE_MIN_HOLD_DAYS: '0' } });
    base = r.api.url;
    // The keys as a verifier gets them: over HTTP, without a token.
    const keys = await fetch(`${base}/v1/audit-keys`);
    assert.equal(keys.status, 200);
    keysFile = write('keys.json', await keys.text());

    const accountId = uniqueAccount('audit');
    const statement = `I was abroad at my sister's wedding ${randomUUID()}`;
    const opened = await call(
      base,
      'POST',
      '/v1/risk-events',
      BACKEND,
      riskEvent(accountId, 'IDENTITY_CHECK', { matched: false, field: 'name' }),
    );
    assert.equal(opened.status, 200, opened.text);
    const caseId = opened.json.caseId as string;
    const appealed = await call(base, 'POST', `/v1/cases/${caseId}/appeal`, BACKEND, {
      statement,
      requestId: `appeal-${randomUUID()}`,
    });
    assert.equal(appealed.status, 200, appealed.text);
    assert.equal((await call(base, 'POST', `/v1/cases/${caseId}/claim`, REVIEWER)).status, 200);
    // The restriction's effect is recorded by the workflow after its activity: wait for it.
    await eventually(async () =>
      (await r.h.view(accountId)).timeline.some((e) => e.type === 'RESTRICTION_APPLIED'),
    );
    const got = await fetchExport(caseId);
    open = { caseId, accountId, statement, exported: got.exported, file: write('open.json', got.text) };

    const p = personalData();
    const endedId = await driveCase(r, p);
    const e = await fetchExport(endedId);
    ended = { caseId: endedId, p, exported: e.exported, file: write('ended.json', e.text) };
  });

  after(async () => {
    await r?.close();
    await store?.db.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (files) rmSync(files, { recursive: true, force: true });
  });

  it('GET /v1/audit-keys: no token needed; the signing key, PEM and JWK, that the data folder created', async () => {
    const keys = (await fetch(`${base}/v1/audit-keys`).then((res) => res.json())) as PublishedAuditKeys;
    assert.equal(keys.keys.length, 1);
    const key = keys.keys[0]!;
    assert.match(key.keyId, /^dev-[0-9a-f]{12}$/);
    assert.equal(key.signing, true);
    assert.match(key.publicKey, /^-----BEGIN PUBLIC KEY-----/);
    assert.deepEqual([key.publicKeyJwk.kty, key.publicKeyJwk.crv], ['OKP', 'Ed25519']);
    assert.equal(open.exported.head.keyId, key.keyId);
    // What the OpenAPI document says it answers.
    AuditKeysAnswer.parse(keys);
  });

  it('a running case: every entry as the case wrote it, with its stored hash; words by digest only', async () => {
    const view = await r.h.view(open.accountId);
    const x = open.exported;
    assert.equal(x.caseId, open.caseId);
    assert.equal(x.rulesVersion, CASE_RULES_VERSION);
    for (const answer of [x, ended.exported]) AuditExportAnswer.parse(answer);
    assert.equal(x.entries.length, view.timeline.length, 'no delivery entry merged in, none left out');
    assert.deepEqual(
      x.entries.map((e) => [e.entry.type, e.hash]),
      view.timeline.map((e) => [e.type, e.hash]),
    );
    assert.ok(x.entries.every((e) => /^[0-9a-f]{64}$/.test(e.hash ?? '')));
    assert.deepEqual(x.head, {
      caseId: open.caseId,
      chained: true,
      entryCount: view.timeline.length,
      headHash: view.timeline.at(-1)!.hash,
      exportedAt: x.head.exportedAt,
      keyId: x.head.keyId,
    });
    const appeal = x.entries.find((e) => e.entry.type === 'APPEAL')!.entry;
    assert.deepEqual(Object.keys(appeal.digests ?? {}), ['statement']);
    assert.equal(appeal.statement, undefined);
    assert.doesNotMatch(
      JSON.stringify(x),
      new RegExp(open.statement.slice(-12)),
      'the words are not exported',
    );
  });

  it('reviewers, seniors and admins may export; the backend and analysts may not; an unknown case is 404', async () => {
    const path = `/v1/cases/${open.caseId}/audit`;
    for (const token of ['dev-reviewer-2', 'dev-senior', ADMIN_1])
      assert.equal((await call(base, 'GET', path, auth(token))).status, 200, token);
    for (const token of ['dev-backend', 'dev-analyst']) {
      const refused = await call(base, 'GET', path, auth(token));
      assert.equal(refused.status, 403, token);
      assert.equal(refused.json.code, 'FORBIDDEN');
    }
    assert.equal((await call(base, 'GET', path, {})).status, 401);
    const unknown = await call(base, 'GET', `/v1/cases/${uniqueAccount()}.0123456789ab/audit`, REVIEWER);
    assert.equal(unknown.status, 404, unknown.text);
    assert.equal(unknown.json.code, 'CASE_NOT_FOUND');
    const bad = await call(base, 'GET', '/v1/cases/not-a-case/audit', REVIEWER);
    assert.equal(bad.status, 400);
  });

  it('cordon audit verify: exit 0 and one line for the intact exports, open and ended', async () => {
    for (const [file, x] of [
      [open.file, open.exported],
      [ended.file, ended.exported],
    ] as const) {
      const run = await verify(file);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.equal(
        run.stdout,
        `${file}: intact: case ${x.caseId}, ${x.entries.length} entries, head ${x.head.headHash}, signed by key ${x.head.keyId} at ${x.head.exportedAt}\n`,
      );
    }
  });

  describe('a tampered copy exits 1, naming the first entry that is not intact', () => {
    /** The ended case's export, changed by `change`: the verdict's line. */
    async function tampered(name: string, change: (x: AuditExport) => void): Promise<string> {
      const x = clone(ended.exported);
      change(x);
      const run = await verify(write(`${name}.json`, x));
      assert.equal(run.code, 1, `${name}: ${run.stdout}${run.stderr}`);
      assert.match(run.stdout, /: NOT intact: /, name);
      assert.equal(run.stdout.split('\n').length, 2, 'one line');
      return run.stdout;
    }
    const index = (type: string, nth = 0) =>
      ended.exported.entries.map((e, i) => [e.entry.type, i] as const).filter(([t]) => t === type)[nth]![1];
    /** The start of the verdict that names entry i (escaped for a RegExp). */
    const at = (i: number) => `entry ${i} \\(${ended.exported.entries[i]!.entry.type} at `;

    it('an altered entry: a decision, a time, an actor, a digest, a detail added', async () => {
      const unlock = index('DECISION', 1);
      assert.equal(ended.exported.entries[unlock]!.entry.decision, 'UNLOCK');
      assert.match(
        await tampered('decision', (x) => (x.entries[unlock]!.entry.decision = 'CLOSE')),
        new RegExp(`${at(unlock)}.*: its hash is not that of its content`),
      );
      assert.match(
        await tampered('time', (x) => (x.entries[2]!.entry.at = new Date(0).toISOString())),
        new RegExp(at(2)),
      );
      const appeal = index('APPEAL');
      assert.match(
        await tampered(
          'actor',
          (x) => (x.entries[appeal]!.entry.actor = { kind: 'user', id: 'someone-else' }),
        ),
        new RegExp(at(appeal)),
      );
      // Words put in the place of what was written: their digest is not the one chained.
      assert.match(
        await tampered('digest', (x) => {
          x.entries[appeal]!.entry.digests!.statement = createHash('sha256')
            .update('"other words"')
            .digest('hex');
        }),
        new RegExp(at(appeal)),
      );
      assert.match(
        await tampered('added-detail', (x) => (x.entries[0]!.entry.note = 'a staff note')),
        new RegExp(at(0)),
      );
      // The hash alone changed.
      assert.match(await tampered('hash', (x) => (x.entries[3]!.hash = 'f'.repeat(64))), new RegExp(at(3)));
    });

    it('a removed entry: in the middle, the first, the last', async () => {
      assert.match(await tampered('removed', (x) => x.entries.splice(4, 1)), /entry 4 \(/);
      assert.match(await tampered('removed-first', (x) => x.entries.shift()), /entry 0 \(/);
      const n = ended.exported.entries.length;
      assert.match(
        await tampered('removed-last', (x) => x.entries.pop()),
        new RegExp(
          `entry ${n - 1}: missing \\(the signed head counts ${n} entries, the export has ${n - 1}\\)`,
        ),
      );
    });

    it('reordered entries', async () => {
      assert.match(
        await tampered('swapped', (x) => {
          const [a, b] = [x.entries[3]!, x.entries[5]!];
          x.entries[3] = b;
          x.entries[5] = a;
        }),
        /entry 3 \(/,
      );
    });

    it('an added entry: a copy within, a made-up one at the end', async () => {
      assert.match(
        await tampered('copied', (x) => x.entries.splice(2, 0, clone(x.entries[5]!))),
        /entry 2 \(/,
      );
      const n = ended.exported.entries.length;
      const made: ChainedEntry = {
        at: new Date().toISOString(),
        actor: { kind: 'reviewer', id: 'reviewer-1' },
        type: 'DECISION',
        decision: 'CLOSE',
      };
      // Even with a hash that follows the last one: the signed head counts one entry fewer.
      assert.match(
        await tampered('appended', (x) =>
          x.entries.push({ entry: made, hash: hashOf(x.entries[n - 1]!.hash!, made) }),
        ),
        new RegExp(
          `entry ${n} \\(DECISION at .*\\): not in the signed head \\(it counts ${n} entries\\): added`,
        ),
      );
    });

    it('entries rewritten with every hash recomputed: the chain no longer ends at the signed head', async () => {
      const line = await tampered('rewritten', (x) => {
        x.entries[index('OUTCOME')]!.entry.outcome = 'CLOSED';
        let previous = genesisOf(x.caseId);
        for (const e of x.entries) previous = e.hash = hashOf(previous, e.entry);
      });
      assert.match(
        line,
        /the entries' chain ends at [0-9a-f]{64}, not at the signed head [0-9a-f]{64}: the entries were rewritten/,
      );
    });

    it('the head or its signature: altered, re-signed by another key, or taken from another case', async () => {
      const refusedSignature = /the signature is not key dev-[0-9a-f]{12}'s over this head/;
      assert.match(await tampered('head-count', (x) => (x.head.entryCount -= 1)), refusedSignature);
      assert.match(await tampered('head-hash', (x) => (x.head.headHash = 'a'.repeat(64))), refusedSignature);
      assert.match(
        await tampered('signature', (x) => {
          const bytes = Buffer.from(x.signature, 'base64');
          bytes[10] = bytes[10]! ^ 1;
          x.signature = bytes.toString('base64');
        }),
        refusedSignature,
      );
      // Someone else's key, under the real key's ID: the published key says no.
      const impostor = new AuditKeyRing(
        parseAuditKeys(
          `${ended.exported.head.keyId}:${generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')}`,
        ),
      );
      assert.match(
        await tampered('resigned', (x) => {
          x.head.entryCount -= 1;
          x.entries.pop();
          x.head.headHash = x.entries.at(-1)!.hash;
          x.signature = impostor.sign(x.head);
        }),
        refusedSignature,
      );
      // ...and under a key ID of its own, its public key carried in the export: never trusted.
      const own = new AuditKeyRing(
        parseAuditKeys(
          `mine:${generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')}`,
        ),
      );
      assert.match(
        await tampered('own-key', (x) => {
          x.head.keyId = 'mine';
          x.signature = own.sign(x.head);
          Object.assign(x, { keys: own.published().keys, publicKey: own.published().keys[0]!.publicKey });
        }),
        /the head is signed with key mine, which the keys file does not publish/,
      );
      // Another case's signed head over this case's entries.
      assert.match(
        await tampered('other-head', (x) => {
          x.head = clone(open.exported.head);
          x.signature = open.exported.signature;
        }),
        new RegExp(`the signed head is of case ${open.caseId}, not ${ended.caseId}`),
      );
    });
  });

  it('usage errors exit 2: a missing or unreadable file, no keys, keys that are not keys, unknown arguments', async () => {
    const notJson = write('not.json', 'this is not JSON');
    const noKeys = write('nokeys.json', { keys: [] });
    for (const [args, says] of [
      [['audit', 'verify', join(files, 'missing.json'), '--keys', keysFile], /cannot read export .*ENOENT/],
      [['audit', 'verify', ended.file], /required option '--keys <file>'/],
      [['audit', 'verify', '--keys', keysFile], /missing required argument 'file'/],
      [['audit', 'verify', ended.file, '--keys', join(files, 'missing-keys.json')], /cannot read keys file/],
      [['audit', 'verify', ended.file, '--keys', notJson], /keys file .* is not JSON/],
      [['audit', 'verify', ended.file, '--keys', noKeys], /keys file .*: no "keys" list/],
      [['audit', 'verify', notJson, '--keys', keysFile], /export .* is not JSON/],
      [['audit', 'verify', ended.file, '--keys', keysFile, '--trust-me'], /unknown option '--trust-me'/],
      [['audit', 'check', ended.file], /unknown command 'check'/],
      [['audit'], /Usage: cordon audit/],
    ] as const) {
      const run = await cordon([...args]);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, says, args.join(' '));
      assert.equal(run.stdout, '', 'no verdict');
    }
  });

  it('an ended case exports from the archive, and still verifies once its account is erased', async () => {
    const { caseId, p } = ended;
    const accountId = parseCaseId(caseId)!.accountId;
    // What was written in words never leaves in an export, erased or not.
    assertNothingOf(p, [Buffer.from(JSON.stringify(ended.exported))], 'the export');
    const requested = await requestErasure(base, accountId);
    assert.equal(requested.status, 202, requested.text);
    const erasureId = requested.json.erasureId as string;
    assert.equal((await approve(base, erasureId)).status, 202);
    await eventually(
      async () => {
        const got = await call(base, 'GET', `/v1/erasures/${erasureId}`, ADMIN_ONE);
        assert.notEqual(got.json.status, 'FAILED', got.text);
        return got.json.status === 'DONE';
      },
      150_000,
      'the erasure done',
    );
    // Temporal keeps no run of the account now: what answers is the archive.
    const after = await fetchExport(caseId);
    assert.equal(after.exported.erased?.erasureId, erasureId);
    assert.equal(after.exported.head.headHash, ended.exported.head.headHash);
    assert.deepEqual(
      after.exported.entries.map((e) => [e.entry, e.hash]),
      ended.exported.entries.map((e) => [e.entry, e.hash]),
      'every entry as chained, digests included, unchanged by the erasure',
    );
    const archived = (await store.archive.find(caseId))!.view;
    assert.equal(
      archived.timeline.find((e) => e.type === 'APPEAL')!.statement,
      undefined,
      'the words are gone',
    );
    const run = await verify(write('erased.json', after.text));
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /: intact: /);
  });

  it('a case opened before the chain (rules 3) is listed, marked unchained, and the command line says so', async () => {
    // A rules-3 case as 0.4 archived it (this code opens every case under rules 4).
    const accountId = uniqueAccount('audit-r3');
    const caseId = `${accountId}.0123456789ab`;
    const terms = { ...caseTermsOf(defaultPolicy()), rulesVersion: 3 };
    const decision = {
      tier: 'FREEZE' as const,
      score: 60,
      reasons: [{ code: 'IDENTITY_MISMATCH' as const, contribution: 60, ruleId: 'identity' }],
      policyVersion: 'v1',
      policyHash: 'h',
      lockout: false,
      verificationAllowed: true,
      unavailableSources: [],
    };
    const actor = { kind: 'backend' as const, id: 'backend' };
    const opened = openCase({
      caseId,
      accountId,
      locale: 'en',
      terms,
      at: Date.now(),
      eventId: 'e1',
      eventType: 'IDENTITY_CHECK',
      decision,
      actor,
    });
    const statement = `words from before the chain ${randomUUID()}`;
    const appealed = transition(
      opened.state,
      { kind: 'APPEAL', statement, actor: { kind: 'user', id: accountId } },
      Date.now(),
    );
    assert.ok(appealed.ok);
    await store.archive.record(caseViewOf(appealed.state), [], [], 3_600_000);
    const { exported, text } = await fetchExport(caseId);
    AuditExportAnswer.parse(exported);
    assert.equal(exported.rulesVersion, 3);
    assert.equal(exported.head.chained, false);
    assert.equal(exported.head.headHash, null);
    assert.equal(exported.entries.length, appealed.state.timeline.length);
    assert.ok(exported.entries.every((e) => e.hash === null));
    assert.doesNotMatch(text, new RegExp(statement.slice(-12)), 'words by digest even here');
    assert.equal(
      exported.entries.find((e) => e.entry.type === 'APPEAL')!.entry.digests!.statement,
      createHash('sha256').update(JSON.stringify(statement)).digest('hex'),
    );
    const run = await verify(write('rules3.json', text));
    assert.equal(run.code, 1, run.stdout);
    assert.match(
      run.stdout,
      /the signature holds, but the case was opened before the audit chain \(rules 4\)/,
    );
  });
});
