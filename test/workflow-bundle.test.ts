// The workflow bundle and the layout it rests on. Every project module a real bundle carries is linted as
// workflow code (no Node built-ins, nothing non-deterministic: eslint.config.mjs computes the list, this
// checks it against the bundler); core/ imports nothing from Temporal's SDK or another folder; only
// workflows/definitions.ts is imported from outside workflows/; no module imports, directly or through
// others, one that imports it back (type-only imports count); and every update and search attribute a release
// recorded in its histories is still defined, under the same name and type. Server-free.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ESLint } from 'eslint';
import ts from 'typescript';
import * as definitions from '../workflows/definitions';
import { SEARCH_ATTRIBUTE_FLAGS } from '../core/contracts';
import { workflowBundle } from './helpers/servers';

const ROOT = resolve(__dirname, '..');
/** The folders of the product's code: tsconfig.json's, without the tests. */
const SOURCE_DIRS = (
  JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as { include: string[] }
).include.filter((dir) => dir !== 'test');

function sourceFiles(dir: string): string[] {
  if (!existsSync(join(ROOT, dir))) return [];
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/** Every module a file names in an import or export (type-only ones included). */
function importsOf(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest);
  const specifiers: string[] = [];
  for (const s of source.statements)
    if ((ts.isImportDeclaration(s) || ts.isExportDeclaration(s)) && s.moduleSpecifier)
      specifiers.push((s.moduleSpecifier as ts.StringLiteral).text);
  return specifiers;
}

function resolveLocal(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = join(dirname(from), specifier);
  return [`${base}.ts`, join(base, 'index.ts')].find((f) => existsSync(join(ROOT, f)));
}

/** The strongly connected groups of more than one file (or a file importing itself): the import circles. */
function circles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(group.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('the workflow bundle and the layout it rests on', function () {
  this.timeout(180_000);

  it("lints every project module of a real workflow bundle with the workflow sandbox's bans", async () => {
    const { code } = await workflowBundle();
    // Webpack names each module by its path from where the bundle was built (the repository's root).
    const bundled = [...code.matchAll(/^\/\*\*\*\/ "(\.\/[^"]+\.ts)"$/gm)]
      .map((m) => relative(ROOT, resolve(process.cwd(), m[1]!)))
      .filter((f) => !f.includes('node_modules'));
    assert.ok(
      bundled.includes(join('workflows', 'case.ts')),
      `the bundle's modules were found: ${bundled.join(', ')}`,
    );
    const eslint = new ESLint({ cwd: ROOT });
    const unguarded: string[] = [];
    for (const file of bundled) {
      const rules = (
        (await eslint.calculateConfigForFile(join(ROOT, file))) as { rules?: Record<string, unknown> }
      ).rules;
      const imports = JSON.stringify(rules?.['@typescript-eslint/no-restricted-imports'] ?? null);
      const globals = JSON.stringify(rules?.['no-restricted-globals'] ?? null);
      const guarded = ['"node:fs"', '"crypto"', '"zod"'].every((name) => imports.includes(name));
      if (!guarded || !globals.includes('"process"')) unguarded.push(file);
    }
    assert.deepEqual(unguarded, [], 'bundled modules that ESLint does not lint as workflow code');
  });

  it("core/ is the ground floor: it imports nothing from Temporal's SDK, nor from another folder", () => {
    const outside = sourceFiles('core').flatMap((file) =>
      importsOf(file)
        .filter((s) => s.startsWith('@temporalio/') || (s.startsWith('.') && !s.startsWith('./')))
        .map((s) => `${file} → ${s}`),
    );
    assert.deepEqual(outside, []);
  });

  it('outside workflows/, only the definitions of its updates, queries and search attributes are imported', () => {
    const definitionsFile = join('workflows', 'definitions.ts');
    const intoWorkflowCode = SOURCE_DIRS.filter((d) => d !== 'workflows')
      .flatMap(sourceFiles)
      .flatMap((file) =>
        importsOf(file)
          .map((s) => resolveLocal(file, s))
          .filter((f) => f?.startsWith(`workflows${sep}`) && f !== definitionsFile)
          .map((f) => `${file} → ${f}`),
      );
    assert.deepEqual(intoWorkflowCode, []);
  });

  it('has no import circle, type-only imports included', () => {
    const graph = new Map<string, string[]>();
    for (const file of SOURCE_DIRS.flatMap(sourceFiles))
      graph.set(
        file,
        importsOf(file)
          .map((s) => resolveLocal(file, s))
          .filter((f): f is string => f !== undefined && !f.startsWith('test')),
      );
    assert.ok(graph.has(join('core', 'case-machine.ts')), 'the source files were found');
    assert.deepEqual(circles(graph), []);
  });

  it('still defines every update and search attribute the releases recorded, under the same name and type', () => {
    const defined = Object.values(definitions) as { type?: string; name?: string }[];
    const updates = new Set(defined.filter((d) => d.type === 'update').map((d) => d.name));
    const attributes = new Map(
      Object.values(definitions.SA).map((k) => [k.name, SEARCH_ATTRIBUTE_TYPE_NAMES[k.type]]),
    );
    const histories = join(__dirname, 'histories');
    const recordedUpdates = new Set<string>();
    const recordedAttributes = new Map<string, string>();
    for (const release of readdirSync(histories, { withFileTypes: true }).filter((d) => d.isDirectory()))
      for (const file of readdirSync(join(histories, release.name)).filter((f) => f.endsWith('.json'))) {
        const { events } = JSON.parse(readFileSync(join(histories, release.name, file), 'utf8')) as {
          events: Record<string, any>[];
        };
        for (const e of events) {
          const update = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name;
          if (update) recordedUpdates.add(update as string);
          const fields = (e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ??
            {}) as Record<string, { metadata: { type: string } }>;
          for (const [name, payload] of Object.entries(fields))
            if (!name.startsWith('Temporal'))
              recordedAttributes.set(name, Buffer.from(payload.metadata.type, 'base64').toString());
        }
      }
    assert.ok(
      recordedUpdates.size >= 5 && recordedAttributes.size >= 5,
      'the histories name updates and attributes',
    );
    assert.deepEqual(
      [...recordedUpdates].filter((name) => !updates.has(name)),
      [],
      'recorded updates not defined',
    );
    for (const [name, type] of recordedAttributes) assert.equal(attributes.get(name), type, name);
  });

  it('starts the dev server with the same search attributes the workflow upserts', () => {
    const fromDefinitions = Object.values(definitions.SA).map(
      (k) => `${k.name}=${SEARCH_ATTRIBUTE_TYPE_NAMES[k.type]}`,
    );
    assert.deepEqual([...fromDefinitions].sort(), [...SEARCH_ATTRIBUTE_FLAGS].sort());
  });
});

/** Search attribute types as the server names them (the payloads' metadata and `--search-attribute`). */
const SEARCH_ATTRIBUTE_TYPE_NAMES: Record<string, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};
