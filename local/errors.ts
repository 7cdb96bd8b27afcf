import { WarrenError } from '../runtime/errors.js';

/** Thrown when a worker process could not start (its handler module failed to load, or it never said ready). */
export class WorkerStartError extends WarrenError {
  public readonly handler: string;
  public constructor(handler: string, detail: string, options?: ErrorOptions) {
    super(`Worker for handler "${handler}" could not start: ${detail}`, options);
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
