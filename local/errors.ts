import { WarrenError } from '../runtime/errors.js';

/** Thrown when a worker process could not start (it crashed or never said ready). */
export class WorkerStartError extends WarrenError {
  public readonly handler: string;
  public constructor(handler: string, detail: string, options?: ErrorOptions) {
    super(`Worker ${handler} could not start: ${detail}`, options);
    this.name = 'WorkerStartError';
    this.handler = handler;
  }
}

/** Rejects a batch whose worker process exited before answering; the batch is requeued. */
export class WorkerExitedError extends WarrenError {
  public readonly exitCode: number | null;
  public readonly signal: string | null;
  public constructor(worker: string, exitCode: number | null, signal: string | null) {
    super(`Worker ${worker} exited (code ${exitCode ?? '-'}, signal ${signal ?? '-'}) with a batch in flight`);
    this.name = 'WorkerExitedError';
    this.exitCode = exitCode;
    this.signal = signal;
  }
}

/** Thrown when the runner cannot reach RabbitMQ at start. */
export class BrokerUnavailableError extends WarrenError {
  public constructor(url: string, options?: ErrorOptions) {
    super(`Cannot connect to RabbitMQ at ${url}; is it running? (set AMQP_URL to point elsewhere)`, options);
    this.name = 'BrokerUnavailableError';
  }
}

/** Thrown at start when handler modules fail to import or export no handler function; names each one. */
export class HandlerImportError extends WarrenError {
  public readonly failures: readonly { readonly handler: string; readonly entry: string; readonly cause: string }[];
  public constructor(failures: readonly { readonly handler: string; readonly entry: string; readonly cause: string }[]) {
    super(`${failures.length} handler module(s) could not be loaded; fix them or remove the handlers from warren.config.ts:\n` +
      failures.map((f) => `  handler "${f.handler}" (${f.entry}): ${f.cause}`).join('\n'));
    this.name = 'HandlerImportError';
    this.failures = failures;
  }
}

/** Thrown at start when the database server would refuse the connections the worker pool needs. */
export class ConnectionBudgetError extends WarrenError {
  public readonly needed: number;
  public readonly available: number;
  public constructor(needed: number, available: number, detail: string) {
    super(`The runner needs ${needed} MySQL connection(s) but the server allows only ${available} more (${detail}); ` +
      'lower runner.workers (or runner.dedicated), or raise max_connections / the user\'s MAX_USER_CONNECTIONS');
    this.name = 'ConnectionBudgetError';
    this.needed = needed;
    this.available = available;
  }
}
