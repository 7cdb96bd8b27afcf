/**
 * Warren names its environment variables through `ENV` (runtime/env.ts), one table with a doc line each: no room reads
 * `process.env.SOME_NAME` or spells a variable's name as a string or an object key. The exceptions are the two reads
 * esbuild's `define` replaces at bundling, which must be written out (`process.env.WARREN_RELAY_HANDLERS`, `..._QUEUES`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../runtime/env.js';

const ROOMS = ['runtime', 'config', 'topology', 'lib', 'local', 'client', 'testing'];
const DEFINED_AT_BUNDLING = [`process.env.${ENV.relayHandlers}`, `process.env.${ENV.monitorQueues}`];
const NAMES = new Set<string>(Object.values(ENV));

function roomFiles(): string[] {
  return ROOMS.flatMap((room) => readdirSync(room, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(process.cwd(), join(e.parentPath, e.name))));
}

/** `process.env.X` reads, string literals and object keys that are a variable's name, as `file: text`. */
function literalNames(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && node.expression.getText(source) === 'process.env' && !DEFINED_AT_BUNDLING.includes(node.getText(source))) {
      found.push(`${file}: ${node.getText(source)}`);
    }
    if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && NAMES.has(node.text)) found.push(`${file}: '${node.text}'`);
    if (ts.isPropertyAssignment(node) && ts.isIdentifier(node.name) && NAMES.has(node.name.text)) found.push(`${file}: { ${node.name.text}: ... }`);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('Environment variable names', () => {
  it('are each listed once in ENV', () => {
    expect(Object.values(ENV).length).toBe(NAMES.size);
  });

  it('are written through ENV everywhere but runtime/env.ts (and the reads esbuild replaces)', () => {
    const found = roomFiles().filter((f) => f !== 'runtime/env.ts').flatMap(literalNames);
    expect(found).toEqual([]);
  });
});
