// The workflow code is evaluated once per workflow thread and shared by every workflow (worker/create.ts,
// WORKFLOW_BUNDLER_OPTIONS.preloadModules): safe only while no shared module keeps state at module scope that
// one workflow could change and another read. Temporal's SDK deep-freezes what a shared module exports, not
// what it keeps to itself, so this reads every project module of a real bundle: no `let` or `var` at module
// scope, and a module-scope collection or array only behind a read-only type. OpenTelemetry's interceptors,
// which keep state, are loaded per traced workflow and must not be preloaded. Server-free.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { WORKFLOW_BUNDLER_OPTIONS, WORKFLOWS_PATH, writeWorkflowBundle } from '../worker/create';
import { workflowBundle } from './helpers/servers';

const ROOT = resolve(__dirname, '..');
/** Loaded by the tracing gate for a traced workflow only, evaluated per workflow (never shared). */
const PER_WORKFLOW = [join('workflows', 'otel-traced.ts')];

/** What in a module's top level could hold state shared by every workflow, as "line: text". */
export function moduleScopeState(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const at = (node: ts.Node) =>
    `${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${node.getText().split('\n')[0]}`;
  const readOnlyType = (type: ts.TypeNode | undefined) =>
    type !== undefined && /^(Readonly|readonly )/.test(type.getText());
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    const list = statement.declarationList;
    if (!(list.flags & ts.NodeFlags.Const)) {
      found.push(at(statement));
      continue;
    }
    for (const d of list.declarations) {
      let init = d.initializer;
      if (init && ts.isAsExpression(init) && init.type.getText() === 'const') continue;
      while (init && (ts.isAsExpression(init) || ts.isSatisfiesExpression(init))) init = init.expression;
      if (!init) continue;
      const mutableCollection =
        ts.isNewExpression(init) && /^(Map|Set|WeakMap|WeakSet|Array)$/.test(init.expression.getText());
      if ((mutableCollection || ts.isArrayLiteralExpression(init)) && !readOnlyType(d.type))
        found.push(at(d));
    }
  }
  return found;
}

describe('the workflow code shared by every workflow', function () {
  this.timeout(180_000);

  it('preloads the workflows and the tracing gate, never the traced interceptors', () => {
    assert.deepEqual(WORKFLOW_BUNDLER_OPTIONS.preloadModules, [
      WORKFLOWS_PATH,
      require.resolve('../workflows/otel-interceptors'),
    ]);
  });

  it("a bundle of other workflows (the chaos run's --workflows-path) preloads those, not the case workflow", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cordon-preload-'));
    try {
      const fixture = require.resolve('./fixtures/incompatible-workflow');
      const code = readFileSync(await writeWorkflowBundle(join(dir, 'bundle.js'), fixture), 'utf8');
      const preloaded = [
        ...(code.match(/function preloadModules\(\) \{([^}]*)\}/)?.[1] ?? '').matchAll(/"(\.\/[^"]+)"\)/g),
      ].map((m) => m[1]);
      assert.deepEqual(preloaded, [
        './test/fixtures/incompatible-workflow.ts',
        './workflows/otel-interceptors.ts',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no project module of a real bundle keeps changeable state at module scope', async () => {
    const { code } = await workflowBundle();
    const bundled = [...code.matchAll(/^\/\*\*\*\/ "(\.\/[^"]+\.ts)"$/gm)]
      .map((m) => relative(ROOT, resolve(process.cwd(), m[1]!)))
      .filter((f) => !f.includes('node_modules') && !PER_WORKFLOW.includes(f));
    assert.ok(bundled.includes(join('workflows', 'case.ts')), `modules found: ${bundled.join(', ')}`);
    const state = bundled.flatMap((f) =>
      moduleScopeState(f, readFileSync(join(ROOT, f), 'utf8')).map((s) => `${f}:${s}`),
    );
    assert.deepEqual(state, [], 'module-scope state in shared workflow code');
  });

  it('the check sees what it must', () => {
    const caught = moduleScopeState(
      'x.ts',
      [
        'let n = 0;',
        'var m = 1;',
        'const seen = new Set<string>();',
        'const order = [1, 2];',
        'const kept: ReadonlySet<string> = new Set(["a"]);',
        'const fixed: readonly number[] = [1];',
        'const tuple = ["a", "b"] as const;',
        'const limit = 5;',
        'export function f() { let inside = 1; return inside; }',
      ].join('\n'),
    );
    assert.deepEqual(
      caught.map((c) => Number(c.split(':')[0])),
      [1, 2, 3, 4],
    );
  });
});
