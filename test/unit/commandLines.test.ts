/**
 * The command lines a person types: `--help` prints the usage and exits 0 without touching the broker or the
 * database, and an unknown option prints what is wrong and the usage and exits 2 (bench/commandLine.ts, local/cli.ts).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function run(script: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('Command lines', () => {
  it('bench/scale.ts --help prints its usage and exits 0', () => {
    const { status, stdout } = run('bench/scale.ts', '--help');
    expect(status).toBe(0);
    expect(stdout).toContain('usage: npx tsx bench/scale.ts [--handlers 200] [--built] [--workers N] [--per-handler 5] [--cold] [--rate R --seconds 30]');
  });

  it('bench/scale.ts with an unknown option names it, prints the usage and exits 2', () => {
    const { status, stdout, stderr } = run('bench/scale.ts', '--handler', '5');
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain("error: Unknown option '--handler'");
    expect(stderr).toContain('usage: npx tsx bench/scale.ts');
  });

  it.each([
    ['bench/run.ts', 'usage: npm run bench -- [--quick]'],
    ['bench/coldstart.ts', 'usage: npx tsx bench/coldstart.ts [--runs N (5)] [--assembly cdk.out]'],
    ['bench/ipcCost.ts', 'usage: npx tsx bench/ipcCost.ts [--batches 3000] [--messages 1]'],
    ['bench/profileSummary.ts', 'usage: npx tsx bench/profileSummary.ts [--top 15] [--from 0.5] <.cpuprofile file or folder>...'],
    ['local/cli.ts', 'warren start   [--config warren.config.ts] [--handler NAME]...'],
  ])('%s --help prints its usage and exits 0', (script, usage) => {
    const { status, stdout } = run(script, '--help');
    expect(status).toBe(0);
    expect(stdout).toContain(usage);
  });

  it('the warren CLI with an unknown option names it, prints the usage and exits 2', () => {
    const { status, stderr } = run('local/cli.ts', 'send', '--cuont', '5');
    expect(status).toBe(2);
    expect(stderr).toContain("warren: Unknown option '--cuont'");
    expect(stderr).toContain('warren send    [--config warren.config.ts] [--handler orders] --count N');
  });
});
