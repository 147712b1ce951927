import { readFileSync } from 'node:fs';
import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type TLSConfig } from '@temporalio/client';
import type { Config } from './config';

/** Connection options for an existing cluster or the local dev server: configuration only. */
export function connectionOptions(config: Config): { address: string; apiKey?: string; tls?: TLSConfig } {
  const t = config.temporal;
  const read = (path: string | undefined) => (path ? readFileSync(path) : undefined);
  return {
    address: t.address ?? `127.0.0.1:${t.devPort}`,
    apiKey: t.apiKey,
    tls: t.tls
      ? {
          serverNameOverride: t.tlsServerName,
          serverRootCACertificate: read(t.tlsCa),
          clientCertPair: t.tlsCert && t.tlsKey ? { crt: read(t.tlsCert)!, key: read(t.tlsKey)! } : undefined,
        }
      : undefined,
  };
}

/**
 * Counts the gRPC calls in flight on a client connection, retries included, so a process can wait for them
 * before closing it: the SDK's retry interceptor schedules retries on timers that `Connection.close()` does not
 * clear, and a retry firing on a closed channel throws outside any caller ("Channel has been shut down").
 */
export interface CallTracker {
  interceptors: Interceptor[];
  /** Resolves true once no call is in flight, false if some still are after maxMs. */
  idle(maxMs: number): Promise<boolean>;
  /** Calls started since the tracker was made (a retried call counts once): the benchmark's "no Temporal call". */
  started(): number;
}

export function callTracker(): CallTracker {
  let inFlight = 0;
  let started = 0;
  const counting: Interceptor = (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, _listener, next) {
        inFlight++;
        started++;
        let ended = false;
        // A partial listener: grpc-js passes the other events through to the caller's listener.
        next(metadata, {
          onReceiveStatus(status, nextStatus) {
            if (!ended) {
              ended = true;
              inFlight--;
            }
            nextStatus(status);
          },
        });
      },
    });
  return {
    // Outermost first: one count spans every retry of a call.
    interceptors: [counting, makeGrpcRetryInterceptor(defaultGrpcRetryOptions())],
    async idle(maxMs) {
      const until = Date.now() + maxMs;
      while (inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
      return inFlight === 0;
    },
    started: () => started,
  };
}
