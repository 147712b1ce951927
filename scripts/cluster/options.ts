// The options of `npm run cluster`.
import { resolve } from 'node:path';
import { ROOT } from '../temporal-tools';

export const USAGE = `npm run cluster [-- options]

Runs Temporal's server (PostgreSQL persistence and visibility, 4 history shards) with its Web UI, then Cordon
as separate processes against it: workers and APIs sharing one PostgreSQL database. Ctrl-C stops it all.

  --fresh             wipe the cluster's data first (Temporal's and Cordon's databases, secrets, mail)
  --workers N         Cordon worker processes (default 2)
  --apis N            Cordon API processes, on consecutive ports from --api-port (default 2)
  --shards N          history shards of a new cluster (default 4; fixed once created: change it with --fresh)
  --dir PATH          the cluster's folder (default .cordon-cluster)
  --api-port P        the first API's port (default 8080)
  --temporal-port P   the Temporal frontend's port (default 7233; the other services use P+1, P+2, P+3,
                      P+6, P+10 and P-300...P-294)
  --ui-port P         the Temporal Web UI's port (default 8233)
  --pg-port P         PostgreSQL's port (default 55432)
  --no-ui             no Web UI server
  --help              this text

Binaries: CORDON_TEMPORAL_SERVER, CORDON_TEMPORAL_SQL_TOOL, CORDON_TEMPORAL_UI_SERVER name them, else
temporal-server, temporal-sql-tool, temporal-ui-server on PATH, else builds cached in .tools/, else
\`go install\` builds them there (minutes, once).`;

export interface ClusterOptions {
  fresh: boolean;
  workers: number;
  apis: number;
  shards: number;
  dir: string;
  apiPort: number;
  temporalPort: number;
  uiPort: number;
  pgPort: number;
  ui: boolean;
  help: boolean;
}

export function parseClusterOptions(argv: string[]): ClusterOptions {
  const o: ClusterOptions = {
    fresh: false,
    workers: 2,
    apis: 2,
    shards: 4,
    dir: resolve(ROOT, '.cordon-cluster'),
    apiPort: 8080,
    temporalPort: 7233,
    uiPort: 8233,
    pgPort: 55432,
    ui: true,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] =
      arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value`);
      i++;
      return v;
    };
    const int = (min: number, max: number): number => {
      const text = value();
      const n = Number(text);
      if (!/^\d+$/.test(text) || n < min || n > max)
        throw new Error(`${name} must be a whole number from ${min} to ${max}, not ${text}`);
      return n;
    };
    switch (name) {
      case '--fresh':
        o.fresh = true;
        break;
      case '--workers':
        o.workers = int(1, 16);
        break;
      case '--apis':
        o.apis = int(1, 16);
        break;
      case '--shards':
        o.shards = int(1, 1024);
        break;
      case '--dir':
        o.dir = resolve(value());
        break;
      case '--api-port':
        o.apiPort = int(1, 65535);
        break;
      case '--temporal-port':
        o.temporalPort = int(301, 65525);
        break;
      case '--ui-port':
        o.uiPort = int(1, 65535);
        break;
      case '--pg-port':
        o.pgPort = int(1, 65535);
        break;
      case '--no-ui':
        o.ui = false;
        break;
      case '--help':
      case '-h':
        o.help = true;
        break;
      default:
        throw new Error(`unknown option ${arg} (npm run cluster -- --help)`);
    }
  }
  return o;
}
