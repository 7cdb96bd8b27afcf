import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveConfig, type ResolvedConfig } from './config.js';
import { ConfigError } from './errors.js';

/**
 * Imports `warren.config.ts` (or `path`), validates it and checks that every handler entry and migration exists. Paths,
 * the config's own and those in it, are relative to `root` (the working directory: the project's root). The files are
 * imported as they are: a TypeScript config needs a process that loads TypeScript (the `warren` CLI registers tsx
 * itself; a CDK entry runs under `npx tsx lib/app.ts`).
 */
export async function loadConfig(path = 'warren.config.ts', root = process.cwd()): Promise<ResolvedConfig> {
  const file = resolve(root, path);
  if (!existsSync(file)) throw new ConfigError('config', `no config file at ${file}: run from your project's root (paths are relative to the working directory), create warren.config.ts there, or pass --config <file>`);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_UNKNOWN_FILE_EXTENSION') {
      throw new ConfigError('config', `${file} is TypeScript and this process does not load TypeScript: run it under tsx (\`npx tsx lib/app.ts\`; the \`warren\` CLI does this itself) or point at its compiled JavaScript`);
    }
    throw error;
  }
  const config = resolveConfig(mod.default);
  config.handlers.forEach((h, i) => {
    if (!existsSync(resolve(root, h.entry))) throw new ConfigError(`handlers[${i}].entry`, `file ${JSON.stringify(h.entry)} does not exist (looked for ${resolve(root, h.entry)}; paths are relative to the project's root, ${root}): fix the path, or run from the project's root`);
  });
  for (const [i, m] of config.migrations.entries()) {
    if (!existsSync(resolve(root, m))) throw new ConfigError(`migrations[${i}]`, `file ${JSON.stringify(m)} does not exist (looked for ${resolve(root, m)}; paths are relative to the project's root, ${root})`);
  }
  return config;
}
