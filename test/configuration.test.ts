// One schema for every environment variable (infra/config-schema.ts): the code reads no variable it does not
// declare, each declared variable is read somewhere and documented, the "required in production" column is what
// production start-up enforces, and docs/configuration.md is what scripts/config-table.ts generates from it.
// Server-free: the code is read with TypeScript's parser (syntax only), nothing is started.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as ts from 'typescript';
import { parseConfig } from '../infra/config';
import { ENV_NAMES, envValue, type EnvName } from '../infra/config-schema';
import { linkKeysFromConfig } from '../infra/links';
import { entityHasherFromConfig } from '../infra/entity-key';
import { auditKeysFromConfig } from '../infra/audit-keys';
import { SHARED_SECRETS } from '../scripts/cluster/secrets';
import { TOOLS } from '../scripts/cluster/tools';
import { CONFIGURATION_PAGE, configurationPage, envRows } from '../scripts/config-table';

const ROOT = join(__dirname, '..');

/**
 * Not scanned. Everything else with TypeScript in it is (api, worker, activities, infra, cli, lab, portal,
 * console, core, workflows, scripts and any folder added later), so a new folder is covered without a change here.
 */
const NOT_SCANNED: Record<string, string> = {
  test: "the tests' own switches (CORDON_PROPERTY_RUNS, CORDON_CHAOS_CASES, …), listed in docs/testing.md",
  'scripts/moto.ts':
    'installs a tool of the tests (CI runs it before them); its CORDON_PYTHON is a test switch',
  'scripts/schemathesis.ts': 'the same, for the OpenAPI test',
  'scripts/preflight.ts':
    "checks the tests' needs before `npm test`: its CI, CORDON_CHROMIUM, … are test switches",
};
const SKIPPED_FOLDERS = new Set(['node_modules', 'dist', 'data', 'scratch', 'reports']);

/** Read to find programs, as every Unix program does; not Cordon's configuration. */
const SYSTEM_VARIABLES = new Set(['PATH']);

/**
 * The files that read a variable whose name is computed, and the names they can read. Any other computed read
 * fails the test: name the variable, or add the file here with where its names come from.
 */
const COMPUTED_READS: Record<string, readonly string[]> = {
  'infra/config-schema.ts': ENV_NAMES, // envValue(name): typed to the schema's names
  'scripts/cluster/tools.ts': Object.values(TOOLS).map((tool) => tool.envVar),
  'scripts/cluster/secrets.ts': SHARED_SECRETS,
};

interface EnvRead {
  /** Undefined: the name is computed. */
  name?: string;
  line: number;
}

/**
 * Every read of an environment variable in a source file: `process.env.X`, `process.env['X']`, the same on any
 * object named `env`, on `<something>.env`, or on a variable or parameter that holds the environment (assigned
 * from it, or typed NodeJS.ProcessEnv), destructuring from those, `'X' in env`, and commander's `.env('X')`.
 */
export function environmentReads(source: string): EnvRead[] {
  const file = ts.createSourceFile('scanned.ts', source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const holders = new Set(['env']);
  const unwrap = (n: ts.Expression): ts.Expression =>
    ts.isParenthesizedExpression(n) || ts.isNonNullExpression(n) || ts.isAsExpression(n)
      ? unwrap(n.expression)
      : n;
  const isEnvironment = (node: ts.Expression): boolean => {
    const n = unwrap(node);
    return (
      (ts.isIdentifier(n) && holders.has(n.text)) ||
      (ts.isPropertyAccessExpression(n) && n.name.text === 'env')
    );
  };
  const collectHolders = (node: ts.Node): void => {
    if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      node.initializer &&
      isEnvironment(node.initializer)
    )
      holders.add(node.name.text);
    if (
      ts.isParameter(node) &&
      ts.isIdentifier(node.name) &&
      node.type &&
      /\bProcessEnv\b/.test(node.type.getText())
    )
      holders.add(node.name.text);
    ts.forEachChild(node, collectHolders);
  };
  collectHolders(file);

  const reads: EnvRead[] = [];
  const add = (node: ts.Node, name?: string) =>
    reads.push({ name, line: file.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
  const literal = (n: ts.Node | undefined) =>
    n && (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) ? n.text : undefined;
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && isEnvironment(node.expression)) add(node, node.name.text);
    else if (ts.isElementAccessExpression(node) && isEnvironment(node.expression))
      add(node, literal(node.argumentExpression));
    else if (ts.isVariableDeclaration(node) && ts.isObjectBindingPattern(node.name) && node.initializer) {
      if (isEnvironment(node.initializer))
        for (const element of node.name.elements)
          add(
            element,
            element.dotDotDotToken
              ? undefined
              : (literal(element.propertyName) ?? (element.propertyName ?? element.name).getText()),
          );
    } else if (
      ts.isBinaryExpression(node) &&
      node.operatorToken.kind === ts.SyntaxKind.InKeyword &&
      isEnvironment(node.right)
    )
      add(node, literal(node.left));
    else if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      node.expression.name.text === 'env' &&
      node.arguments.length === 1
    )
      add(node, literal(node.arguments[0]));
    ts.forEachChild(node, visit);
  };
  visit(file);
  return reads;
}

function sourceFiles(dir = ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    const shown = relative(ROOT, path);
    if (entry.name.startsWith('.') || SKIPPED_FOLDERS.has(shown) || NOT_SCANNED[shown]) return [];
    if (entry.isDirectory()) return sourceFiles(path);
    return dir !== ROOT && entry.name.endsWith('.ts') ? [shown] : [];
  });
}

describe('configuration: one schema for every environment variable', () => {
  const files = sourceFiles();
  const readsByFile = new Map(files.map((f) => [f, environmentReads(readFileSync(join(ROOT, f), 'utf8'))]));
  const declared = new Set<string>(ENV_NAMES);

  it('the scanner finds each way the code reads a variable, and nothing in comments or strings', () => {
    const reads = environmentReads(`
      const a = process.env.ALPHA;
      const b = process.env['BRAVO'];
      function f(env: NodeJS.ProcessEnv = process.env) { return env.CHARLIE ?? env[\`DELTA\`]; }
      const { ECHO, FOXTROT: renamed, 'GOLF': quoted } = process.env;
      const copy = process.env; copy.HOTEL;
      function g(vars: NodeJS.ProcessEnv) { return 'INDIA' in vars; }
      const o = { env: process.env }; o.env.JULIET;
      new Option('--url <url>').env('KILO');
      const key = 'LIMA'; process.env[key];
      // process.env.IN_A_COMMENT
      const s = 'process.env.IN_A_STRING';
    `);
    assert.deepEqual(
      reads.flatMap((r) => (r.name ? [r.name] : [])),
      ['ALPHA', 'BRAVO', 'CHARLIE', 'DELTA', 'ECHO', 'FOXTROT', 'GOLF', 'HOTEL', 'INDIA', 'JULIET', 'KILO'],
    );
    assert.deepEqual(
      reads.filter((r) => !r.name).map((r) => r.line),
      [10],
      'the computed read',
    );
    // And on the code itself: one read of each kind it uses.
    const names = (file: string) => readsByFile.get(file)?.map((r) => r.name) ?? [];
    assert.ok(names('cli/main.ts').includes('CORDON_TOKEN'), 'process.env.X in cli/main.ts');
    assert.ok(names('cli/main.ts').includes('CORDON_URL'), ".env('CORDON_URL') in cli/main.ts");
    assert.ok(names('worker/create.ts').includes('CORDON_WORKFLOW_BUNDLE'), 'env.X in worker/create.ts');
    assert.ok(
      names('infra/evidence/s3-store.ts').includes('AWS_REGION'),
      'env.X in infra/evidence/s3-store.ts',
    );
    assert.ok(
      files.some((f) => f.startsWith('api/')) && files.includes('scripts/start.ts'),
      'the folders are scanned',
    );
  });

  it('every variable the code reads is declared in the schema', () => {
    const undeclared: string[] = [];
    for (const [file, reads] of readsByFile)
      for (const read of reads) {
        const at = `${file}:${read.line}`;
        if (read.name === undefined) {
          if (!COMPUTED_READS[file]) undeclared.push(`${at} reads a variable whose name is computed`);
        } else if (!declared.has(read.name) && !SYSTEM_VARIABLES.has(read.name))
          undeclared.push(`${at} ${read.name}`);
      }
    for (const [file, names] of Object.entries(COMPUTED_READS))
      for (const name of names) if (!declared.has(name)) undeclared.push(`${file} ${name} (computed)`);
    assert.deepEqual(
      undeclared,
      [],
      'declare these in infra/config-schema.ts, then run npx tsx scripts/config-table.ts',
    );
  });

  it('every declared variable is read somewhere and documented: a description, a group, a default', () => {
    const code = files
      .filter((f) => f !== 'infra/config-schema.ts')
      .map((f) => readFileSync(join(ROOT, f), 'utf8'));
    const unused = ENV_NAMES.filter((name) => !code.some((text) => new RegExp(`\\b${name}\\b`).test(text)));
    assert.deepEqual(unused, [], 'declared, but no code names them');
    for (const row of envRows()) {
      assert.ok(row.meaning.length >= 10, `${row.name}: a description`);
      assert.ok(row.default, `${row.name}: a default`);
    }
  });

  it('parseConfig parses every variable of the schema: a bad value of any stops it naming the variable', () => {
    for (const [name, bad] of [
      ['CORDON_WORKFLOW_CACHE_SIZE', '0'],
      ['LOG_LEVEL', 'loud'],
      ['SDK_LOG_LEVEL', 'chatty'],
      ['BENCH_N', 'many'],
      ['CORDON_TEMPORAL_CALL_MS', '5'],
    ] as const) {
      assert.throws(
        () => parseConfig({ [name]: bad }),
        new RegExp(`invalid configuration:\\n  ${name}: `),
        name,
      );
      assert.throws(
        () => envValue(name, { [name]: bad }),
        new RegExp(`^Error: invalid configuration: ${name} `),
        name,
      );
    }
    assert.equal(
      envValue('CORDON_WORKFLOW_CACHE_SIZE', { CORDON_WORKFLOW_CACHE_SIZE: '' }),
      250,
      'empty: unset',
    );
  });

  it('"required" in production is what production start-up refuses to go without', () => {
    const rows = envRows();
    const required = rows.filter((r) => r.production === 'required').map((r) => r.name);
    const key = (byte: number) => Buffer.alloc(32, byte).toString('base64');
    // Exactly the variables marked required (the test fails when one is marked or enforced without the other).
    const production: Partial<Record<EnvName, string>> = {
      CORDON_MODE: 'production',
      CORDON_HOST: '0.0.0.0',
      CORDON_TOKENS: 'a-backend-token-0123456789=backend:payments',
      CORDON_SESSION_SECRET: 's'.repeat(32),
      CORDON_CODEC_KEYS: `k1:${key(1)}`,
      CORDON_LINK_KEYS: `l1:${key(2)}`,
      CORDON_AUDIT_KEYS: `a1:${key(3)}`,
      CORDON_ENTITY_KEY: key(4),
    };
    // What the API checks as it starts, beyond parseConfig: its link keys, audit keys and entity key.
    const startUp = (env: NodeJS.ProcessEnv) => {
      const config = parseConfig(env);
      linkKeysFromConfig(config);
      auditKeysFromConfig(config);
      entityHasherFromConfig(config);
    };
    assert.deepEqual(
      Object.keys(production)
        .filter((n) => n !== 'CORDON_MODE')
        .sort(),
      [...required].sort(),
    );
    startUp(production);
    for (const name of required) {
      const without = { ...production, [name]: undefined };
      assert.throws(
        () => startUp(without),
        new RegExp(`needs ${name}\\b`),
        `${name} is required in production`,
      );
    }
    // "required with X": set X, and the variable becomes required.
    const samples: Partial<Record<EnvName, string>> = {
      CORDON_VERIFICATION_URL: 'https://id.example.com/verify',
      CORDON_VERIFICATION_SECRET: 'v'.repeat(32),
    };
    for (const row of rows) {
      const partner = /^required with `(\w+)`$/.exec(row.production)?.[1] as EnvName | undefined;
      if (!partner) continue;
      assert.ok(samples[partner] && samples[row.name], `a sample value for ${partner} and ${row.name}`);
      assert.throws(
        () => startUp({ ...production, [partner]: samples[partner] }),
        new RegExp(`needs ${row.name}\\b`),
      );
      startUp({ ...production, [partner]: samples[partner], [row.name]: samples[row.name] });
    }
  });

  it('docs/configuration.md is what scripts/config-table.ts generates from the schema', async () => {
    const committed = readFileSync(CONFIGURATION_PAGE, 'utf8');
    const generated = await configurationPage();
    assert.ok(
      committed === generated,
      'docs/configuration.md differs from infra/config-schema.ts: run npx tsx scripts/config-table.ts' +
        firstDifference(committed, generated),
    );
    for (const name of ENV_NAMES)
      assert.match(committed, new RegExp(`^\\| \`${name}\` +\\|`, 'm'), `${name}'s row`);
  });
});

/** The first line that differs, for the failure message (the whole page would bury it). */
function firstDifference(a: string, b: string): string {
  const left = a.split('\n');
  const right = b.split('\n');
  const i = left.findIndex((line, n) => line !== right[n]);
  const at = i === -1 ? left.length : i;
  return `\n  line ${at + 1} in the file:      ${left[at] ?? '(end)'}\n  line ${at + 1} as generated: ${right[at] ?? '(end)'}`;
}
