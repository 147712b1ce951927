// The backend's webhook endpoint as a test sees it: a real HTTP server on 127.0.0.1 that checks Cordon's signature
// (infra/hmac.ts) and keeps every body it accepted, in the order they came.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IDEMPOTENCY_HEADER, verifySignature } from '../../infra/hmac';

export interface WebhookReceiver {
  url: string;
  /** Accepted deliveries: the body as JSON and its Idempotency-Key header. */
  received: { body: Record<string, unknown>; idempotencyKey: string }[];
  /** Deliveries refused for a bad signature. */
  refused: number;
  close(): Promise<void>;
}

export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = {
    url: '',
    received: [],
    refused: 0,
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (!verifySignature(secret, req.headers, body)) {
        receiver.refused++;
        res.writeHead(401).end();
        return;
      }
      receiver.received.push({
        body: JSON.parse(body) as Record<string, unknown>,
        idempotencyKey: String(req.headers[IDEMPOTENCY_HEADER] ?? ''),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}
