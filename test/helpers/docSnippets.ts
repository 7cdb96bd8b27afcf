/**
 * The documentation's TypeScript snippets and links, for test/unit/docSnippets.test.ts: every ```ts block of
 * README.md and docs/*.md is written as a module of its own and type-checked against the package's entry points
 * (`warren`, `warren/config`, `warren/cdk`, `warren/testing`, `warren/client`), mapped to their sources with `paths`, so
 * the check needs neither a build nor package.json's `exports`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The package's entry points and the source each resolves to in this repository. */
export const ENTRY_POINTS = {
  warren: 'runtime/index.ts',
  'warren/config': 'config/index.ts',
  'warren/cdk': 'lib/index.ts',
  'warren/testing': 'testing/index.ts',
  'warren/client': 'client/index.ts',
} as const;

/**
 * The fence info that exempts a snippet from the check: ```ts fragment. Allowed only for text that is deliberately not
 * a module (a piece of a larger file shown for one line); every other snippet must compile as written, imports included.
 */
export const FRAGMENT_MARK = 'fragment';

export interface Snippet {
  /** Where it is: `docs/handlers.md:120` (the line of the opening fence). */
  readonly where: string;
  readonly code: string;
  readonly fragment: boolean;
}

/** README.md and every docs/*.md, relative to the root. */
export function documentationFiles(): string[] {
  return ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
}

/** The ```ts and ```typescript blocks of one markdown text. */
export function extractSnippets(markdown: string, file: string): Snippet[] {
  const snippets: Snippet[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|typescript)(?:\s+(.*))?$/.exec(lines[i]!);
    if (open === null) {
      if (lines[i]!.startsWith('```')) i = closingFence(lines, i); // skip other languages' blocks whole
      continue;
    }
    const end = closingFence(lines, i);
    snippets.push({ where: `${file}:${i + 1}`, code: lines.slice(i + 1, end).join('\n') + '\n', fragment: (open[2] ?? '').split(/\s+/).includes(FRAGMENT_MARK) });
    i = end;
  }
  return snippets;
}

function closingFence(lines: readonly string[], open: number): number {
  for (let j = open + 1; j < lines.length; j++) if (lines[j] === '```') return j;
  throw new Error(`unclosed code block opened at line ${open + 1}`);
}

/** Module specifiers a snippet imports. */
export function importedModules(code: string): string[] {
  const source = ts.createSourceFile('snippet.ts', code, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const names: string[] = [];
  source.forEachChild((node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      names.push(node.moduleSpecifier.text);
    }
  });
  return names;
}

/** A snippet's problems: a relative import out of its page's snippets (into Warren's source), then the compiler's diagnostics. */
export type SnippetProblems = Record<string, string[]>;

/**
 * Writes each snippet as a file into a scratch folder inside the project (`.warren/`, git-ignored, so `node_modules`
 * resolves as for any file here) and type-checks them in one program with the repository's compiler options.
 * Returns the problems by `where`; a snippet without problems is absent.
 */
export function checkSnippets(snippets: readonly Snippet[]): SnippetProblems {
  const dir = join(ROOT, '.warren', `doc-snippets-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  try {
    const problems: SnippetProblems = {};
    const byFile = new Map<string, string>();
    const checked = snippets.filter((s) => !s.fragment);
    const taken = new Set<string>();
    checked.forEach((snippet, n) => {
      // A snippet whose first line names its file (`// functions/orders.ts`) is written there, in a folder per
      // document, so the document's other snippets may import it by that path (a test importing its handler).
      const documentDir = join(dir, snippet.where.replace(/:\d+$/, '').replace(/[^\w.-]/g, '_'));
      const named = /^\/\/ ([\w./-]+\.ts)\b/.exec(snippet.code)?.[1];
      const file = resolve(documentDir, named !== undefined && !named.startsWith('.') && !taken.has(join(documentDir, named)) ? named : `snippet-${n}.ts`);
      taken.add(file);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, snippet.code);
      byFile.set(file, snippet.where);
      const outside = importedModules(snippet.code).filter((m) => m.startsWith('.') && !resolve(dirname(file), m).startsWith(documentDir + sep));
      if (outside.length > 0) (problems[snippet.where] ??= []).push(`imports ${outside.join(', ')}: snippets import the package's entry points (${Object.keys(ENTRY_POINTS).join(', ')}), or another snippet of their page by the path its first line names`);
    });
    const program = ts.createProgram([...byFile.keys()], compilerOptions());
    for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
      const file = diagnostic.file === undefined ? undefined : resolve(diagnostic.file.fileName);
      const where = file === undefined ? undefined : byFile.get(file);
      const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
      if (where === undefined) {
        // An error outside the snippets (in Warren's own sources, or an option): name it, attached to no snippet.
        (problems['(outside the snippets)'] ??= []).push(`${file === undefined ? '' : relative(ROOT, file) + ': '}TS${diagnostic.code} ${text}`);
        continue;
      }
      const line = diagnostic.start === undefined ? 0 : diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start).line + 1;
      (problems[where] ??= []).push(`snippet line ${line}: TS${diagnostic.code} ${text}`);
    }
    return problems;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The repository's tsconfig.json options, plus the entry points as `paths` and every file a module. */
function compilerOptions(): ts.CompilerOptions {
  const configPath = join(ROOT, 'tsconfig.json');
  const { config, error } = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path));
  if (error !== undefined) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, dirname(configPath));
  return {
    ...options,
    noEmit: true,
    moduleDetection: ts.ModuleDetectionKind.Force,
    paths: Object.fromEntries(Object.entries(ENTRY_POINTS).map(([name, source]) => [name, [join(ROOT, source)]])),
  };
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

/** The anchors of a markdown text's headings (outside code blocks), with GitHub's `-1`, `-2` for repeats. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutFences(markdown).split('\n')) {
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading === null) continue;
    const base = headingAnchor(heading[1]!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Relative link targets of a markdown text (`[text](target)`, images included), outside code. */
export function relativeLinks(markdown: string): string[] {
  const links: string[] = [];
  for (const match of withoutCode(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = match[1]!;
    if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) links.push(target);
  }
  return links;
}

/** The text without its fenced blocks. */
function withoutFences(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');
}

/** The text without fenced blocks and with inline code blanked, so a link shown as code is not taken for one. */
function withoutCode(markdown: string): string {
  return withoutFences(markdown).replace(/`[^`\n]*`/g, '``');
}

/** Links of `file` (relative to the root) whose file or heading anchor does not exist. */
export function brokenLinks(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const broken: string[] = [];
  for (const link of relativeLinks(text)) {
    const [path = '', anchor] = link.split('#', 2);
    const target = path === '' ? join(ROOT, file) : resolve(ROOT, dirname(file), decodeURIComponent(path));
    if (!existsSync(target)) {
      broken.push(`${link} (no such file)`);
      continue;
    }
    if (anchor !== undefined && target.endsWith('.md') && !anchorsOf(readFileSync(target, 'utf8')).has(anchor)) broken.push(`${link} (no such heading)`);
  }
  return broken;
}
