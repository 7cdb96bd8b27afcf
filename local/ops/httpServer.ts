/**
 * The runner's operations endpoint (`runner.metricsPort`, default 9464): `/metrics` (Prometheus), `/healthz` (the
 * process answers), `/readyz` (see `checkReadiness`), `/status.json` and the status page at `/`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ENV } from '../../runtime/env.js';
import { errorFields, type Logger } from '../../runtime/logger.js';
import { RunnerMetrics } from './metrics.js';
import { checkReadiness, statusDocument, ThroughputHistory, type ReadinessSource } from './metricsStatus.js';
import { STATUS_PAGE_HTML } from './statusPage.js';

export interface OperationsServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** @default process.env.WARREN_METRICS_HOST ?? '127.0.0.1' */
  readonly host?: string;
  readonly log: Logger;
}

export class OperationsServer {
  public readonly metrics: RunnerMetrics;
  private readonly history: ThroughputHistory;
  private readonly startedAt = Date.now();
  private closed: Promise<void> | undefined;

  private constructor(private readonly source: ReadinessSource, private readonly server: Server) {
    this.metrics = new RunnerMetrics(source);
    this.history = new ThroughputHistory(source);
  }

  /** Binds the port; rejects with a message naming the option when it is taken. */
  public static async start(source: ReadinessSource, options: OperationsServerOptions): Promise<OperationsServer> {
    const server = createServer();
    const ops = new OperationsServer(source, server);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      ops.route(req, res).catch((error: unknown) => {
        options.log.warn('operations endpoint failed to answer', { url: req.url, ...errorFields(error) });
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
      });
    });
    const host = options.host ?? process.env[ENV.metricsHost] ?? '127.0.0.1';
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, host, () => { server.off('error', reject); resolve(); });
      });
    } catch (error) {
      ops.history.stop();
      const code = (error as { code?: unknown }).code;
      throw new Error(code === 'EADDRINUSE'
        ? `port ${options.port} on ${host} is already in use; set runner.metricsPort in warren.config.ts to another port (0 picks a free one)`
        : `could not open the operations endpoint on ${host}:${options.port}: ${(error as Error).message}`, { cause: error });
    }
    return ops;
  }

  public get port(): number { return (this.server.address() as AddressInfo).port; }

  /** Stops listening and closes open connections. Safe to call twice. */
  public close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      this.history.stop();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closed;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'only GET\n');
    switch (path) {
      case '/metrics': return send(res, 200, this.metrics.contentType, await this.metrics.text());
      case '/healthz': return sendJson(res, 200, { status: 'ok', uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000) });
      case '/readyz': {
        const readiness = await checkReadiness(this.source);
        return sendJson(res, readiness.ready ? 200 : 503, { status: readiness.ready ? 'ready' : 'unready', ...readiness });
      }
      case '/status.json': return sendJson(res, 200, statusDocument(this.source, this.history, this.startedAt));
      case '/': return send(res, 200, 'text/html; charset=utf-8', STATUS_PAGE_HTML);
      default: return send(res, 404, 'text/plain', 'not found: try /, /metrics, /healthz, /readyz or /status.json\n');
    }
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json', `${JSON.stringify(body)}\n`);
}
