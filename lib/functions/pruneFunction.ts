/**
 * The scheduled pruning function on AWS (an EventBridge rule runs it every hour; `lib/WarrenPruner.ts`): deletes
 * `warren_inbox` rows and sent `warren_outbox` rows older than the retention, as the local runner does at start and
 * `npm run prune` on demand, with the same code (runtime/db/prune.ts): DELETE ... LIMIT in a loop, each statement on
 * its own, so no run holds long locks. It starts no DELETE once less than `PRUNE_FUNCTION_DEFAULTS.stopBeforeEndMs`
 * of the function's time is left, and the next run continues where it stopped.
 *
 * Connects as the application user (DML only) through RDS Proxy with an IAM token, like the outbox relay.
 *
 * Environment: WARREN_PRUNE_RETENTION_DAYS (the config's `runner.inboxRetentionDays`), WARREN_PRUNE_BATCH_SIZE
 * (optional, default 5,000), the WARREN_DB_* variables.
 */
import type { Context } from 'aws-lambda';
import { ENV, envValue } from '../../runtime/env.js';
import { ConfigError } from '../../runtime/errors.js';
import { createLogger } from '../../runtime/logger.js';
import { processConnection } from '../../runtime/db/processConnection.js';
import { PRUNE_DEFAULTS, pruneWarrenTables, type PruneResult } from '../../runtime/db/prune.js';
import { ensureWarrenTables } from '../../runtime/db/warrenTables.js';

export const PRUNE_FUNCTION_DEFAULTS = {
  /** No DELETE starts with less than this left of the function's timeout (one DELETE takes well under a second). */
  stopBeforeEndMs: 30_000,
} as const;

const log = createLogger({ component: 'prune' });

function positiveNumber(name: string, value: string | undefined, fallback?: number): number {
  if (value === undefined || value === '') {
    if (fallback !== undefined) return fallback;
    throw new ConfigError(name, 'missing; the CDK stack sets it');
  }
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(name, `expected a positive number, received ${JSON.stringify(value)}`);
  return n;
}

export async function handler(_event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<PruneResult> {
  const days = positiveNumber(ENV.pruneRetentionDays, envValue(ENV.pruneRetentionDays));
  const batchSize = Math.floor(positiveNumber(ENV.pruneBatchSize, envValue(ENV.pruneBatchSize), PRUNE_DEFAULTS.batchSize));
  const remaining = context?.getRemainingTimeInMillis();
  const deadline = remaining === undefined ? undefined : Date.now() + remaining - PRUNE_FUNCTION_DEFAULTS.stopBeforeEndMs;
  const db = processConnection();
  await ensureWarrenTables(db);
  const result = await pruneWarrenTables(db, { olderThanSeconds: days * 86_400, batchSize, ...(deadline === undefined ? {} : { deadline }) });
  const fields = { inbox: result.deleted.warren_inbox, outbox: result.deleted.warren_outbox, batches: result.batches, olderThanDays: days };
  if (result.complete) log.info('pruned old inbox and sent outbox rows', fields);
  else log.warn('pruning stopped at the time budget; the next run continues', fields);
  return result;
}
