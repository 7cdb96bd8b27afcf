/**
 * The options of the handler test kit (`createTestKit()`) and of one run (`kit.run()`), with every default in one
 * constant.
 */
import { DEFAULT_DATABASE_URL } from '../runtime/db/ConnectionManager.js';
import type { LogLevel } from '../runtime/logger.js';

export const TEST_KIT_DEFAULTS = {
  /** The server the kit creates its databases on, when DATABASE_URL is unset (Warren's own default). */
  databaseUrl: DEFAULT_DATABASE_URL,
  migrations: [],
  root: '.',
  databasePrefix: 'warren_test',
  logLevel: 'warn',
  handlerName: 'handler',
  vhost: '/',
} as const;

export interface TestKitOptions {
  /**
   * The MySQL / MariaDB server to create the test's database on, as a URL whose user may CREATE and DROP databases.
   * Its database (the path) is only replaced: the kit creates `<databasePrefix>_<8 hex>` there and drops it on close.
   * @default DATABASE_URL, else TEST_KIT_DEFAULTS.databaseUrl ('mysql://root@127.0.0.1:3306/test', Warren's default)
   */
  readonly databaseUrl?: string;
  /**
   * SQL files applied to the new database in order (as `warren migrate` applies the config's `migrations`: one
   * multi-statement query per file), then Warren's own tables.
   * @default [] (Warren's tables only)
   */
  readonly migrations?: readonly string[];
  /** The directory the `migrations` paths are relative to. @default '.' (the current directory) */
  readonly root?: string;
  /** The start of the database's name: letters, digits and `_`, at most 40 characters. @default 'warren_test' */
  readonly databasePrefix?: string;
  /**
   * WARREN_LOG_LEVEL of the handlers the kit runs (a handler's loggers are made at its first run; a run's `env` wins).
   * @default 'warn'
   */
  readonly logLevel?: LogLevel;
}

export interface RunOptions {
  /**
   * The handler's name, as in warren.config.ts: its inbox rows, dead letters and log lines carry it. A handler
   * defined with its own `name` keeps that one.
   * @default 'handler'
   */
  readonly name?: string;
  /** The shard queue the messages come from (a message's `queue`, the outbox rows' `source_queue`). @default `<name>.0` */
  readonly queue?: string;
  /** @default '/' */
  readonly vhost?: string;
  /**
   * The handler's own environment variables, as a handler's `env` in warren.config.ts gives them: the handler reads
   * them with `envValue()` (as in the runner's shared workers), not from `process.env`. The kit's database wins.
   * @default {}
   */
  readonly env?: Readonly<Record<string, string>>;
}
