/**
 * The bench's side of the `proxy` profile: starts the TLS-terminating proxy in its own process (`proxyProcess.ts`) in
 * front of the bench's MariaDB and turns a contender's database URL into one that goes through it.
 *
 * The contenders need no code for it: the URL carries the TLS settings as mysql2 reads them from a connection string
 * (`?ssl={"ca":"-----BEGIN CERTIFICATE-----..."}`, a JSON query parameter), so the runner passes it to its workers and
 * to the outbox relay as `DATABASE_URL`, the normal runtime configuration, and `naive`, `single` and `raw` use it as
 * their `uri`. mysql2 then verifies the proxy's certificate against that CA (`rejectUnauthorized` is on by default).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DelayStats } from './DelayLine.js';
import type { FromProxy, ProxySettings, ToProxy } from './proxyProcess.js';

const PROXY_FILE = fileURLToPath(new URL('./proxyProcess.ts', import.meta.url));
const TSX_LOADER = import.meta.resolve('tsx');
const START_TIMEOUT_MS = 30_000;

export class BenchProxy {
  private constructor(
    private readonly child: ChildProcess,
    public readonly port: number,
    /** The proxy's certificate (PEM), which clients trust as their CA. */
    public readonly ca: string,
    public readonly rttMs: number,
  ) {}

  /** Starts a proxy to the server of `adminUrl` adding `rttMs` of round trip on the client side. */
  public static async start(adminUrl: string, rttMs: number): Promise<BenchProxy> {
    const backend = new URL(adminUrl);
    const settings: ProxySettings = { backendHost: backend.hostname, backendPort: Number(backend.port || 3306), rttMs };
    const child = fork(PROXY_FILE, [], {
      execArgv: ['--import', TSX_LOADER],
      env: { ...process.env, WARREN_BENCH_PROXY: JSON.stringify(settings) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = await new Promise<FromProxy>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the bench proxy did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      child.once('message', (message: FromProxy) => { clearTimeout(timer); resolve(message); });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the bench proxy exited with code ${code ?? '-'} while starting`)); });
    });
    if (ready.type !== 'listening') {
      child.kill();
      throw new Error(`the bench proxy failed to start: ${ready.type === 'failed' ? ready.message : ready.type}`);
    }
    return new BenchProxy(child, ready.port, ready.ca, rttMs);
  }

  /** The proxy process's pid (its CPU is reported apart). */
  public get pid(): number | undefined { return this.child.pid; }

  /** Chunks the proxy has delayed so far and their total delay (what the network model really added). */
  public stats(): Promise<DelayStats> {
    return new Promise((resolve) => {
      const onMessage = (message: FromProxy) => {
        if (message.type !== 'stats') return;
        this.child.off('message', onMessage);
        resolve(message.stats);
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'stats' } satisfies ToProxy);
    });
  }

  /** `databaseUrl` pointed at the proxy, with the TLS settings (the proxy's certificate as CA) in its query. */
  public urlFor(databaseUrl: string): string {
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    url.searchParams.set('ssl', JSON.stringify({ ca: this.ca }));
    return url.toString();
  }

  public async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
