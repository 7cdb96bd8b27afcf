/**
 * The bench's workload, shared by every contender and by the checks: which orders are sent, what totals they must
 * leave behind, and a `QueryFn` over a plain mysql2 connection so the baselines run the example app's exact SQL
 * (`exampleTransaction.ts`). It imports only types of the example app: the bench's own process loads it before it has
 * the `warren-source` condition (sourceCondition.ts).
 */
import type mysql from 'mysql2/promise';
import type { Order } from '../examples/orders/functions/orders.js';
import type { QueryFn, QueryResult } from '../runtime/index.js';

/** The example app's body plus the publish time, which the example handler ignores. */
export interface BenchOrder extends Order {
  /** `Date.now()` when the message was published (or, for `raw`, scheduled). */
  readonly publishedAt: number;
}

/** Order ids of the timed (throughput) part start with `T-`, those of the fixed-rate (latency) part with `L-`. */
export const PHASE_PREFIX = { throughput: 'T', latency: 'L' } as const;
export type Phase = keyof typeof PHASE_PREFIX;

const SKUS = 20;

/** The `index`-th order of a phase, deterministic so the checker can recompute every total. */
export function orderFor(phase: Phase, index: number, publishedAt = 0): BenchOrder {
  return { orderId: `${PHASE_PREFIX[phase]}-${index}`, sku: `sku-${index % SKUS}`, quantity: 1 + (index % 5), publishedAt };
}

/** `sku_totals` that `counts` orders per phase must produce. */
export function expectedTotals(counts: Readonly<Record<Phase, number>>): Map<string, number> {
  const totals = new Map<string, number>();
  for (const phase of Object.keys(PHASE_PREFIX) as Phase[]) {
    for (let i = 0; i < counts[phase]; i += 1) {
      const o = orderFor(phase, i);
      totals.set(o.sku, (totals.get(o.sku) ?? 0) + o.quantity);
    }
  }
  return totals;
}

/** A `QueryFn` over one mysql2 connection (text protocol, as Warren's default). */
export function queryFnOf(conn: mysql.Connection | mysql.PoolConnection): QueryFn {
  return async <Row>(sql: string, values: readonly unknown[] = []): Promise<QueryResult<Row>> => {
    const [raw] = await conn.query(sql, values as unknown[]);
    if (Array.isArray(raw)) return { rows: raw as Row[], affectedRows: 0, insertId: 0, changedRows: 0 };
    const header = raw as { affectedRows?: number; insertId?: number; changedRows?: number };
    return { rows: [], affectedRows: header.affectedRows ?? 0, insertId: header.insertId ?? 0, changedRows: header.changedRows ?? 0 };
  };
}

/** BEGIN, `fn`, COMMIT on `conn`; ROLLBACK and rethrow when anything fails. */
export async function inTransaction(conn: mysql.Connection | mysql.PoolConnection, fn: (query: QueryFn) => Promise<void>): Promise<void> {
  await conn.query('BEGIN');
  try {
    await fn(queryFnOf(conn));
    await conn.query('COMMIT');
  } catch (error) {
    await conn.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
