/**
 * Keeps passwords out of everything Warren writes: log lines, errors that leave a Lambda handler (the Node.js runtime
 * logs every enumerable property of an uncaught error, and the CDK Provider framework turns its message into the
 * CloudFormation Reason), metrics and status pages.
 *
 * Two ways a password travels with an error:
 *   - mysql2 formats placeholders on the client and keeps the whole statement in `err.sql`, so a failing
 *     `CREATE USER ? IDENTIFIED BY ?` carries the literal password (MySQL's own message may quote part of it too).
 *   - an error message that quotes a request or an answer (a management API body, a statement near an error).
 *
 * So every secret Warren reads (runtime/amqp/brokerSecret.ts) or is handed to set (appDatabaseUser.ts) is remembered
 * here, once per process; `redactText` replaces each remembered secret, in its raw, SQL-escaped and JSON-escaped
 * forms, with `***`; `scrubError` strips `sql` from an error and its causes and redacts their messages, stacks and
 * `sqlMessage`, in place, so whatever later logs or returns it finds nothing to leak. The logger redacts every line.
 */

/** What a secret is replaced with. */
export const REDACTED = '***';

/** Values shorter than this are not treated as secrets (redacting "a" would garble every line). */
const MIN_SECRET_LENGTH = 4;

const secrets = new Set<string>();
/** Every form of every secret as it may appear in text, longest first. */
let forms: string[] = [];

/** How mysql2 (sqlstring) escapes characters inside a quoted value. */
const SQL_ESCAPES: Readonly<Record<string, string>> = {
  '\0': '\\0', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\u001a': '\\Z', '"': '\\"', '\'': '\\\'', '\\': '\\\\',
};

/** The forms a value takes in a mysql2-formatted statement (`'` `\` and control characters escaped) and in JSON. */
function formsOf(value: string): string[] {
  const sqlEscaped = [...value].map((c) => SQL_ESCAPES[c] ?? c).join('');
  const jsonEscaped = JSON.stringify(value).slice(1, -1);
  return [value, sqlEscaped, jsonEscaped, JSON.stringify(sqlEscaped).slice(1, -1)];
}

/** Remembers `value` as a secret of this process: from now on no log line or scrubbed error shows it. */
export function rememberSecret(value: string): void {
  if (value.length < MIN_SECRET_LENGTH || secrets.has(value)) return;
  secrets.add(value);
  forms = [...new Set([...forms, ...formsOf(value)])].sort((a, b) => b.length - a.length);
}

/** True once any secret is remembered (the logger skips redaction until then). */
export function hasSecrets(): boolean {
  return forms.length > 0;
}

/** `text` with every remembered secret (and its escaped forms) replaced by `***`. */
export function redactText(text: string): string {
  let out = text;
  for (const form of forms) if (out.includes(form)) out = out.split(form).join(REDACTED);
  return out;
}

/** Properties that hold a statement or what the server said about it (mysql2, mysql, serverless-mysql). */
const STATEMENT_KEYS = ['sql'] as const;
const TEXT_KEYS = ['message', 'sqlMessage', 'stack'] as const;

/**
 * Makes `error` safe to log, throw out of a Lambda handler or return as a CloudFormation Reason, in place: removes its
 * `sql` (the formatted statement, values included) and redacts remembered secrets from its message, `sqlMessage` and
 * stack, and the same for its `cause` chain and an AggregateError's `errors`. Returns the same value.
 */
export function scrubError<T>(error: T, seen = new Set<unknown>()): T {
  if (typeof error !== 'object' || error === null || seen.has(error)) return error;
  seen.add(error);
  const record = error as Record<string, unknown>;
  for (const key of STATEMENT_KEYS) if (key in record) delete record[key];
  for (const key of TEXT_KEYS) {
    const value = record[key];
    if (typeof value !== 'string') continue;
    const redacted = redactText(value);
    if (redacted === value) continue;
    // `message` and `stack` of an Error are own writable properties (set by the constructor or V8).
    try { record[key] = redacted; } catch { /* a frozen error: nothing more can be done */ }
  }
  if (error instanceof Error && error.cause !== undefined) scrubError(error.cause, seen);
  if (error instanceof AggregateError) for (const inner of error.errors) scrubError(inner, seen);
  return error;
}
