import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActivityDeps } from '../../activities';
import { openStore, type Store } from '../../infra/store';
import type { BackendNotifier, NotificationChannel } from '../../activities/channels';
import type { AccountGateway } from '../../activities/gateway';
import { createScorer, type DataSource } from '../../activities/scorer';
import type { RenderedMessage } from '../../activities/templates';
import type { ApplyRestrictionCommand, RestrictionCommand } from '../../core/activity-contract';
import type { BackendEvent, UserNotice } from '../../core/messages';
import { createLogger } from '../../infra/logger';
import { loadPolicy } from '../../infra/policy-loader';
import type { LoadedPolicy } from '../../core/policy';

export const quiet = createLogger('test', { level: 'error' });
export const defaultPolicy = (): LoadedPolicy => loadPolicy(require.resolve('../../policy/default.json'));

/** Records what reached the user, as a deduplicating receiver would see it. */
export class RecordingChannel implements NotificationChannel {
  readonly name = 'recording';
  readonly sent: { notice: UserNotice; message: RenderedMessage }[] = [];
  async send(notice: UserNotice, message: RenderedMessage) {
    this.sent.push({ notice, message });
    return { delivered: true };
  }
  templates(caseId?: string): string[] {
    return this.sent.filter((s) => !caseId || s.notice.caseId === caseId).map((s) => s.notice.template);
  }
}

export class RecordingNotifier implements BackendNotifier {
  readonly name = 'recording';
  readonly events: BackendEvent[] = [];
  async send(event: BackendEvent) {
    this.events.push(event);
    return { delivered: true };
  }
}

/**
 * The platform's account system as a test sees it: each account's current restriction, each command carried out
 * once per idempotency key, as a real account system's should be.
 */
export class RecordingGateway implements AccountGateway {
  readonly name = 'recording';
  readonly accounts = new Map<string, { tier: string; closed: boolean; lockout: boolean }>();
  private readonly applied = new Set<string>();

  async apply(c: ApplyRestrictionCommand): Promise<void> {
    if (this.once(c.idempotencyKey))
      this.accounts.set(c.accountId, { tier: c.tier, closed: false, lockout: c.lockout });
  }

  async lift(c: RestrictionCommand): Promise<void> {
    if (this.once(c.idempotencyKey)) this.accounts.delete(c.accountId);
  }

  async close(c: RestrictionCommand): Promise<void> {
    if (this.once(c.idempotencyKey))
      this.accounts.set(c.accountId, { tier: 'CLOSE', closed: true, lockout: false });
  }

  private once(key: string): boolean {
    if (this.applied.has(key)) return false;
    this.applied.add(key);
    return true;
  }
}

/** A fresh SQLite database of Cordon's own, in the temp folder. */
export function tempStore(): Promise<Store> {
  return openStore({ sqliteFile: join(tmpdir(), `cordon-test-${randomUUID()}.sqlite`) });
}

export interface TestDeps {
  deps: ActivityDeps;
  store: Store;
  gateway: RecordingGateway;
  channel: RecordingChannel;
  backend: RecordingNotifier;
}

/** The real activities; only the outside world (account system, user, backend) is a recorder. */
export async function testDeps(
  options: { policy?: LoadedPolicy; sources?: DataSource[]; store?: Store } = {},
): Promise<TestDeps> {
  const gateway = new RecordingGateway();
  const channel = new RecordingChannel();
  const backend = new RecordingNotifier();
  const store = options.store ?? (await tempStore());
  return {
    deps: {
      scorer: createScorer(options.policy ?? defaultPolicy(), options.sources ?? [], 200),
      gateway,
      channels: [channel],
      backend,
      store,
      archiveKeepMs: 365 * 24 * 3600_000,
      eventIdWindowMs: 7 * 24 * 3600_000,
    },
    store,
    gateway,
    channel,
    backend,
  };
}
