/**
 * `warren/config`: what a team's `warren.config.ts` imports. `defineConfig` checks the file's shape at type-check time
 * (the runner and `cdk synth` validate the values at start); the types say what each option means and its default.
 */
export { defineConfig, HANDLER_DEFAULTS, RUNNER_DEFAULTS } from './config.js';
export type { HandlerConfig, PublishedExchange, RunnerConfig, WarrenConfig } from './config.js';
