/**
 * @module http-servers
 * Starting and stopping the agent's HTTP(S) servers (the API's in main.ts, the metrics
 * listener's): listen with the bind error as a rejection, and close without waiting for idle
 * keep-alive connections. Used by the entry points only.
 */
import type { Server } from 'node:http';

/** Listens on host:port; rejects with the server's error (EADDRINUSE, EADDRNOTAVAIL, …). */
export function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stops accepting, drops the open connections, and resolves once the server is closed. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
