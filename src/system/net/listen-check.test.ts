/**
 * listenProblem with real binds on loopback: the agent's own address, port 0, an address not on
 * the host, a port held by another socket, and the agent's own port under a wildcard address.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenProblem, sameListenAddress } from './listen-check.js';

function listening(host: string, port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host, port }, () => resolve(s));
  });
}
const portOf = (s: Server) => (s.address() as { port: number }).port;

describe('listenProblem', () => {
  /** Stands for the agent's own listening socket (this process). */
  let own: Server;
  let ownPort: number;

  beforeAll(async () => {
    own = await listening('127.0.0.1');
    ownPort = portOf(own);
  });
  afterAll(() => new Promise<void>((r) => own.close(() => r())));

  it('takes the address the agent listens on, in any spelling', async () => {
    expect(sameListenAddress({ host: '::', port: 1 }, { host: '0:0::0', port: 1 })).toBe(true);
    expect(await listenProblem({ host: '127.0.0.1', port: ownPort }, { host: '127.0.0.1', port: ownPort }, '/proc')).toBeNull();
  });

  it('refuses port 0 and an address that is not on the host', async () => {
    expect(await listenProblem({ host: '127.0.0.1', port: 0 }, { host: '127.0.0.1', port: ownPort }, '/proc')).toMatch(/port 0/);
    expect(await listenProblem({ host: '198.51.100.9', port: 9443 }, { host: '127.0.0.1', port: ownPort }, '/proc')).toMatch(/not on this host/);
  });

  it('refuses a port another socket holds, and takes a free one', async () => {
    const other = await listening('127.0.0.1');
    const port = portOf(other);
    try {
      expect(await listenProblem({ host: '127.0.0.1', port }, { host: '127.0.0.1', port: ownPort }, '/proc')).toMatch(/in use/);
    } finally {
      await new Promise<void>((r) => other.close(() => r()));
    }
    expect(await listenProblem({ host: '127.0.0.1', port }, { host: '127.0.0.1', port: ownPort }, '/proc')).toBeNull();
  });

  it("takes a wildcard address on the agent's own port, where only the agent's socket is in the way", async () => {
    expect(await listenProblem({ host: '0.0.0.0', port: ownPort }, { host: '127.0.0.1', port: ownPort }, '/proc')).toBeNull();
  });
});
