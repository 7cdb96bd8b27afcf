/**
 * The local privilege split: `npm start` migrates as MIGRATIONS_URL's user and runs handlers as DATABASE_URL's, which
 * needs DML only; a runner's user that lacks a privilege stops the start with a message naming the user, the
 * privilege, the table and the GRANT to run. Users and databases are this file's own and are dropped at the end.
 */
import amqp from 'amqplib';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnStart, writeTestConfig, type StartedCli } from '../helpers/cli.js';
import { AMQP_URL, createTestDatabase, deleteTopology, waitFor, type TestDatabase } from '../helpers/services.js';

const suffix = randomBytes(3).toString('hex');
const queue = `warren-priv-${suffix}`;
const users: string[] = [];
let db: TestDatabase;
let config: { path: string; remove(): Promise<void> };

/** A user of this file's own with `grants` (statements with $db and $user), and its DATABASE_URL. */
async function user(name: string, grants: readonly string[]): Promise<string> {
  const full = `wp_${name}_${suffix}`;
  users.push(full);
  await db.query('CREATE USER ?@? IDENTIFIED BY ?', [full, '%', 'pw']);
  for (const grant of grants) await db.query(grant.replaceAll('$user', `'${full}'@'%'`));
  return `mysql://${full}:pw@127.0.0.1:3306/${db.name}`;
}

async function startAndWait(databaseUrl: string): Promise<StartedCli> {
  return spawnStart(config.path, { DATABASE_URL: databaseUrl, MIGRATIONS_URL: db.url });
}

beforeAll(async () => {
  db = await createTestDatabase({ schema: false });
  config = await writeTestConfig(queue, {
    migrations: ['examples/orders/functions/schema.sql'],
    handlers: [{ name: 'orders', entry: 'test/fixtures/orders.ts', queue, concurrency: 1 }],
    runner: { workers: 1, metricsPort: 0 },
  });
});

afterAll(async () => {
  for (const u of users) await db.query('DROP USER IF EXISTS ?@?', [u, '%']).catch(() => undefined);
  await config.remove();
  await deleteTopology(queue, 1);
  await db.drop();
});

describe('Local privilege split: MIGRATIONS_URL migrates, DATABASE_URL needs DML only', () => {
  it('stops the start naming the missing INSERT, the table and the GRANT when the runner\'s user may only SELECT', async () => {
    const url = await user('ro', ['GRANT SELECT ON $db.* TO $user']);
    const cli = await startAndWait(url);
    try {
      expect(await cli.exited).toBe(1);
      const escaped = db.name.replace(/_/g, '\\_');
      expect(cli.output()).toContain(
        `warren: Database user 'wp_ro_${suffix}'@'%' lacks INSERT on \`${db.name}\`.\`warren_inbox\`. ` +
        `Run as an administrator: GRANT SELECT, INSERT, UPDATE, DELETE ON \`${escaped}\`.* TO 'wp_ro_${suffix}'@'%'; (docs/local-runner.md, "Database users").`,
      );
    } finally {
      await cli.kill();
    }
  });

  it('names an application table the runner\'s user cannot even see (SELECT), found through the migrations user', async () => {
    const url = await user('warrenonly', ['warren_inbox', 'warren_deliveries', 'warren_outbox', 'warren_replies'].map((t) => `GRANT SELECT, INSERT, UPDATE, DELETE ON $db.${t} TO $user`));
    const cli = await startAndWait(url);
    try {
      expect(await cli.exited).toBe(1);
      expect(cli.output()).toContain(`warren: Database user 'wp_warrenonly_${suffix}'@'%' lacks SELECT on \`${db.name}\`.\`orders\`.`);
    } finally {
      await cli.kill();
    }
  });

  it('runs the handlers with a DML-only user once the migrations user created the tables', async () => {
    const url = await user('dml', ['GRANT SELECT, INSERT, UPDATE, DELETE ON $db.* TO $user']);
    const cli = await startAndWait(url);
    try {
      await waitFor('runner started', () => cli.output().includes('processing messages') || cli.child.exitCode !== null, 90_000);
      expect(cli.output()).toContain('processing messages');
      const tables = await db.query<{ TABLE_NAME: string }[]>('SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME', [db.name]);
      expect(tables.map((t) => t.TABLE_NAME)).toEqual(['orders', 'sku_totals', 'warren_deliveries', 'warren_inbox', 'warren_outbox', 'warren_replies']);
      const connection = await amqp.connect(AMQP_URL);
      const channel = await connection.createConfirmChannel();
      for (let i = 0; i < 3; i += 1) {
        channel.publish(queue, `o-${i}`, Buffer.from(JSON.stringify({ orderId: `o-${i}`, sku: 'sku-1', quantity: 1 })), { persistent: true, messageId: `o-${i}`, contentType: 'application/json' });
      }
      await channel.waitForConfirms();
      await connection.close();
      await waitFor('3 orders written by the DML-only user', async () => Number((await db.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM $db.orders'))[0]?.n) === 3, 30_000);
    } finally {
      await cli.kill();
    }
  });
});
