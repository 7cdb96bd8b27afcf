/**
 * `warren start` when MySQL or RabbitMQ cannot be used: the first line a person reads names the URL (password
 * redacted), what is wrong there and which variable to change.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnStart, writeTestConfig, type StartedCli } from '../helpers/cli.js';
import { createTestDatabase, uniqueName } from '../helpers/services.js';

let cli: StartedCli | undefined;
afterEach(async () => { await cli?.kill(); cli = undefined; });

/** A TCP port on 127.0.0.1 that nothing listens on (bound once, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startWith(env: Record<string, string>): Promise<{ code: number | null; firstLine: string }> {
  const queue = uniqueName('t_starterr');
  const config = await writeTestConfig(queue, {
    migrations: [], handlers: [{ name: 'counter', entry: 'test/fixtures/counter.ts', queue, concurrency: 1 }], runner: { metricsPort: 0 },
  });
  try {
    cli = spawnStart(config.path, env);
    const code = await cli.exited;
    const firstLine = cli.output().split('\n').find((l) => l.startsWith('warren: ')) ?? cli.output();
    return { code, firstLine };
  } finally {
    await config.remove();
  }
}

describe('warren start: start-up errors that say what to do', () => {
  it('names the MySQL URL without its password, says nothing answers there and how to point DATABASE_URL elsewhere', async () => {
    const port = await closedPort();
    const result = await startWith({ DATABASE_URL: `mysql://app:s3cret@127.0.0.1:${port}/shop` });
    expect(result).toEqual({
      code: 1,
      firstLine: `warren: MySQL/MariaDB is not answering at mysql://app:***@127.0.0.1:${port}/shop (connect ECONNREFUSED 127.0.0.1:${port}). ` +
        'Start it there, or point DATABASE_URL at your server, e.g. DATABASE_URL=mysql://USER:PASSWORD@HOST:3306/DATABASE npm start',
    });
  }, 60_000);

  it('says RabbitMQ refused the credentials (not "is it running?") for a wrong guest password', async () => {
    const db = await createTestDatabase({ schema: false });
    const result = await startWith({ AMQP_URL: 'amqp://guest:wrong-password@127.0.0.1:5672', DATABASE_URL: db.url }).finally(() => db.drop());
    expect(result).toEqual({
      code: 1,
      firstLine: 'warren: RabbitMQ at amqp://guest:***@127.0.0.1:5672 refused the credentials of user "guest" (ACCESS_REFUSED): the broker is ' +
        'running, but this user name or password is wrong, or the user may not use this vhost. Fix the user and password in AMQP_URL ' +
        '(amqp://USER:PASSWORD@HOST:5672/VHOST)',
    });
  }, 60_000);
});
