/**
 * The scheduled outbox relay on AWS (an EventBridge rule invokes it every minute; at most one runs at a time): it
 * publishes outbox rows that no invocation flushed, because their environment died between commit and publish or the
 * broker was away, and its handler's queue has gone quiet since. Rows younger than `WARREN_RELAY_MIN_AGE_MS`, or than
 * a handler's own `minAgeMs` (its timeout plus a margin, set by the stack), are left to the invocation that wrote them
 * (`outbox/leftBehind.ts`). The pass itself is the relay core the local runner uses too
 * (`outbox/OutboxRelayCore.ts`).
 *
 * Environment: WARREN_RELAY_HANDLERS = JSON `[{"name": "orders", "vhost": "/", "minAgeMs": 70000}]` (`minAgeMs`
 * optional: the handler's timeout plus a margin, see lib/WarrenOutboxRelay.ts), the WARREN_DB_* variables, and
 * WARREN_AMQP_ENDPOINT + WARREN_AMQP_SECRET_ARN (or WARREN_PUBLISH_AMQP_URL, as locally).
 */
import { urlForVhost } from '../../runtime/amqp/amqpUrl.js';
import { ENV, envValue } from '../../runtime/env.js';
import { ConfigError } from '../../runtime/errors.js';
import { createLogger } from '../../runtime/logger.js';
import { OutboxRelayCore, type RelayTarget } from '../../runtime/outbox/OutboxRelayCore.js';
import { publishUrlFromEnv } from '../../runtime/outbox/Publisher.js';
import { processConnection } from '../../runtime/db/processConnection.js';
import { ensureWarrenTables } from '../../runtime/db/warrenTables.js';

export const RELAY_FUNCTION_DEFAULTS = { minAgeMs: 30_000 } as const;

const log = createLogger({ component: 'outbox-relay' });
/** Kept across invocations of the environment, with the connection it was made for. */
let relay: { db: unknown; core: OutboxRelayCore } | undefined;

/** The relay's handlers, from WARREN_RELAY_HANDLERS (the CDK stack sets it). */
export function relayTargets(value = envValue(ENV.relayHandlers)): RelayTarget[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value ?? '[]');
  } catch (error) {
    throw new ConfigError(ENV.relayHandlers, `expected JSON, received ${JSON.stringify(value)}; the CDK stack sets it`, { cause: error });
  }
  const valid = (t: { name?: unknown; vhost?: unknown; minAgeMs?: unknown } | null) =>
    typeof t?.name === 'string' && typeof t.vhost === 'string' && (t.minAgeMs === undefined || (typeof t.minAgeMs === 'number' && t.minAgeMs >= 0));
  if (!Array.isArray(parsed) || !parsed.every(valid)) {
    throw new ConfigError(ENV.relayHandlers, `expected a JSON array of {"name", "vhost", "minAgeMs"?}, received ${JSON.stringify(value)}`);
  }
  return parsed as RelayTarget[];
}

/** The minimum row age, from WARREN_RELAY_MIN_AGE_MS (default 30 s). */
export function relayMinAgeMs(value = envValue(ENV.relayMinAgeMs)): number {
  if (value === undefined) return RELAY_FUNCTION_DEFAULTS.minAgeMs;
  const ms = Number(value);
  if (!Number.isFinite(ms) || ms < 0) throw new ConfigError(ENV.relayMinAgeMs, `expected a number of milliseconds >= 0, received ${JSON.stringify(value)}`);
  return ms;
}

export async function handler(): Promise<{ published: number }> {
  const db = processConnection();
  await ensureWarrenTables(db);
  if (relay?.db !== db) {
    await relay?.core.close();
    relay = { db, core: new OutboxRelayCore({ db, publishUrl: async (vhost) => urlForVhost(await publishUrlFromEnv(), vhost), minAgeMs: relayMinAgeMs(), log }) };
  }
  // Read literally: the stack compiles the list into the bundle (esbuild define), since hundreds of publishing handlers
  // exceed Lambda's 4 KB of environment variables; locally and in tests it is a real variable.
  return { published: await relay.core.pass(relayTargets(process.env.WARREN_RELAY_HANDLERS)) };
}
