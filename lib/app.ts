/**
 * Builds the Warren CDK app: reads `warren.config.ts` (the file the local runner reads), the `warren:*` context and
 * `warren.lock.json` (lib/warrenLock.ts), adds the stack and cdk-nag's AwsSolutionsChecks. Used by a team's CDK entry
 * (`synthWarrenApp`, e.g. examples/orders/lib/app.ts) and by the tests.
 */
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { resolve } from 'node:path';
import { loadConfig } from '../config/loadConfig.js';
import type { ResolvedConfig } from '../config/config.js';
import { ENV } from '../runtime/env.js';
import { contextOptions } from './contextProps.js';
import { readLock, saveLock, WARREN_LOCK_FILE, type LockMode, type WarrenLock } from './warrenLock.js';
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
  /** `locked`: a record that lacks an entry fails synth (`synthWarrenApp` passes it when `CI` is set). @default 'write' */
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

/** True when `CI` is set to anything but '', '0' or 'false'. */
function inCi(): boolean {
  const ci = process.env[ENV.ci];
  return ci !== undefined && !['', '0', 'false'].includes(ci.toLowerCase());
}

/**
 * A team's whole CDK entry: builds the app (`createWarrenApp`), synthesizes it, and writes `warren.lock.json` when the
 * synth placed a new handler or pinned a new resource (commit it). In CI (`CI` set) the record must already hold every
 * entry (docs/changing-a-deployed-app.md).
 */
export async function synthWarrenApp(options: WarrenAppOptions = {}): Promise<{ app: App; stack: WarrenStack }> {
  const { app, stack, lockFile } = await createWarrenApp(inCi() ? { lockMode: 'locked', ...options } : options);
  app.synth();
  if (lockFile !== undefined && stack.lockMode === 'write' && saveLock(lockFile, stack.stackName, stack.lock)) {
    const added = stack.lockAdded;
    process.stderr.write(`Warren: wrote ${lockFile}${added.length > 0 ? ` (${added.length} new: ${added.slice(0, 5).join(', ')}${added.length > 5 ? ', ...' : ''})` : ''}. Commit it with this change.\n`);
  }
  return { app, stack };
}
