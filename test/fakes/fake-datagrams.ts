/**
 * @module test/fakes/fake-datagrams
 * A DatagramSender that records what would have been sent instead of opening sockets. It resolves
 * literal addresses only (a name is refused, as an unknown name is by a resolver) and can be told
 * to fail sends, as a socket does while the network is unreachable.
 */
import { isIP } from 'node:net';
import type { DatagramSender, Destination } from '../../src/system/udp-datagrams.js';

export interface SentDatagram {
  readonly destination: Destination;
  readonly bytes: Buffer;
}

export class FakeDatagrams implements DatagramSender {
  readonly sent: SentDatagram[] = [];
  readonly resolved: string[] = [];
  /** The error the next sends fail with (undefined: they succeed). */
  failWith: NodeJS.ErrnoException | undefined;
  closed = 0;
  /** Runs at each send, before it is recorded (e.g. to look at files at that moment). */
  onSend: ((d: SentDatagram) => void) | undefined;

  async resolve(host: string, port: number): Promise<Destination> {
    this.resolved.push(host);
    const family = isIP(host);
    if (family === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return { address: host, family: family === 6 ? 6 : 4, port };
  }

  async send(destination: Destination, bytes: Uint8Array): Promise<void> {
    if (this.failWith) throw this.failWith;
    const datagram = { destination, bytes: Buffer.from(bytes) };
    this.onSend?.(datagram);
    this.sent.push(datagram);
  }

  async close(): Promise<void> {
    this.closed++;
  }
}
