/**
 * Where the runner's files are when it runs compiled (`npm run build` writes `dist/`, mirroring the project): a
 * TypeScript path of the project (a handler `entry`, the config file) maps to its `.js` twin under `dist/`, so the built
 * runner and its handlers run on plain Node, without tsx.
 */
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** True when the runner runs as compiled JavaScript. */
export const BUILT = import.meta.url.endsWith('.js');

/** The build's root (the folder holding `local/`, `runtime/`, `functions/`): `dist/` after `npm run build`. */
export const BUILD_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** The module to import for a project file: itself from sources, its compiled `.js` twin under the build's root when built. */
export function runnablePath(root: string, file: string): string {
  if (!BUILT || !/\.m?ts$/.test(file)) return resolve(root, file);
  const inProject = relative(root, resolve(root, file));
  return resolve(BUILD_ROOT, inProject.replace(/\.ts$/, '.js').replace(/\.mts$/, '.mjs'));
}
