/** What the numbers were measured on. */
import { readdir, readFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import amqp from 'amqplib';
import type { BenchDatabase } from './BenchDatabase.js';
import { cpuMs } from './consumers/Consumer.js';

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

/** CPU time (ms) used so far by the local MariaDB and RabbitMQ servers, found by process name; 0 when not visible. */
export async function serviceCpuMs(): Promise<{ mariadb: number; rabbitmq: number }> {
  const out = { mariadb: 0, rabbitmq: 0 };
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = (await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '')).trim();
    if (comm === 'mariadbd' || comm === 'mysqld') out.mariadb += await cpuMs(Number(entry));
    if (comm === 'beam.smp') out.rabbitmq += await cpuMs(Number(entry));
  }
  return out;
}
