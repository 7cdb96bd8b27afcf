/** The test kit's errors: `TestKitError` (the kit was used wrongly or could not set up), `TestRunError` (the invocation failed). */
import { WarrenError } from '../runtime/errors.js';
import type { TestRunRecord } from './records.js';

/** Thrown when the kit cannot do what it was asked: no database server, a migration that fails, a non-handler passed. */
export class TestKitError extends WarrenError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TestKitError';
  }
}

/**
 * Thrown by `kit.run()` when the invocation itself failed (a transient error on every attempt, the database gone): on
 * Lambda or in the runner the broker would deliver the batch again. `run` holds what happened before the failure
 * (messages committed before it stay committed, and their publishes were sent); `cause` is the handler's error.
 */
export class TestRunError extends TestKitError {
  public readonly run: TestRunRecord;
  public constructor(handler: string, run: TestRunRecord, cause: unknown) {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`The invocation of handler "${handler}" failed, so the broker would deliver its batch again: ${reason}. To see the redelivery, run the same messages again with \`redelivered: true\` (error.run.messages holds them with their ids).`, { cause });
    this.name = 'TestRunError';
    this.run = run;
  }
}
