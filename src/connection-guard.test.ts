/**
 * The connection guard on a plain HTTP server on 127.0.0.1 (the metrics listener without TLS,
 * where a connection is admitted by its first request): the oldest waiting connection is closed
 * for each new one over the cap, an admitted one is not, one admitted over the cap is closed, and
 * the evictions are logged through the throttle; and the headers timeout reaches Node. The TLS admission is exercised on the real agent
 * (test/reliability/faults/f04-connection-flood.test.ts).
 */
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CONNECTION_LIMITS, guardConnections, serverTimeouts, type ConnectionCounts } from './connection-guard.js';

const closed = (socket: Socket) => new Promise<void>((resolveClose) => socket.once('close', () => resolveClose()));

describe('guardConnections on a plain HTTP server', () => {
  let server: Server | undefined;
  const sockets: Socket[] = [];
  const lines: Record<string, unknown>[] = [];

  async function start(maxUnauthenticated: number, maxAuthenticated: number, headersTimeoutMs = CONNECTION_LIMITS.headersTimeoutMs): Promise<{ port: number; counts: ConnectionCounts }> {
    const limits = { ...CONNECTION_LIMITS, maxUnauthenticated, maxAuthenticated, headersTimeoutMs };
    server = createServer(serverTimeouts(limits, 30_000), (_req, res) => res.end('ok'));
    const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const counts = guardConnections(server, 'request', limits, log);
    await new Promise<void>((resolveListen) => server?.listen(0, '127.0.0.1', () => resolveListen()));
    const address = server.address();
    return { port: typeof address === 'object' && address !== null ? address.port : 0, counts };
  }

  const open = (port: number): Promise<Socket> =>
    new Promise((resolveOpen) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => resolveOpen(socket));
      socket.on('error', () => {});
      sockets.push(socket);
    });

  /** One request on the socket; resolves with the first chunk of the answer. */
  const ask = (socket: Socket): Promise<string> =>
    new Promise((resolveAnswer) => {
      socket.once('data', (chunk: Buffer) => resolveAnswer(chunk.toString('utf8')));
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    });

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await new Promise<void>((resolveClose) => (server ? server.close(() => resolveClose()) : resolveClose()));
    server = undefined;
    lines.length = 0;
  });

  it('closes the oldest waiting connection for each new one over the cap, and logs it', async () => {
    const { port, counts } = await start(3, 8);
    const first = await open(port);
    const waiting = [await open(port), await open(port)];
    await expect.poll(() => counts.unauthenticated).toBe(3);
    const newest = await open(port);
    await closed(first);
    await expect.poll(() => counts.evicted).toBe(1);
    expect(counts.unauthenticated).toBe(3);
    for (const s of [...waiting, newest]) expect(s.destroyed).toBe(false);
    expect(lines.find((l) => l['level'] === 40)).toMatchObject({ msg: expect.stringContaining('the oldest is closed') });
  });

  it('does not count an admitted connection against the waiting ones', async () => {
    const { port, counts } = await start(2, 8);
    const admitted = await open(port);
    expect(await ask(admitted)).toMatch(/^HTTP\/1.1 200/);
    expect(counts.authenticated).toBe(1);
    await open(port);
    await open(port);
    await open(port);
    await expect.poll(() => counts.evicted).toBe(1);
    expect(admitted.destroyed).toBe(false);
    expect(await ask(admitted)).toMatch(/^HTTP\/1.1 200/);
  });

  it('closes a connection admitted over the cap', async () => {
    const { port, counts } = await start(8, 1);
    expect(await ask(await open(port))).toMatch(/^HTTP\/1.1 200/);
    const second = await open(port);
    second.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    let answered = false;
    second.on('data', () => (answered = true));
    await closed(second);
    expect(answered).toBe(false);
    expect(counts.authenticated).toBe(1);
  });

  it('answers 408 and closes a connection whose request headers do not finish within the headers timeout', async () => {
    const { port } = await start(8, 8, 500);
    const slow = await open(port);
    let answer = '';
    slow.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    slow.write('GET / HTTP/1.1\r\nHost: x\r\n');
    // Node's default would wait 60 s (and look only every 30 s), past this test's timeout
    await closed(slow);
    expect(answer).toMatch(/^HTTP\/1.1 408/);
  });
});
