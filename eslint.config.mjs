// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import ts from 'typescript';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

/**
 * The project's modules the workflow bundle carries, computed at every lint: every file reached by value imports
 * (type-only imports are erased before bundling) from the bundle's entries, the workflows (WORKFLOWS_PATH in
 * worker/create.ts), tracing's interceptors (WORKFLOW_INTERCEPTOR_MODULES there) and the failure converter it
 * loads by path (FAILURE_CONVERTER_PATH in infra/codec.ts). A module the workflow starts importing is linted as
 * workflow code at once; test/workflow-bundle.test.ts checks the list against a real bundle.
 */
function workflowBundleModules(entries) {
  const root = import.meta.dirname;
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
    for (const statement of source.statements) {
      const specifier = valueImportOf(statement);
      const target = specifier?.startsWith('.') ? resolveModule(dirname(file), specifier) : undefined;
      if (target) visit(target);
    }
  };
  for (const entry of entries) visit(resolve(root, entry));
  return [...seen].map((file) => relative(root, file)).sort();
}

/** The module a statement imports (or re-exports from) at run time; undefined for a type-only one. */
function valueImportOf(statement) {
  if (ts.isImportDeclaration(statement)) {
    const clause = statement.importClause;
    if (clause?.isTypeOnly) return undefined;
    const named = clause?.namedBindings;
    const onlyTypes =
      clause && !clause.name && named && ts.isNamedImports(named) && named.elements.length > 0;
    if (onlyTypes && named.elements.every((e) => e.isTypeOnly)) return undefined;
    return statement.moduleSpecifier.text;
  }
  if (ts.isExportDeclaration(statement) && statement.moduleSpecifier && !statement.isTypeOnly)
    return statement.moduleSpecifier.text;
  return undefined;
}

function resolveModule(dir, specifier) {
  for (const candidate of [`${specifier}.ts`, `${specifier}/index.ts`]) {
    const file = resolve(dir, candidate);
    if (existsSync(file)) return file;
  }
  return undefined;
}

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'data/',
      '.tools/',
      '.cordon-cluster/',
      'scratch/',
      '.stryker-tmp/',
      'reports/',
      'eslint.config.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox, and every cached workflow carries its imports.
    files: workflowBundleModules([
      'workflows/index.ts',
      'workflows/otel-interceptors.ts',
      'workflows/otel-traced.ts',
      'infra/failure-converter.ts',
    ]),
    rules: {
      // Not there, or not deterministic, in the sandbox (Date and Math.random are replaced by deterministic ones).
      'no-restricted-globals': [
        'error',
        ...['process', 'Buffer', 'setImmediate', 'clearImmediate', 'performance', 'crypto', 'fetch'].map(
          (name) => ({
            name,
            message: 'Not in workflow code: the sandbox has none, or it is not deterministic.',
          }),
        ),
        ...['WeakRef', 'FinalizationRegistry'].map((name) => ({
          name,
          message: 'Garbage collection is not deterministic: not in workflow code.',
        })),
        ...['require', '__dirname', '__filename'].map((name) => ({ name, message: 'Not in workflow code.' })),
      ],
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: 'No Node built-ins in workflow code.' })),
            { name: 'zod', message: 'Validate at the API and activity boundaries, not in workflows.' },
            { name: 'express', message: 'Not in workflow code.' },
            {
              name: '../core/events',
              allowTypeImports: true,
              message: 'Type imports only: it pulls in zod.',
            },
            {
              name: '../core/policy',
              allowTypeImports: true,
              message: 'Type imports only: it pulls in zod.',
            },
            { name: './events', allowTypeImports: true, message: 'Type imports only: it pulls in zod.' },
            { name: './policy', allowTypeImports: true, message: 'Type imports only: it pulls in zod.' },
            { name: '../core/activity-contract', allowTypeImports: true, message: 'Type imports only.' },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
