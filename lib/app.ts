/**
 * Builds the Warren CDK app: reads `warren.config.ts` (the file the local runner reads), the `warren:*` context, adds
 * the stack and cdk-nag's AwsSolutionsChecks. Used by `bin/warren.ts` and by the tests.
 */
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { resolve } from 'node:path';
import { loadConfig } from '../config/loadConfig.js';
import type { ResolvedConfig } from '../config/config.js';
import { contextOptions } from './contextProps.js';
import { WarrenStack } from './WarrenStack.js';

export interface WarrenAppOptions extends AppProps {
  /** @default process.cwd() */
  readonly projectRoot?: string;
  /** Use this config instead of loading `warren:config` (default `warren.config.ts`). */
  readonly config?: ResolvedConfig;
  /** @default true */
  readonly nag?: boolean;
}

export async function createWarrenApp(options: WarrenAppOptions = {}): Promise<{ app: App; stack: WarrenStack }> {
  const { projectRoot = process.cwd(), config, nag = true, ...appProps } = options;
  const app = new App(appProps);
  const { stackName, configPath, ...stackOptions } = contextOptions(app.node);
  const root = resolve(projectRoot);
  const stack = new WarrenStack(app, stackName, {
    ...stackOptions,
    config: config ?? (await loadConfig(configPath, root)),
    projectRoot: root,
    description: 'Warren: RabbitMQ-triggered functions with one warm MySQL connection per worker',
  });
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
