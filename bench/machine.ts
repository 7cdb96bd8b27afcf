/** What the numbers were measured on. */
import { cpus, loadavg, totalmem } from 'node:os';
import amqp from 'amqplib';
import type { BenchDatabase } from './BenchDatabase.js';

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGb: number;
  readonly os: string;
  readonly node: string;
  readonly mariadb: string;
  readonly rabbitmq: string;
  /** 1-minute load average when the bench started (others' work on a shared machine shows here). */
  readonly loadAverageAtStart: number;
}

export async function describeMachine(db: BenchDatabase, amqpUrl: string): Promise<MachineInfo> {
  const connection = await amqp.connect(amqpUrl);
  const props = connection.connection.serverProperties;
  await connection.close();
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    os: `${process.platform} ${process.arch}`,
    node: process.version,
    mariadb: await db.version(),
    rabbitmq: `${props.product} ${props.version}`,
    loadAverageAtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}
