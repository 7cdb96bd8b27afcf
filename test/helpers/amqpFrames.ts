/**
 * Reads the AMQP 0-9-1 method frames a client sent (the bytes a TCP proxy recorded), so a test can say which call
 * returned a message: `basic.ack`, `basic.reject` or `basic.nack` (AMQP 0-9-1 specification, section 4.2.3 "General
 * frame format": type, channel, size, payload, 0xCE; method payload: class id, method id, arguments).
 */
export interface MethodFrame {
  readonly channel: number;
  /** e.g. `basic.reject` */
  readonly method: string;
  /** The delivery tag of basic.ack / basic.reject / basic.nack. */
  readonly deliveryTag?: bigint;
  /** basic.nack and basic.ack: `multiple`. */
  readonly multiple?: boolean;
  /** basic.reject and basic.nack: `requeue`. */
  readonly requeue?: boolean;
}

const NAMES: Record<string, string> = {
  '10.11': 'connection.start-ok', '10.31': 'connection.tune-ok', '10.40': 'connection.open', '10.50': 'connection.close', '10.51': 'connection.close-ok',
  '20.10': 'channel.open', '20.40': 'channel.close', '20.41': 'channel.close-ok', '85.10': 'confirm.select',
  '60.10': 'basic.qos', '60.20': 'basic.consume', '60.30': 'basic.cancel', '60.40': 'basic.publish', '60.80': 'basic.ack', '60.90': 'basic.reject', '60.110': 'basic.recover', '60.120': 'basic.nack',
  '50.10': 'queue.declare', '50.20': 'queue.bind', '40.10': 'exchange.declare',
};

/** The method frames in one client-to-broker byte stream (the 8-byte protocol header first). */
export function clientMethodFrames(stream: Buffer): MethodFrame[] {
  const frames: MethodFrame[] = [];
  let at = stream.subarray(0, 4).toString('latin1') === 'AMQP' ? 8 : 0;
  while (at + 7 <= stream.length) {
    const type = stream.readUInt8(at);
    const channel = stream.readUInt16BE(at + 1);
    const size = stream.readUInt32BE(at + 3);
    const payload = stream.subarray(at + 7, at + 7 + size);
    if (payload.length < size || stream[at + 7 + size] !== 0xce) break; // a frame cut off at the end of the recording
    at += 8 + size;
    if (type !== 1) continue;
    const key = `${payload.readUInt16BE(0)}.${payload.readUInt16BE(2)}`;
    const method = NAMES[key] ?? key;
    if (method === 'basic.ack' || method === 'basic.reject' || method === 'basic.nack') {
      const bits = payload.readUInt8(12);
      frames.push({
        channel, method, deliveryTag: payload.readBigUInt64BE(4),
        ...(method === 'basic.reject' ? { requeue: (bits & 1) === 1 } : { multiple: (bits & 1) === 1 }),
        ...(method === 'basic.nack' ? { requeue: (bits & 2) === 2 } : {}),
      });
    } else {
      frames.push({ channel, method });
    }
  }
  return frames;
}
