/**
 * Runs callbacks a fixed delay after they were queued, in the order they were queued, with sub-millisecond precision.
 *
 * Node's timers round to whole milliseconds (a 0.25 ms `setTimeout` fires after 1 ms or more), which would turn a
 * 0.5 ms round trip into 2-3 ms. So a worker thread does the waiting: it sleeps with `Atomics.wait` (whose timeout is
 * a fraction of a millisecond) until the oldest callback is due and then posts one message, which wakes this thread's
 * event loop at once. Every callback shares one delay, so due times are in queue order and a FIFO is enough. Nothing
 * spins: while the queue is empty, the worker waits without a timeout.
 *
 * Waking the worker and then this thread takes 0.1-0.2 ms on its own, so the line measures how late each wake-up is
 * (a moving average) and arms that much earlier, never earlier than the moment a callback was queued. `stats()` says
 * what delay the callbacks really got.
 */
import { Worker } from 'node:worker_threads';

/** The worker: wait until the armed due time (epoch ms, sub-ms) has passed, post, wait to be armed again. */
const TIMER_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const gen = new Int32Array(workerData, 0, 1);
const due = new Float64Array(workerData, 8, 1);
const now = () => performance.timeOrigin + performance.now();
for (;;) {
  const g = Atomics.load(gen, 0);
  const at = due[0];
  if (at === 0) { Atomics.wait(gen, 0, g); continue; }
  const wait = at - now();
  if (wait > 0.02) { Atomics.wait(gen, 0, g, wait); continue; }
  due[0] = 0;
  parentPort.postMessage(0);
  Atomics.wait(gen, 0, g);
}
`;

const now = () => performance.timeOrigin + performance.now();

export interface DelayStats {
  readonly delivered: number;
  readonly delaySumMs: number;
}

export class DelayLine {
  private readonly queue: { readonly at: number; readonly run: () => void }[] = [];
  /** Moving average of how late a wake-up comes after the time it was armed for, in ms. */
  private lateness = 0;
  private armedFor = 0;
  private delivered = 0;
  private delaySum = 0;
  private head = 0;
  private readonly gen: Int32Array;
  private readonly due: Float64Array;
  private readonly worker: Worker | undefined;
  private armed = false;

  /** `delayMs` 0 runs every callback at once, with no thread. */
  public constructor(private readonly delayMs: number) {
    const shared = new SharedArrayBuffer(16);
    this.gen = new Int32Array(shared, 0, 1);
    this.due = new Float64Array(shared, 8, 1);
    if (delayMs > 0) {
      this.worker = new Worker(TIMER_THREAD, { eval: true, workerData: shared });
      this.worker.unref();
      this.worker.on('message', () => { this.armed = false; this.fire(); });
    }
  }

  /** Runs `run` `delayMs` from now, after everything queued before it. */
  public push(run: () => void): void {
    if (this.worker === undefined) {
      run();
      return;
    }
    this.queue.push({ at: now() + this.delayMs, run });
    if (!this.armed) this.arm(this.queue[this.head]!.at);
  }

  private arm(at: number): void {
    this.armed = true;
    this.armedFor = Math.max(at - this.delayMs, at - this.lateness);
    this.due[0] = this.armedFor;
    Atomics.add(this.gen, 0, 1);
    Atomics.notify(this.gen, 0);
  }

  private fire(): void {
    const t = now();
    this.lateness = Math.min(this.delayMs, Math.max(0, this.lateness * 0.9 + (t - this.armedFor) * 0.1));
    const cutoff = t + Math.max(0.02, this.lateness);
    while (this.head < this.queue.length && this.queue[this.head]!.at <= cutoff) {
      const item = this.queue[this.head]!;
      this.head += 1;
      this.delivered += 1;
      this.delaySum += t - (item.at - this.delayMs);
      item.run();
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    const next = this.queue[this.head];
    if (next !== undefined && !this.armed) this.arm(next.at);
  }

  /** Callbacks run so far and the sum of the delays they got, in ms. */
  public stats(): DelayStats {
    return { delivered: this.delivered, delaySumMs: this.delaySum };
  }

  public async close(): Promise<void> {
    await this.worker?.terminate();
  }
}
