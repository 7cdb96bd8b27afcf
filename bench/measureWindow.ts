/**
 * The measured window of one contender, from the end of its start-up to the end of its latency part: the server's
 * counters (statements, commits, fsyncs per message), the process tree's memory and the DB threads on its database
 * (sampled), and the CPU time of MariaDB, RabbitMQ and, in the `proxy` profile, of the proxy.
 */
import type { BenchDatabase } from './BenchDatabase.js';
import { cpuMs } from './consumers/Consumer.js';
import { serviceCpuMs } from './machine.js';
import type { BenchProxy } from './proxy/BenchProxy.js';
import type { DelayStats } from './proxy/DelayLine.js';
import { serverCost, type CounterReading, type ServerCost } from './serverCounters.js';
import { TreeSampler, type TreeSample } from './sampler.js';

export interface WindowFigures {
  readonly server: ServerCost;
  readonly tree: TreeSample;
  /** CPU time in the window, ms. */
  readonly cpuMs: { readonly mariadb: number; readonly rabbitmq: number; readonly proxy: number };
  /** `proxy` profile: chunks the proxy delayed in the window and the mean delay each got (one way), ms. */
  readonly proxyDelay: { readonly chunks: number; readonly meanOneWayMs: number } | null;
}

export class MeasuredWindow {
  private constructor(
    private readonly db: BenchDatabase,
    private readonly proxy: BenchProxy | undefined,
    private readonly sampler: TreeSampler,
    private readonly counters: CounterReading,
    private readonly services: { mariadb: number; rabbitmq: number },
    private readonly proxyCpu: number,
    private readonly proxyStats: DelayStats | undefined,
  ) {}

  /** Opens the window now; `root` is the contender's process, `database` its own database. */
  public static async open(db: BenchDatabase, proxy: BenchProxy | undefined, root: number, database: string): Promise<MeasuredWindow> {
    const services = await serviceCpuMs();
    const proxyCpu = proxy?.pid === undefined ? 0 : await cpuMs(proxy.pid);
    const proxyStats = await proxy?.stats();
    const counters = await db.serverCounters();
    const sampler = new TreeSampler(root, db, database);
    sampler.start();
    return new MeasuredWindow(db, proxy, sampler, counters, services, proxyCpu, proxyStats);
  }

  /** Closes the window; `messages` were processed in it. */
  public async close(messages: number): Promise<WindowFigures> {
    const tree = await this.sampler.stop();
    const counters = await this.db.serverCounters();
    const services = await serviceCpuMs();
    const proxyCpu = this.proxy?.pid === undefined ? 0 : await cpuMs(this.proxy.pid);
    const stats = await this.proxy?.stats();
    const chunks = stats === undefined || this.proxyStats === undefined ? 0 : stats.delivered - this.proxyStats.delivered;
    return {
      server: serverCost(this.counters, counters, messages),
      tree,
      cpuMs: { mariadb: services.mariadb - this.services.mariadb, rabbitmq: services.rabbitmq - this.services.rabbitmq, proxy: proxyCpu - this.proxyCpu },
      proxyDelay: stats === undefined || this.proxyStats === undefined ? null : {
        chunks,
        meanOneWayMs: chunks === 0 ? 0 : Math.round(((stats.delaySumMs - this.proxyStats.delaySumMs) / chunks) * 1000) / 1000,
      },
    };
  }
}
