/**
 * @module test/support/connection-flood
 * A connection flood, run as a child process (its sockets are its own file descriptors, not the
 * test's): `node connection-flood.mjs HOST PORT IDLE HALF`. It keeps IDLE TCP connections open that
 * never send a byte and HALF that send one real TLS ClientHello and then nothing (a half-finished
 * handshake), and opens a new one whenever the server closes one, as an attacker would. Every
 * second, and when it ends, it prints one JSON line: {open, opened, closedByServer, refused}. It
 * stops on SIGTERM or when its stdin closes. Loopback only: the tests give it 127.0.0.1.
 */
import { connect as tcpConnect, createServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

const [host = '127.0.0.1', portText = '0', idleText = '0', halfText = '0'] = process.argv.slice(2);
const port = Number(portText);
const stats = { open: 0, opened: 0, closedByServer: 0, refused: 0 };
const sockets = new Set();
let stopping = false;

/** The bytes of one real ClientHello, as Node's TLS client sends it, caught by a local listener. */
function captureClientHello() {
  return new Promise((resolve, reject) => {
    const catcher = createServer((socket) => {
      socket.once('data', (chunk) => {
        resolve(chunk);
        socket.destroy();
        catcher.close();
      });
    });
    catcher.listen(0, '127.0.0.1', () => {
      const client = tlsConnect({ host: '127.0.0.1', port: catcher.address().port, servername: 'flood', rejectUnauthorized: false });
      client.on('error', () => {});
    });
    catcher.on('error', reject);
  });
}

function open(hello) {
  if (stopping) return;
  const socket = tcpConnect({ host, port });
  sockets.add(socket);
  let connected = false;
  socket.on('connect', () => {
    connected = true;
    stats.open++;
    stats.opened++;
    if (hello !== undefined) socket.write(hello);
  });
  // what the server sends (a ServerHello, an alert) is read and dropped: the flood never answers
  socket.on('data', () => {});
  socket.on('error', () => {});
  socket.on('close', () => {
    sockets.delete(socket);
    if (connected) stats.open--;
    if (stopping) return;
    if (connected) stats.closedByServer++;
    else stats.refused++;
    // the next one at the next turn of the loop, so that the child stays responsive
    setImmediate(() => open(hello));
  });
}

function report() {
  process.stdout.write(`${JSON.stringify(stats)}\n`);
}

function stop() {
  if (stopping) return;
  stopping = true;
  report();
  for (const socket of sockets) socket.destroy();
  process.exit(0);
}

process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();

const hello = await captureClientHello();
for (let i = 0; i < Number(idleText); i++) open(undefined);
for (let i = 0; i < Number(halfText); i++) open(hello);
setInterval(report, 1000);
