// The Cordon side of the benchmark: its API over real HTTP, as the backend calls it.
import { randomUUID } from 'node:crypto';

export interface EventAnswer {
  caseId: string | null;
  decision: { tier: string };
}

export class CordonClient {
  /** label: tells this API's accounts and devices from another's in the same run. */
  constructor(
    readonly url: string,
    private readonly run: string,
    readonly label: string,
  ) {}

  async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: 'Bearer dev-backend',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== 200)
      throw new Error(`${method} ${path.split('/').slice(0, 3).join('/')} answered ${res.status}`);
    return JSON.parse(text);
  }

  account = (kind: string, i: number) => `${kind}-${this.label}-${this.run}-${i}-${randomUUID().slice(0, 6)}`;

  /**
   * A restricting event for a fresh account: a case opens and the account is frozen before the answer. From one
   * of 50 devices, so a feature counting accounts by device has work to do (no rule reads it on this type).
   */
  freeze = async (account: string, i = 0) =>
    (await this.call('POST', '/v1/risk-events', {
      eventId: `e-${randomUUID()}`,
      accountId: account,
      type: 'IDENTITY_CHECK',
      occurredAt: new Date().toISOString(),
      attributes: { matched: false },
      entities: { device: `fdev-${this.label}-${this.run}-${i % 50}` },
    })) as EventAnswer & { caseId: string };

  harmless = (account: string, eventId = `h-${randomUUID()}`) =>
    this.call('POST', '/v1/risk-events', {
      eventId,
      accountId: account,
      type: 'LOGIN',
      occurredAt: new Date().toISOString(),
      attributes: { newDevice: false },
    });

  failedLogin = (account: string) =>
    this.call('POST', '/v1/risk-events', {
      eventId: `f-${randomUUID()}`,
      accountId: account,
      type: 'LOGIN_FAILED',
      occurredAt: new Date().toISOString(),
      attributes: { consecutiveFailures: 1 },
      entities: { device: `probe-${this.run}` },
    }) as Promise<EventAnswer>;

  appeal = (caseId: string) =>
    this.call('POST', `/v1/cases/${caseId}/appeal`, {
      statement: 'benchmark appeal',
      evidence: [],
      requestId: `bench-${randomUUID()}`,
    });
}
