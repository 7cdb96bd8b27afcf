/**
 * Runs `cfn-lint` (1.51, on PATH on every machine here, CI included) on every `*.template.json` of a cloud assembly,
 * nested stacks included, and returns what it found. It reads the templates offline and checks them against
 * CloudFormation's resource schemas, which finds what `cdk synth` and cdk-nag do not (a `Fn::Select` on a nested
 * stack's String parameter: E1020; an `EngineVersion` RDS does not list: E3691).
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Rules switched off, each with its reason. Nothing else is: any other finding (error or warning) fails the test.
 */
export const CFN_LINT_IGNORED: Readonly<Record<string, string>> = {
  // CDK itself writes `DependsOn: [<role>, <role's DefaultPolicy>]` on every Lambda function whose role it also
  // references with `Fn::GetAtt` (NodejsFunction, the Provider framework, CDK's LogRetention). The duplicate is
  // redundant, not wrong, and it is not Warren's template code to change.
  W3005: 'redundant DependsOn next to a GetAtt of the same role, written by aws-cdk-lib',
};

export interface CfnLintFinding {
  readonly file: string;
  readonly rule: string;
  readonly level: string;
  readonly message: string;
  readonly path: string;
}

interface RawFinding { Filename: string; Level: string; Message: string; Rule: { Id: string }; Location: { Path: (string | number)[] } }

const run = promisify(execFile);

async function lint(files: readonly string[]): Promise<CfnLintFinding[]> {
  if (files.length === 0) return [];
  // Exit code is non-zero when something is found; the JSON on stdout is the answer either way.
  const out = await run('cfn-lint', ['--format', 'json', '--ignore-checks', ...Object.keys(CFN_LINT_IGNORED), '--', ...files], { maxBuffer: 64 * 1024 * 1024 })
    .catch((error: { stdout?: string; stderr?: string; code?: number | string }) => {
      if (typeof error.stdout === 'string' && error.stdout.trim().startsWith('[')) return { stdout: error.stdout };
      throw new Error(`cfn-lint did not run (exit ${String(error.code)}): ${error.stderr ?? ''}`);
    });
  return (JSON.parse(out.stdout) as RawFinding[]).map((f) => ({
    file: f.Filename.split('/').pop() ?? f.Filename,
    rule: f.Rule.Id,
    level: f.Level,
    message: f.Message.slice(0, 300),
    path: f.Location.Path.join('/'),
  }));
}

/** Every template of the assembly in `dir`, linted in two processes at once (the machines here have two cores). */
export async function cfnLintAssembly(dir: string): Promise<{ templates: string[]; findings: CfnLintFinding[] }> {
  const templates = readdirSync(dir).filter((f) => f.endsWith('.template.json')).sort();
  const files = templates.map((f) => join(dir, f));
  const halves = [files.filter((_, i) => i % 2 === 0), files.filter((_, i) => i % 2 === 1)];
  const findings = (await Promise.all(halves.map(lint))).flat();
  return { templates, findings };
}

/** One line per finding, for a readable assertion diff. */
export function describeFindings(findings: readonly CfnLintFinding[]): string[] {
  return findings.map((f) => `${f.rule} ${f.file} ${f.path}: ${f.message}`);
}
