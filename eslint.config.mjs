// Lint: typescript-eslint's recommended rules, plus the habits STYLE.md asks for.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Folders of the domain (README.md "Layout"): pure cores and use cases, free of AWS and of the test bed.
const DOMAIN = [
  'api',
  'kube',
  'kube-api',
  'placement',
  'sync',
  'health',
  'recovery',
  'ports',
  'ingress',
  'metrics',
  'errors',
  'observability',
  'vw-user',
];

// Syntax the house refuses everywhere; the logger rules are lifted only in lib/observability/log.ts.
const LOGGER = 'tmc has one logging interface: take `Log` from lib/observability/log.ts';
const HOUSE_SYNTAX = [
  { selector: 'ExportDefaultDeclaration', message: 'Use named exports (STYLE.md 12)' },
  { selector: 'TSInterfaceDeclaration[id.name=/Log(ger)?$/]', message: LOGGER },
  { selector: 'TSTypeAliasDeclaration[id.name=/Log(ger)?$/]', message: LOGGER },
  {
    // An inline logger type: an object type with both a `warn` and an `error` member.
    selector: "TSTypeLiteral:has(> [key.name='warn']):has(> [key.name='error'])",
    message: LOGGER,
  },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.tmc/', 'coverage/', 'bench/results/', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports' },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', ...HOUSE_SYNTAX],
    },
  },
  {
    // The one logging interface lives here (docs/architecture.md rule 5).
    files: ['lib/observability/log.ts'],
    rules: { 'no-restricted-syntax': ['error', HOUSE_SYNTAX[0]] },
  },
  {
    // Layering (docs/architecture.md): production code never imports the simulator or the local stack.
    files: ['lib/**/*.ts', 'functions/**/*.ts', 'infra/**/*.ts'],
    ignores: ['lib/sim/**', 'lib/local/**', 'lib/cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/sim', '**/sim/**', '**/local/**'],
              message: 'Only lib/local, lib/cli, tests and bench may import the simulator or the local stack',
            },
          ],
        },
      ],
    },
  },
  {
    // The domain is technology-free: no AWS SDK, no adapters, no simulator; adapters are passed in through lib/ports.
    files: DOMAIN.map((dir) => `lib/${dir}/**/*.ts`),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@aws-sdk/*', '@smithy/*'],
              message: 'The AWS SDK belongs in lib/adapters; take a port from lib/ports',
            },
            {
              group: ['**/adapters/**'],
              message: 'Domain code takes adapters through lib/ports, passed in by lib/runtime',
            },
            {
              group: ['**/sim', '**/sim/**', '**/local/**'],
              message: 'Only lib/local, lib/cli, tests and bench may import the simulator or the local stack',
            },
          ],
        },
      ],
    },
  },
  {
    // The simulator and the API-serving printers walk arbitrary Kubernetes JSON (any kind, any CRD); typing every
    // path would add nothing.
    files: ['lib/sim/**/*.ts', 'lib/kube-api/table.ts', 'lib/kube-api/resource-info.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    files: ['bin/**/*.mjs', 'eslint.config.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
