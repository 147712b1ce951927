// Drives the planned cases over HTTP like the platform's backend and two reviewers would, through an API that
// keeps being restarted. A request that gets no answer (connection refused or cut, timeout) or a 5xx is sent
// again unchanged, with the same eventId / requestId: retries are exactly what Cordon must deduplicate.
import { randomUUID } from 'node:crypto';
import type { AccountPlan, Flow } from './plan';
import { OUTCOME } from './plan';

const TOKENS = { backend: 'dev-backend', r1: 'dev-reviewer-1', r2: 'dev-reviewer-2' } as const;
type Who = keyof typeof TOKENS;

export interface DriverStats {
  /** HTTP requests sent, retries included. */
  requests: number;
  /** Requests that needed at least one retry (each retry with the same body). */
  retried: number;
  /** Sends after the first, by reason: no answer (refused, cut, timeout) or the status answered. */
  retriesBy: Record<string, number>;
  /** Successful requests deliberately sent a second time with the same key. */
  resends: number;
  /** Such resends (or retries) answered otherwise than the first answer allows. */
  resendMismatches: string[];
  /** A 409 to a retry whose earlier attempt had been applied (accepted after checking the case). */
  conflictsAfterRetry: number;
}

export interface CaseRecord {
  accountId: string;
  /** Position of the case on its account (0: first). */
  index: number;
  flow: Flow;
  expectedOutcome: 'RESTORED' | 'CLOSED';
  /** The risk event that opens the case. */
  eventId?: string;
  caseId?: string;
  /** The outcome GET /v1/cases/{id} showed at the end of the flow. */
  outcome?: string;
  error?: string;
  startedAt?: number;
  endedAt?: number;
}

/** What the driver reads of the API's answers: a case view, a risk event result or a problem. */
interface Body {
  caseId?: string | null;
  status?: string;
  outcome?: string | null;
  appealed?: boolean;
  assignee?: string | null;
  decision?: { tier?: string };
  duplicate?: boolean;
  code?: string;
  detail?: string;
}

interface Reply {
  status: number;
  body: Body | null;
  attempts: number;
}

class FlowError extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface DriverOptions {
  apiUrl: string;
  concurrency: number;
  resendRate: number;
  /** Nothing new starts after this, and waiting requests give up (ms since epoch). */
  deadline: number;
  /** Called whenever a case ends, reached or not. */
  onCaseDone?: (record: CaseRecord) => void;
}

export class Driver {
  readonly stats: DriverStats = {
    requests: 0,
    retried: 0,
    retriesBy: {},
    resends: 0,
    resendMismatches: [],
    conflictsAfterRetry: 0,
  };
  readonly records: CaseRecord[] = [];
  inFlight = 0;

  constructor(
    private readonly o: DriverOptions,
    private readonly plans: AccountPlan[],
  ) {
    for (const plan of plans)
      plan.flows.forEach((flow, index) =>
        this.records.push({ accountId: plan.accountId, index, flow, expectedOutcome: OUTCOME[flow] }),
      );
  }

  /** Runs every account's cases, `concurrency` accounts at a time; resolves when all are done or given up. */
  async run(): Promise<void> {
    const queue = [...this.plans];
    await Promise.all(
      Array.from({ length: Math.min(this.o.concurrency, queue.length) }, async () => {
        for (let plan = queue.shift(); plan; plan = queue.shift()) await this.account(plan);
      }),
    );
  }

  private async account(plan: AccountPlan): Promise<void> {
    const records = this.records.filter((r) => r.accountId === plan.accountId);
    let previous: string | undefined;
    for (const record of records) {
      if (Date.now() > this.o.deadline) record.error ??= 'not started before the deadline';
      else {
        this.inFlight += 1;
        record.startedAt = Date.now();
        try {
          await this.drive(record, previous);
        } catch (err) {
          record.error = (err as Error).message;
        } finally {
          this.inFlight -= 1;
          record.endedAt = Date.now();
        }
      }
      this.o.onCaseDone?.(record);
      // The next case of the account opens only once this one has ended: a case that did not end leaves the
      // account's workflow in the hands of the next event, so the rest of the account is not driven.
      if (record.outcome !== record.expectedOutcome) {
        for (const rest of records.slice(records.indexOf(record) + 1)) {
          rest.error = `not driven: case ${record.index} of the account did not reach its outcome`;
          this.o.onCaseDone?.(rest);
        }
        return;
      }
      previous = record.caseId;
    }
  }

  private async drive(r: CaseRecord, previousCaseId: string | undefined): Promise<void> {
    switch (r.flow) {
      case 'freeze': {
        const caseId = await this.open(
          r,
          previousCaseId,
          'IDENTITY_CHECK',
          { matched: false, field: 'name' },
          'FREEZE',
        );
        await this.appeal(caseId);
        await this.claim(caseId, 'r1');
        await this.decide(caseId, 'r1', 'UNLOCK', (v) => v.outcome === 'RESTORED');
        break;
      }
      case 'stepup': {
        const caseId = await this.open(
          r,
          previousCaseId,
          'LOGIN',
          { newDevice: true, geoDistanceKm: 2000, minutesSinceLastLogin: 30 },
          'STEP_UP',
        );
        await this.act(
          caseId,
          'verification',
          'backend',
          { method: 'OTP', passed: true, requestId: `verify-${randomUUID()}` },
          (v) => v.outcome === 'RESTORED',
        );
        break;
      }
      case 'lockout':
        await this.open(r, previousCaseId, 'LOGIN_FAILED', { consecutiveFailures: 6 }, 'FREEZE');
        break; // lifts itself, then the watch ends: the outcome is awaited below
      case 'close': {
        const caseId = await this.open(
          r,
          previousCaseId,
          'FRAUD_REPORT',
          { source: 'card-network', confirmed: true },
          'CLOSE',
        );
        await this.appeal(caseId);
        await this.claim(caseId, 'r1');
        await this.decide(
          caseId,
          'r1',
          'CLOSE',
          (v) => v.status === 'PENDING_APPROVAL' || v.outcome === 'CLOSED',
        );
        await this.act(
          caseId,
          'approval',
          'r2',
          {
            approve: true,
            rationale: 'Fraud confirmed by the card network; second reviewer agrees.',
            requestId: `approve-${randomUUID()}`,
          },
          (v) => v.outcome === 'CLOSED',
        );
        break;
      }
    }
    // The outcome as GET /v1/cases/{id} shows it (a lockout's comes by itself, a few seconds later).
    for (;;) {
      const view = this.expectOk(await this.request('GET', `/v1/cases/${r.caseId}`, 'backend'), 'GET case');
      if (view.outcome) {
        r.outcome = view.outcome;
        if (r.outcome !== r.expectedOutcome)
          throw new FlowError(`outcome ${r.outcome}, expected ${r.expectedOutcome}`);
        return;
      }
      if (Date.now() > this.o.deadline)
        throw new FlowError(`no outcome by the deadline (status ${view.status})`);
      await sleep(1_000);
    }
  }

  /** POST /v1/risk-events: the case it opened, a new one (never the account's previous case). */
  private async open(
    r: CaseRecord,
    previousCaseId: string | undefined,
    type: string,
    attributes: Record<string, unknown>,
    tier: string,
  ): Promise<string> {
    r.eventId = `evt-${randomUUID()}`;
    const event = {
      eventId: r.eventId,
      accountId: r.accountId,
      type,
      occurredAt: new Date().toISOString(),
      attributes,
    };
    const reply = await this.request('POST', '/v1/risk-events', 'backend', event);
    const result = this.expectOk(reply, `POST risk event ${type}`);
    const caseId = result.caseId;
    if (!caseId || result.decision?.tier !== tier)
      throw new FlowError(`risk event ${type} answered caseId ${caseId}, tier ${result.decision?.tier}`);
    if (caseId === previousCaseId)
      throw new FlowError(`risk event ${type} landed in the ended case ${caseId}`);
    r.caseId = caseId;
    await this.maybeResend('POST', '/v1/risk-events', 'backend', event, (again) =>
      again.body?.caseId === caseId && again.body?.duplicate === true
        ? undefined
        : `caseId ${again.body?.caseId}, duplicate ${again.body?.duplicate}`,
    );
    return caseId;
  }

  private appeal(caseId: string) {
    return this.act(
      caseId,
      'appeal',
      'backend',
      {
        statement: 'It was me: I changed my legal name and my phone. The new ID card is attached.',
        evidence: ['doc-7781'],
        requestId: `appeal-${randomUUID()}`,
      },
      (v) => v.appealed === true,
    );
  }

  private claim(caseId: string, who: Who) {
    // No requestId: claiming again is a 200 (a no-op) for the same reviewer.
    return this.act(
      caseId,
      'claim',
      who,
      undefined,
      (v) => v.assignee === (who === 'r1' ? 'reviewer-1' : 'reviewer-2'),
    );
  }

  private decide(caseId: string, who: Who, decision: string, done: (view: Body) => boolean) {
    return this.act(
      caseId,
      'decision',
      who,
      { decision, rationale: `Reviewed the evidence: ${decision}.`, requestId: `decision-${randomUUID()}` },
      done,
    );
  }

  /**
   * POST /v1/cases/{id}/{action}. A 409 is accepted only for a request that was sent more than once and only
   * when the case shows the action happened (`done`): an earlier attempt was applied, its answer lost.
   */
  private async act(
    caseId: string,
    action: string,
    who: Who,
    body: Record<string, unknown> | undefined,
    done: (view: Body) => boolean,
  ): Promise<void> {
    const path = `/v1/cases/${caseId}/${action}`;
    const reply = await this.request('POST', path, who, body);
    if (reply.status === 409 && reply.attempts > 1) {
      const view = this.expectOk(await this.request('GET', `/v1/cases/${caseId}`, 'backend'), 'GET case');
      if (!done(view))
        throw new FlowError(
          `${action} refused (${reply.body?.code}) and not applied (status ${view.status})`,
        );
      this.stats.conflictsAfterRetry += 1;
      return;
    }
    const view = this.expectOk(reply, `${action}`);
    if (!done(view)) throw new FlowError(`${action} answered status ${view.status}, outcome ${view.outcome}`);
    await this.maybeResend('POST', path, who, body, (again) =>
      again.status === 200 ? undefined : `${again.status} ${again.body?.code ?? ''}`,
    );
  }

  /** With probability resendRate, the same request again: it must be answered as the first was. */
  private async maybeResend(
    method: string,
    path: string,
    who: Who,
    body: unknown,
    check: (again: Reply) => string | undefined,
  ): Promise<void> {
    if (Math.random() >= this.o.resendRate) return;
    this.stats.resends += 1;
    const again = await this.request(method, path, who, body);
    const problem = check(again);
    if (problem) this.stats.resendMismatches.push(`${method} ${path} resent: ${problem}`);
  }

  private expectOk(reply: Reply, what: string): Body {
    if (reply.status !== 200)
      throw new FlowError(
        `${what}: ${reply.status} ${reply.body?.code ?? ''} ${reply.body?.detail ?? ''}`.trim(),
      );
    return reply.body ?? {};
  }

  /** One request, sent again unchanged until it is answered with something other than a 5xx (or the deadline). */
  private async request(method: string, path: string, who: Who, body?: unknown): Promise<Reply> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { authorization: `Bearer ${TOKENS[who]}` };
    if (text !== undefined) headers['content-type'] = 'application/json';
    for (let attempt = 1; ; attempt++) {
      this.stats.requests += 1;
      if (attempt === 2) this.stats.retried += 1;
      let reason: string;
      try {
        const res = await fetch(`${this.o.apiUrl}${path}`, {
          method,
          headers,
          body: text,
          // An update may wait for an activity the killed worker held (30 s start-to-close) and more.
          signal: AbortSignal.timeout(Math.max(1_000, Math.min(120_000, this.o.deadline - Date.now()))),
        });
        const raw = await res.text();
        if (res.status < 500 && res.status !== 429 && res.status !== 408) {
          let parsed: Body | null = null;
          try {
            parsed = raw ? (JSON.parse(raw) as Body) : null;
          } catch {
            parsed = { detail: raw.slice(0, 200) };
          }
          return { status: res.status, body: parsed, attempts: attempt };
        }
        reason = String(res.status);
      } catch (err) {
        reason = (err as Error).name === 'TimeoutError' ? 'timeout' : 'no answer';
      }
      this.stats.retriesBy[reason] = (this.stats.retriesBy[reason] ?? 0) + 1;
      if (Date.now() > this.o.deadline)
        throw new FlowError(`${method} ${path}: gave up at the deadline (${reason})`);
      await sleep(Math.min(3_000, 200 * 1.5 ** Math.min(attempt, 10)) * (0.75 + Math.random() * 0.5));
    }
  }
}
