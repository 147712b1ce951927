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

/**
 * The built-in gateway, for a platform that has no account system to call: the restriction is carried out by
 * Cordon's own durable record, which the platform reads (`GET /v1/accounts/{id}/restriction`); this only logs
 * each command. It keeps nothing in memory, so a worker's memory does not grow with the cases it has seen.
 */
export class RecordOnlyGateway implements AccountGateway {
  readonly name = 'record-only';

  constructor(private readonly logger: Logger) {}

  async apply(c: ApplyRestrictionCommand): Promise<void> {
    this.logger.info('restriction applied', {
      caseId: c.caseId,
      tier: c.tier,
      lockout: c.lockout,
      reasons: c.reasonCodes,
    });
  }

  async lift(c: RestrictionCommand): Promise<void> {
    this.logger.info('restriction lifted', { caseId: c.caseId });
  }

  async close(c: RestrictionCommand): Promise<void> {
    this.logger.info('account closed', { caseId: c.caseId });
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
