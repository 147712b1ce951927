// The running policy follows its file: a valid change becomes the policy for what is scored next, an invalid one
// is refused with its problems and the running policy stays.
import assert from 'node:assert/strict';
import {
  mkdtempSync,
  readFileSync,
  rmSync,
  unwatchFile,
  utimesSync,
  watchFile,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScorer, reloadingScorer, type Scorer } from '../activities/scorer';
import type { Logger } from '../infra/logger';

const DEFAULT_POLICY = join(__dirname, '..', 'policy', 'default.json');

function recorder(lines: { level: string; msg: string; fields?: Record<string, unknown> }[]): Logger {
  const log =
    (level: string) =>
    (msg: string, fields?: Record<string, unknown>): void =>
      void lines.push({ level, msg, fields });
  const self: Logger = {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: () => self,
  };
  return self;
}

async function until(what: string, check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Writes the file and resolves once its poller has seen the change, within ms. fs.watchFile keeps one poller per
 * file and calls its listeners in the order they were added, synchronously: the scorer's (added when it was
 * made) has then already handled the change. The poller's first look at the file can come after a write made
 * just as the scorer starts, and then sees no change: so the file's mtime moves on every 50 ms until one does.
 */
async function writeAndPoll(file: string, content: string, ms = 5_000): Promise<void> {
  let nudge: NodeJS.Timeout | undefined;
  let timer: NodeJS.Timeout | undefined;
  let seen: ((now: Stats, before: Stats) => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      seen = (now, before) => {
        if (now.mtimeMs !== before.mtimeMs || now.size !== before.size) resolve();
      };
      watchFile(file, { interval: 20, persistent: false }, seen);
      timer = setTimeout(
        () => reject(new Error(`the poller did not see ${file} change within ${ms} ms`)),
        ms,
      );
      writeFileSync(file, content);
      let step = 0;
      nudge = setInterval(() => utimesSync(file, new Date(), new Date(Date.now() + ++step * 1_000)), 50);
    });
  } finally {
    clearInterval(nudge);
    clearTimeout(timer);
    if (seen) unwatchFile(file, seen);
  }
}

describe('policy reload', () => {
  let dir: string;
  let scorer: Scorer | undefined;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'cordon-policy-'))));
  afterEach(() => {
    scorer?.close?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes a valid change, refuses an invalid one with its path and keeps the running policy', async () => {
    const file = join(dir, 'policy.json');
    const raw = JSON.parse(readFileSync(DEFAULT_POLICY, 'utf8'));
    writeFileSync(file, JSON.stringify(raw));
    const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
    scorer = reloadingScorer(file, recorder(lines), (p) => createScorer(p), 20);
    const first = scorer.policy;
    assert.equal(first.policy.version, raw.version);

    // Formatting alone is no new policy: once the scorer has looked at the reformatted file, nothing changed.
    await writeAndPoll(file, JSON.stringify(raw, null, 2));
    assert.equal(scorer.policy.hash, first.hash);
    assert.equal(lines.filter((l) => l.msg === 'policy reloaded').length, 0);

    // A real change is in place by the poll that sees it: what makes the wait above one for the scorer.
    await writeAndPoll(file, JSON.stringify({ ...raw, version: 'reloaded-1' }));
    assert.equal(scorer.policy.policy.version, 'reloaded-1', 'reloaded by the poll that saw the change');
    assert.ok(lines.some((l) => l.msg === 'policy reloaded' && l.fields?.to === 'reloaded-1'));

    writeFileSync(file, JSON.stringify({ ...raw, version: 'broken', thresholds: 'high' }));
    await until('the refusal', () => lines.some((l) => l.level === 'warn'));
    const refusal = lines.find((l) => l.level === 'warn')!;
    assert.equal(refusal.msg, 'policy file refused: the running policy stays');
    assert.match(String(refusal.fields?.problems), /thresholds/);
    assert.equal(scorer.policy.policy.version, 'reloaded-1', 'the running policy stays');

    writeFileSync(file, '{ not json');
    await until('the second refusal', () => lines.filter((l) => l.level === 'warn').length >= 2);
    assert.equal(scorer.policy.policy.version, 'reloaded-1');

    // What is scored next uses the running policy.
    const result = await scorer.score({
      eventId: 'e-1',
      accountId: 'acct-reload',
      type: 'IDENTITY_CHECK',
      occurredAt: new Date().toISOString(),
      attributes: { matched: false },
    });
    assert.equal(result.decision.policyVersion, 'reloaded-1');
  });
});
