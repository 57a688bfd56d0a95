/**
 * @module system/udp-datagrams
 * UDP datagrams to the health managers: name resolution with the system resolver (getaddrinfo,
 * through `dns.lookup`, first address, as the reference's sender takes the first getaddrinfo
 * answer) and one unbound UDP socket per address family, created on first use and reused for
 * every datagram. Knows nothing of heartbeats; the heartbeat service reaches it through the
 * `DatagramSender` interface and never touches a socket itself.
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';

export interface Destination {
  /** The numeric address the name resolved to. */
  readonly address: string;
  readonly family: 4 | 6;
  readonly port: number;
}

export interface DatagramSender {
  /** `host` (a name or a literal address) resolved to its first address; rejects when it resolves to none. */
  resolve(host: string, port: number): Promise<Destination>;
  /** Sends one datagram; rejects with the socket's error (e.g. ENETUNREACH while the network comes up). */
  send(destination: Destination, bytes: Uint8Array): Promise<void>;
  /** Closes the sockets; a later send opens new ones. */
  close(): Promise<void>;
}

export class UdpDatagramSender implements DatagramSender {
  private readonly sockets = new Map<4 | 6, Socket>();

  async resolve(host: string, port: number): Promise<Destination> {
    const found = await lookup(host, { family: 0, verbatim: true });
    return { address: found.address, family: found.family === 6 ? 6 : 4, port };
  }

  send(destination: Destination, bytes: Uint8Array): Promise<void> {
    const socket = this.socketFor(destination.family);
    return new Promise((resolve, reject) => {
      socket.send(bytes, destination.port, destination.address, (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {
    const open = [...this.sockets.values()];
    this.sockets.clear();
    await Promise.all(open.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  private socketFor(family: 4 | 6): Socket {
    const open = this.sockets.get(family);
    if (open !== undefined) return open;
    const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    // An asynchronous socket error (the implicit bind of the first send, on a host without IPv6)
    // also reaches the send callback; this listener only keeps it from becoming an uncaught
    // 'error' event. The socket is dropped so that the next send starts afresh.
    socket.on('error', () => {
      if (this.sockets.get(family) === socket) this.sockets.delete(family);
      try {
        socket.close();
      } catch {
        // already closed: nothing left to release
      }
    });
    // It must not keep the process alive on its own: the agent's server does.
    socket.unref();
    this.sockets.set(family, socket);
    return socket;
  }
}
