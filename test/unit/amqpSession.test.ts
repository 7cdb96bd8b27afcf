import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AMQP_SESSION_DEFAULTS, AmqpSession } from '../../local/broker/AmqpSession.js';
import { BrokerUnavailableError } from '../../local/errors.js';
import { createLogger } from '../../runtime/logger.js';

/** A TCP server that accepts and reads but never answers: what a RabbitMQ out of file handles looks like to a client. */
async function silentBroker(): Promise<{ port: number; accepted: () => number; stop: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => { sockets.push(socket); socket.on('error', () => undefined); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const stop = async (): Promise<void> => {
    sockets.forEach((s) => s.destroy());
    await new Promise((resolve) => server.close(resolve));
  };
  return { port: address.port, accepted: () => sockets.length, stop };
}

describe('AmqpSession start', () => {
  it('tries 5 times, waits 10 s per handshake, gives up after 2 timed-out handshakes and sends heartbeats every 10 s by default', () => {
    expect(AMQP_SESSION_DEFAULTS).toEqual({ startAttempts: 5, heartbeatSeconds: 10, connectTimeoutMs: 10_000, handshakeTimeoutAttempts: 2 });
  });

  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => { await stop?.(); stop = undefined; });

  it('gives up on a broker that accepts the connection but never finishes the handshake, and says why', async () => {
    const broker = await silentBroker();
    stop = broker.stop;
    const session = new AmqpSession({
      url: `amqp://guest:guest@127.0.0.1:${broker.port}`, name: 'test', log: createLogger({}, { level: 'error' }),
      onConnected: async () => undefined, onLost: () => undefined, connectTimeoutMs: 300,
    });
    const error = await session.start().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect((error as BrokerUnavailableError).handshakeTimedOut).toBe(true);
    expect((error as Error).message).toContain('did not finish the AMQP handshake within 0.3 s');
    expect((error as Error).message).toContain("file_handle_cache:info([total_limit, total_used])");
    expect((error as Error).message).not.toContain('guest:guest');
    expect(broker.accepted()).toBe(2); // two timed-out handshakes, not five
  });

  it('says the broker is not running when nothing listens', async () => {
    const broker = await silentBroker();
    const port = broker.port;
    await broker.stop();
    const session = new AmqpSession({
      url: `amqp://guest:guest@127.0.0.1:${port}`, name: 'test', log: createLogger({}, { level: 'error' }),
      onConnected: async () => undefined, onLost: () => undefined, startAttempts: 2,
    });
    const error = await session.start().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect((error as BrokerUnavailableError).handshakeTimedOut).toBe(false);
    expect((error as Error).message).toContain('is it running?');
  });
});
