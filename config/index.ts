/**
 * `warren/config`: what `warren.config.ts` uses. `defineConfig` gives the file its types; the runner (`warren start`)
 * and the CDK stack (`warren/cdk`) both read it.
 */
export { defineConfig, HANDLER_DEFAULTS, RUNNER_DEFAULTS } from './config.js';
export type { HandlerConfig, PublishedExchange, ResolvedConfig, ResolvedHandlerConfig, RunnerConfig, WarrenConfig } from './config.js';
export type { Sample, SampleFactory, SamplesModule } from './samples.js';
export { ConfigError, WarrenError } from './errors.js';
