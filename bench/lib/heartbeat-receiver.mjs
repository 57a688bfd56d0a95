/**
 * @module bench/lib/heartbeat-receiver
 * The controller's end of heartbeats for the bench: a UDP socket on 127.0.0.1 that counts the
 * datagrams it gets and keeps the last one, and the opening of one (hex HMAC-SHA256 over the
 * zlib-compressed JSON, as Octavia's health manager checks it).
 */
import { createHmac } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { inflateSync } from 'node:zlib';

/** A receiver bound to 127.0.0.1 on a free port: `entry` is its controller_ip_port_list entry. */
export async function heartbeatReceiver(ctx, label) {
  const socket = createSocket('udp4');
  const rx = { count: 0, last: undefined };
  socket.on('message', (bytes) => {
    rx.count += 1;
    rx.last = bytes;
  });
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', resolve);
  });
  ctx.cleanup.add(`close the ${label} heartbeat receiver`, () => new Promise((resolve) => socket.close(() => resolve())));
  rx.entry = `127.0.0.1:${socket.address().port}`;
  return rx;
}

/** The message a datagram signed with `key` carries; throws when the signature does not match. */
export function openHeartbeat(bytes, key) {
  const payload = bytes.subarray(0, bytes.length - 64);
  const mac = createHmac('sha256', key).update(payload).digest('hex');
  if (bytes.subarray(bytes.length - 64).toString('ascii') !== mac) throw new Error('heartbeat HMAC mismatch');
  return JSON.parse(inflateSync(payload).toString('utf8'));
}
