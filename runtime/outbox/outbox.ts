/**
 * The transactional outbox. `ctx.publish()` writes a row in the handler's own transaction; after the commit the rows
 * are published (with confirms) and marked sent. A publish before the commit could announce work that then rolls
 * back; a publish after it could be lost if the process died in between. The row closes both gaps, and the message id
 * (the incoming message's key + the publish's position) is deterministic, so a consumer's inbox drops any repeat.
 */
import type { ConnectionManager, QueryFn } from '../ConnectionManager.js';
import type { OutgoingMessage, Publisher } from './Publisher.js';

/** Properties a handler may set on a published message. */
export interface PublishProperties {
  readonly headers?: Readonly<Record<string, string | number | boolean>>;
  readonly contentType?: string;
  readonly correlationId?: string;
  readonly type?: string;
  readonly priority?: number;
  readonly expiration?: string;
}

/** `ctx.publish(exchange, routingKey, body, properties?)`: a Buffer is sent as is, anything else as JSON. */
export type PublishFn = (exchange: string, routingKey: string, body: unknown, properties?: PublishProperties) => Promise<void>;

interface StoredProperties {
  readonly headers?: Record<string, string | number | boolean>;
  readonly contentType?: string;
  readonly correlationId?: string;
  readonly type?: string;
  readonly priority?: number;
  readonly expiration?: string;
}

/** What a follow-up inherits from the message that caused it: the correlation id and the W3C trace. */
export function publishDefaults(message: { readonly correlationId: string | null; readonly messageId: string | null; readonly headers: Readonly<Record<string, unknown>> }): { correlationId: string | null; traceparent: string | null } {
  return {
    correlationId: message.correlationId ?? message.messageId,
    traceparent: typeof message.headers.traceparent === 'string' ? message.headers.traceparent : null,
  };
}

/**
 * Outbox rows written by one transaction, inserted with ONE multi-row statement just before its COMMIT (so a batch
 * that publishes a message per order costs one statement, not one per order).
 */
export class OutboxBuffer {
  private readonly rows: unknown[][] = [];

  public constructor(private readonly handler: string) {}

  public get size(): number { return this.rows.length; }

  /** A publish function for one incoming message: ids `<messageKey>/0`, `<messageKey>/1`, ... */
  public writer(messageKey: string, defaults: { correlationId: string | null; traceparent: string | null }): PublishFn {
    let position = 0;
    return async (exchange, routingKey, body, properties = {}) => {
      const data = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
      const headers = { ...properties.headers, ...(defaults.traceparent === null || properties.headers?.traceparent !== undefined ? {} : { traceparent: defaults.traceparent }) };
      const correlationId = properties.correlationId ?? defaults.correlationId ?? undefined;
      const stored: StoredProperties = {
        ...properties,
        headers,
        contentType: properties.contentType ?? (Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json'),
        ...(correlationId === undefined ? {} : { correlationId }),
      };
      this.rows.push([this.handler, exchange, routingKey, `${messageKey}/${position}`, data, JSON.stringify(stored)]);
      position += 1;
    };
  }

  /** Inserts the buffered rows (in publish order, so ids follow it) inside the caller's transaction. */
  public async write(query: QueryFn): Promise<void> {
    if (this.rows.length === 0) return;
    await query(
      `INSERT INTO warren_outbox (handler, exchange, routing_key, message_id, body, properties) VALUES ${this.rows.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
      this.rows.flat(),
    );
  }
}

interface OutboxRow {
  id: number;
  exchange: string;
  routing_key: string;
  message_id: string;
  body: Buffer;
  properties: string;
}

/**
 * Publishes the handler's unsent rows in id order and marks them sent, in one transaction that locks them, so two
 * flushers (an invocation and the relay) never publish the same rows at once or out of order. Rows younger than
 * `minAgeMs` are left to the invocation that wrote them. Returns how many were published.
 */
export async function flushOutbox(db: ConnectionManager, publisher: Publisher, handler: string, options: { limit?: number; minAgeMs?: number } = {}): Promise<number> {
  const limit = options.limit ?? 500;
  const minAge = options.minAgeMs ?? 0;
  let total = 0;
  for (;;) {
    const sent = await db.transaction(async (query) => {
      const { rows } = await query<OutboxRow>(
        `SELECT id, exchange, routing_key, message_id, body, properties FROM warren_outbox
          WHERE handler = ? AND sent_at IS NULL${minAge > 0 ? ' AND created_at < NOW(3) - INTERVAL ? MICROSECOND' : ''}
          ORDER BY id LIMIT ? FOR UPDATE`,
        minAge > 0 ? [handler, minAge * 1000, limit] : [handler, limit],
      );
      if (rows.length === 0) return 0;
      const messages: OutgoingMessage[] = rows.map((r) => {
        const p = JSON.parse(r.properties) as StoredProperties;
        return {
          exchange: r.exchange,
          routingKey: r.routing_key,
          body: r.body,
          properties: { ...p, messageId: r.message_id, persistent: true, timestamp: Math.floor(Date.now() / 1000), appId: `warren:${handler}` },
        };
      });
      await publisher.publish(messages);
      await query(`UPDATE warren_outbox SET sent_at = NOW(3) WHERE id IN (${rows.map(() => '?').join(', ')})`, rows.map((r) => r.id));
      return rows.length;
    });
    total += sent;
    if (sent < limit) return total;
  }
}

/** Deletes sent rows older than `olderThanSeconds`. */
export async function pruneOutbox(db: ConnectionManager, olderThanSeconds: number): Promise<number> {
  const cutoff = new Date(Date.now() - olderThanSeconds * 1000);
  const { affectedRows } = await db.autocommit('DELETE FROM warren_outbox WHERE sent_at IS NOT NULL AND sent_at < ?', [cutoff]);
  return affectedRows;
}

/** Names of handlers with unsent rows (the relay's work list); empty when the table does not exist yet. */
export async function handlersWithUnsentRows(db: ConnectionManager, minAgeMs: number): Promise<string[]> {
  try {
    const { rows } = await db.autocommit<{ handler: string }>(
      'SELECT DISTINCT handler FROM warren_outbox WHERE sent_at IS NULL AND created_at < NOW(3) - INTERVAL ? MICROSECOND',
      [minAgeMs * 1000],
    );
    return rows.map((r) => r.handler);
  } catch (error) {
    if ((error as { code?: string }).code === 'ER_NO_SUCH_TABLE') return [];
    throw error;
  }
}
