/**
 * A TCP proxy on 127.0.0.1 in front of a real server, so a test can cut every connection at once (a network drop)
 * or refuse the next connections with a MySQL "Too many connections" error packet (what a full server sends).
 */
import net from 'node:net';
import { Transform } from 'node:stream';

export interface TcpProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Destroys every open connection (both sides). */
  dropAll(): void;
  /** A server outage: drops every open connection and refuses (closes at once) new ones until `resume()`. */
  pause(): void;
  resume(): void;
  /** Silently stops forwarding on every open connection (a half-open link: no close is ever seen). */
  freezeAll(): void;
  /** Answers the next `n` connections with MySQL error 1040 instead of proxying them. */
  refuseWithTooManyConnections(n: number): void;
  /**
   * From now on, when the server closes a connection the client side stays open until the client sends something
   * (which is then lost, and the client sees the close): a close the client cannot have noticed before its next write.
   */
  holdServerCloses(): void;
  /**
   * A commit whose answer is lost: on the next connection whose client sends `marker` (e.g. a message id inside an
   * INSERT), the client's following `COMMIT` reaches the server, and the server's answer to it is swallowed and both
   * sides closed. The server committed; the client sees its connection die in COMMIT. Once; resolves when done.
   */
  loseCommitAnswerAfter(marker: string): Promise<void>;
  /** Everything clients sent to the server, per connection in accept order (latin1 text of the MySQL packets). */
  clientStreams(): string[];
  close(): Promise<void>;
}

/** MySQL ERR packet sent instead of the handshake: errno 1040, "Too many connections" (no SQL state marker). */
function tooManyConnectionsPacket(): Buffer {
  const message = Buffer.from('Too many connections');
  const payload = Buffer.concat([Buffer.from([0xff, 0x10, 0x04]), message]);
  const header = Buffer.from([payload.length & 0xff, (payload.length >> 8) & 0xff, (payload.length >> 16) & 0xff, 0]);
  return Buffer.concat([header, payload]);
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let refuse = 0;
  let accepted = 0;
  const pairs: [net.Socket, net.Socket][] = [];
  let paused = false;
  let holdCloses = false;
  const streams: string[] = [];
  let loseCommit: { marker: string; done(): void } | undefined;
  const server = net.createServer((client) => {
    accepted += 1;
    if (paused) {
      client.destroy();
      return;
    }
    if (refuse > 0) {
      refuse -= 1;
      client.end(tooManyConnectionsPacket());
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(client);
    sockets.add(upstream);
    const index = streams.push('') - 1;
    let serverGone = false;
    const forget = () => { sockets.delete(client); sockets.delete(upstream); client.destroy(); upstream.destroy(); };
    const serverClosed = () => {
      if (!holdCloses) return forget();
      serverGone = true;
      setImmediate(() => client.resume()); // the pipe paused the client when the server side went away
    };
    // COMMIT-answer loss: `seen` once this connection sent the marker, `armed` once it then sent COMMIT.
    let commit: 'idle' | 'seen' | 'armed' = 'idle';
    let armedFor: { done(): void } | undefined;
    client.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      streams[index] += text;
      if (serverGone) forget();
      if (commit === 'idle' && loseCommit !== undefined && text.includes(loseCommit.marker)) { commit = 'seen'; armedFor = loseCommit; loseCommit = undefined; }
      if (commit === 'seen' && text.includes('\x03COMMIT')) commit = 'armed'; // COM_QUERY (0x03) "COMMIT"
    });
    client.on('error', forget).on('close', forget);
    upstream.on('error', serverClosed).on('close', serverClosed);
    client.pipe(upstream);
    const answers = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        if (commit !== 'armed') { callback(null, chunk); return; }
        commit = 'idle';
        forget(); // the server's OK to the COMMIT never reaches the client
        armedFor?.done();
        callback();
      },
    });
    upstream.pipe(answers).pipe(client, { end: false }); // a server close reaches the client through serverClosed()
    pairs.push([client, upstream]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    get accepted() { return accepted; },
    dropAll() { for (const s of sockets) s.destroy(); sockets.clear(); },
    refuseWithTooManyConnections(n: number) { refuse = n; },
    holdServerCloses() { holdCloses = true; },
    loseCommitAnswerAfter(marker: string) { return new Promise<void>((resolve) => { loseCommit = { marker, done: resolve }; }); },
    clientStreams: () => [...streams],
    pause() { paused = true; for (const s of sockets) s.destroy(); sockets.clear(); },
    resume() { paused = false; },
    freezeAll() {
      for (const [client, upstream] of pairs.splice(0)) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
