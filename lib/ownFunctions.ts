/**
 * Where the stack's own Lambda functions (lib/functions/) and the files they bundle come from: beside this file, as
 * TypeScript sources in Warren's repository, or as the compiled JavaScript of the installed package
 * (`node_modules/warren/dist/lib/functions/`). A team's project never holds them.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** True when Warren runs as the compiled package (dist/), false from its TypeScript sources. */
export const BUILT_PACKAGE = import.meta.url.endsWith('.js');

/** The absolute path of the stack's own function `name` (a file of lib/functions/, without extension). */
export function ownFunctionEntry(name: string): string {
  return fileURLToPath(new URL(`./functions/${name}.${BUILT_PACKAGE ? 'js' : 'ts'}`, import.meta.url));
}

/**
 * The lock file that pins what a bundle holds: `package-lock.json` in `projectRoot` or the nearest folder above it (a
 * project inside an npm workspace, such as Warren's examples/orders, has its lock at the workspace's root).
 */
export function findLockFile(projectRoot: string): string {
  for (let dir = projectRoot; ; dir = dirname(dir)) {
    for (const name of ['package-lock.json', 'pnpm-lock.yaml', 'yarn.lock', 'bun.lockb']) {
      if (existsSync(join(dir, name))) return join(dir, name);
    }
    if (dirname(dir) === dir) return join(projectRoot, 'package-lock.json');
  }
}

/** True when `path` is `dir` or below it (a sibling named `..x` is not above it). */
function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/**
 * The deepest folder holding every one of `paths` (NodejsFunction wants the entry and the lock file under its
 * `projectRoot`: in Warren's repository the stack's own functions sit beside the example app, not in it, and an npm
 * workspace keeps its lock above the app).
 */
export function commonRoot(...paths: readonly string[]): string {
  const [first, ...rest] = paths.map((p) => resolve(p));
  let root = first!;
  for (const p of rest) {
    while (!isInside(root, p)) root = dirname(root);
  }
  return root;
}
