import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveConfig, type ResolvedConfig } from './config.js';
import { ConfigError } from './errors.js';
import { BUILT, runnablePath } from './build.js';

const BUILD_HINT = BUILT ? ' (the built runner reads compiled files under dist/: run `npm run build`)' : '';

/**
 * Imports `warren.config.ts` (or `path`), validates it and checks that every handler entry exists. A built runner
 * (`npm run build`) imports the compiled twins under `dist/` of the config and the entries.
 */
export async function loadConfig(path = 'warren.config.ts', root = process.cwd()): Promise<ResolvedConfig> {
  const file = runnablePath(root, path);
  if (!existsSync(file)) throw new ConfigError('config', `no config file at ${file}; create warren.config.ts or pass --config <file>${BUILD_HINT}`);
  const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  const config = resolveConfig(mod.default);
  config.handlers.forEach((h, i) => {
    if (!existsSync(runnablePath(root, h.entry))) throw new ConfigError(`handlers[${i}].entry`, `file ${JSON.stringify(h.entry)} does not exist (paths are relative to ${root}; looked for ${runnablePath(root, h.entry)})${BUILD_HINT}`);
  });
  for (const [i, m] of config.migrations.entries()) {
    if (!existsSync(resolve(root, m))) throw new ConfigError(`migrations[${i}]`, `file ${JSON.stringify(m)} does not exist (paths are relative to ${root})`);
  }
  return config;
}
