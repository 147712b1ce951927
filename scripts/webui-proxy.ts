// The development Web UI's front door: a small reverse proxy on the address people open (127.0.0.1:8233) that
// serves the Temporal UI server (on a port of its own behind it) and Cordon's /codec from the same origin.
//
// Why: the dev server's UI calls its codec endpoint with fetch's default credentials mode ("same-origin"), and
// `temporal server start-dev` has no switch to change that (its UI's own "include credentials" setting is
// ignored while the server names an endpoint). Called cross-origin, on the API's port, those calls carry no
// cookie, so the console session never reaches /codec and every decode is a 401. Served from the UI's own
// origin, the same fetch carries the browser's cookies for 127.0.0.1 (cookies are scoped by host, not port),
// the console session among them: after signing in at /console, the UI shows cases decoded, no setting changed.
// /codec keeps its own checks (role, session, logging); the proxy adds no authority of its own.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface WebUiProxyOptions {
  /** Where browsers open the Web UI (127.0.0.1 only). */
  port: number;
  /** The Temporal UI server behind the proxy, e.g. http://127.0.0.1:41234. */
  uiServer: string;
  /** Cordon's codec endpoint, e.g. http://127.0.0.1:8080/codec: `<proxy>/codec/*` goes there. */
  codecEndpoint: string;
}

export interface WebUiProxy {
  /** http://127.0.0.1:<port> */
  url: string;
  /** The UI server it serves. */
  uiServer: string;
  /** The endpoint to give the UI: the proxy's own /codec. */
  codecEndpoint: string;
  close(): Promise<void>;
}

/** Cookies Cordon sets for its own pages: the UI server has no use for them, so they stay with Cordon. */
const CORDON_COOKIE = /^\s*cordon_/;

/** Hop-by-hop headers (RFC 9110 7.6.1) are the proxy's own business, never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

const isCodecPath = (path: string) => path === '/codec' || path.startsWith('/codec/');

function forwardedHeaders(req: IncomingMessage, toUi: boolean): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers))
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  if (toUi && typeof headers.cookie === 'string') {
    const kept = headers.cookie
      .split(';')
      .filter((c) => !CORDON_COOKIE.test(c))
      .join(';')
      .trim();
    if (kept) headers.cookie = kept;
    else delete headers.cookie;
  }
  return headers;
}

/** Where a request goes: the codec endpoint (path under it kept), or the UI server (path as is). */
function targetOf(o: WebUiProxyOptions, url: string): { target: URL; toUi: boolean } {
  const path = url.split('?')[0] ?? '/';
  if (isCodecPath(path)) {
    const codec = new URL(o.codecEndpoint);
    return {
      target: new URL(`${codec.pathname.replace(/\/+$/, '')}${url.slice('/codec'.length)}`, codec),
      toUi: false,
    };
  }
  return { target: new URL(url, o.uiServer), toUi: true };
}

/** Upstream out of reach: /codec answers as Cordon's API would (problem+json 503), the UI a short page. */
function unavailable(res: ServerResponse, toUi: boolean): void {
  if (res.headersSent) return void res.destroy();
  if (toUi)
    return void res
      .writeHead(502, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '1' })
      .end('The Temporal Web UI server is not answering (yet): reload in a moment.\n');
  res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' }).end(
    JSON.stringify({
      type: 'https://cordon.dev/problems/codec-unavailable',
      title: 'Codec endpoint unavailable',
      status: 503,
      detail: "Cordon's API is not answering (yet): retry in a moment",
      code: 'CODEC_UNAVAILABLE',
    }),
  );
}

export async function startWebUiProxy(o: WebUiProxyOptions): Promise<WebUiProxy> {
  const server = http.createServer((req, res) => {
    const { target, toUi } = targetOf(o, req.url ?? '/');
    const upstream = http.request(
      target,
      { method: req.method, headers: forwardedHeaders(req, toUi) },
      (answer) => {
        const headers: http.OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(answer.headers))
          if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
        answer.pipe(res);
      },
    );
    upstream.once('error', () => unavailable(res, toUi));
    // A browser that goes away (a page closed mid-request) ends the upstream request too.
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });

  // WebSocket upgrades (the UI server may use them) go to the UI server as a byte stream.
  server.on('upgrade', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const { target, toUi } = targetOf(o, req.url ?? '/');
    if (!toUi) return void client.destroy();
    const upstream = http.request(target, { method: req.method, headers: { ...req.headers } });
    upstream.once('upgrade', (answer, socket, upstreamHead) => {
      const lines = [`HTTP/1.1 ${answer.statusCode ?? 101} ${answer.statusMessage ?? 'Switching Protocols'}`];
      for (let i = 0; i < answer.rawHeaders.length; i += 2)
        lines.push(`${answer.rawHeaders[i]}: ${answer.rawHeaders[i + 1]}`);
      client.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (upstreamHead.length) client.write(upstreamHead);
      if (head.length) socket.write(head);
      socket.pipe(client).pipe(socket);
      socket.once('error', () => client.destroy());
      client.once('error', () => socket.destroy());
    });
    upstream.once('response', (answer) => {
      client.end(`HTTP/1.1 ${answer.statusCode ?? 502} ${answer.statusMessage ?? ''}\r\n\r\n`);
      answer.resume();
    });
    upstream.once('error', () => client.destroy());
    upstream.end();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `port ${o.port} (Temporal Web UI) is already in use: stop whatever listens there or choose another port`
            : `cannot open the Web UI's port ${o.port}: ${err.message}`,
        ),
      ),
    );
    server.listen(o.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    uiServer: o.uiServer,
    codecEndpoint: `${url}/codec`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
