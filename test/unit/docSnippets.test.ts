/**
 * The documentation stays true to the code: every TypeScript snippet of README.md and docs/*.md compiles against the
 * package's entry points as a module of its own, the README stays a five-minute read, and no relative link is broken.
 * The check is proven to bite in the same program: probes with a name the package does not export, a wrong config
 * option and an import of Warren's source by path must fail with the compiler's own errors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { brokenLinks, checkSnippets, documentationFiles, extractSnippets, ROOT, type Snippet, type SnippetProblems } from '../helpers/docSnippets.js';

const PROBES: readonly Snippet[] = [
  { where: 'probe:unexported', fragment: false, code: "import { defineHandlers } from 'warren';\n\nexport const handler = defineHandlers({ async handle() {} });\n" },
  { where: 'probe:wrong-option', fragment: false, code: "import { defineConfig } from 'warren/config';\n\nexport default defineConfig({ handlers: [{ name: 'orders', entry: 'functions/orders.ts', batchSise: 50 }] });\n" },
  { where: 'probe:relative-import', fragment: false, code: "import { defineHandler } from '../../../runtime/index.js';\n\nexport const handler = defineHandler({ async handle() {} });\n" },
];

const documented = documentationFiles().flatMap((file) => extractSnippets(readFileSync(join(ROOT, file), 'utf8'), file));
let problems: SnippetProblems;

beforeAll(() => {
  problems = checkSnippets([...documented, ...PROBES]);
}, 240_000);

describe('the documentation', () => {
  it('has TypeScript snippets in the README and in docs/, none of them exempted as a fragment', () => {
    // A fragment (```ts fragment) is skipped by the check: list it here with the reason it cannot be a module.
    expect(documented.filter((s) => s.where.startsWith('README.md:')).length).toBeGreaterThanOrEqual(3);
    expect(documented.filter((s) => s.where.startsWith('docs/')).length).toBeGreaterThanOrEqual(5);
    expect(documented.filter((s) => s.fragment).map((s) => s.where)).toEqual([]);
  });

  it('has only snippets that type-check against the entry points warren, warren/config, warren/cdk, warren/testing and warren/client', () => {
    const documentedProblems = Object.fromEntries(Object.entries(problems).filter(([where]) => !where.startsWith('probe:')));
    expect(documentedProblems).toEqual({});
  });

  it('fails a snippet that imports a name the package does not export', () => {
    expect(problems['probe:unexported']).toEqual([
      "snippet line 1: TS2724 '\"warren\"' has no exported member named 'defineHandlers'. Did you mean 'defineHandler'?",
    ]);
  });

  it('fails a snippet that passes an option the config does not have', () => {
    expect(problems['probe:wrong-option']).toEqual([
      "snippet line 3: TS2561 Object literal may only specify known properties, but 'batchSise' does not exist in type 'HandlerConfig'. Did you mean to write 'batchSize'?",
    ]);
  });

  it('fails a snippet that imports Warren by a relative path instead of the package', () => {
    expect(problems['probe:relative-import']).toEqual([
      "imports ../../../runtime/index.js: snippets import the package's entry points (warren, warren/config, warren/cdk, warren/testing, warren/client), or another snippet of their page by the path its first line names",
    ]);
  });

  it('keeps the README at 200 lines at most', () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8').trimEnd().split('\n').length).toBeLessThanOrEqual(200);
  });

  it('has no relative link in README.md or docs/ to a file or heading that does not exist', () => {
    const broken = Object.fromEntries(documentationFiles().map((file) => [file, brokenLinks(file)] as const).filter(([, links]) => links.length > 0));
    expect(broken).toEqual({});
  });
});
