/**
 * Builds the Warren CDK app: reads `warren.config.ts` (the file the local runner reads), the `warren:*` context and
 * `warren.lock.json` (lib/warrenLock.ts), adds the stack and cdk-nag's AwsSolutionsChecks. Used by `bin/warren.ts` and
 * by the tests.
 */
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { resolve } from 'node:path';
import { loadConfig } from '../config/loadConfig.js';
import type { ResolvedConfig } from '../config/config.js';
import { contextOptions } from './contextProps.js';
import { readLock, WARREN_LOCK_FILE, type LockMode, type WarrenLock } from './warrenLock.js';
import { WarrenStack } from './WarrenStack.js';

export interface WarrenAppOptions extends AppProps {
  /** @default process.cwd() */
  readonly projectRoot?: string;
  /** Use this config instead of loading `warren:config` (default `warren.config.ts`). */
  readonly config?: ResolvedConfig;
  /** @default true */
  readonly nag?: boolean;
  /**
   * The committed record (lib/warrenLock.ts) to read. `warren:lockFile` in context overrides it.
   * @default `warren.lock.json` in `projectRoot` when the config is loaded from its file; none when `config` is given
   */
  readonly lockFile?: string;
  /** `locked`: a record that lacks an entry fails synth (bin/warren.ts passes it when `CI` is set). @default 'write' */
  readonly lockMode?: LockMode;
}

export async function createWarrenApp(options: WarrenAppOptions = {}): Promise<{ app: App; stack: WarrenStack; lockFile: string | undefined }> {
  const { projectRoot = process.cwd(), config, nag = true, lockFile: lockOption, lockMode, ...appProps } = options;
  const app = new App(appProps);
  const { stackName, configPath, lockFile: lockContext, lockMode: lockModeContext, ...stackOptions } = contextOptions(app.node);
  const root = resolve(projectRoot);
  const lockFile = lockContext ?? lockOption ?? (config === undefined ? WARREN_LOCK_FILE : undefined);
  const lockPath = lockFile === undefined ? undefined : resolve(root, lockFile);
  const lock: WarrenLock | undefined = lockPath === undefined ? undefined : readLock(lockPath)?.stacks[stackName];
  const stack = new WarrenStack(app, stackName, {
    ...stackOptions,
    config: config ?? (await loadConfig(configPath, root)),
    projectRoot: root,
    description: 'Warren: RabbitMQ-triggered functions with one warm MySQL connection per worker',
    ...(lock === undefined ? {} : { lock }),
    ...(lockFile === undefined ? {} : { lockFile }),
    lockMode: lockModeContext ?? lockMode ?? 'write',
  });
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, lockFile: lockPath };
}
