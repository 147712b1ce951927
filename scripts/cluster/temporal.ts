// The Temporal side of `npm run cluster`: the server's configuration (PostgreSQL persistence and visibility,
// N history shards, every service on 127.0.0.1), its schemas set up by temporal-sql-tool, the server itself,
// the `default` namespace with Cordon's search attributes, and the Web UI server pointed at it.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { msToTs } from '@temporalio/common/lib/time';
import { stringify } from 'yaml';
import { SEARCH_ATTRIBUTE_FLAGS } from '../../core/contracts';
import { Managed } from './processes';

/** The ports of the server's four services, derived from the frontend's as in Temporal's own templates. */
export function serverPorts(frontend: number) {
  return {
    frontend,
    history: frontend + 1,
    matching: frontend + 2,
    /** Prometheus metrics of the server (http://127.0.0.1:<port>/metrics). */
    metrics: frontend + 3,
    worker: frontend + 6,
    frontendHttp: frontend + 10,
    membership: {
      frontend: frontend - 300,
      history: frontend - 299,
      matching: frontend - 298,
      worker: frontend - 294,
    },
  };
}

/** Every port the server listens on, with what it is, for the checks before start-up. */
export function serverPortList(frontend: number): Array<[number, string]> {
  const p = serverPorts(frontend);
  return [
    [p.frontend, 'Temporal frontend'],
    [p.history, 'Temporal history'],
    [p.matching, 'Temporal matching'],
    [p.metrics, 'Temporal metrics'],
    [p.worker, 'Temporal worker service'],
    [p.frontendHttp, 'Temporal frontend HTTP'],
    [p.membership.frontend, 'Temporal frontend membership'],
    [p.membership.history, 'Temporal history membership'],
    [p.membership.matching, 'Temporal matching membership'],
    [p.membership.worker, 'Temporal worker membership'],
  ];
}

export interface PostgresAccess {
  host: string;
  port: number;
  user: string;
  password: string;
}

/**
 * The dev server's latency tuning (scripts/dev-server.ts TUNING_FLAGS) as dynamic configuration: every history
 * shard's internal queues are read at most 20 times a second by default, which adds up to 50 ms to a task under
 * load. Also the dev server's visibility rate (the review queue and the gauges list workflows).
 */
export const DYNAMIC_CONFIG: Record<string, unknown> = {
  'history.transferProcessorMaxPollRPS': 1000,
  'history.timerProcessorMaxPollRPS': 1000,
  'history.visibilityProcessorMaxPollRPS': 1000,
  'history.outboundProcessorMaxPollRPS': 1000,
  'system.enableActivityEagerExecution': true,
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
  'frontend.namespaceRPS.visibility': 100,
};

export interface ServerConfigOptions {
  /** The server's root: config/cluster.yaml and config/dynamicconfig.yaml are written under it. */
  root: string;
  frontendPort: number;
  shards: number;
  postgres: PostgresAccess;
}

/** Writes the server's configuration; answers the --env name to start it with. */
export function writeServerConfig(o: ServerConfigOptions): string {
  const p = serverPorts(o.frontendPort);
  const configDir = join(o.root, 'config');
  mkdirSync(configDir, { recursive: true });
  const dynamicConfigFile = join(configDir, 'dynamicconfig.yaml');
  writeFileSync(
    dynamicConfigFile,
    `# Written by scripts/cluster.ts at each start.\n${stringify(
      Object.fromEntries(Object.entries(DYNAMIC_CONFIG).map(([k, v]) => [k, [{ value: v }]])),
    )}`,
  );
  const sql = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${o.postgres.host}:${o.postgres.port}`,
      connectProtocol: 'tcp',
      user: o.postgres.user,
      password: o.postgres.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const rpc = (grpcPort: number, membershipPort: number, extra: Record<string, number> = {}) => ({
    rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra },
  });
  const config = {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      // Fixed for the life of the cluster: a change needs a fresh one (--fresh).
      numHistoryShards: o.shards,
      datastores: {
        'postgres-default': sql('temporal', 20),
        'postgres-visibility': sql('temporal_visibility', 10),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      metrics: {
        prometheus: { framework: 'tally', timerType: 'histogram', listenAddress: `127.0.0.1:${p.metrics}` },
      },
    },
    services: {
      frontend: rpc(p.frontend, p.membership.frontend, { httpPort: p.frontendHttp }),
      matching: rpc(p.matching, p.membership.matching),
      history: rpc(p.history, p.membership.history),
      worker: rpc(p.worker, p.membership.worker),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${p.frontend}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    // Resolved from the server's working directory when relative: always absolute here.
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
  };
  writeFileSync(
    join(configDir, 'cluster.yaml'),
    `# Written by scripts/cluster.ts at each start (npm run cluster).\n${stringify(config)}`,
  );
  return 'cluster';
}

function execTool(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(file, args, { env, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed:\n${stdout}${stderr}`.trim()));
      else resolvePromise(`${stdout}${stderr}`);
    });
  });
}

/**
 * Creates the `temporal` and `temporal_visibility` databases and brings their schemas to the server's version
 * with the schemas built into the tool (idempotent: a second run changes nothing).
 */
export async function setupSchemas(sqlTool: string, pg: PostgresAccess): Promise<void> {
  const env = {
    ...process.env,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: pg.host,
    SQL_PORT: String(pg.port),
    SQL_USER: pg.user,
    SQL_PASSWORD: pg.password,
  };
  for (const [db, schema] of [
    ['temporal', 'postgresql/v12/temporal'],
    ['temporal_visibility', 'postgresql/v12/visibility'],
  ] as const) {
    // create-database fails when the database exists: that is the idempotent case.
    await execTool(sqlTool, ['--db', db, 'create'], env).catch((err: Error) => {
      if (!/already exists/.test(err.message)) throw err;
    });
    await execTool(sqlTool, ['--db', db, 'setup-schema', '-v', '0.0'], env);
    await execTool(sqlTool, ['--db', db, 'update-schema', '--schema-name', schema], env);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retries fn every 250 ms until it resolves, or throws its last error after ms. */
async function retrying<T>(
  ms: number,
  what: string,
  fn: () => Promise<T>,
  alive?: () => boolean,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (alive && !alive()) throw new Error(`${what}: it exited`);
      if (Date.now() > deadline)
        throw new Error(`${what} did not succeed within ${ms / 1000} s: ${(err as Error).message}`);
      await sleep(250);
    }
  }
}

export interface StartServerOptions {
  binary: string;
  root: string;
  env: string;
  frontendPort: number;
  logFile: string;
}

/** Starts the server and waits until its frontend answers. */
export async function startTemporalServer(o: StartServerOptions): Promise<Managed> {
  const server = new Managed({
    name: 'temporal-server',
    command: o.binary,
    args: ['--root', o.root, '--config', 'config', '--env', o.env, '--allow-no-auth', 'start'],
    cwd: o.root,
    logFile: o.logFile,
    watchdogGraceSeconds: 10,
  });
  const address = `127.0.0.1:${o.frontendPort}`;
  await retrying(
    120_000,
    'the Temporal server starting',
    async () => {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.getSystemInfo({});
      } finally {
        await connection.close();
      }
    },
    () => server.exitStatus === undefined,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n(see ${o.logFile})\n${server.lastLines()}`);
  });
  return server;
}

const INDEXED_TYPES: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  KeywordList: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  Datetime: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  Text: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Double: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  Bool: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
};

/** Cordon's search attributes (the same list the dev server gets as --search-attribute flags). */
export function cordonSearchAttributes(): Record<string, temporal.api.enums.v1.IndexedValueType> {
  return Object.fromEntries(
    SEARCH_ATTRIBUTE_FLAGS.map((flag) => {
      const [name, type] = flag.split('=') as [string, string];
      const indexed = INDEXED_TYPES[type];
      if (indexed === undefined) throw new Error(`unknown search attribute type in ${flag}`);
      return [name, indexed];
    }),
  );
}

export interface ClusterInfo {
  serverVersion: string;
  historyShardCount: number;
  persistenceStore: string;
  visibilityStore: string;
}

/**
 * Registers the namespace (if missing) and Cordon's search attributes (those missing), each retried until the
 * server takes it (a new namespace takes a couple of seconds to be known to every service), then waits until
 * the attributes are listed. Answers what the server says about itself.
 */
export async function prepareNamespace(
  address: string,
  namespace: string,
  retentionDays = 3,
): Promise<ClusterInfo> {
  const connection = await Connection.connect({ address });
  try {
    await retrying(60_000, `registering the namespace ${namespace}`, async () => {
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } catch {
        // not there yet (or not yet visible): register it, then describe it again
      }
      try {
        await connection.workflowService.registerNamespace({
          namespace,
          workflowExecutionRetentionPeriod: msToTs(`${retentionDays} days`),
        });
      } catch (err) {
        if (!/already exists|AlreadyExists/i.test((err as Error).message)) throw err;
      }
      await connection.workflowService.describeNamespace({ namespace });
    });
    const wanted = cordonSearchAttributes();
    await retrying(60_000, 'registering the search attributes', async () => {
      const listed = await connection.operatorService.listSearchAttributes({ namespace });
      const have = listed.customAttributes ?? {};
      const missing = Object.entries(wanted).filter(([name]) => !(name in have));
      if (missing.length === 0) return;
      await connection.operatorService
        .addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing) })
        .catch((err: Error) => {
          if (!/already exists/i.test(err.message)) throw err;
        });
      throw new Error(`not listed yet: ${missing.map(([n]) => n).join(', ')}`);
    });
    const info = await connection.workflowService.getClusterInfo({});
    return {
      serverVersion: info.serverVersion ?? '',
      historyShardCount: info.historyShardCount ?? 0,
      persistenceStore: info.persistenceStore ?? '',
      visibilityStore: info.visibilityStore ?? '',
    };
  } finally {
    await connection.close();
  }
}

export interface StartUiOptions {
  binary: string;
  root: string;
  port: number;
  temporalAddress: string;
  /** Cordon's codec endpoint: the UI decodes payloads through it, with the browser's console session. */
  codecEndpoint: string;
  logFile: string;
}

/** Writes the UI server's configuration, starts it and waits until it serves its page. */
export async function startUiServer(o: StartUiOptions): Promise<Managed> {
  mkdirSync(join(o.root, 'config'), { recursive: true });
  const origins = [`http://127.0.0.1:${o.port}`, `http://localhost:${o.port}`];
  writeFileSync(
    join(o.root, 'config', 'cluster.yaml'),
    `# Written by scripts/cluster.ts at each start.\n${stringify({
      temporalGrpcAddress: o.temporalAddress,
      host: '127.0.0.1',
      port: o.port,
      enableUi: true,
      defaultNamespace: 'default',
      refreshInterval: '1m',
      notifyOnNewVersion: false,
      cors: { allowOrigins: origins, cookieInsecure: true },
      // The codec endpoint answers staff only: the UI sends the console's session cookie with its calls.
      codec: { endpoint: o.codecEndpoint, includeCredentials: true },
    })}`,
  );
  const ui = new Managed({
    name: 'temporal-ui',
    command: o.binary,
    args: ['--root', o.root, '--config', 'config', '--env', 'cluster', 'start'],
    cwd: o.root,
    logFile: o.logFile,
    watchdogGraceSeconds: 5,
  });
  await retrying(
    60_000,
    'the Temporal Web UI starting',
    async () => {
      const res = await fetch(`http://127.0.0.1:${o.port}/`);
      if (res.status !== 200) throw new Error(`answered ${res.status}`);
    },
    () => ui.exitStatus === undefined,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n(see ${o.logFile})\n${ui.lastLines()}`);
  });
  return ui;
}
