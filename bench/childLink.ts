/** The bench's end of the link to a contender's process: its messages, waited for by type, with a timeout. */
import type { ChildProcess } from 'node:child_process';
import type { FromChild, ToChild } from './protocol.js';

/** The contender's process, with a typed way to wait for its next message of a kind. */
export class ChildLink {
  private readonly inbox: FromChild[] = [];
  private waiter: (() => void) | undefined;
  private exited: string | undefined;
  public processed = 0;

  public constructor(public readonly process: ChildProcess, private readonly timeoutMs: number) {
    process.on('message', (message: FromChild) => {
      if (message.type === 'progress') this.processed = message.processed;
      else this.inbox.push(message);
      this.waiter?.();
    });
    process.once('exit', (code, signal) => { this.exited = `exited (code ${code ?? '-'}, signal ${signal ?? '-'})`; this.waiter?.(); });
  }

  public send(message: ToChild): void { this.process.send(message); }

  public async next<T extends FromChild['type']>(type: T, what: string): Promise<Extract<FromChild, { type: T }>> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const at = this.inbox.findIndex((m) => m.type === type || m.type === 'failed');
      const found = at >= 0 ? this.inbox.splice(at, 1)[0] : undefined;
      if (found?.type === 'failed') throw new Error(`the contender's process failed: ${found.message}`);
      if (found !== undefined) return found as Extract<FromChild, { type: T }>;
      if (this.exited !== undefined) throw new Error(`the contender's process ${this.exited} while ${what}`);
      if (Date.now() > deadline) throw new Error(`timed out after ${this.timeoutMs} ms ${what} (processed ${this.processed})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1_000);
        this.waiter = () => { clearTimeout(timer); resolve(); };
      });
      this.waiter = undefined;
    }
  }
}
