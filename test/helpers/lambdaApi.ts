/**
 * A tiny local HTTP server speaking the two Lambda API operations Warren's custom resources call, for the real AWS SDK
 * (pointed at it with AWS_ENDPOINT_URL_LAMBDA): GetAccountSettings (`GET /2016-08-19/account-settings`) and
 * ListEventSourceMappings (`GET /2015-03-31/event-source-mappings?EventSourceArn=&Marker=&MaxItems=`), shapes as in
 * the Lambda API reference. It records each request's method, path, query and whether it was SigV4-signed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LambdaApiState {
  accountLimit: { ConcurrentExecutions: number; UnreservedConcurrentExecutions: number };
  /** Event source mappings by broker ARN (UUIDs). */
  mappings: Record<string, string[]>;
  /** Page size of ListEventSourceMappings (so pagination is exercised). */
  pageSize: number;
}

export interface LambdaApiRequest { method: string; path: string; query: Record<string, string>; signed: boolean }

export interface LambdaApi {
  readonly url: string;
  readonly state: LambdaApiState;
  readonly requests: LambdaApiRequest[];
  close(): Promise<void>;
}

export async function startLambdaApi(initial: Partial<LambdaApiState> = {}): Promise<LambdaApi> {
  const state: LambdaApiState = { accountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 }, mappings: {}, pageSize: 2, ...initial };
  const requests: LambdaApiRequest[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const query = Object.fromEntries(url.searchParams);
    requests.push({ method: req.method ?? '', path: url.pathname, query, signed: String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256') });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': 'test' });
      res.end(JSON.stringify(body));
    };
    req.resume();
    if (req.method === 'GET' && /^\/2016-08-19\/account-settings\/?$/.test(url.pathname)) {
      send(200, { AccountLimit: { CodeSizeUnzipped: 262144000, CodeSizeZipped: 52428800, TotalCodeSize: 80530636800, ...state.accountLimit }, AccountUsage: { FunctionCount: 3, TotalCodeSize: 1024 } });
      return;
    }
    if (req.method === 'GET' && /^\/2015-03-31\/event-source-mappings\/?$/.test(url.pathname)) {
      const all = state.mappings[query.EventSourceArn ?? ''] ?? [];
      const start = Number(query.Marker ?? '0');
      const page = all.slice(start, start + state.pageSize);
      const next = start + state.pageSize < all.length ? String(start + state.pageSize) : undefined;
      send(200, { EventSourceMappings: page.map((UUID) => ({ UUID, EventSourceArn: query.EventSourceArn, State: 'Enabled' })), ...(next === undefined ? {} : { NextMarker: next }) });
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' });
    res.end(JSON.stringify({ Type: 'User', message: `no route ${req.method} ${url.pathname}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    state,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Points the AWS SDK at `api` with dummy credentials; returns a function restoring the environment. */
export function useLambdaApi(api: LambdaApi): () => void {
  const saved = { ...process.env };
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_LAMBDA: api.url,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  });
  delete process.env.AWS_PROFILE;
  return () => { process.env = saved; };
}
