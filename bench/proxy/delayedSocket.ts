/**
 * A client's TCP socket seen through a network `DelayLine`: every chunk read from it and every chunk written to it is
 * passed on half a round trip later, in order. Being a plain `Duplex` (not the socket itself), it can also be handed
 * to `TLSSocket` after the proxy has read the MySQL greeting from it, with the bytes read too far `unshift`ed back.
 */
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { DelayLine } from './DelayLine.js';

export function delayedSocket(socket: Socket, line: DelayLine): Duplex {
  socket.setNoDelay(true);
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, done) {
      line.push(() => { if (!socket.destroyed) socket.write(chunk); });
      done();
    },
    final(done) {
      line.push(() => socket.end());
      done();
    },
    destroy(error, done) {
      socket.destroy();
      done(error);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    line.push(() => { if (!duplex.push(chunk)) socket.pause(); });
  });
  socket.on('end', () => line.push(() => duplex.push(null)));
  socket.on('error', (error) => duplex.destroy(error));
  socket.on('close', () => line.push(() => duplex.destroy()));
  return duplex;
}
