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
 * A Provider with asynchronous completion (`waiter`) starts a Step Functions execution; the stand-in here does what
 * CDK's waiter state machine does (aws-cdk-lib custom-resources/lib/provider-framework/waiter-state-machine.js): call
 * the framework's `isComplete` every `intervalMs`, retry on any error (`Retry` on `States.ALL`) up to `maxAttempts`,
 * then call `onTimeout` (which answers FAILED "Operation timed out").
 *
 * `timeoutMs` is the function's timeout: `context.getRemainingTimeInMillis()` counts down from it, and an invocation
 * still running then is answered as Lambda answers a timed-out one (`FunctionError: "Unhandled"`, errorType
 * `Sandbox.Timedout`, "Task timed out after N seconds"). The code of a killed invocation keeps running in this process
 * (Lambda would freeze and discard it); its effects are what a reader of the test must allow for.
 *
 * env WARREN_REHEARSAL_HOST = JSON { bundle, exportName, framework?, timeoutMs?, waiter?: { intervalMs, maxAttempts } }
 */
import https from 'node:https';
import Module, { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { runtimeErrorLog } from '../../helpers/lambdaRuntimeLog.js';

interface HostSettings {
  readonly bundle: string;
  readonly exportName: string;
  readonly framework?: string;
  readonly timeoutMs?: number;
  readonly waiter?: { readonly intervalMs: number; readonly maxAttempts: number };
}
type Request = { readonly cmd: 'invoke'; readonly event: unknown } | { readonly cmd: 'cfn'; readonly event: unknown };
type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const settings = JSON.parse(process.env.WARREN_REHEARSAL_HOST ?? '{}') as HostSettings;
const require = createRequire(import.meta.url);
const timeoutMs = settings.timeoutMs ?? 600_000;
let invocationDeadline = Date.now() + timeoutMs;
const context = { callbackWaitsForEmptyEventLoop: true, awsRequestId: 'rehearsal', functionName: 'rehearsal', getRemainingTimeInMillis: () => Math.max(0, invocationDeadline - Date.now()) };
/** Invocations the function was killed in at its timeout. */
let timedOut = 0;

const user = (require(settings.bundle) as Record<string, unknown>)[settings.exportName] as Handler;
if (typeof user !== 'function') throw new Error(`${settings.bundle} exports no function ${settings.exportName}`);

/** What the Lambda Invoke API returns for one synchronous invocation of the loaded bundle. */
async function invokeUser(req: { Payload: string }): Promise<{ Payload: Uint8Array; FunctionError?: string }> {
  invocationDeadline = Date.now() + timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<'killed'>((r) => { timer = setTimeout(() => r('killed'), timeoutMs); });
  try {
    const result = await Promise.race([user(JSON.parse(req.Payload), context), killed]);
    if (result === 'killed') {
      timedOut += 1;
      const payload = { errorType: 'Sandbox.Timedout', errorMessage: `${new Date().toISOString()} ${'rehearsal'} Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds` };
      return { Payload: new TextEncoder().encode(JSON.stringify(payload)), FunctionError: 'Unhandled' };
    }
    return { Payload: new TextEncoder().encode(JSON.stringify(result ?? null)) };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    console.error(runtimeErrorLog(error)); // as the Node.js runtime logs it (enumerable properties included)
    const payload = { errorType: e.name, errorMessage: e.message, trace: (e.stack ?? '').split('\n') };
    return { Payload: new TextEncoder().encode(JSON.stringify(payload)), FunctionError: 'Unhandled' };
  } finally {
    clearTimeout(timer);
  }
}

/** The waiter state machine's work: isComplete until it answers (or the attempts run out: onTimeout). */
async function runWaiter(input: string, handlers: Record<string, Handler>): Promise<void> {
  const waiter = settings.waiter ?? { intervalMs: 200, maxAttempts: 50 };
  let lastError = '';
  for (let attempt = 0; attempt < waiter.maxAttempts; attempt += 1) {
    await new Promise((r) => setTimeout(r, waiter.intervalMs));
    try {
      await handlers.isComplete!(JSON.parse(input), context);
      waiterCalls.push(attempt + 1);
      return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
  }
  waiterCalls.push(waiter.maxAttempts);
  await handlers.onTimeout!({ Error: 'Retry', Cause: JSON.stringify({ errorMessage: lastError }) }, context);
}
const waiterCalls: number[] = [];

let framework: Handler | undefined;
if (settings.framework !== undefined) {
  const stubs: Record<string, unknown> = {
    '@aws-sdk/client-lambda': { Lambda: class { public invoke = invokeUser; }, waitUntilFunctionActiveV2: async () => undefined },
    '@aws-sdk/client-sfn': { SFN: class { public async startExecution(req: { input: string }): Promise<object> { await runWaiter(req.input, frameworkModule()); return {}; } } },
  };
  const loader = Module as unknown as { _load: (id: string, parent: unknown, isMain: boolean) => unknown };
  const load = loader._load.bind(Module);
  loader._load = (id, parent, isMain) => (id in stubs ? stubs[id] : load(id, parent, isMain));
  const agent = new https.Agent({ ca: readFileSync(process.env.NODE_EXTRA_CA_CERTS ?? '', 'utf8') });
  https.globalAgent = Object.assign(agent, { defaultPort: Number(process.env.WARREN_REHEARSAL_RESPONSE_PORT) });
  framework = frameworkModule().onEvent;
}

function frameworkModule(): Record<string, Handler> {
  return require(settings.framework ?? '') as Record<string, Handler>;
}

function errorFields(error: unknown): { errorType: string; errorMessage: string } {
  return error instanceof Error ? { errorType: error.name, errorMessage: error.message } : { errorType: 'Error', errorMessage: String(error) };
}

process.on('message', (request: Request) => {
  void (async () => {
    try {
      if (request.cmd === 'cfn') {
        if (framework === undefined) throw new Error('started without the Provider framework');
        const [killedBefore, callsBefore] = [timedOut, waiterCalls.length];
        await framework(request.event, context);
        process.send?.({ ok: true, result: { timedOut: timedOut - killedBefore, isCompleteCalls: waiterCalls.slice(callsBefore).reduce((a, b) => a + b, 0) } });
      } else {
        process.send?.({ ok: true, result: await user(request.event, context) });
      }
    } catch (error) {
      process.send?.({ ok: false, ...errorFields(error) });
    }
  })();
});
process.send?.({ ready: true });
