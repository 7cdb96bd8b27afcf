import { randomBytes } from 'node:crypto';
import type { Message } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { PayloadBudget } from '../../local/broker/payloadBudget.js';
import { oversizeReason } from '../../local/broker/setAsideOversize.js';
import { toRmqEvent } from '../../runtime/toRmqEvent.js';
import { PayloadTooLargeError } from '../../runtime/errors.js';
import { base64Length, checkLambdaBodySize, LAMBDA_MAX_BODY_BYTES, LAMBDA_PAYLOAD_LIMIT_BYTES } from '../../runtime/payloadLimit.js';

type Delivery = Pick<Message, 'content' | 'fields' | 'properties'>;

/** A small deterministic generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

const STRINGS = ['', 'plain', 'quote " and backslash \\', 'line\nbreak\ttab', 'ünïcödé', '日本語', 'emoji 🐇', '\u0001control', '</script>'];

function randomValue(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 1 ? 6 : 8));
  switch (pick) {
    case 0: return STRINGS[Math.floor(next() * STRINGS.length)];
    case 1: return Math.floor(next() * 1e9) - 5e8;
    case 2: return next() * 1000;
    case 3: return next() < 0.5;
    case 4: return null;
    case 5: return randomBytes(Math.floor(next() * 40));
    case 6: return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
    default: return Object.fromEntries(Array.from({ length: Math.floor(next() * 4) }, (_, i) => [`k${i}${STRINGS[i % STRINGS.length]}`, randomValue(next, depth + 1)]));
  }
}

function randomDelivery(next: () => number): Delivery {
  const headers = next() < 0.2 ? undefined : Object.fromEntries(Array.from({ length: Math.floor(next() * 6) }, (_, i) => [`h-${i}-${STRINGS[Math.floor(next() * STRINGS.length)]}`, randomValue(next, 0)]));
  const maybe = <T>(value: T): T | undefined => (next() < 0.5 ? value : undefined);
  return {
    content: randomBytes(Math.floor(next() * 3_000)),
    fields: { redelivered: next() < 0.3, deliveryTag: 1, consumerTag: 'c', exchange: 'x', routingKey: 'k' } as Message['fields'],
    properties: {
      headers, contentType: maybe('application/json'), contentEncoding: maybe('utf-8'), deliveryMode: maybe(2), priority: maybe(3),
      correlationId: maybe(STRINGS[Math.floor(next() * STRINGS.length)]), replyTo: maybe('reply'), expiration: maybe('60000'),
      messageId: maybe(`id-${STRINGS[Math.floor(next() * STRINGS.length)]}`), timestamp: maybe(Math.floor(next() * 2e9)),
      type: maybe('order'), userId: maybe('guest'), appId: maybe('app ü'), clusterId: undefined,
    } as unknown as Message['properties'],
  };
}

describe('Class: PayloadBudget', () => {
  it('measures exactly the UTF-8 bytes of the aws:rmq event toRmqEvent builds, for random bodies, headers and properties', () => {
    const next = rng(20261201);
    for (let round = 0; round < 200; round += 1) {
      const queue = round % 2 === 0 ? 'orders.0' : `quéue-${round}.3`;
      const vhost = round % 3 === 0 ? '/' : 'warren-vh';
      const budget = new PayloadBudget(queue, vhost);
      const messages = Array.from({ length: Math.floor(next() * 6) }, () => randomDelivery(next));
      const json = JSON.stringify(toRmqEvent(queue, vhost, messages));
      expect(budget.eventBytes(messages)).toBe(Buffer.byteLength(json));
      for (const m of messages) expect(budget.aloneBytes(m)).toBe(Buffer.byteLength(JSON.stringify(toRmqEvent(queue, vhost, [m]))));
    }
  });

  it('equals the JSON string length when everything is ASCII', () => {
    const budget = new PayloadBudget('orders.1', '/');
    const msg: Delivery = {
      content: Buffer.alloc(1_000, 7),
      fields: { redelivered: false } as Message['fields'],
      properties: { headers: { a: 'b', n: 1 }, messageId: 'm-1', contentType: 'application/json', timestamp: 1 } as unknown as Message['properties'],
    };
    expect(budget.eventBytes([msg, msg])).toBe(JSON.stringify(toRmqEvent('orders.1', '/', [msg, msg])).length);
  });

  it('closes a batch before its event would pass the limit, and reports a message that cannot fit alone', () => {
    const limit = 5_000;
    const budget = new PayloadBudget('q.0', '/', limit);
    const next = rng(7);
    for (let round = 0; round < 100; round += 1) {
      const pending = Array.from({ length: 1 + Math.floor(next() * 12) }, () => randomDelivery(next));
      const batchSize = 1 + Math.floor(next() * 10);
      const take = budget.batchLength(pending, batchSize);
      expect(take).toBeLessThanOrEqual(batchSize);
      if (take > 0) expect(Buffer.byteLength(JSON.stringify(toRmqEvent('q.0', '/', pending.slice(0, take))))).toBeLessThanOrEqual(limit);
      if (take < Math.min(batchSize, pending.length)) {
        expect(Buffer.byteLength(JSON.stringify(toRmqEvent('q.0', '/', pending.slice(0, take + 1))))).toBeGreaterThan(limit);
      }
      expect(take === 0).toBe(budget.isOversize(pending[0]!));
    }
  });

  it('keeps its running total right while messages arrive and batches are taken from the head', () => {
    const limit = 20_000;
    const next = rng(99);
    const budget = new PayloadBudget('q.0', '/', limit);
    const fresh = new PayloadBudget('q.0', '/', limit);
    const pending: Delivery[] = [];
    for (let step = 0; step < 400; step += 1) {
      if (next() < 0.7) pending.push(randomDelivery(next));
      else pending.splice(0, Math.max(1, budget.batchLength(pending, 10)));
      const batchSize = 10;
      // Reference: a fresh budget (no running total) on a copy of the array.
      expect(budget.closesBatch(pending, batchSize)).toBe(fresh.batchLength([...pending], batchSize) < Math.min(batchSize, pending.length));
    }
  });
});

describe('Constants: Lambda payload limits', () => {
  it('are 6 MB = 6,291,456 bytes for the event and 4,715,520 bytes for a body publishers may send', () => {
    expect(LAMBDA_PAYLOAD_LIMIT_BYTES).toBe(6_291_456);
    expect(LAMBDA_MAX_BODY_BYTES).toBe(4_715_520);
    expect(base64Length(3)).toBe(4);
    expect(base64Length(4)).toBe(8);
    expect(base64Length(0)).toBe(0);
  });

  it('let a body of the publishers\' limit fit an event alone, with ordinary properties', () => {
    const budget = new PayloadBudget('a-long-queue-name-for-a-handler.15', 'warren');
    const msg: Delivery = {
      content: Buffer.alloc(LAMBDA_MAX_BODY_BYTES),
      fields: { redelivered: true } as Message['fields'],
      properties: { headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }, messageId: 'order-123456/0', contentType: 'application/json', correlationId: 'c-1', timestamp: 1_764_000_000, deliveryMode: 2 } as unknown as Message['properties'],
    };
    expect(budget.isOversize(msg)).toBe(false);
    expect(budget.isOversize({ ...msg, content: Buffer.alloc(4_718_593) })).toBe(true);
  });
});

describe('Function: checkLambdaBodySize()', () => {
  it('accepts a body at the limit and refuses one byte more, naming the size, the limit and why', () => {
    expect(() => checkLambdaBodySize(Buffer.alloc(4_715_520))).not.toThrow();
    let error: unknown;
    try { checkLambdaBodySize(Buffer.alloc(4_715_521), 'order o-1'); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect((error as Error).message).toMatch(/^order o-1 is 4,715,521 bytes, over Warren's limit of 4,715,520 bytes: Lambda delivers RabbitMQ messages base64-encoded in a JSON event of at most 6,291,456 bytes/);
  });
});

describe('Function: oversizeReason()', () => {
  it('says Lambda would drop the message, with its size and the limit', () => {
    expect(oversizeReason(9_787_456, 7_340_032, 6_291_456)).toMatch(/^Lambda would drop this message: its aws:rmq event alone is 9,787,456 bytes \(a 7,340,032-byte body, base64-encoded, with its properties\), over Lambda's invocation payload limit of 6,291,456 bytes \(6 MB\)/);
  });
});
