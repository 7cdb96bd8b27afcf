/**
 * Start-up check of the handler modules. Pool workers import a module lazily, with its handler's first batch, so a
 * broken module would only show as failing batches. Instead one short-lived process (the worker file, in `check` mode)
 * imports every distinct module once, in parallel with the pool's start, and the runner stops naming each handler, its
 * file and the cause.
 */
import { ENV } from '../../runtime/env.js';
import { HandlerImportError } from '../errors.js';
import type { FromWorker, HandlerTable, ToWorker } from './protocol.js';
import { forkWorker } from './workerChannel.js';
import { handlersNeedTypeScript } from '../typescript.js';

export interface ImportCheck {
  /** Distinct modules imported. */
  readonly modules: number;
  /** Time the import took inside the check process. */
  readonly ms: number;
}

export async function checkImports(handlers: HandlerTable, env: Readonly<Record<string, string>>, timeoutMs = 60_000): Promise<ImportCheck> {
  const child = forkWorker({ ...env, [ENV.worker]: 'import-check' }, handlersNeedTypeScript(handlers));
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk: Buffer) => { if (output.length < 50) output.push(chunk.toString()); });
  const answer = await new Promise<FromWorker & { type: 'checked' }>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new HandlerImportError([{ handler: '*', entry: '*', cause: `the import check did not answer within ${timeoutMs} ms` }])); }, timeoutMs);
    child.on('message', (message: FromWorker) => {
      if (message.type === 'ready') {
        child.send({ type: 'init', handlers } satisfies ToWorker);
        child.send({ type: 'check' } satisfies ToWorker);
      }
      if (message.type === 'checked') { clearTimeout(timer); resolve(message); }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new HandlerImportError([{ handler: '*', entry: '*', cause: `the import check process exited (code ${code ?? '-'}, signal ${signal ?? '-'}): ${output.join('').slice(0, 2_000)}` }]));
    });
  });
  if (answer.failures.length > 0) {
    throw new HandlerImportError(answer.failures.map((f) => ({ handler: f.handler, entry: f.entry, cause: f.error.name === 'Error' ? f.error.message : `${f.error.name}: ${f.error.message}` })));
  }
  return { modules: answer.modules, ms: answer.ms };
}
