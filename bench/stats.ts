/** Small statistics for the bench. */

/** Nearest-rank percentile of `values` (ms, rounded to 0.1), or 0 when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round((sorted[rank] ?? 0) * 10) / 10;
}

/**
 * Messages per second of a timed part, or an error naming the contender when it is not a positive, finite rate (a
 * clock started after the backlog was consumed, say): the bench refuses to print such a figure.
 */
export function ratePerSecond(contender: string, messages: number, ms: number): number {
  const rate = messages / (ms / 1000);
  if (!(messages > 0 && ms > 0 && Number.isFinite(rate))) {
    throw new Error(`${contender}: the timed part measured ${messages} messages in ${ms} ms, not a positive rate; the bench does not report it (did the contender consume its backlog before the clock started?)`);
  }
  return rate;
}
