/** Validation of a message body against any Standard Schema validator (zod, valibot, arktype, ...). */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { SchemaValidationError } from './errors.js';

function pathOf(issue: StandardSchemaV1.Issue): string {
  return (issue.path ?? []).map((p) => String(typeof p === 'object' && p !== null && 'key' in p ? p.key : p)).join('.');
}

/** Returns the schema's output, or throws `SchemaValidationError` naming each failing field. */
export async function validateBody<S extends StandardSchemaV1>(schema: S, value: unknown): Promise<StandardSchemaV1.InferOutput<S>> {
  let result = schema['~standard'].validate(value);
  if (result instanceof Promise) result = await result;
  if (result.issues !== undefined) {
    throw new SchemaValidationError(result.issues.map((issue) => ({ path: pathOf(issue), message: issue.message })));
  }
  return result.value as StandardSchemaV1.InferOutput<S>;
}
