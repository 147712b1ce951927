// A whole case carrying personal data, driven through the API over HTTP with a real worker, and what the tests of
// personal data at rest (test/data-at-rest.test.ts) and of erasure (test/erasure.test.ts) look for afterwards in
// the raw bytes of every store.
import assert from 'node:assert/strict';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendNotifier } from '../../activities/channels';
import { startDispatcher, type Dispatcher } from '../../activities/dispatcher';
import { startApi, type RunningApi } from '../../api/main';
import { parseConfig } from '../../infra/config';
import { linkKeysFromConfig, signLink, type LinkKey } from '../../infra/links';
import type { Store } from '../../infra/store';
import { quiet } from './deps';
import { eventually, newHarness, type Harness } from './harness';
import { formFields, PortalAgent } from './portal-env';
import { sharedDevServer, TEST_CODEC_KEYS } from './servers';

export const BACKEND = { authorization: 'Bearer dev-backend' };
export const REVIEWER = { authorization: 'Bearer dev-reviewer-1' };
const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join('');

/** Every file under a folder, as bytes (`skip`: names passed over, e.g. the mail catcher's inbox). */
export function filesUnder(dir: string, skip: (name: string) => boolean = () => false): Buffer[] {
  const out: Buffer[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (skip(name)) continue;
    let s;
    try {
      s = statSync(path);
    } catch {
      continue; // gone meanwhile (a temporary file)
    }
    if (s.isDirectory()) out.push(...filesUnder(path, skip));
    else if (s.isFile()) out.push(readFileSync(path));
  }
  return out;
}

/** The secrets of one case: each one unique to this run, so finding it anywhere means it was stored. */
export function personalData() {
  const tag = randomUUID().slice(0, 8);
  const passport = `E${digits(8)}`;
  return {
    email: `mei.lin.${tag}@example.test`,
    phone: `+86 139 ${digits(4)} ${digits(4)}`,
    timeZone: 'Pacific/Chatham',
    passport,
    statement: `I renewed my passport ${passport} after my marriage, ref ${tag}`,
    question: `Please send the page of your bank statement with your new address ${tag}`,
    rationale: `The name on file differs from the renewed passport ${tag}`,
    answer: `Attached is my statement from the Chengdu branch ${tag}`,
    fileName: `bank-statement-${tag}.txt`,
    fileText: `Account holder Mei Lin, 88 Renmin Road, Chengdu ${tag}`,
    explanation: `Your renewed passport matches your account ${tag}`,
  };
}
export type PersonalData = ReturnType<typeof personalData>;

/** Which of the secrets the bytes hold (by name): none, for a store that keeps nothing personal in plaintext. */
export function assertNothingOf(p: PersonalData, stored: Buffer[], where: string): void {
  const found = Object.entries(p)
    .filter(([, secret]) => stored.some((b) => b.includes(secret)))
    .map(([name]) => name);
  assert.deepEqual(found, [], `found in plaintext in ${where}`);
}

export interface Running {
  h: Harness;
  api: RunningApi;
  store: Store;
  dataDir: string;
  linkKeys: LinkKey[];
  close(): Promise<void>;
}

/**
 * A worker and the API over HTTP on the shared dev server, on this Store, with a data folder of its own. `env`
 * adds configuration; `backend` receives the backend's webhooks instead of the harness's recorder.
 */
export async function startOn(
  store: Store,
  dataDir: string,
  o: { env?: Record<string, string>; backend?: BackendNotifier } = {},
): Promise<Running> {
  const server = await sharedDevServer();
  const h = await newHarness({ store });
  let dispatcher: Dispatcher = h.dispatcher;
  if (o.backend) {
    await h.dispatcher.stop();
    dispatcher = startDispatcher({
      store,
      channels: h.deps.channels,
      backend: o.backend,
      logger: quiet,
      pollMs: 100,
      maxBackoffMs: 500,
    });
    h.deps.onEnqueued = () => dispatcher.kick();
  }
  const workerDone = h.worker.run();
  const config = parseConfig({
    PORT: '0',
    TEMPORAL_ADDRESS: server.address,
    CORDON_TASK_QUEUE: h.taskQueue,
    CORDON_CODEC_KEYS: TEST_CODEC_KEYS,
    CORDON_DATA_DIR: dataDir,
    CORDON_LINK_KEYS: `t1:${randomBytes(32).toString('base64')}`,
    ...o.env,
  });
  const api = await startApi(config, quiet, undefined, store);
  return {
    h,
    api,
    store,
    dataDir,
    linkKeys: linkKeysFromConfig(config),
    async close() {
      await api.close();
      h.worker.shutdown();
      await workerDone;
      await dispatcher.stop();
      await h.dispatcher.stop();
    },
  };
}

export async function call(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: text.startsWith('{') ? JSON.parse(text) : undefined };
}

/**
 * One case from event to outcome, each personal datum through the path a real one takes: an event with a
 * contact, an appeal with a statement, a reviewer's question answered with a file on the user's page, an
 * outcome with an explanation. Answers the case ID once the case is archived and every message owed for it is
 * delivered.
 */
export async function driveCase(r: Running, p: PersonalData): Promise<string> {
  const base = r.api.url;
  const accountId = `acct-rest-${randomUUID().slice(0, 8)}`;
  const opened = await call(base, 'POST', '/v1/risk-events', BACKEND, {
    eventId: `evt-${randomUUID()}`,
    accountId,
    type: 'IDENTITY_CHECK',
    occurredAt: new Date().toISOString(),
    attributes: { matched: false, field: 'name' },
    contact: { email: p.email, phone: p.phone, timeZone: p.timeZone },
  });
  assert.equal(opened.status, 200, opened.text);
  const caseId = opened.json.caseId as string;
  // The backend files the user's appeal (recorded with its first answer: the case view, statement included).
  const appealed = await call(base, 'POST', `/v1/cases/${caseId}/appeal`, BACKEND, {
    statement: p.statement,
    requestId: `appeal-${randomUUID()}`,
  });
  assert.equal(appealed.status, 200, appealed.text);
  assert.equal((await call(base, 'POST', `/v1/cases/${caseId}/claim`, REVIEWER)).status, 200);
  const asked = await call(base, 'POST', `/v1/cases/${caseId}/decision`, REVIEWER, {
    decision: 'REQUEST_INFO',
    rationale: p.rationale,
    question: p.question,
    requestId: `ask-${randomUUID()}`,
  });
  assert.equal(asked.status, 200, asked.text);
  // The user answers on their page with a file, as from the link in their notice.
  const token = signLink(r.linkKeys, { caseId, purpose: 'case', expiresAt: Date.now() + 3_600_000 });
  const agent = new PortalAgent(base);
  const path = `/u/${token}`;
  const page = await agent.send('GET', `${path}?lang=en`);
  assert.equal(page.status, 200, page.text);
  const fd = new FormData();
  for (const [k, v] of Object.entries(formFields(page.text, `${path}/info`))) fd.append(k, v);
  fd.append('answer', p.answer);
  fd.append('files', new Blob([p.fileText], { type: 'text/plain' }), p.fileName);
  const sent = await agent.send('POST', `${path}/info`, { multipart: fd });
  assert.equal(sent.status, 303, sent.text);
  await eventually(
    async () => (await call(base, 'POST', `/v1/cases/${caseId}/claim`, REVIEWER)).status === 200,
  );
  const decided = await call(base, 'POST', `/v1/cases/${caseId}/decision`, REVIEWER, {
    decision: 'UNLOCK',
    rationale: p.rationale,
    explanation: { code: 'IDENTITY_MISMATCH', text: p.explanation },
    requestId: `unlock-${randomUUID()}`,
  });
  assert.equal(decided.status, 200, decided.text);
  await eventually(async () => (await r.store.archive.find(caseId)) !== null, 30_000, 'the case archived');
  await eventually(
    async () => {
      const ms = await r.store.outbox.messagesOf(caseId);
      return ms.length > 0 && ms.every((m) => m.status === 'DELIVERED');
    },
    30_000,
    'every message delivered',
  );
  return caseId;
}
