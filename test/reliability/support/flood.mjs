#!/usr/bin/env node
/**
 * A connection flood against one agent, in its own process so that its sockets do not count
 * against the test's file limit: `node flood.mjs '{"port":…,"idle":N,"half":N,"slow":N,"ca":…,
 * "clientPem":…,"servername":…}'`. It opens
 *   - `idle` TCP connections that never send a byte (no ClientHello),
 *   - `half` connections that send the first bytes of a TLS record and stop (a half handshake),
 *   - `slow` mutual-TLS connections that send a request's headers and then one body byte every
 *     few seconds (a slow body),
 * prints `FLOOD {"opened":…,"refused":…,"closed_by_agent":…}` once every socket has connected or
 * failed, then every 2 s the count still open, and keeps them until it is sent SIGTERM.
 */
import { createConnection } from 'node:net';
import { connect } from 'node:tls';

const o = JSON.parse(process.argv[2]);
const counts = { opened: 0, refused: 0, closed_by_agent: 0 };
let pending = o.idle + o.half + o.slow;
const open = new Set();
const settle = () => {
  if (--pending === 0) process.stdout.write(`FLOOD ${JSON.stringify(counts)}\n`);
};
function track(socket, onOpen) {
  let opened = false;
  socket.on('error', () => undefined);
  socket.on('close', () => {
    open.delete(socket);
    if (opened) counts.closed_by_agent++;
    else (counts.refused++, settle());
  });
  return () => {
    opened = true;
    counts.opened++;
    open.add(socket);
    onOpen?.();
    settle();
  };
}

for (let i = 0; i < o.idle; i++) {
  const s = createConnection({ host: '127.0.0.1', port: o.port });
  s.on('connect', track(s));
}
for (let i = 0; i < o.half; i++) {
  const s = createConnection({ host: '127.0.0.1', port: o.port });
  // a TLS handshake record header announcing 512 bytes, and only 3 of them
  s.on('connect', track(s, () => s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01]))));
}
for (let i = 0; i < o.slow; i++) {
  const s = connect({ host: '127.0.0.1', port: o.port, ca: o.ca, cert: o.clientPem, key: o.clientPem, servername: o.servername });
  s.on('secureConnect', track(s, () => {
    s.write(`PUT /1.0/vrrp/upload HTTP/1.1\r\nHost: agent\r\ncontent-length: 100000\r\n\r\n`);
    const timer = setInterval(() => (s.destroyed ? clearInterval(timer) : s.write('x')), 3000);
  }));
}
setInterval(() => process.stdout.write(`OPEN ${open.size}\n`), 2000).unref();
process.on('SIGTERM', () => {
  for (const s of open) s.destroy();
  process.exit(0);
});
setInterval(() => undefined, 1 << 30);
