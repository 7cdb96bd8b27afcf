/**
 * The request client (client/RequestClient.ts) against the real RabbitMQ, answered by a tiny responder written here
 * with amqplib that keeps the wire contract of Warren's replies (docs/request-and-reply.md): the reply goes to the
 * default exchange with `reply_to` as the routing key and the request's correlation id; an error reply carries the
 * header `warren-error`. (The same client against a real Warren handler: requestCallers.test.ts.)
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NoSuchExchangeError, RequestAbortedError, RequestClient, RequestClientClosedError, RequestFailedError, RequestTimeoutError,
  UnroutableRequestError,
} from '../../client/index.js';
import { writeTestConfig } from '../helpers/cli.js';
import { AMQP_URL, deleteTopology, queueDepths, uniqueName, waitFor } from '../helpers/services.js';
import { startTcpProxy } from '../helpers/tcpProxy.js';

const run = promisify(execFile);

/** What the responder is asked to do. */
interface Ask {
  readonly op: 'echo' | 'fail' | 'silent' | 'slow' | 'stray';
  readonly n?: number;
}

interface Responder {
  readonly exchange: string;
  /** Requests it received, with the properties it saw. */
  readonly seen: ConsumeMessage[];
  close(): Promise<void>;
}

/** A direct exchange and a queue bound with key `ask`, answered per the contract (plus misbehaviour on request). */
async function startResponder(): Promise<Responder> {
  const exchange = uniqueName('t_ask');
  const connection: ChannelModel = await amqp.connect(AMQP_URL);
  const channel: Channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'direct', { durable: false, autoDelete: false });
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, exchange, 'ask');
  const seen: ConsumeMessage[] = [];
  const answer = (msg: ConsumeMessage, body: unknown, headers: Record<string, string> = {}, correlationId?: string) => {
    channel.publish('', String(msg.properties.replyTo), Buffer.from(JSON.stringify(body)), {
      correlationId: correlationId ?? String(msg.properties.correlationId ?? msg.properties.messageId),
      contentType: 'application/json',
      headers,
    });
  };
  await channel.consume(queue, (msg) => {
    if (msg === null) return;
    seen.push(msg);
    const ask = JSON.parse(msg.content.toString()) as Ask;
    if (ask.op === 'echo') answer(msg, { echoed: ask.n, messageId: msg.properties.messageId });
    if (ask.op === 'fail') answer(msg, { error: 'out of stock' }, { 'warren-error': 'out of stock' });
    if (ask.op === 'slow') setTimeout(() => answer(msg, { late: true }), 400);
    if (ask.op === 'stray') {
      answer(msg, { stray: true }, {}, 'no-such-request');
      answer(msg, { echoed: ask.n });
    }
  }, { noAck: true });
  return {
    exchange,
    seen,
    async close() {
      await channel.deleteExchange(exchange).catch(() => undefined);
      await connection.close().catch(() => undefined);
    },
  };
}

describe('RequestClient against a responder that keeps the reply contract', () => {
  let responder: Responder;
  let client: RequestClient;

  beforeAll(async () => {
    responder = await startResponder();
    client = await RequestClient.connect({ url: AMQP_URL });
  });
  afterAll(async () => {
    await client.close();
    await responder.close();
  });

  it('resolves with the reply, its properties, a JSON accessor and the round-trip time', async () => {
    const reply = await client.request(responder.exchange, 'ask', { op: 'echo', n: 7 }, { messageId: 'order-7' });
    expect(reply.json()).toEqual({ echoed: 7, messageId: 'order-7' });
    expect(reply.properties.contentType).toBe('application/json');
    expect(reply.error).toBeUndefined();
    expect(reply.roundTripMs).toBeGreaterThan(0);
    const request = responder.seen.at(-1)!;
    expect(request.properties.replyTo).toMatch(/^amq\.rabbitmq\.reply-to\./); // the broker's generated name
    expect(request.properties.messageId).toBe('order-7');
    expect(reply.properties.correlationId).toBe(request.properties.correlationId);
  });

  it('gives each of many requests in flight on one connection its own reply', async () => {
    const replies = await Promise.all(Array.from({ length: 200 }, (_, n) => client.request(responder.exchange, 'ask', { op: 'echo', n })));
    expect(replies.map((r) => (r.json() as { echoed: number }).echoed)).toEqual(Array.from({ length: 200 }, (_, n) => n));
    expect(client.pending).toBe(0);
  });

  it('sets a new random message id when the caller gives none', async () => {
    const a = await client.request(responder.exchange, 'ask', { op: 'echo', n: 1 });
    const b = await client.request(responder.exchange, 'ask', { op: 'echo', n: 1 });
    const ids = [(a.json() as { messageId: string }).messageId, (b.json() as { messageId: string }).messageId];
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids[1]).not.toBe(ids[0]);
  });

  it('rejects with the warren-error reason of an error reply', async () => {
    const error = await client.request(responder.exchange, 'ask', { op: 'fail' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestFailedError);
    const failed = error as RequestFailedError;
    expect(failed.reason).toBe('out of stock');
    expect(failed.exchange).toBe(responder.exchange);
    expect(failed.routingKey).toBe('ask');
    expect(failed.reply.json()).toEqual({ error: 'out of stock' });
    expect(failed.message).toContain('failed: out of stock');
  });

  it('times out with an error naming the exchange, the key and the time waited, and counts the late reply as unknown', async () => {
    const before = client.unknownReplies;
    const error = await client.request(responder.exchange, 'ask', { op: 'slow' }, { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect((error as Error).message).toContain(`No reply to the request to exchange "${responder.exchange}" with routing key "ask"`);
    expect((error as Error).message).toContain('within 150 ms');
    expect((error as RequestTimeoutError).timeoutMs).toBe(150);
    await waitFor('the late reply', () => client.unknownReplies === before + 1, 5_000, 20);
  });

  it('ignores and counts a reply with an unknown correlation id, and still resolves with its own', async () => {
    const before = client.unknownReplies;
    const reply = await client.request(responder.exchange, 'ask', { op: 'stray', n: 3 });
    expect(reply.json()).toEqual({ echoed: 3 });
    expect(client.unknownReplies).toBe(before + 1);
  });

  it('rejects an unroutable request at once (mandatory + basic.return) instead of waiting out the timeout', async () => {
    const started = Date.now();
    const error = await client.request(responder.exchange, 'no-binding', { op: 'echo' }, { timeoutMs: 20_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnroutableRequestError);
    expect((error as UnroutableRequestError).replyCode).toBe(312);
    expect((error as Error).message).toContain('(312 NO_ROUTE)');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('rejects a request to an exchange that does not exist, without disturbing the requests in flight', async () => {
    const slow = client.request(responder.exchange, 'ask', { op: 'slow' }, { timeoutMs: 10_000 });
    const missing = uniqueName('t_missing');
    const error = await client.request(missing, 'k', { op: 'echo' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoSuchExchangeError);
    expect((error as Error).message).toContain(`RabbitMQ has no exchange "${missing}"`);
    expect((await slow).json()).toEqual({ late: true });
  });

  it('refuses a timeout that is not a positive number of milliseconds, naming the option', async () => {
    await expect(client.request(responder.exchange, 'ask', { op: 'echo' }, { timeoutMs: 0 })).rejects.toThrow('Invalid config at "RequestOptions.timeoutMs": expected milliseconds above 0');
  });
});

describe('RequestClient when its connection or channel goes away', () => {
  it('rejects every pending request with a clear error when the connection drops, then refuses new ones', async () => {
    const responder = await startResponder();
    const proxy = await startTcpProxy(5672);
    const client = await RequestClient.connect({ url: `amqp://guest:guest@127.0.0.1:${proxy.port}` });
    try {
      await client.request(responder.exchange, 'ask', { op: 'echo', n: 1 });
      const pending = [1, 2, 3].map(() => client.request(responder.exchange, 'ask', { op: 'silent' }, { timeoutMs: 20_000 }).catch((e: unknown) => e));
      await waitFor('three requests in flight', () => client.pending === 3, 5_000, 10);
      proxy.dropAll();
      const errors = await Promise.all(pending);
      for (const e of errors) {
        expect(e).toBeInstanceOf(RequestAbortedError);
        expect((e as Error).message).toContain('was abandoned: the connection to RabbitMQ closed');
      }
      await waitFor('the client to see the connection closed', async () => {
        const e = await client.request(responder.exchange, 'ask', { op: 'echo' }).catch((x: unknown) => x);
        return e instanceof RequestClientClosedError;
      }, 5_000, 20);
    } finally {
      await client.close();
      await proxy.close();
      await responder.close();
    }
  });

  it('rejects pending requests on close(), and a second close() is harmless', async () => {
    const responder = await startResponder();
    const client = await RequestClient.connect({ url: AMQP_URL });
    try {
      const pending = client.request(responder.exchange, 'ask', { op: 'silent' }, { timeoutMs: 20_000 }).catch((e: unknown) => e);
      await waitFor('the request in flight', () => client.pending === 1, 5_000, 10);
      await client.close();
      await client.close();
      const error = await pending;
      expect(error).toBeInstanceOf(RequestAbortedError);
      expect((error as Error).message).toContain('was abandoned: close() was called');
      await expect(client.request(responder.exchange, 'ask', {})).rejects.toBeInstanceOf(RequestClientClosedError);
    } finally {
      await responder.close();
    }
  });

  it('aborts the requests in flight when their exchange is deleted under them, and works again on a new channel', async () => {
    const responder = await startResponder();
    const other = await startResponder();
    const client = await RequestClient.connect({ url: AMQP_URL });
    try {
      await client.request(responder.exchange, 'ask', { op: 'echo', n: 1 });
      await responder.close(); // the exchange is gone; the client still thinks it exists
      const error = await client.request(responder.exchange, 'ask', { op: 'echo' }, { timeoutMs: 20_000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RequestAbortedError);
      expect((error as Error).message).toContain('NOT_FOUND');
      expect((await client.request(other.exchange, 'ask', { op: 'echo', n: 2 })).json()).toEqual({ echoed: 2, messageId: expect.any(String) });
      await expect(client.request(responder.exchange, 'ask', { op: 'echo' })).rejects.toBeInstanceOf(NoSuchExchangeError);
    } finally {
      await client.close();
      await other.close();
    }
  });
});

describe('CLI: npm run send -- --request', () => {
  it('prints each reply and error reply with its round-trip time, and a summary with p50 and p99', async () => {
    const queue = uniqueName('t_sendreq');
    const config = await writeTestConfig(queue, { handlers: [{ name: 'orders', entry: 'test/fixtures/orders.ts', samples: 'examples/orders/functions/samples.ts', queue }] });
    const connection = await amqp.connect(AMQP_URL);
    try {
      // The shard queue answered by hand per the contract: a valid order gets its id back, an invalid one an error reply.
      const channel = await connection.createChannel();
      await run(process.execPath, ['--import', 'tsx', 'local/cli.ts', 'send', '--config', config.path, '--count', '0']); // declares the topology
      await channel.consume(`${queue}.0`, (msg) => {
        if (msg === null) return;
        let order: { orderId?: string; sku?: string } | undefined;
        try { order = JSON.parse(msg.content.toString()) as typeof order; } catch { order = undefined; }
        const valid = order?.sku !== undefined;
        channel.publish('', String(msg.properties.replyTo), Buffer.from(JSON.stringify(valid ? { orderId: order!.orderId } : { error: 'invalid body' })), {
          correlationId: String(msg.properties.correlationId), contentType: 'application/json', headers: valid ? {} : { 'warren-error': 'invalid body' },
        });
        channel.ack(msg);
      });
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'local/cli.ts', 'send', '--request', '--config', config.path, '--count', '3', '--invalid', '1']);
      const lines = stdout.trim().split('\n');
      expect(lines).toHaveLength(5);
      expect(lines.filter((l) => /^reply \d\/4 \S+ in \d+\.\d ms: \{"orderId":"[0-9a-f]{8}-\d"\}$/.test(l))).toHaveLength(3);
      expect(lines.filter((l) => /^error reply \d\/4 \S+ in \d+\.\d ms: warren-error "invalid body"$/.test(l))).toHaveLength(1);
      expect(lines[4]).toMatch(new RegExp(`^4 request\\(s\\) to exchange "${queue}" \\(run [0-9a-f]{8}\\) in \\d+\\.\\d\\d s: 3 replies, 1 error reply, 0 unanswered; round trip p50 \\d+\\.\\d ms, p99 \\d+\\.\\d ms, max \\d+\\.\\d ms$`));
    } finally {
      await connection.close().catch(() => undefined);
      await config.remove();
      await deleteTopology(queue, 1);
    }
  });

  it('exits 1 naming the exchange, key and time waited when no reply comes', async () => {
    const queue = uniqueName('t_sendreq');
    const config = await writeTestConfig(queue, { handlers: [{ name: 'orders', entry: 'test/fixtures/orders.ts', samples: 'examples/orders/functions/samples.ts', queue }] });
    try {
      const failed = await run(process.execPath, ['--import', 'tsx', 'local/cli.ts', 'send', '--request', '--config', config.path, '--timeout-ms', '300'])
        .then(() => undefined, (error: unknown) => error as { code: number; stdout: string });
      expect(failed?.code).toBe(1);
      expect(failed?.stdout).toMatch(new RegExp(`^no reply 1/1 (\\S+): No reply to the request to exchange "${queue}" with routing key "\\1" \\(correlation id [0-9a-f-]{36}\\) within 300 ms`));
      expect(failed?.stdout).toContain('1 request(s) to exchange');
      expect(failed?.stdout).toContain(': 0 replies, 0 error replies, 1 unanswered\n');
      expect(await queueDepths([`${queue}.0`])).toEqual([1]); // it was sent; nobody answered
    } finally {
      await config.remove();
      await deleteTopology(queue, 1);
    }
  });

  it('refuses --timeout-ms without --request, and --request that would send nothing', async () => {
    const fails = (args: string[]) => run(process.execPath, ['--import', 'tsx', 'local/cli.ts', 'send', ...args]).then(() => '', (e: unknown) => (e as { stderr: string }).stderr);
    expect(await fails(['--timeout-ms', '500'])).toBe('warren: --timeout-ms is the time to wait for each reply: it needs --request\n');
    expect(await fails(['--request', '--count', '0'])).toBe('warren: --request with --count 0 and no --invalid sends nothing: give --count 1 or more\n');
  });
});
