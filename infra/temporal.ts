import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
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
