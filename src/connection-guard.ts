/**
 * @module connection-guard
 * Bounds on the connections of the agent's servers (the API's in main.ts, the metrics
 * listener's): in time (TLS handshake, request headers, keep-alive idle) and in number. A
 * connection is *unauthenticated* from its TCP accept until it is admitted (its TLS handshake
 * finished with a verified client certificate; on the plain-HTTP metrics listener, its first
 * request); at most `maxUnauthenticated` of them are held, and each new arrival beyond that
 * closes the OLDEST one. So a flood of connections that never finish a handshake only churns
 * through the slots, while the controller's connection, the newest when it arrives, gets its
 * handshake done. Admitted connections are capped too; one over the cap is closed at once.
 * This module decides nothing about TLS itself (main.ts, metrics-listener.ts build the servers).
 *
 * The figures: Octavia's controller talks to one amphora through one requests.Session, one
 * flow at a time (the load balancer is locked while a flow runs), with a 10 s connect timeout
 * (`rest_request_conn_timeout`) and retries on a failed connection; a handshake costs a few
 * milliseconds. 10 s for a handshake and for the request headers is a thousand times what the
 * controller needs even on a starved vCPU, 64 admitted connections are far more than it ever
 * opens, and 512 waiting handshakes keep the agent near 530 descriptors and under 150 MiB during
 * a flood (measured: docs/architecture.md, "Bounded connections"), while a flood must open 512
 * connections faster than the controller's handshake takes to push it out. None is an option:
 * an operator has nothing to tune here.
 */
import type { IncomingMessage } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import type { Logger } from './log.js';
import { ThrottledLog } from './throttled-log.js';

export interface ConnectionLimits {
  /** A TLS handshake not finished this long after the TCP accept is dropped (Node's default: 120 s). */
  readonly handshakeTimeoutMs: number;
  /** Request headers not complete this long after they started (or after the handshake) get 408. */
  readonly headersTimeoutMs: number;
  /** An admitted connection idle this long between requests is closed. */
  readonly keepAliveTimeoutMs: number;
  readonly maxUnauthenticated: number;
  readonly maxAuthenticated: number;
}

export const CONNECTION_LIMITS: ConnectionLimits = {
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  // Node's default, said here: the controller's pooled connection is closed after 5 s idle
  keepAliveTimeoutMs: 5_000,
  maxUnauthenticated: 512,
  maxAuthenticated: 64,
};

/** How often Node looks for requests over their headers or request timeout (its default: 30 s). */
const TIMEOUT_CHECK_MS = 1_000;

/** Options for https.createServer / http.createServer that carry the time bounds. */
export function serverTimeouts(limits: ConnectionLimits, requestTimeoutMs: number) {
  return {
    handshakeTimeout: limits.handshakeTimeoutMs,
    requestTimeout: requestTimeoutMs,
    // Node refuses a headers timeout longer than the request timeout
    headersTimeout: Math.min(limits.headersTimeoutMs, requestTimeoutMs),
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: TIMEOUT_CHECK_MS,
  };
}

export interface ConnectionCounts {
  readonly unauthenticated: number;
  readonly authenticated: number;
  /** Unauthenticated connections closed to make room for newer ones, since the start. */
  readonly evicted: number;
}

/** What admits a connection: the TLS server's verified handshake, or the plain HTTP server's first request. */
export type Admission = 'secureConnection' | 'request';

/** The TCP connection under a socket: a TLS socket reports its transport's peer address. */
function keyOf(socket: Socket): string | undefined {
  return socket.remotePort === undefined ? undefined : `${socket.remoteAddress ?? ''}|${socket.remotePort}`;
}

export function guardConnections(server: NetServer, admission: Admission, limits: ConnectionLimits, log: Logger): ConnectionCounts {
  // insertion order is arrival order: the first entry is the oldest
  const waiting = new Map<string, Socket>();
  const admitted = new Set<Socket>();
  let evicted = 0;
  const evictions = new ThrottledLog(log, 'warn', `more than ${limits.maxUnauthenticated} connections without a finished TLS handshake: the oldest is closed for each new one`);
  const refusals = new ThrottledLog(log, 'warn', `${limits.maxAuthenticated} authenticated connections are open: a new one is closed`);

  server.on('connection', (socket: Socket) => {
    const key = keyOf(socket);
    if (key === undefined) return; // closed already
    for (const [oldest, old] of waiting) {
      if (waiting.size < limits.maxUnauthenticated) break;
      waiting.delete(oldest);
      evicted++;
      evictions.note({ remote: old.remoteAddress });
      old.destroy();
    }
    waiting.delete(key);
    waiting.set(key, socket);
    socket.once('close', () => waiting.get(key) === socket && waiting.delete(key));
  });

  const admit = (socket: Socket): void => {
    if (admitted.has(socket)) return;
    const key = keyOf(socket);
    if (key !== undefined) waiting.delete(key);
    if (admitted.size >= limits.maxAuthenticated) {
      refusals.note({ remote: socket.remoteAddress });
      socket.destroy();
      return;
    }
    admitted.add(socket);
    socket.once('close', () => admitted.delete(socket));
  };
  // before the HTTP layer's own listeners: a connection over the cap gets no answer at all
  if (admission === 'secureConnection') server.prependListener('secureConnection', admit);
  else server.prependListener('request', (req: IncomingMessage) => admit(req.socket));

  return {
    get unauthenticated() {
      return waiting.size;
    },
    get authenticated() {
      return admitted.size;
    },
    get evicted() {
      return evicted;
    },
  };
}
