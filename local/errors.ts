import { ConnectionBudgetError, WarrenError } from '../runtime/errors.js';

/** Thrown when a worker (thread or process) could not start (it crashed or never said ready). */
export class WorkerStartError extends WarrenError {
  public readonly handler: string;
  public constructor(handler: string, detail: string, options?: ErrorOptions) {
    super(`Worker ${handler} could not start: ${detail}`, options);
    this.name = 'WorkerStartError';
    this.handler = handler;
  }
}

/** Rejects a batch whose worker (thread or process) exited before answering; the batch is requeued. */
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

/**
 * Thrown when the runner cannot reach RabbitMQ at start. `handshakeTimedOut`: the TCP connection was accepted but the
 * AMQP handshake never finished, which is what a broker out of file handles does (see the message).
 */
export class BrokerUnavailableError extends WarrenError {
  public readonly handshakeTimedOut: boolean;
  public constructor(url: string, options?: ErrorOptions & { readonly handshakeTimedOut?: boolean; readonly timeoutMs?: number }) {
    const timedOut = options?.handshakeTimedOut === true;
    super(timedOut
      ? `RabbitMQ at ${url} accepted the connection but did not finish the AMQP handshake within ${(options?.timeoutMs ?? 0) / 1000} s. ` +
        'A broker that ran out of file handles does this: RabbitMQ 3.x reserves 3 per quorum queue, so with the usual `ulimit -n 1024` it ' +
        'stops accepting connections at about 300 quorum queues (Warren declares concurrency + 1 per handler). Check with ' +
        '`rabbitmqctl eval \'file_handle_cache:info([total_limit, total_used]).\'` and start RabbitMQ with a higher open-files limit ' +
        '(docs/operations.md, "Troubleshooting")'
      : `Cannot connect to RabbitMQ at ${url}; is it running? (set AMQP_URL to point elsewhere)`, options);
    this.name = 'BrokerUnavailableError';
    this.handshakeTimedOut = timedOut;
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
export class ServerConnectionBudgetError extends ConnectionBudgetError {
  public constructor(needed: number, available: number, detail: string) {
    super(`The runner needs ${needed} MySQL connection(s) but the server allows only ${available} more (${detail}); ` +
      'lower runner.workers (or runner.dedicated), or raise max_connections / the user\'s MAX_USER_CONNECTIONS', needed, available);
    this.name = 'ServerConnectionBudgetError';
  }
}

/** Thrown at start when RabbitMQ answered but refused the user name and password (ACCESS_REFUSED); not retried. */
export class BrokerAccessRefusedError extends WarrenError {
  public constructor(url: string, options?: ErrorOptions) {
    const user = userOf(url);
    super(`RabbitMQ at ${url} refused the credentials${user === '' ? '' : ` of user "${user}"`} (ACCESS_REFUSED): the broker is running, ` +
      'but this user name or password is wrong, or the user may not use this vhost. Fix the user and password in AMQP_URL ' +
      '(amqp://USER:PASSWORD@HOST:5672/VHOST)', options);
    this.name = 'BrokerAccessRefusedError';
  }
}

/**
 * Thrown at start when MySQL/MariaDB cannot be used at DATABASE_URL: `reason` `unreachable` (nothing answers there:
 * refused, unknown host, timed out) or `refused` (the server answered and refused the user name or password).
 */
export class DatabaseUnreachableError extends WarrenError {
  public readonly reason: 'unreachable' | 'refused';
  public constructor(url: string, reason: 'unreachable' | 'refused', detail: string, options?: ErrorOptions) {
    const user = userOf(url);
    super(reason === 'refused'
      ? `MySQL/MariaDB at ${url} refused the credentials${user === '' ? '' : ` of user "${user}"`} (${detail}). ` +
        'Fix the user and password in DATABASE_URL (mysql://USER:PASSWORD@HOST:3306/DATABASE)'
      : `MySQL/MariaDB is not answering at ${url} (${detail}). Start it there, or point DATABASE_URL at your server, ` +
        'e.g. DATABASE_URL=mysql://USER:PASSWORD@HOST:3306/DATABASE npm start', options);
    this.name = 'DatabaseUnreachableError';
    this.reason = reason;
  }
}

function userOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).username);
  } catch {
    return '';
  }
}
