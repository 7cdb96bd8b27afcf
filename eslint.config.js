// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/**
 * The rooms of the tree and what each may import (docs/architecture.md, "Where things live"): imports go down this list only.
 *   examples/orders/ (the example app, shaped as a team's repository) -> Warren's package entry points only
 *                                 (`warren`, `warren/config`, `warren/cdk`, `warren/testing`, `warren/client`)
 *   runtime/ (inside a handler)   -> runtime/ only: it is what a handler's Lambda bundle holds
 *   config/                       -> runtime/
 *   topology/                     -> config/, runtime/
 *   lib/functions/ (stack's Lambda functions) -> topology/, config/, runtime/ (never the CDK constructs)
 *   client/ (request(): code outside handlers asking them) -> runtime/ only
 *   testing/ (the handler test kit, `warren/testing`) -> config/, runtime/
 *   lib/ (CDK constructs), local/ (the runner) -> the rooms above, never each other (lib/ never client/ or testing/)
 * Each entry names the folders a room must not reach, as the first folder after the `../`s of a relative import.
 * `import-x/no-cycle` skips `import type`; test/unit/importGraph.test.ts checks loops through types too.
 */
const FORBIDDEN = [
  { room: 'runtime', folders: ['local', 'lib', 'config', 'topology', 'examples', 'client', 'testing', 'bench', 'test'] },
  { room: 'config', folders: ['local', 'lib', 'topology', 'examples', 'client', 'testing', 'bench', 'test'] },
  { room: 'topology', folders: ['local', 'lib', 'examples', 'client', 'testing', 'bench', 'test'] },
  { room: 'client', folders: ['local', 'lib', 'config', 'topology', 'examples', 'testing', 'bench', 'test'] },
  { room: 'testing', folders: ['local', 'lib', 'topology', 'examples', 'client', 'bench', 'test'] },
  { room: 'local', folders: ['lib', 'examples', 'testing', 'bench', 'test'] },
  { room: 'lib', folders: ['local', 'client', 'examples', 'testing', 'bench', 'test'] },
];
const CDK = ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs'];

function roomRule(/** @type {string} */ room, /** @type {string[]} */ folders, extra = /** @type {string[]} */ ([])) {
  return {
    'no-restricted-imports': ['error', {
      patterns: [
        {
          regex: `^(\\.\\./)+(${folders.join('|')})/`,
          message: `${room}/ may not import from ${folders.join(', ')} (docs/architecture.md, "Where things live": imports only go down the rooms).`,
        },
        ...(extra.length === 0 ? [] : [{ group: extra, message: `${room}/ is bundled into Lambda functions: no CDK here.` }]),
      ],
    }],
  };
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', 'dist/**', '.warren/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // No import loop anywhere, type-only imports included: a type two files share gets a file of its own.
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  ...FORBIDDEN.map(({ room, folders }) => ({
    files: [`${room}/**/*.ts`],
    ignores: room === 'lib' ? ['lib/functions/**'] : [],
    rules: roomRule(room, folders, room === 'runtime' ? CDK : []),
  })),
  {
    // The example app is what a team writes: Warren through the package's entry points, nothing out of its folder.
    files: ['examples/*/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { regex: '^(\\.\\./){2,}', message: 'an example app imports Warren through the package (`warren`, `warren/config`, `warren/cdk`, `warren/testing`), never by a path out of its folder.' },
          { regex: '^warren/(?!(config|cdk|testing|client)$)', message: 'only the package entry points: warren, warren/config, warren/cdk, warren/testing, warren/client.' },
        ],
      }],
    },
  },
  {
    // The stack's own functions: never the constructs beside them (one `../` from lib/functions/), never the runner.
    files: ['lib/functions/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { regex: '^\\.\\./[^./][^/]*$', message: 'lib/functions/ may not import the CDK constructs in lib/ (their code would ride in the Lambda bundle).' },
          { regex: '^(\\.\\./)+(local|examples|client|testing|bench|test)/', message: 'lib/functions/ may not import from local, examples, client, testing, bench, test (docs/architecture.md).' },
          { group: CDK, message: 'lib/functions/ is bundled into Lambda functions: no CDK here.' },
        ],
      }],
    },
  },
);
