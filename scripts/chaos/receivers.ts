// The backend's side of Cordon's outgoing calls, as small HTTP servers on 127.0.0.1: the account gateway
// (restriction commands), messaging (user notices) and the webhook receiver (backend events). Each verifies the
// signature, deduplicates by Idempotency-Key (409 for a key it has seen, as Cordon expects) and records every
// distinct key with what it carried, so the run can count duplicates: a second key for the same effect.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IDEMPOTENCY_HEADER, verifySignature } from '../../infra/hmac';

export type ReceiverKind = 'gateway' | 'messaging' | 'webhook';

export interface Received {
  key: string;
  caseId: string;
  /** gateway: apply | lift | close; messaging: the template; webhook: the event type. */
  what: string;
  /** For apply: the tier (and ":lockout"). */
  detail: string;
  /** The body of the first request with this key; a resend must carry the same. */
  body: string;
  /** How many times this key arrived (1 + resends). */
  posts: number;
  firstAt: number;
}

export interface ReceiverStats {
  requests: number;
  /** Requests with a key already seen: answered 409, nothing done again. */
  resent: number;
  /** A key already seen, with another body: the same key used for a different effect. */
  conflicts: number;
  badSignature: number;
  malformed: number;
  /** Answered 503 while the receiver was "unavailable", or by chance (flaky). */
  unavailable: number;
  /** Processed, then the connection cut before the answer (flaky): the sender must retry with the same key. */
  answersLost: number;
}

type Mode = 'up' | 'unavailable' | 'down';

export class Receiver {
  readonly received = new Map<string, Received>();
  readonly stats: ReceiverStats = {
    requests: 0,
    resent: 0,
    conflicts: 0,
    badSignature: 0,
    malformed: 0,
    unavailable: 0,
    answersLost: 0,
  };
  /** When outages started and ended (ms since epoch), for the report. */
  readonly outages: { from: number; to?: number }[] = [];
  private mode: Mode = 'up';
  private server: Server | undefined;
  private port = 0;

  constructor(
    readonly kind: ReceiverKind,
    private readonly secret: string,
    private readonly flakyRate: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await this.listen(this.port);
  }

  /** Answers 503 to everything (the receiver is up but failing). */
  unavailable(): void {
    if (this.mode === 'up') this.outages.push({ from: Date.now() });
    this.mode = 'unavailable';
  }

  /** Stops listening: connections are refused until it comes up again. */
  async down(): Promise<void> {
    if (this.mode === 'up') this.outages.push({ from: Date.now() });
    this.mode = 'down';
    await this.closeServer();
  }

  async up(): Promise<void> {
    if (this.mode === 'down') await this.listen(this.port);
    if (this.mode !== 'up') this.outages[this.outages.length - 1]!.to = Date.now();
    this.mode = 'up';
  }

  get isUp(): boolean {
    return this.mode === 'up';
  }

  async close(): Promise<void> {
    await this.closeServer();
  }

  private async closeServer(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5_000;
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, '127.0.0.1', () => {
            server.removeListener('error', reject);
            resolve();
          });
        });
        break;
      } catch (err) {
        // The port of the previous listener may take a moment to be released.
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    this.stats.requests += 1;
    const answer = (status: number) =>
      void res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    if (this.mode !== 'up' || Math.random() < this.flakyRate / 2) {
      this.stats.unavailable += 1;
      return answer(503);
    }
    if (req.method !== 'POST' || !verifySignature(this.secret, req.headers, body)) {
      this.stats.badSignature += 1;
      return answer(401);
    }
    const key = req.headers[IDEMPOTENCY_HEADER];
    const parsed = this.parse(req.url ?? '', body);
    if (typeof key !== 'string' || !key || !parsed) {
      this.stats.malformed += 1;
      return answer(400);
    }
    const seen = this.received.get(key);
    if (seen) {
      seen.posts += 1;
      this.stats.resent += 1;
      if (seen.body !== body) this.stats.conflicts += 1;
      return answer(409);
    }
    this.received.set(key, { key, ...parsed, body, posts: 1, firstAt: Date.now() });
    if (Math.random() < this.flakyRate / 2) {
      // Done, but the answer never arrives: the sender cannot know, and must resend with the same key.
      this.stats.answersLost += 1;
      req.socket.destroy();
      return;
    }
    answer(200);
  }

  private parse(path: string, text: string): { caseId: string; what: string; detail: string } | undefined {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    const caseId = typeof body.caseId === 'string' ? body.caseId : undefined;
    if (!caseId) return undefined;
    switch (this.kind) {
      case 'gateway': {
        const action = /^\/restrictions\/(apply|lift|close)$/.exec(path)?.[1];
        if (!action || body.action !== action) return undefined;
        const detail = action === 'apply' ? `${String(body.tier)}${body.lockout ? ':lockout' : ''}` : '';
        return { caseId, what: action, detail };
      }
      case 'messaging':
        return typeof body.template === 'string' ? { caseId, what: body.template, detail: '' } : undefined;
      case 'webhook':
        return typeof body.type === 'string'
          ? { caseId, what: body.type, detail: String(body.status) }
          : undefined;
    }
  }

  /** Distinct keys received per case, each case's in the order of its effect sequence (`<caseId>:<seq>`). */
  byCase(): Map<string, Received[]> {
    const cases = new Map<string, Received[]>();
    for (const r of this.received.values()) {
      const list = cases.get(r.caseId) ?? [];
      list.push(r);
      cases.set(r.caseId, list);
    }
    for (const list of cases.values()) list.sort((a, b) => seqOf(a.key) - seqOf(b.key));
    return cases;
  }
}

function seqOf(key: string): number {
  return Number(key.slice(key.lastIndexOf(':') + 1));
}
