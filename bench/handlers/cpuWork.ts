/**
 * The CPU-heavy part of the `-cpu` contenders: what "aggregating a large result set" costs in JavaScript. Builds `rows`
 * row objects from a seed, groups them by key into a Map, sorts the groups, and checks the grand total against its
 * closed form, so the work can neither be skipped by the JIT nor be wrong without failing the message.
 */

/** Rows per message; a multiple of 17 (see the check). Set per run by the bench's calibration. */
export function cpuRowsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const rows = Number(env.WARREN_BENCH_CPU_ROWS ?? '0');
  if (!Number.isInteger(rows) || rows <= 0 || rows % 17 !== 0) {
    throw new Error(`WARREN_BENCH_CPU_ROWS must be a positive multiple of 17 (the bench calibrates it), received ${JSON.stringify(env.WARREN_BENCH_CPU_ROWS)}`);
  }
  return rows;
}

export interface CpuResult {
  readonly groups: number;
  readonly total: number;
  readonly topKey: number;
}

/** Aggregates `rows` synthetic rows seeded by `seed`; throws when the total is not the expected `8 * rows`. */
export function cpuWork(seed: string, rows: number): CpuResult {
  let s = 0;
  for (let i = 0; i < seed.length; i += 1) s = (s * 31 + seed.charCodeAt(i)) % 17;
  const data: { key: number; qty: number }[] = [];
  // qty = (s + 14 i) mod 17 visits every residue once per 17 rows (14 and 17 are coprime): the total is 136 * rows / 17.
  for (let i = 0; i < rows; i += 1) data.push({ key: (i * 7919 + s) % 251, qty: (s + 14 * i) % 17 });
  const byKey = new Map<number, number>();
  for (const row of data) byKey.set(row.key, (byKey.get(row.key) ?? 0) + row.qty);
  const sorted = [...byKey.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const total = sorted.reduce((n, [, v]) => n + v, 0);
  if (total !== 8 * rows) throw new Error(`cpuWork: total ${total} is not ${8 * rows}; the aggregation is wrong`);
  return { groups: sorted.length, total, topKey: sorted[0]?.[0] ?? -1 };
}

/** Picks the multiple of 17 rows that takes about `targetMs` here (after warming up). */
export function calibrateCpuRows(targetMs: number): { rows: number; ms: number } {
  // Mean over a sustained run, so garbage collection is paid as it is under load.
  const time = (rows: number): number => {
    const started = performance.now();
    for (let i = 0; i < 20; i += 1) cpuWork(`calibrate-${i}`, rows);
    return (performance.now() - started) / 20;
  };
  let rows = 17 * 100;
  for (let i = 0; i < 30; i += 1) time(rows); // warm up the JIT
  for (let i = 0; i < 12; i += 1) {
    const ms = time(rows);
    const next = Math.max(17, Math.round((rows * targetMs) / Math.max(ms, 0.01) / 17) * 17);
    if (Math.abs(next - rows) / rows < 0.03) break;
    rows = next;
  }
  return { rows, ms: time(rows) };
}
