/**
 * haproxySocketCommand against real unix-socket servers the test runs (node:net), each playing
 * one way haproxy's CLI can behave: answer and close, answer nothing, answer too much. The real
 * haproxy is in test/integration/haproxy-server-state.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandFailed } from '../model/errors.js';
import { haproxySocketCommand } from './haproxy-socket.js';

const STATE = '1\n# be_id be_name srv_id srv_name srv_addr srv_op_state\n3 pool 1 m1 127.0.0.1 0\n\n';

let dir: string | undefined;
const servers: Server[] = [];
const clients: Socket[] = [];

/** A unix-socket server at a fresh path that hands each connection's first line to `onLine`. */
async function serve(onLine: (line: string, socket: Socket) => void): Promise<{ path: string; lines: string[] }> {
  dir = await mkdtemp(join(tmpdir(), 'hsock-'));
  const path = join(dir, 'lb.sock');
  const lines: string[] = [];
  const server = createServer((socket) => {
    clients.push(socket);
    let got = '';
    socket.on('data', (d) => {
      got += d.toString('utf8');
      const nl = got.indexOf('\n');
      if (nl < 0) return;
      const line = got.slice(0, nl);
      lines.push(line);
      onLine(line, socket);
    });
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { path, lines };
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('haproxySocketCommand', () => {
  it('sends one command line and returns the whole answer, written in pieces, once the server closes', async () => {
    const { path, lines } = await serve((_line, socket) => {
      socket.write(STATE.slice(0, 10));
      setImmediate(() => socket.end(STATE.slice(10)));
    });
    expect(await haproxySocketCommand(path, 'show servers state', { timeoutMs: 30_000 })).toBe(STATE);
    expect(lines).toEqual(['show servers state']);
  });

  it('fails with CommandFailed when nobody listens at the path', async () => {
    dir = await mkdtemp(join(tmpdir(), 'hsock-'));
    const err = await haproxySocketCommand(join(dir, 'none.sock'), 'show servers state', { timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandFailed);
    expect((err as CommandFailed).output).toMatch(/ENOENT/);
  });

  it('gives up at its deadline when the server never finishes its answer', async () => {
    const { path } = await serve((_line, socket) => socket.write('1\n'));
    const err = await haproxySocketCommand(path, 'show servers state', { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandFailed);
    expect((err as CommandFailed).output).toBe('no complete answer within 300 ms');
  });

  it('refuses an answer longer than its cap', async () => {
    const { path } = await serve((_line, socket) => socket.end('x'.repeat(4096)));
    const err = await haproxySocketCommand(path, 'show servers state', { timeoutMs: 30_000, maxBytes: 1024 }).catch((e: unknown) => e);
    expect((err as CommandFailed).output).toBe('answer longer than 1024 bytes');
  });

  it('sends nothing that is not one plain command (a newline or `;` would make it several)', async () => {
    const { path, lines } = await serve((_line, socket) => socket.end('ok\n'));
    for (const bad of ['show servers state\nshutdown frontend x', 'show info; disable server a/b', '']) {
      await expect(haproxySocketCommand(path, bad, { timeoutMs: 30_000 })).rejects.toThrow(CommandFailed);
    }
    expect(lines).toEqual([]);
  });
});
