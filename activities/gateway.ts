import type { Logger } from '../infra/logger';
import { signedPost } from './http';
import type { ApplyRestrictionCommand, RestrictionCommand } from '../core/activity-contract';

/** Where restrictions are carried out: the platform's account system. */
export interface AccountGateway {
  readonly name: string;
  apply(command: ApplyRestrictionCommand): Promise<void>;
  lift(command: RestrictionCommand): Promise<void>;
  close(command: RestrictionCommand): Promise<void>;
}

export type RestrictionRecord = { tier: string; closed: boolean; lockout: boolean };

/**
 * The built-in gateway: keeps each account's current restriction itself and logs every change, so Cordon runs
 * with no other system. Commands are idempotent by key, as a real account system's should be.
 */
export class LedgerGateway implements AccountGateway {
  readonly name = 'ledger';
  readonly accounts = new Map<string, RestrictionRecord>();
  private readonly applied = new Set<string>();

  constructor(private readonly logger: Logger) {}

  async apply(c: ApplyRestrictionCommand): Promise<void> {
    if (this.once(c.idempotencyKey))
      this.accounts.set(c.accountId, { tier: c.tier, closed: false, lockout: c.lockout });
    this.logger.info('restriction applied', {
      caseId: c.caseId,
      tier: c.tier,
      lockout: c.lockout,
      reasons: c.reasonCodes,
    });
  }

  async lift(c: RestrictionCommand): Promise<void> {
    if (this.once(c.idempotencyKey)) this.accounts.delete(c.accountId);
    this.logger.info('restriction lifted', { caseId: c.caseId });
  }

  async close(c: RestrictionCommand): Promise<void> {
    if (this.once(c.idempotencyKey))
      this.accounts.set(c.accountId, { tier: 'CLOSE', closed: true, lockout: false });
    this.logger.info('account closed', { caseId: c.caseId });
  }

  private once(key: string): boolean {
    if (this.applied.has(key)) return false;
    this.applied.add(key);
    return true;
  }
}

/** Calls the backend: POST {url}/restrictions/{apply|lift|close}, HMAC-signed, with an idempotency key. */
export class HttpAccountGateway implements AccountGateway {
  readonly name = 'http';
  constructor(
    private readonly url: string,
    private readonly secret: string,
  ) {}

  async apply(c: ApplyRestrictionCommand): Promise<void> {
    await this.post('apply', c);
  }
  async lift(c: RestrictionCommand): Promise<void> {
    await this.post('lift', c);
  }
  async close(c: RestrictionCommand): Promise<void> {
    await this.post('close', c);
  }

  private async post(action: string, command: RestrictionCommand): Promise<void> {
    await signedPost(
      `${this.url.replace(/\/$/, '')}/restrictions/${action}`,
      this.secret,
      { action, ...command },
      command.idempotencyKey,
      'AccountGateway',
    );
  }
}
