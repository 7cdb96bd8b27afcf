/**
 * The runner's output. On a terminal: human-readable log lines with a live progress line kept at the bottom.
 * Otherwise: JSON lines, with a progress entry every few seconds.
 */
import type { LogSink } from '../../runtime/logger.js';
import type { RunnerSnapshot } from '../runnerSnapshot.js';

const COLORS: Record<string, string> = { debug: '\x1b[90m', info: '\x1b[36m', warn: '\x1b[33m', error: '\x1b[31m' };

export function formatProgress(s: RunnerSnapshot, rate: number): string {
  return [
    `${rate.toFixed(1)} msg/s`,
    `in flight ${s.inFlight}`,
    `acked ${s.acked}`,
    `dead-lettered ${s.deadLettered}`,
    `duplicates ${s.deduplicated}`,
    `failed batches ${s.failedBatches}`,
    `workers ${s.workersAlive}/${s.workers}`,
    `db connections ${s.dbConnections}`,
    s.brokerConnected ? 'broker up' : 'broker DOWN',
  ].join(' | ');
}

/** Renders one JSON log line for people: time, level, where, message, the other fields as key=value. */
export function prettyLine(line: string, source?: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return source === undefined ? line : `[${source}] ${line}`;
  }
  const { time, level, msg, ...rest } = entry;
  const lvl = typeof level === 'string' ? level : 'info';
  const clock = typeof time === 'string' ? time.slice(11, 19) : '';
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
  return `${clock} ${COLORS[lvl] ?? ''}${lvl.toUpperCase().padEnd(5)}\x1b[0m ${source === undefined ? '' : `[${source}] `}${String(msg)}${fields === '' ? '' : `  \x1b[90m${fields}\x1b[0m`}`;
}

export class Console {
  private status = '';
  private lastAcked = 0;
  private lastAt = Date.now();
  private rate = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastJsonProgressAt = 0;

  public constructor(private readonly tty: boolean = process.stdout.isTTY === true) {}

  /** Sink for the runner's logger. */
  public readonly sink: LogSink = (line) => this.write(line);

  /** Sink for worker output lines. */
  public readonly workerOutput = (line: string, worker: string): void => {
    if (!this.tty) {
      process.stdout.write(`${line}\n`);
      return;
    }
    this.write(line, worker);
  };

  public startProgress(snapshot: () => RunnerSnapshot): void {
    this.timer = setInterval(() => {
      const s = snapshot();
      const now = Date.now();
      const instant = ((s.acked - this.lastAcked) * 1000) / Math.max(1, now - this.lastAt);
      this.rate = this.rate === 0 ? instant : this.rate * 0.5 + instant * 0.5;
      this.lastAcked = s.acked;
      this.lastAt = now;
      if (this.tty) {
        this.status = formatProgress(s, this.rate);
        process.stdout.write(`\r\x1b[2K${this.status}`);
      } else if (now - this.lastJsonProgressAt >= 5_000) {
        this.lastJsonProgressAt = now;
        process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'progress', messagesPerSecond: Number(this.rate.toFixed(1)), ...s })}\n`);
      }
    }, 500);
    this.timer.unref();
  }

  public stopProgress(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.tty && this.status !== '') process.stdout.write('\r\x1b[2K');
    this.status = '';
  }

  private write(line: string, source?: string): void {
    if (!this.tty) {
      process.stdout.write(`${line}\n`);
      return;
    }
    process.stdout.write(`\r\x1b[2K${prettyLine(line, source)}\n${this.status}`);
  }
}
