/**
 * The scheduled outbox relay on AWS (an EventBridge rule invokes it every minute; at most one runs at a time): it
 * publishes outbox rows that no invocation flushed, because their environment died between commit and publish or the
 * broker was away, and its handler's queue has gone quiet since. Rows younger than `WARREN_RELAY_MIN_AGE_MS` are left
 * to the invocation that wrote them.
 *
 * Environment: WARREN_RELAY_HANDLERS = JSON `[{"name": "orders", "vhost": "/"}]`, the WARREN_DB_* variables, and
 * WARREN_AMQP_ENDPOINT + WARREN_AMQP_SECRET_ARN (or WARREN_PUBLISH_AMQP_URL, as locally).
 */
import { createLogger, errorFields } from './logger.js';
import { flushOutbox } from './outbox/outbox.js';
import { AmqpPublisher, publishUrlFromEnv } from './outbox/Publisher.js';
import { processConnection } from './processConnection.js';
import { ensureWarrenTables } from './warrenTables.js';
import { urlForVhost } from './amqpUrl.js';
import { ENV } from './env.js';
import { ConfigError } from './errors.js';

export const RELAY_FUNCTION_DEFAULTS = { minAgeMs: 30_000 } as const;

const log = createLogger({ component: 'outbox-relay' });
const publishers = new Map<string, AmqpPublisher>();

interface RelayTarget {
  readonly name: string;
  readonly vhost: string;
}

function targets(raw: string | undefined): RelayTarget[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw ?? '[]');
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every((t) => typeof t?.name === 'string' && typeof t?.vhost === 'string')) {
    throw new ConfigError(ENV.relayHandlers, `expected a JSON array of {"name", "vhost"}, received ${JSON.stringify(raw)?.slice(0, 200)}; the stack sets it from warren.config.ts`);
  }
  return parsed as RelayTarget[];
}

export async function handler(): Promise<{ published: number }> {
  const minAgeMs = Number(process.env[ENV.relayMinAgeMs] ?? RELAY_FUNCTION_DEFAULTS.minAgeMs);
  const db = processConnection();
  await ensureWarrenTables(db);
  let published = 0;
  // Read literally: the stack compiles the list into the bundle (esbuild define), since hundreds of publishing
  // handlers exceed Lambda's 4 KB of environment variables; locally and in tests it is a real variable.
  for (const target of targets(process.env.WARREN_RELAY_HANDLERS)) {
    let publisher = publishers.get(target.vhost);
    if (publisher === undefined) {
      publisher = new AmqpPublisher(async () => urlForVhost(await publishUrlFromEnv(), target.vhost));
      publishers.set(target.vhost, publisher);
    }
    try {
      const n = await flushOutbox(db, publisher, target.name, { minAgeMs });
      if (n > 0) log.info('outbox relay published messages left behind', { handler: target.name, messages: n });
      published += n;
    } catch (error) {
      log.warn('outbox relay could not publish; the rows stay for the next run', { handler: target.name, ...errorFields(error) });
    }
  }
  return { published };
}
