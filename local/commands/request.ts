/**
 * `warren send --request`: sends example messages as requests (client/RequestClient.ts, direct reply-to) and reports
 * each reply with its round-trip time. Without a rate, one request at a time (a clean round trip); with `--rate R`,
 * R requests per second, as many in flight as that takes.
 */
import { RequestClient, RequestFailedError, type Reply } from '../../client/index.js';
import { sleep } from '../../runtime/backoff.js';

export interface RequestsOptions {
  readonly url: string;
  readonly exchange: string;
  readonly count: number;
  /** Requests per second; 0 = one after the other. */
  readonly rate: number;
  readonly timeoutMs: number;
  readonly message: (index: number) => { key: string; body: unknown; messageId?: string; raw?: Buffer };
  /** One line per request, as its outcome is known. */
  readonly print: (line: string) => void;
}

export interface RequestsSummary {
  readonly replies: number;
  readonly errorReplies: number;
  /** Requests with no answer: timed out, unroutable, aborted. */
  readonly unanswered: number;
  /** Round trips of the answered requests (replies and error replies), in ms, sorted. */
  readonly roundTripsMs: readonly number[];
  readonly ms: number;
}

const PREVIEW_CHARS = 200;

export async function sendRequests(options: RequestsOptions): Promise<RequestsSummary> {
  const client = await RequestClient.connect({ url: options.url, timeoutMs: options.timeoutMs });
  const started = performance.now();
  let replies = 0;
  let errorReplies = 0;
  let unanswered = 0;
  const roundTrips: number[] = [];
  const one = async (i: number): Promise<void> => {
    const { key, body, messageId, raw } = options.message(i);
    const label = `${i + 1}/${options.count} ${key}`;
    try {
      const reply = await client.request(options.exchange, key, raw ?? body, { messageId: messageId ?? key });
      replies += 1;
      roundTrips.push(reply.roundTripMs);
      options.print(`reply ${label} in ${reply.roundTripMs.toFixed(1)} ms: ${preview(reply)}`);
    } catch (error) {
      if (error instanceof RequestFailedError) {
        errorReplies += 1;
        roundTrips.push(error.reply.roundTripMs);
        options.print(`error reply ${label} in ${error.reply.roundTripMs.toFixed(1)} ms: warren-error ${JSON.stringify(error.reason)}`);
      } else {
        unanswered += 1;
        options.print(`no reply ${label}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
  try {
    if (options.rate === 0) {
      for (let i = 0; i < options.count; i += 1) await one(i);
    } else {
      const inFlight: Promise<void>[] = [];
      for (let i = 0; i < options.count; i += 1) {
        const wait = started + (i * 1000) / options.rate - performance.now();
        if (wait > 0) await sleep(wait);
        inFlight.push(one(i));
      }
      await Promise.all(inFlight);
    }
  } finally {
    await client.close();
  }
  return { replies, errorReplies, unanswered, roundTripsMs: roundTrips.sort((a, b) => a - b), ms: performance.now() - started };
}

function preview(reply: Reply): string {
  const text = reply.text();
  return text.length <= PREVIEW_CHARS ? text : `${text.slice(0, PREVIEW_CHARS)}... (${reply.body.length} bytes)`;
}

/** The value at quantile `q` (0..1) of sorted `values`, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  return values[Math.min(values.length - 1, Math.max(0, Math.ceil(q * values.length) - 1))]!;
}
