/**
 * Start-up check of the database's connection budget: the pool's workers each hold one MySQL connection per distinct
 * database (the runner has one), the outbox relay one more. Rather than let workers meet "Too many connections" one by
 * one, the runner asks the server first and stops with both numbers.
 */
import mysql from 'mysql2/promise';
import { ServerConnectionBudgetError } from '../errors.js';

export interface ConnectionBudget {
  /** Connections the runner will hold. */
  readonly needed: number;
  /** How many more the server accepts now (the lower of the global and the per-user room). */
  readonly available: number;
  readonly maxConnections: number;
  readonly threadsConnected: number;
  /** The user's MAX_USER_CONNECTIONS (or the global max_user_connections), 0 when unlimited. */
  readonly maxUserConnections: number;
  readonly userConnections: number;
}

/** Asks the server (one short connection) how many more connections it accepts; throws when `needed` exceeds it. */
export async function checkConnectionBudget(url: string, needed: number): Promise<ConnectionBudget> {
  const connection = await mysql.createConnection({ uri: url, connectTimeout: 10_000 });
  let budget: ConnectionBudget;
  try {
    const [[limits]] = await connection.query<mysql.RowDataPacket[]>('SELECT @@max_connections AS maxConnections, @@max_user_connections AS maxUserConnections');
    const [[threads]] = await connection.query<mysql.RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Threads_connected'");
    const [[mine]] = await connection.query<mysql.RowDataPacket[]>(
      "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = SUBSTRING_INDEX(CURRENT_USER(), '@', 1)",
    );
    const maxConnections = Number(limits?.maxConnections);
    const maxUserConnections = Number(limits?.maxUserConnections);
    const threadsConnected = Number(threads?.Value);
    const userConnections = Number(mine?.n);
    // This check's own connection is counted in both and closes right after.
    const globalRoom = maxConnections - threadsConnected + 1;
    const userRoom = maxUserConnections > 0 ? maxUserConnections - userConnections + 1 : Number.POSITIVE_INFINITY;
    budget = { needed, available: Math.min(globalRoom, userRoom), maxConnections, threadsConnected, maxUserConnections, userConnections };
  } finally {
    await connection.end().catch(() => undefined);
  }
  if (needed > budget.available) {
    const detail = budget.available === budget.maxUserConnections - budget.userConnections + 1
      ? `the user's MAX_USER_CONNECTIONS is ${budget.maxUserConnections} and it has ${budget.userConnections - 1} open`
      : `max_connections is ${budget.maxConnections} and ${budget.threadsConnected - 1} are open`;
    throw new ServerConnectionBudgetError(needed, budget.available, detail);
  }
  return budget;
}
