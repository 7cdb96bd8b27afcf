/**
 * A tiny structured logger: one JSON line per entry on stdout (what CloudWatch and the local runner both read).
 * Level from `WARREN_LOG_LEVEL` (debug | info | warn | error), default `info`.
 */
import { ENV, envValue } from './env.js';
import { hasSecrets, redactText } from './redact.js';

export const LOG_LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof LOG_LEVELS;
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /**
   * A logger that adds `fields` to every line. Given a function, it is called only when a line is written (so a
   * logger per message costs nothing until it logs).
   */
  child(fields: LogFields | (() => LogFields)): Logger;
}

export type LogSink = (line: string) => void;

function levelFromEnv(): LogLevel {
  const value = envValue(ENV.logLevel);
  return value !== undefined && value in LOG_LEVELS ? (value as LogLevel) : 'info';
}

/**
 * Turns an Error into plain fields (name, message, code, cause) for a log line. Never the error's other properties:
 * mysql2's `sql` holds the statement with its values formatted in (passwords too); remembered secrets are redacted.
 */
export function errorFields(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: redactText(String(error)) };
  const out: Record<string, unknown> = { error: redactText(error.message), errorName: error.name };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) out.errorCode = code;
  if (error.cause instanceof Error) out.cause = redactText(error.cause.message);
  return out;
}

class JsonLogger implements Logger {
  public constructor(
    private readonly own: LogFields | (() => LogFields),
    private readonly min: number,
    private readonly sink: LogSink,
    private readonly parent?: JsonLogger,
  ) {}

  private fields(): LogFields {
    const own = typeof this.own === 'function' ? this.own() : this.own;
    return this.parent === undefined ? own : { ...this.parent.fields(), ...own };
  }

  private write(level: LogLevel, msg: string, extra?: LogFields): void {
    if (LOG_LEVELS[level] < this.min) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...this.fields(), ...extra });
    // Every line, whatever its fields: no remembered secret (runtime/redact.ts) reaches stdout or CloudWatch Logs.
    this.sink(hasSecrets() ? redactText(line) : line);
  }

  public debug(msg: string, fields?: LogFields): void { this.write('debug', msg, fields); }
  public info(msg: string, fields?: LogFields): void { this.write('info', msg, fields); }
  public warn(msg: string, fields?: LogFields): void { this.write('warn', msg, fields); }
  public error(msg: string, fields?: LogFields): void { this.write('error', msg, fields); }
  public child(fields: LogFields | (() => LogFields)): Logger { return new JsonLogger(fields, this.min, this.sink, this); }
}

/** Creates a JSON-lines logger. */
export function createLogger(fields: LogFields = {}, options: { level?: LogLevel; sink?: LogSink } = {}): Logger {
  const sink = options.sink ?? ((line: string) => process.stdout.write(`${line}\n`));
  return new JsonLogger(fields, LOG_LEVELS[options.level ?? levelFromEnv()], sink);
}

/** Replaces the password of a URL with `***`, so a connection string can be logged. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable url>';
  }
}
