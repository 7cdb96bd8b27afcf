/**
 * The errors the stack's own Lambda functions (custom resources) throw at deploy; the Provider framework fails the
 * resource with the message, so `cdk deploy` shows it. Each is a `WarrenError` (runtime/errors.ts). lib/functions/ is
 * bundled into Lambda functions and may not import lib/errors.ts (the CDK side), which re-exports these.
 */
import { WarrenError } from '../../runtime/errors.js';
import { statementExcerpt } from './sqlStatements.js';

/** MySQL's messages quote the SQL near an error; bounded so a FAILED response stays far below 4,096 bytes. */
const MAX_SQL_MESSAGE = 600;

/**
 * Thrown when a migration file fails: names the file and the statement (1-based number and text, shortened) and
 * carries MySQL's error as `cause`.
 */
export class MigrationError extends WarrenError {
  public readonly file: string;
  /** 1-based number of the failing statement in the file. */
  public readonly statement: number;
  public constructor(file: string, statement: number, statementText: string, message: string, options?: ErrorOptions) {
    const sqlMessage = message.length <= MAX_SQL_MESSAGE ? message : `${message.slice(0, MAX_SQL_MESSAGE - 1)}…`;
    super(`Migration ${file} failed at statement ${statement} (${statementExcerpt(statementText)}): ${sqlMessage}. Fix the SQL and deploy again (files run again in order on every change).`, options);
    this.name = 'MigrationError';
    this.file = file;
    this.statement = statement;
  }
}

/** Thrown when no connection to the database could be opened within the retry time. */
export class MigrationConnectError extends WarrenError {
  public readonly attempts: number;
  public constructor(target: string, retryForMs: number, attempts: number, lastError: string, options?: ErrorOptions) {
    super(`Could not connect to ${target} within ${retryForMs} ms (${attempts} attempts): ${lastError}. Check that the RDS Proxy target is AVAILABLE (aws rds describe-db-proxy-targets) and that the functions' security group reaches the proxy.`, options);
    this.name = 'MigrationConnectError';
    this.attempts = attempts;
  }
}

/**
 * Thrown by the account-concurrency custom resource at deploy time when the account's unreserved Lambda concurrency
 * in the region is below what the stack's functions need at once (every trigger holds one execution environment).
 */
export class AccountConcurrencyError extends WarrenError {
  public readonly required: number;
  public readonly unreserved: number;
  public constructor(message: string, required: number, unreserved: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AccountConcurrencyError';
    this.required = required;
    this.unreserved = unreserved;
  }
}
