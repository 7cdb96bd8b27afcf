/**
 * W3C Trace Context (`traceparent` header: `version-traceId-parentId-flags`), read from an incoming message so its log
 * lines carry the trace.
 */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

export interface TraceParent {
  readonly traceparent: string;
  readonly traceId: string;
  readonly parentId: string;
  readonly sampled: boolean;
}

/** Parses a `traceparent` header value; undefined when it is absent or malformed (as the spec says: ignore it). */
export function parseTraceparent(value: unknown): TraceParent | undefined {
  if (typeof value !== 'string') return undefined;
  const match = TRACEPARENT.exec(value.trim());
  if (match === null) return undefined;
  const [, version, traceId, parentId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(parentId)) return undefined;
  return { traceparent: value.trim(), traceId, parentId, sampled: (parseInt(flags, 16) & 1) === 1 };
}

/** Log fields for a message's `traceparent` header: `{ traceparent, traceId }`, or nothing. */
export function traceFields(headers: Readonly<Record<string, unknown>>): { traceparent?: string; traceId?: string } {
  const parsed = parseTraceparent(headers.traceparent);
  return parsed === undefined ? {} : { traceparent: parsed.traceparent, traceId: parsed.traceId };
}
