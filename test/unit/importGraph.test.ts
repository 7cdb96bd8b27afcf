/**
 * The tree's import graph, read with TypeScript's own pre-processor (static, type-only and dynamic imports; comments
 * are not imports). `npm run lint` keeps value loops out (`import-x/no-cycle`), but that rule skips `import type`; a
 * loop through types is still a loop for a reader, so this test walks every edge. It also checks the rooms' order
 * (docs/architecture.md, "Where things live") on the same edges, and that it sees a loop and a wrong-way import when given one.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = process.cwd();
const SOURCE_ROOMS = ['examples', 'runtime', 'config', 'topology', 'client', 'testing', 'lib', 'local', 'bench', 'test'];

type Graph = Map<string, string[]>;

function sourceFiles(dir: string): string[] {
  if (!existsSync(join(ROOT, dir))) return [];
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.parentPath.includes('node_modules'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/** Relative imports of `file` (as written in `text`) resolved to project files. */
function importsOf(file: string, text: string): string[] {
  const { importedFiles } = ts.preProcessFile(text, true, true);
  const out: string[] = [];
  for (const { fileName } of importedFiles) {
    if (!fileName.startsWith('.')) continue;
    const base = normalize(join(dirname(file), fileName));
    const hit = [base.replace(/\.js$/, '.ts'), base, `${base}.ts`].find((c) => existsSync(join(ROOT, c)));
    if (hit !== undefined) out.push(hit);
  }
  return out;
}

function graphOf(files: Record<string, string>): Graph {
  return new Map(Object.entries(files).map(([file, text]) => [file, importsOf(file, text)]));
}

/** Strongly connected components with more than one file, or a file that imports itself (Tarjan). */
function loops(graph: Graph): string[][] {
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    order.set(v, index);
    low.set(v, index);
    index += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!order.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, order.get(w)!));
      }
    }
    if (low.get(v) === order.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!order.has(v)) visit(v);
  return found;
}

/** The room of a file: `lib/functions` apart from the constructs in `lib`. */
function roomOf(file: string): string {
  if (file.startsWith('lib/functions/')) return 'lib/functions';
  if (file.startsWith('examples/')) return file.split('/').slice(0, 2).join('/');
  return file.split('/')[0]!.replace(/\.ts$/, '');
}

/** What each room may import besides itself (docs/architecture.md, "Where things live"). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  // An example app reaches Warren only through the package's entry points (`warren`, `warren/config`, ...), which are
  // not relative imports: a relative import out of its folder is a wrong-way import.
  'examples/orders': [],
  runtime: [],
  config: ['runtime'],
  topology: ['config', 'runtime'],
  'lib/functions': ['topology', 'config', 'runtime'],
  client: ['runtime'],
  testing: ['config', 'runtime'],
  lib: ['lib/functions', 'topology', 'config', 'runtime'],
  local: ['client', 'topology', 'config', 'runtime'],
};

function wrongWay(graph: Graph): string[] {
  const out: string[] = [];
  for (const [file, deps] of graph) {
    const room = roomOf(file);
    const allowed = MAY_IMPORT[room];
    if (allowed === undefined) continue; // test/, bench/, the root's config files: may import anything
    for (const dep of deps) {
      const target = roomOf(dep);
      if (target !== room && !allowed.includes(target)) out.push(`${file} -> ${dep}`);
    }
  }
  return out;
}

function projectGraph(): Graph {
  const files: Record<string, string> = {};
  for (const file of SOURCE_ROOMS.flatMap(sourceFiles)) files[file] = readFileSync(join(ROOT, file), 'utf8');
  return graphOf(files);
}

describe('The import graph', () => {
  const graph = projectGraph();

  it('reads the whole tree', () => {
    expect(graph.size).toBeGreaterThan(200);
    expect(graph.get('runtime/MessageProcessor.ts')).toContain('runtime/batchMode.ts');
  });

  it('has no loop anywhere, type-only and dynamic imports included', () => {
    expect(loops(graph)).toEqual([]);
  });

  it('has every room import only the rooms below it', () => {
    expect(wrongWay(graph)).toEqual([]);
  });

  it('sees a loop through a type-only import and a wrong-way import when there is one', () => {
    // Real files as the graph's nodes, with texts that import each other the wrong way.
    const sample = graphOf({
      'runtime/batchMode.ts': "import type { MessageProcessor } from './MessageProcessor.js';",
      'runtime/MessageProcessor.ts': "import { processAsBatch } from './batchMode.js';\n// import { x } from '../local/Runner.js' in a comment is no import",
      'runtime/logger.ts': "const { Runner } = await import('../local/Runner.js');",
      'local/Runner.ts': '',
    });
    expect(loops(sample)).toEqual([['runtime/MessageProcessor.ts', 'runtime/batchMode.ts']]);
    expect(wrongWay(sample)).toEqual(['runtime/logger.ts -> local/Runner.ts']);
  });

  it('has the example app import Warren only through the package entry points', () => {
    const ENTRY_POINTS = ['warren', 'warren/config', 'warren/cdk', 'warren/testing', 'warren/client'];
    const seen: string[] = [];
    const wrong: string[] = [];
    for (const file of sourceFiles('examples')) {
      for (const { fileName } of ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true).importedFiles) {
        if (fileName.startsWith('.')) {
          if (!normalize(join(dirname(file), fileName)).startsWith('examples/orders/')) wrong.push(`${file} -> ${fileName}`);
        } else if (fileName === 'warren' || fileName.startsWith('warren/')) {
          seen.push(fileName);
          if (!ENTRY_POINTS.includes(fileName)) wrong.push(`${file} -> ${fileName}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(new Set(seen)).toEqual(new Set(['warren', 'warren/config', 'warren/cdk', 'warren/testing']));
  });
});
