// The platform's backend as the tracing test sees it: one real HTTP server on 127.0.0.1 taking Cordon's webhooks,
// the account gateway's commands and a data source's lookups, each under the path it was configured with. It
// keeps every request with its headers (the trace context among them) and refuses a signed path's request whose
// signature does not check, as a careful backend would. It answers `{}`: a data source with no signals.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../infra/hmac';

export interface ReceivedCall {
  /** The request's path: `/webhook`, `/gateway/restrictions/apply`, `/source`, … */
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface BackendReceiver {
  url: string;
  /** The requests accepted, in the order they came. */
  calls: ReceivedCall[];
  close(): Promise<void>;
}

/** Paths under which Cordon signs its requests with `secret` (a data source's lookup is not signed). */
const SIGNED = /^\/(webhook|gateway)(\/|$)/;

export async function startBackendReceiver(secret: string): Promise<BackendReceiver> {
  const calls: ReceivedCall[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '';
      if (SIGNED.test(path) && !verifySignature(secret, req.headers, body)) {
        res.writeHead(401).end();
        return;
      }
      calls.push({ path, headers: req.headers, body: JSON.parse(body || '{}') as Record<string, unknown> });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What signs the webhooks and the gateway's commands in the tests that configure Cordon with backendEnv. */
export const BACKEND_SECRET = 'tracing-backend-secret-0123';

/** The backend as configured for a Cordon process: webhooks, gateway and one data source, all at `url`. */
export const backendEnv = (url: string) => ({
  CORDON_WEBHOOK_URL: `${url}/webhook`,
  CORDON_WEBHOOK_SECRET: BACKEND_SECRET,
  CORDON_GATEWAY_URL: `${url}/gateway`,
  CORDON_GATEWAY_SECRET: BACKEND_SECRET,
  CORDON_DATA_SOURCES: JSON.stringify([{ name: 'device', url: `${url}/source` }]),
});

/** The W3C trace-context headers a call carried, as `name: value` lines (none: empty). */
export const traceContextOf = (c: ReceivedCall) =>
  ['traceparent', 'tracestate']
    .filter((h) => c.headers[h] !== undefined)
    .map((h) => `${h}: ${String(c.headers[h])}`);
