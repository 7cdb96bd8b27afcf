/**
 * One "execution environment" for the deploy rehearsal: a fresh Node process that loads a function's bundled asset
 * from the cloud assembly (CommonJS `index.js`, as the Lambda Node.js runtime loads it) and invokes its handler on
 * request from the parent (IPC).
 *
 * For a custom resource it can also load the CDK Provider framework's own code from the assembly (`framework.js`, the
 * function CloudFormation really calls): CloudFormation's request goes to the framework, which invokes the onEvent
 * function and PUTs the response to the ResponseURL, as on AWS. The two AWS SDK clients the framework requires are
 * not installed here (the Lambda runtime provides them); they are replaced by a Lambda client whose `invoke` runs the
 * loaded bundle in this process and answers as the Lambda Invoke API does (`Payload` bytes, `FunctionError:
 * "Unhandled"` with the Node.js runtime's `{errorType, errorMessage, trace}` on a throw, after logging the error as the
 * runtime does: every enumerable property, see test/helpers/lambdaRuntimeLog.ts).
 *
 * The ResponseURL is a pre-signed S3 URL (https, port 443); the framework sends it with `https.request` without a
 * port, so the default agent is pointed at the parent's local HTTPS server (WARREN_REHEARSAL_RESPONSE_PORT, its
 * certificate trusted through NODE_EXTRA_CA_CERTS like the TLS MySQL proxy's).
 *
 * env WARREN_REHEARSAL_HOST = JSON { bundle, exportName, framework? }
 */
import https from 'node:https';
import Module, { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { runtimeErrorLog } from '../../helpers/lambdaRuntimeLog.js';

interface HostSettings { readonly bundle: string; readonly exportName: string; readonly framework?: string }
type Request = { readonly cmd: 'invoke'; readonly event: unknown } | { readonly cmd: 'cfn'; readonly event: unknown };
type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const settings = JSON.parse(process.env.WARREN_REHEARSAL_HOST ?? '{}') as HostSettings;
const require = createRequire(import.meta.url);
const context = { callbackWaitsForEmptyEventLoop: true, awsRequestId: 'rehearsal', functionName: 'rehearsal', getRemainingTimeInMillis: () => 600_000 };

const user = (require(settings.bundle) as Record<string, unknown>)[settings.exportName] as Handler;
if (typeof user !== 'function') throw new Error(`${settings.bundle} exports no function ${settings.exportName}`);

/** What the Lambda Invoke API returns for one synchronous invocation of the loaded bundle. */
async function invokeUser(req: { Payload: string }): Promise<{ Payload: Uint8Array; FunctionError?: string }> {
  try {
    const result = await user(JSON.parse(req.Payload), context);
    return { Payload: new TextEncoder().encode(JSON.stringify(result ?? null)) };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    console.error(runtimeErrorLog(error)); // as the Node.js runtime logs it (enumerable properties included)
    const payload = { errorType: e.name, errorMessage: e.message, trace: (e.stack ?? '').split('\n') };
    return { Payload: new TextEncoder().encode(JSON.stringify(payload)), FunctionError: 'Unhandled' };
  }
}

let framework: Handler | undefined;
if (settings.framework !== undefined) {
  const stubs: Record<string, unknown> = {
    '@aws-sdk/client-lambda': { Lambda: class { public invoke = invokeUser; }, waitUntilFunctionActiveV2: async () => undefined },
    '@aws-sdk/client-sfn': { SFN: class { public async startExecution(): Promise<never> { throw new Error('Warren providers have no isComplete waiter'); } } },
  };
  const loader = Module as unknown as { _load: (id: string, parent: unknown, isMain: boolean) => unknown };
  const load = loader._load.bind(Module);
  loader._load = (id, parent, isMain) => (id in stubs ? stubs[id] : load(id, parent, isMain));
  const agent = new https.Agent({ ca: readFileSync(process.env.NODE_EXTRA_CA_CERTS ?? '', 'utf8') });
  https.globalAgent = Object.assign(agent, { defaultPort: Number(process.env.WARREN_REHEARSAL_RESPONSE_PORT) });
  framework = (require(settings.framework) as Record<string, Handler>).onEvent;
}

function errorFields(error: unknown): { errorType: string; errorMessage: string } {
  return error instanceof Error ? { errorType: error.name, errorMessage: error.message } : { errorType: 'Error', errorMessage: String(error) };
}

process.on('message', (request: Request) => {
  void (async () => {
    try {
      if (request.cmd === 'cfn') {
        if (framework === undefined) throw new Error('started without the Provider framework');
        await framework(request.event, context);
        process.send?.({ ok: true });
      } else {
        process.send?.({ ok: true, result: await user(request.event, context) });
      }
    } catch (error) {
      process.send?.({ ok: false, ...errorFields(error) });
    }
  })();
});
process.send?.({ ready: true });
