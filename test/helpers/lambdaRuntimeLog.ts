/**
 * What the Node.js Lambda runtime writes to the function's log when a handler throws: `Invoke Error` and the error as
 * JSON with every enumerable own property, recursively, plus errorType, errorMessage, code and the stack lines
 * (aws/aws-lambda-nodejs-runtime-interface-client, src/Errors.js, `toFormatted` and `_withEnumerableProperties`).
 * Reproduced here so a test can see what CloudWatch Logs would hold (mysql2's `sql` included).
 */
function withEnumerableProperties(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const out: Record<string, unknown> = Object.assign<Record<string, unknown>, Error>({ errorType: value.name, errorMessage: value.message, code: (value as { code?: unknown }).code }, value);
  if (typeof value.stack === 'string') out.stack = value.stack.split('\n');
  return out;
}

/** The runtime's log line for an uncaught `error`. */
export function runtimeErrorLog(error: unknown): string {
  return `Invoke Error \t${JSON.stringify(error, (_key, value: unknown) => withEnumerableProperties(value))}`;
}
