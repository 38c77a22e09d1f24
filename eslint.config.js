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
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {},
  },
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
    // src/serving/http-server.ts still reads LOG_LEVEL and KEEL_INFERENCE_THREADS itself: exempt until
    // those reads move to the environment.
    files: ['src/**/*.ts', 'activities/**/*.ts', 'workflows/**/*.ts'],
    ignores: ['src/runtime/environment.ts', 'src/serving/http-server.ts'],
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
