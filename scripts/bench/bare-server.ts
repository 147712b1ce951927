// The floor of the hot paths: a plain node:http server doing the least any API must do for a harmless event or
// a restriction check (check the bearer token, read and parse the JSON body, answer JSON of about the same
// shape), and nothing of Cordon's (no validation, scoring, database). What one process can answer on this
// machine, whatever Cordon does. It runs where the API runs (on the bench's event loop) and the same load
// thread drives both.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BareServer {
  url: string;
  close(): Promise<void>;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** token: the one bearer token it accepts (compared as the API compares, by SHA-256 and timingSafeEqual). */
export async function startBareServer(token: string): Promise<BareServer> {
  const expected = sha256(token);
  const answer = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res
      .writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
      })
      .end(text);
  };
  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!timingSafeEqual(sha256(bearer?.[1] ?? ''), expected) || !bearer)
      return answer(res, 401, { title: 'Unauthorized' });
    if (req.method === 'GET') {
      const accountId = decodeURIComponent((req.url ?? '').split('/')[3] ?? '');
      return answer(res, 200, { accountId, tier: null, restricted: false, allowed: [], blocked: [] });
    }
    let event: { eventId?: unknown; accountId?: unknown };
    try {
      event = JSON.parse(raw) as typeof event;
    } catch {
      return answer(res, 400, { title: 'Malformed JSON' });
    }
    answer(res, 200, {
      eventId: event.eventId,
      accountId: event.accountId,
      caseId: null,
      status: 'NO_ACTION',
      decision: { tier: 'NONE', score: 0, reasons: [] },
      duplicate: false,
    });
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
