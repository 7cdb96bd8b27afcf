/**
 * A caller no one here wrote: Python's pika (BlockingConnection) asking over direct reply-to, run as a child process.
 * `wait: false` publishes the request and disconnects at once (a caller that is gone when the reply comes).
 */
import { spawn } from 'node:child_process';

const SCRIPT = `
import json, sys, time, pika
url, exchange, key, message_id, wait_s = sys.argv[1:6]
body = sys.stdin.read()
conn = pika.BlockingConnection(pika.URLParameters(url))
ch = conn.channel()
got = []
def on_reply(_ch, _method, props, payload):
    got.append({"body": payload.decode(), "correlation_id": props.correlation_id, "message_id": props.message_id,
                "headers": {k: (v.decode() if isinstance(v, bytes) else v) for k, v in (props.headers or {}).items()}})
ch.basic_consume(queue="amq.rabbitmq.reply-to", on_message_callback=on_reply, auto_ack=True)
props = pika.BasicProperties(reply_to="amq.rabbitmq.reply-to", content_type="application/json", delivery_mode=2,
                             message_id=(message_id or None))
started = time.monotonic()
ch.basic_publish(exchange=exchange, routing_key=key, body=body.encode(), properties=props)
deadline = started + float(wait_s)
while float(wait_s) > 0 and not got and time.monotonic() < deadline:
    conn.process_data_events(time_limit=0.1)
print(json.dumps({"replies": got, "ms": round((time.monotonic() - started) * 1000, 1)}))
conn.close()
`;

export interface PikaReply { readonly body: string; readonly correlation_id: string | null; readonly message_id: string | null; readonly headers: Record<string, unknown> }

/** Sends one request and waits up to `waitSeconds` for its reply (0: does not wait, disconnects). */
export async function pikaRequest(url: string, exchange: string, key: string, body: unknown, options: { messageId?: string; waitSeconds?: number } = {}): Promise<{ replies: PikaReply[]; ms: number }> {
  // The body goes through stdin: a large one does not fit the argument list.
  const child = spawn('/usr/bin/python3', ['-c', SCRIPT, url, exchange, key, options.messageId ?? '', String(options.waitSeconds ?? 20)], { timeout: 60_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  child.stdin.end(JSON.stringify(body));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`pika caller exited with ${code}: ${stderr.slice(-2000)}`);
  return JSON.parse(stdout) as { replies: PikaReply[]; ms: number };
}
