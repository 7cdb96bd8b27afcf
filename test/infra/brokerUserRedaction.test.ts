/**
 * The broker-user custom resource PUTs passwords to the RabbitMQ management API. When the API refuses the request and
 * quotes it (a stand-in that echoes the body it got, as an error page may), the password must reach neither the
 * function's log nor the error the Lambda runtime logs and the Provider framework turns into the CloudFormation Reason.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBrokerUserHandler } from '../../lib/functions/brokerUserResource.js';
import { runtimeErrorLog } from '../helpers/lambdaRuntimeLog.js';

let server: http.Server;
let consoleUrl: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      if (req.method === 'GET') { res.writeHead(404).end('{"error":"Object Not Found","reason":"Not Found"}'); return; }
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'bad_request', reason: `could not take ${body}` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  consoleUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => { server.close(); });

describe('Function: createBrokerUserHandler() when the management API refuses and quotes the request', () => {
  it('fails naming the HTTP status, with the application password in neither the error, the runtime\'s error log nor the function\'s log', async () => {
    const app = { username: 'warren_app', password: `brk-${randomBytes(10).toString('hex')}` };
    const admin = { username: 'warren', password: `adm-${randomBytes(10).toString('hex')}` };
    const onEvent = createBrokerUserHandler(async (arn) => (arn.includes('app') ? app : admin), { retryForMs: 1_000, connectTimeoutMs: 1_000, baseDelayMs: 50, maxDelayMs: 100 });
    const event = {
      RequestType: 'Create', ServiceToken: 'x', ResponseURL: 'https://example.invalid/r', StackId: 'arn:aws:cloudformation:us-east-1:111122223333:stack/Warren/1',
      RequestId: 'r1', LogicalResourceId: 'BrokerUser', ResourceType: 'Custom::WarrenBrokerUser',
      ResourceProperties: { ServiceToken: 'x', ConsoleUrl: consoleUrl, AdminSecretArn: 'arn:admin', AppSecretArn: 'arn:app', Permissions: '[]' },
    } as CloudFormationCustomResourceEvent;
    const written: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => { written.push(String(chunk)); return write(chunk, ...rest); }) as typeof process.stdout.write;
    let failure: unknown;
    try {
      failure = await onEvent(event).then(() => undefined, (e: unknown) => e);
    } finally {
      process.stdout.write = write;
    }
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/^management API answered HTTP 400 to PUT \/api\/users\/warren_app: /);
    expect((failure as Error).message).toContain('***');
    for (const text of [(failure as Error).message, runtimeErrorLog(failure), written.join('')]) {
      expect(text).not.toContain(app.password);
      expect(text).not.toContain(admin.password);
    }
  });
});
