// The programs of the cluster, found or built like the Temporal CLI (scripts/temporal-tools.ts): a path in an
// environment variable, else a program on PATH, else a build cached in .tools/<name>@<version>/, else
// `go install` through the Go module proxy into that folder (nothing downloaded from release pages).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvName } from '../../infra/config-schema';
import { goInstall, onPath, TOOLS_DIR } from '../temporal-tools';

/** The server version the Temporal CLI v1.5.1 embeds (the dev server of `npm start`). */
export const SERVER_VERSION = 'v1.29.1';
/** A Web UI server release whose UI works with that server; its web assets are built into the binary. */
export const UI_SERVER_VERSION = 'v2.42.1';

export interface ToolSpec {
  what: string;
  /** The variable that names a binary to use (declared in infra/config-schema.ts). */
  envVar: EnvName;
  /** Names it has on PATH when installed from a distribution (e.g. the official container images). */
  pathName: string;
  module: string;
  version: string;
  /** The name `go install` gives the binary: the last element of the package path. */
  binary: string;
  about: string;
}

export const TOOLS = {
  server: {
    what: 'the Temporal server',
    envVar: 'CORDON_TEMPORAL_SERVER',
    pathName: 'temporal-server',
    module: 'go.temporal.io/server/cmd/server',
    version: SERVER_VERSION,
    binary: 'server',
    about: 'about 2 minutes with a warm Go cache, 10 on a cold 2-core machine',
  },
  sqlTool: {
    what: 'the Temporal SQL schema tool',
    envVar: 'CORDON_TEMPORAL_SQL_TOOL',
    pathName: 'temporal-sql-tool',
    module: 'go.temporal.io/server/cmd/tools/sql',
    version: SERVER_VERSION,
    binary: 'sql',
    about: 'seconds after the server, about 1-2 minutes alone',
  },
  uiServer: {
    what: 'the Temporal Web UI server',
    envVar: 'CORDON_TEMPORAL_UI_SERVER',
    pathName: 'temporal-ui-server',
    module: 'github.com/temporalio/ui-server/v2/cmd/server',
    version: UI_SERVER_VERSION,
    binary: 'server',
    about: 'about 15-60 seconds',
  },
} satisfies Record<string, ToolSpec>;

export type ToolName = keyof typeof TOOLS;

/**
 * Each tool has a folder of its own (`.tools/temporal-server@v1.29.1/server`): the server and the UI server are
 * both called `server` by `go install`, and a version change builds afresh.
 */
export function cachedPath(spec: ToolSpec): string {
  return join(TOOLS_DIR, `${spec.pathName}@${spec.version}`, spec.binary);
}

/** Where the tool is, or undefined when it has to be built. */
export function findTool(spec: ToolSpec): string | undefined {
  const fromEnv = process.env[spec.envVar];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`${spec.envVar}=${fromEnv} does not exist`);
    return fromEnv;
  }
  const found = onPath(spec.pathName);
  if (found) return found;
  const cached = cachedPath(spec);
  return existsSync(cached) ? cached : undefined;
}

export async function ensureTool(spec: ToolSpec): Promise<string> {
  const found = findTool(spec);
  if (found) return found;
  const cached = cachedPath(spec);
  if (!onPath('go'))
    throw new Error(
      `${spec.what} is not built and there is no Go toolchain to build it: install Go, or set ${spec.envVar}`,
    );
  await goInstall(`${spec.module}@${spec.version}`, join(cached, '..'), spec.what, spec.about);
  if (!existsSync(cached)) throw new Error(`go install did not leave ${cached}`);
  return cached;
}

/** All three, built one after the other (each build uses every core). */
export async function ensureClusterTools(log: (line: string) => void): Promise<Record<ToolName, string>> {
  const missing = (Object.keys(TOOLS) as ToolName[]).filter((name) => !findTool(TOOLS[name]));
  if (missing.length)
    log(
      `building ${missing.map((n) => TOOLS[n].what).join(', ')} with go install (minutes on a cold machine, ` +
        'once: cached in .tools/)',
    );
  const started = Date.now();
  const paths = {} as Record<ToolName, string>;
  for (const name of Object.keys(TOOLS) as ToolName[]) paths[name] = await ensureTool(TOOLS[name]);
  if (missing.length) log(`built in ${Math.round((Date.now() - started) / 1000)} s`);
  return paths;
}
