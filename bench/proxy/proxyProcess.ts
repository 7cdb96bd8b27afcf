/**
 * The proxy's own process (so its CPU is its own, as RDS Proxy's is not the application's): makes a throw-away
 * self-signed certificate with the `openssl` CLI in a temporary directory (read into memory, the directory deleted at
 * once: no key stays on disk), starts `mysqlTlsProxy`, and tells its parent the port and the certificate (the CA the
 * clients trust). Settings come in WARREN_BENCH_PROXY as JSON: `{ backendHost, backendPort, rttMs }`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DelayLine, type DelayStats } from './DelayLine.js';
import { startProxy } from './mysqlTlsProxy.js';

export interface ProxySettings {
  readonly backendHost: string;
  readonly backendPort: number;
  readonly rttMs: number;
}

export type FromProxy =
  | { readonly type: 'listening'; readonly port: number; readonly ca: string }
  | { readonly type: 'stats'; readonly stats: DelayStats }
  | { readonly type: 'failed'; readonly message: string };
/** The parent asks for the delay line's figures (chunks delayed, total delay) with this message. */
export type ToProxy = { readonly type: 'stats' };

/** An RSA 2048 certificate for 127.0.0.1 and localhost, valid one day, as RDS Proxy's are RSA 2048. */
async function selfSignedCertificate(): Promise<{ cert: string; key: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'warren-bench-proxy-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=warren-bench-proxy',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { cert: await readFile(join(dir, 'cert.pem'), 'utf8'), key: await readFile(join(dir, 'key.pem'), 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const settings = JSON.parse(process.env.WARREN_BENCH_PROXY ?? '{}') as ProxySettings;
  const { cert, key } = await selfSignedCertificate();
  const line = new DelayLine(settings.rttMs / 2);
  const server = await startProxy({ backendHost: settings.backendHost, backendPort: settings.backendPort, cert, key, line });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.on('message', (message: ToProxy) => {
    if (message.type === 'stats') process.send?.({ type: 'stats', stats: line.stats() } satisfies FromProxy);
  });
  process.send?.({ type: 'listening', port, ca: cert } satisfies FromProxy);
}

process.on('disconnect', () => process.exit(0));
main().catch((error: unknown) => {
  process.send?.({ type: 'failed', message: error instanceof Error ? error.message : String(error) } satisfies FromProxy);
  setTimeout(() => process.exit(1), 100);
});
