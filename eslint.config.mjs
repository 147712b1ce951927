// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'data/',
      '.tools/',
      '.cordon-cluster/',
      'scratch/',
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
    files: ['workflows/**/*.ts', 'core/case-machine.ts', 'core/model.ts', 'core/contracts.ts'],
    rules: {
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
