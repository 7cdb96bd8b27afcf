/**
 * The AWS APIs the stack's functions call besides the broker and the database, answered by a local HTTP server
 * speaking their wire protocols, so the bundled AWS SDK clients run unchanged (pointed here by AWS_ENDPOINT_URL_*):
 *   Secrets Manager GetSecretValue      awsJson1_1: POST /, `X-Amz-Target: secretsmanager.GetSecretValue`, JSON body
 *   EC2 DescribeNetworkInterfaces       EC2 query protocol: POST / with a form body, XML answer
 *   Lambda ListEventSourceMappings      restJson1: GET /2015-03-31/event-source-mappings?EventSourceArn=... (none left)
 *   Lambda GetAccountSettings           restJson1: GET /2016-08-19/account-settings (`account` sets the numbers)
 * Every call is recorded (the secret ids asked for, the EC2 filters sent).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AwsCall { readonly api: string; readonly input: unknown }

export interface AwsEmulator {
  readonly url: string;
  readonly calls: AwsCall[];
  close(): Promise<void>;
}

export async function startAwsEmulator(secrets: Readonly<Record<string, { username: string; password: string }>>, interfaces: () => string[] = () => [], account: () => { limit: number; unreserved: number } = () => ({ limit: 1000, unreserved: 1000 })): Promise<AwsEmulator> {
  const calls: AwsCall[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      const target = req.headers['x-amz-target'];
      if (target === 'secretsmanager.GetSecretValue') {
        const { SecretId } = JSON.parse(body) as { SecretId: string };
        calls.push({ api: 'secretsmanager:GetSecretValue', input: SecretId });
        const secret = secrets[SecretId];
        if (secret === undefined) {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ __type: 'ResourceNotFoundException', Message: 'Secrets Manager can\'t find the specified secret.' }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ ARN: SecretId, Name: 'broker', VersionId: 'v1', SecretString: JSON.stringify(secret), CreatedDate: 1_700_000_000 }));
        return;
      }
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (req.method === 'GET' && url.pathname.startsWith('/2015-03-31/event-source-mappings')) {
        calls.push({ api: 'lambda:ListEventSourceMappings', input: url.searchParams.get('EventSourceArn') });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ EventSourceMappings: [] }));
        return;
      }
      if (req.method === 'GET' && url.pathname.startsWith('/2016-08-19/account-settings')) {
        const { limit, unreserved } = account();
        calls.push({ api: 'lambda:GetAccountSettings', input: null });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
          AccountLimit: { TotalCodeSize: 80_530_636_800, CodeSizeUnzipped: 262_144_000, CodeSizeZipped: 52_428_800, ConcurrentExecutions: limit, UnreservedConcurrentExecutions: unreserved },
          AccountUsage: { TotalCodeSize: 0, FunctionCount: 0 },
        }));
        return;
      }
      const form = new URLSearchParams(body);
      if (form.get('Action') === 'DescribeNetworkInterfaces') {
        const filters: Record<string, string> = {};
        for (let i = 1; form.has(`Filter.${i}.Name`); i += 1) filters[form.get(`Filter.${i}.Name`)!] = form.get(`Filter.${i}.Value.1`) ?? '';
        calls.push({ api: 'ec2:DescribeNetworkInterfaces', input: filters });
        const items = interfaces().map((id) => `<item><networkInterfaceId>${id}</networkInterfaceId></item>`).join('');
        res.writeHead(200, { 'content-type': 'text/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>\n<DescribeNetworkInterfacesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>rehearsal</requestId><networkInterfaceSet>${items}</networkInterfaceSet></DescribeNetworkInterfacesResponse>`);
        return;
      }
      calls.push({ api: `unknown ${String(target ?? form.get('Action'))}`, input: body });
      res.writeHead(400).end('{"__type":"UnknownOperationException"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
