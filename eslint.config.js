import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O packages.
// Type-only imports are fine (they vanish at compile time).
const nodeOnly = [
  'drizzle-orm',
  'drizzle-orm/*',
  'postgres',
  'onnxruntime-node',
  '@electric-sql/pglite',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
  'pino',
  'hyparquet',
  'hyparquet-compressors',
  'protobufjs',
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.keel/**', 'scratch/**', 'src/db/migrations/**'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // Activities, mocks and sinks implement async interfaces without awaiting; tsc checks their return types.
      '@typescript-eslint/require-await': 'off',
      // Rejecting with a caught `unknown` passes a failure on unchanged.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // String(cell) of a parsed value (unknown narrowed to {}) is the defined text of a cell; the rule flags each one.
      '@typescript-eslint/no-base-to-string': 'off',
      // A leading underscore marks a deliberately unused name, e.g. a key dropped by a rest pattern.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // vitest's asymmetric matchers (expect.any, expect.stringContaining, …) are typed `any`: each one in an expected value is flagged.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      // Tests hand activities to MockActivityEnvironment.run unbound, as Temporal's worker does.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  { files: ['**/*.js', '**/*.mjs', '**/*.cjs'], extends: [tseslint.configs.disableTypeChecked] },
  {
    files: ['workflows/**/*.ts', 'src/shared/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [...builtinModules, ...builtinModules.map((m) => `node:${m}`), ...nodeOnly.filter((m) => !m.includes('*'))].map(
            (name) => ({
              name,
              message: 'workflow code must stay deterministic: no Node built-ins or I/O packages (use `import type`).',
              allowTypeImports: true,
            }),
          ),
          patterns: [
            { group: ['drizzle-orm/*'], allowTypeImports: true, message: 'no database code in workflows' },
            {
              group: [
                '**/src/*',
                '!**/src/shared',
                '!**/src/shared/*',
                '**/activities',
                '**/activities/*',
                '../*',
                '!../shared/*',
                '!../src',
                '!../activities',
              ],
              allowTypeImports: true,
              message: 'workflows import only src/shared (and activity types).',
            },
          ],
        },
      ],
    },
  },
  {
    // Environment variables are read and validated in one place, src/runtime/environment.ts, and
    // passed down. Handing the whole process.env to a child process or to a resolver of
    // operator-named variables (`urlEnv`, `{ env }`) stays allowed: it reads no setting of keel's.
    files: ['src/**/*.ts', 'activities/**/*.ts', 'workflows/**/*.ts'],
    ignores: ['src/runtime/environment.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.type='MemberExpression'][object.object.name='process'][object.property.name='env']",
          message: 'read environment variables in src/runtime/environment.ts (with .describe()) and pass the value down.',
        },
        {
          selector:
            "VariableDeclarator[id.type='ObjectPattern'][init.type='MemberExpression'][init.object.name='process'][init.property.name='env']",
          message: 'read environment variables in src/runtime/environment.ts (with .describe()) and pass the value down.',
        },
      ],
    },
  },
);
