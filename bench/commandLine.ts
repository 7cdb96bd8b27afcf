/**
 * The bench scripts' command lines, read the same way in each: `--help` (or `-h`) prints the usage and exits 0; an
 * unknown option, a missing value or a stray argument prints what is wrong and the usage on stderr and exits 2 (a
 * usage error, as POSIX utilities do), before the script touches the broker or the database.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** `parseArgs(config)` in strict mode over `argv`, with `--help` and usage errors answered as above. */
export function parseCommandLine<T extends ParseArgsConfig>(config: T, usage: string, argv: readonly string[] = process.argv.slice(2)): ReturnType<typeof parseArgs<T>> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  try {
    return parseArgs<T>({ ...config, args: [...argv], strict: true });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
      process.stderr.write(`error: ${(error as Error).message}\n\n${usage}\n`);
      process.exit(2);
    }
    throw error;
  }
}
