// `npx tsx scripts/config-table.ts` writes docs/configuration.md from the one schema of every environment
// variable (infra/config-schema.ts): the operator's introduction below, then one table per group of variables.
// `--check` writes nothing and exits 1 when the file differs; test/configuration.test.ts checks the same.
// The page goes through Prettier with the project's settings, so `npm run lint` finds it formatted.
import { readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { format, resolveConfig } from 'prettier';
import type { z } from 'zod';
import { ENV_NAMES, ENV_SCHEMA, type EnvName } from '../infra/config-schema';
import { ENV_GROUPS, envDocs, type EnvGroup } from '../infra/config-values';

export const CONFIGURATION_PAGE = resolve(__dirname, '..', 'docs', 'configuration.md');

export interface EnvRow {
  name: EnvName;
  group: EnvGroup;
  default: string;
  production: string;
  meaning: string;
}

/** The value of the schema's own `.default()`, looking through the empty-as-unset preprocessing. */
function declaredDefault(schema: z.core.$ZodType): unknown {
  const def = schema._zod.def;
  if (def.type === 'default') return (def as z.core.$ZodDefaultDef).defaultValue;
  if (def.type === 'pipe') {
    const pipe = def as z.core.$ZodPipeDef;
    return declaredDefault(pipe.out) ?? declaredDefault(pipe.in);
  }
  return undefined;
}

/** Every variable as the table shows it, in the schema's order. */
export function envRows(): EnvRow[] {
  return ENV_NAMES.map((name) => {
    const schema = ENV_SCHEMA.shape[name];
    const doc = envDocs.get(schema);
    if (!doc || !schema.description) throw new Error(`${name} has no description or group in the schema`);
    const value = declaredDefault(schema);
    const shown =
      typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value);
    return {
      name,
      group: doc.group,
      default: doc.default ?? (value === undefined ? 'unset' : `\`${shown}\``),
      production: doc.production ?? '',
      meaning: schema.description,
    };
  });
}

/** A few words under each group's heading, where the variables share something worth saying once. */
const GROUP_NOTES: Partial<Record<EnvGroup, string>> = {
  access: `Key lists (\`id:base64key,…\`) are newest first: the first key signs or encrypts, and every key listed is
still accepted, which is how keys rotate (see [security.md](security.md#rotating-the-keys)).`,
  temporal: `The cluster, or the local dev server that \`npm start\` runs when \`TEMPORAL_ADDRESS\` is unset. An API key
or a client certificate turns TLS on.`,
  backend: `\`CORDON_WEBHOOK_URL\` or \`CORDON_GATEWAY_URL\` set without its secret stops the process at start-up: every
call to the backend is signed. Unset, Cordon logs what it would have sent (IDs and codes only).`,
  storage: `How long Cordon keeps what, and where: [operations.md](operations.md#cordons-database) has the tables.`,
  cli: `Read by \`npx cordon\`, the policy lab on a checkout (not in the image), which also reads
\`CORDON_POLICY_FILE\`.`,
  tools: `Read by the scripts of a checkout (\`npm start\`, \`npm run cluster\`, \`npm run bench\`…), never by the image.
The tests' own switches are in [testing.md](testing.md).`,
};

const INTRODUCTION = `# Configuration

This page is for whoever runs Cordon: every environment variable a Cordon process, script or the \`cordon\`
command line reads, its default, whether production needs it, and what it does. It is generated from the
schema that parses them (\`infra/config-schema.ts\`) by \`npx tsx scripts/config-table.ts\`; do not edit it by
hand (\`test/configuration.test.ts\` fails when the two differ, or when the code reads a variable the schema
does not declare).

## How configuration is read

Everything comes from environment variables: there is no configuration file (the policy is a file of its own,
named by \`CORDON_POLICY_FILE\`). The API, the worker and \`npm start\` parse the whole environment once at
start-up against that one schema, so a bad value anywhere stops the process before it serves anything, with a
message that names the variable (never a secret's value). Scripts and the command line read the variables they
use the same way. An unset variable takes the default shown; variables Cordon does not know are ignored. A new
value takes effect when the process restarts; the policy file itself is followed while Cordon runs (see
[policy-and-lab.md](policy-and-lab.md#changing-the-policy-while-cordon-runs)).

## Development and production

\`CORDON_MODE\` is \`development\` unless set. Development is for one machine: the API listens on 127.0.0.1,
accepts the development tokens it prints at start-up (\`dev-backend\`, \`dev-reviewer-1\`, …) besides
\`CORDON_TOKENS\`, creates the secrets it is not given, shows the mail catcher at \`/dev/mail\`, and writes
readable logs. Production (the container image sets \`CORDON_MODE=production\`) refuses to start without the
variables marked required below, accepts only \`CORDON_TOKENS\`, creates no secret, writes JSON log lines,
marks cookies \`Secure\` and sends \`Strict-Transport-Security\`, and on SIGTERM keeps serving for
\`CORDON_SHUTDOWN_DELAY_MS\` while \`/readyz\` fails (see [deploy.md](deploy.md)).

## Where secrets come from

In production, from the environment, which the platform fills from its secret store:
\`deploy/k8s/config.yaml\` has a Secret template with \`CORDON_DATABASE_URL\`, \`CORDON_TOKENS\`,
\`CORDON_CODEC_KEYS\`, \`CORDON_SESSION_SECRET\` and \`CORDON_LINK_KEYS\`. The codec keys and the link keys must be the
same on every API and worker (workers sign the links in notices), the session secret the same on every API.
Error messages name the variable and the position of a bad entry, never key material.

In development, each secret left unset is created once in the data folder (\`CORDON_DATA_DIR\`; files such as
\`codec-key\`, \`link-key\` and \`console-session-secret\`, mode 0600) and read again at the next start, so every
process on the same folder shares it. \`npm run cluster\` gives its processes folders of their own, so it creates
the shared secrets once in \`.cordon-cluster/secrets.json\` and passes them as variables (see
[cluster.md](cluster.md)). Removing the data folder forgets them: what was encrypted with them cannot be read
again.

## The variables

The **production** column says what production requires, or what differs there.
`;

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The page before formatting. */
export function configurationMarkdown(rows: EnvRow[] = envRows()): string {
  const sections = (Object.keys(ENV_GROUPS) as EnvGroup[]).flatMap((group) => {
    const inGroup = rows.filter((r) => r.group === group);
    if (!inGroup.length) return [];
    const note = GROUP_NOTES[group];
    return [
      `### ${ENV_GROUPS[group]}`,
      ...(note ? [note] : []),
      [
        '| variable | default | production | meaning |',
        '| --- | --- | --- | --- |',
        ...inGroup.map(
          (r) => `| \`${r.name}\` | ${cell(r.default)} | ${cell(r.production)} | ${cell(r.meaning)} |`,
        ),
      ].join('\n'),
    ];
  });
  return [INTRODUCTION, ...sections].join('\n\n') + '\n';
}

/** The page as it is committed: formatted by Prettier with the project's settings. */
export async function configurationPage(): Promise<string> {
  const options = (await resolveConfig(CONFIGURATION_PAGE)) ?? {};
  return format(configurationMarkdown(), { ...options, filepath: CONFIGURATION_PAGE });
}

async function main(): Promise<void> {
  const page = await configurationPage();
  const shown = relative(process.cwd(), CONFIGURATION_PAGE);
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(CONFIGURATION_PAGE, 'utf8');
    } catch {
      // a missing page differs
    }
    if (current !== page) {
      process.stderr.write(
        `${shown} differs from infra/config-schema.ts: run npx tsx scripts/config-table.ts\n`,
      );
      process.exitCode = 1;
    }
    return;
  }
  writeFileSync(CONFIGURATION_PAGE, page);
  process.stdout.write(`wrote ${shown} (${ENV_NAMES.length} variables)\n`);
}

if (require.main === module)
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
