/**
 * @module test/support/heartbeat-datagrams
 * The controller's side of heartbeats, for tests: `HeartbeatReceiver` binds a real UDP socket on a
 * loopback address and keeps every datagram it receives; `openDatagram` checks the trailing hex
 * HMAC-SHA256 and inflates the JSON, as the health manager does; `octaviaUnwrap` hands a datagram
 * to Octavia's own `status_message.unwrap_envelope` (python3-octavia under /usr/bin/python3).
 */
import { execFile } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { inflateSync } from 'node:zlib';
import { SYSTEM_PYTHON } from './octavia-client.js';
import { waitFor } from './wait-for.js';

/** The message a datagram carries when it is signed with `key`; throws when the signature does not match. */
export function openDatagram(bytes: Buffer, key: string): Record<string, unknown> {
  const payload = bytes.subarray(0, bytes.length - 64);
  const expected = Buffer.from(createHmac('sha256', key).update(payload).digest('hex'), 'ascii');
  const got = bytes.subarray(bytes.length - 64);
  if (got.length !== 64 || !timingSafeEqual(got, expected)) throw new Error('HMAC mismatch');
  return JSON.parse(inflateSync(payload).toString('utf8')) as Record<string, unknown>;
}

/** Whether `bytes` is signed with `key`. */
export function signedWith(bytes: Buffer, key: string): boolean {
  try {
    openDatagram(bytes, key);
    return true;
  } catch {
    return false;
  }
}

const UNWRAP = `
import binascii, json, sys
from octavia.amphorae.backends.health_daemon import status_message
from octavia.common import exceptions
data = binascii.unhexlify(sys.stdin.read().strip())
try:
    print(json.dumps({"message": status_message.unwrap_envelope(data, sys.argv[1])}))
except exceptions.InvalidHMACException as e:
    print(json.dumps({"error": type(e).__name__}))
`;

export type OctaviaUnwrap = { readonly message: Record<string, unknown> } | { readonly error: string };

/** Octavia's `unwrap_envelope(datagram, key)`: the message, or the name of the exception it raised. */
export function octaviaUnwrap(bytes: Buffer, key: string): Promise<OctaviaUnwrap> {
  return new Promise((resolve, reject) => {
    const child = execFile(SYSTEM_PYTHON, ['-c', UNWRAP, key], { timeout: 60_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`unwrap_envelope failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as OctaviaUnwrap);
    });
    child.stdin?.end(bytes.toString('hex'));
  });
}

export interface Received {
  readonly bytes: Buffer;
  readonly from: string;
}

/** A real UDP socket on a loopback address that keeps what it receives. */
export class HeartbeatReceiver {
  readonly received: Received[] = [];
  private constructor(
    private readonly socket: Socket,
    readonly address: string,
    readonly port: number,
  ) {}

  static async bind(address = '127.0.0.1'): Promise<HeartbeatReceiver> {
    const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolve());
    });
    const receiver = new HeartbeatReceiver(socket, address, socket.address().port);
    socket.on('message', (bytes, from) => receiver.received.push({ bytes, from: from.address }));
    return receiver;
  }

  /** `host:port` as controller_ip_port_list names it (IPv6 bare, as Octavia writes it). */
  get entry(): string {
    return `${this.address}:${this.port}`;
  }

  /** The first datagram received from index `from` on that `accept` takes; waits up to `timeoutMs`. */
  next(accept: (r: Received) => boolean = () => true, from = 0, timeoutMs = 30_000): Promise<Received> {
    return waitFor(`a heartbeat on ${this.entry}`, () => this.received.slice(from).find(accept), timeoutMs, () => `${this.received.length} datagrams received`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
