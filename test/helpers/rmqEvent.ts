/** `aws:rmq` events shaped like the AWS documentation's sample, for calling a defineHandler() handler in-process. */
import { readFileSync } from 'node:fs';
import type { RmqEvent, RmqMessage } from '../../runtime/event.js';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/events/aws-docs-rmq.json', import.meta.url), 'utf8')) as RmqEvent;
const template = Object.values(fixture.rmqMessagesByQueue)[0]![0]!;

/** One message per body, message ids `<prefix>-<i>` unless `ids` gives them; `headers` in the trigger's `{bytes}` form. */
export function rmqEvent(queue: string, bodies: readonly unknown[], prefix: string, options: { ids?: readonly string[]; headers?: Record<string, string>; correlationId?: string } = {}): RmqEvent {
  const headers = Object.fromEntries(Object.entries(options.headers ?? {}).map(([k, v]) => [k, { bytes: [...Buffer.from(v)] }]));
  const messages: RmqMessage[] = bodies.map((body, i) => ({
    ...template,
    basicProperties: {
      ...template.basicProperties,
      messageId: options.ids?.[i] ?? `${prefix}-${i}`,
      correlationId: options.correlationId ?? `corr-${prefix}`,
      headers,
    },
    data: Buffer.from(JSON.stringify(body)).toString('base64'),
  }));
  return { ...fixture, rmqMessagesByQueue: { [`${queue}::/`]: messages } };
}
