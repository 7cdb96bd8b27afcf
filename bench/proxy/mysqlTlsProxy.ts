/**
 * A TLS-terminating MySQL proxy, as RDS Proxy is one: clients connect with TLS, the proxy talks plain TCP to MariaDB,
 * one backend connection per client connection (no multiplexing), and every byte on the client side is delayed half a
 * round trip in each direction (`DelayLine`).
 *
 * MySQL starts TLS inside its own protocol, so the proxy speaks the start of it:
 *   1. it forwards the server's greeting with the CLIENT_SSL capability set (this MariaDB has TLS disabled);
 *   2. the client answers with an SSLRequest packet (sequence 1) and starts the TLS handshake, which the proxy
 *      terminates with its certificate;
 *   3. inside TLS the client sends its HandshakeResponse with sequence 2; the backend, which saw no SSLRequest, expects
 *      sequence 1 and no CLIENT_SSL flag. So until the authentication ends (an OK or ERR packet from the server), every
 *      packet's sequence number is shifted by one: client -> server minus one, server -> client plus one;
 *   4. after that, bytes pass through untouched (each command restarts the sequence at 0).
 * A client that asks for no TLS is passed through without any rewriting.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket, createSecureContext, type SecureContext } from 'node:tls';
import type { DelayLine } from './DelayLine.js';
import { delayedSocket } from './delayedSocket.js';

const CLIENT_SSL = 0x0800;
const HEADER = 4;

export interface ProxyOptions {
  readonly backendHost: string;
  readonly backendPort: number;
  readonly cert: string;
  readonly key: string;
  readonly line: DelayLine;
}

/** Reads whole MySQL packets (header included) from a stream until told to stop; keeps what it read too far. */
class PacketReader {
  private buffer = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  private ended = false;
  private readonly onData = (chunk: Buffer) => { this.buffer = Buffer.concat([this.buffer, chunk]); this.waiting?.(); };
  private readonly onEnd = () => { this.ended = true; this.waiting?.(); };

  public constructor(private readonly stream: Duplex) {
    stream.on('data', this.onData);
    stream.once('end', this.onEnd);
    stream.once('close', this.onEnd);
  }

  public async next(): Promise<Buffer> {
    for (;;) {
      if (this.buffer.length >= HEADER) {
        const size = HEADER + this.buffer.readUIntLE(0, 3);
        if (this.buffer.length >= size) {
          const packet = this.buffer.subarray(0, size);
          this.buffer = this.buffer.subarray(size);
          return packet;
        }
      }
      if (this.ended) throw new Error('connection closed during the MySQL handshake');
      await new Promise<void>((resolve) => { this.waiting = resolve; });
      this.waiting = undefined;
    }
  }

  /** Stops reading; returns the bytes read beyond the last packet. */
  public release(): Buffer {
    this.stream.off('data', this.onData);
    this.stream.off('end', this.onEnd);
    this.stream.off('close', this.onEnd);
    this.stream.pause();
    return this.buffer;
  }
}

/** Offset of the lower capability flags in the server's greeting (protocol 10). */
function greetingFlagsOffset(packet: Buffer): number {
  return packet.indexOf(0, HEADER + 1) + 1 + 4 + 8 + 1;
}

/** Copies `from` to `to`; while `shift` is active, re-numbers whole packets and calls `onPacket` with each. */
function relay(from: Duplex, to: Duplex, initial: Buffer, shift: { active: boolean; by: number; onPacket?: (p: Buffer) => void }): void {
  let pending = initial;
  const onChunk = (chunk: Buffer) => {
    if (!shift.active && pending.length === 0) {
      if (!to.write(chunk)) { from.pause(); to.once('drain', () => from.resume()); }
      return;
    }
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= HEADER) {
      const size = HEADER + pending.readUIntLE(0, 3);
      if (!shift.active) { to.write(pending); pending = Buffer.alloc(0); return; }
      if (pending.length < size) return;
      const packet = Buffer.from(pending.subarray(0, size));
      pending = pending.subarray(size);
      packet[3] = (packet[3]! + shift.by) & 0xff;
      shift.onPacket?.(packet);
      to.write(packet);
    }
  };
  from.on('data', onChunk);
  if (initial.length > 0) { pending = Buffer.alloc(0); onChunk(initial); }
  from.resume();
}

async function serve(client: Socket, options: ProxyOptions, context: SecureContext): Promise<void> {
  const outer = delayedSocket(client, options.line);
  const backend = connect({ host: options.backendHost, port: options.backendPort, noDelay: true });
  const destroy = () => { outer.destroy(); backend.destroy(); };
  // A side that ends is ended on the other side after what is still in flight (an ERR packet before the server closes
  // must reach the client); an error tears both down.
  let clientSide: Duplex = outer;
  outer.on('error', destroy).on('close', () => backend.destroy());
  backend.on('error', destroy).on('end', () => clientSide.end());

  const fromBackend = new PacketReader(backend);
  const greeting = Buffer.from(await fromBackend.next());
  const at = greetingFlagsOffset(greeting);
  greeting.writeUInt16LE(greeting.readUInt16LE(at) | CLIENT_SSL, at);
  outer.write(greeting);

  const fromClient = new PacketReader(outer);
  const first = Buffer.from(await fromClient.next());
  const wantsTls = (first.readUInt32LE(HEADER) & CLIENT_SSL) !== 0;
  if (!wantsTls) {
    outer.on('end', () => backend.end());
    backend.write(first);
    relay(outer, backend, fromClient.release(), { active: false, by: 0 });
    relay(backend, outer, fromBackend.release(), { active: false, by: 0 });
    return;
  }
  const early = fromClient.release();
  if (early.length > 0) outer.unshift(early);
  const tls = new TLSSocket(outer, { isServer: true, secureContext: context });
  clientSide = tls;
  tls.on('error', destroy).on('end', () => backend.end());
  // Inside TLS: the HandshakeResponse without the CLIENT_SSL flag, then shifted sequence numbers until OK/ERR.
  const shift = { active: true };
  const toServer = { by: -1, get active() { return shift.active; } };
  const toClient = {
    by: 1,
    get active() { return shift.active; },
    onPacket: (p: Buffer) => { if (p[HEADER] === 0x00 || p[HEADER] === 0xff) shift.active = false; },
  };
  const fromTls = new PacketReader(tls);
  const response = Buffer.from(await fromTls.next());
  response.writeUInt32LE(response.readUInt32LE(HEADER) & ~CLIENT_SSL, HEADER);
  response[3] = (response[3]! - 1) & 0xff;
  backend.write(response);
  relay(tls, backend, fromTls.release(), toServer);
  relay(backend, tls, fromBackend.release(), toClient);
}

export function startProxy(options: ProxyOptions): Promise<Server> {
  const context = createSecureContext({ cert: options.cert, key: options.key, minVersion: 'TLSv1.2' });
  const server = createServer((client) => {
    serve(client, options, context).catch(() => client.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}
