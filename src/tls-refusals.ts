/**
 * @module tls-refusals
 * What the agent logs about TLS handshakes that did not admit a client (the API's server, the
 * metrics listener's): a refused client certificate and its verify code at info, a connection
 * that went away or timed out before finishing its handshake at debug, both throttled
 * (throttled-log.ts) so that a flood cannot fill the disk. Used by main.ts and metrics-listener.ts.
 *
 * Known gap (issue 14 item 10): a refused client certificate gets no TLS alert. The reference's
 * stack sends `unknown_ca` (48) or `certificate_expired` (45), over TLS 1.2 and 1.3; Node's
 * OpenSSL verify callback accepts every chain and Node checks the result only after the handshake,
 * then destroys the socket, so the client reads an unexpected EOF (nodejs/node#20737). A missing
 * certificate does get its alert (SSL_VERIFY_FAIL_IF_NO_PEER_CERT). The refusal's reason is here,
 * in the agent's log.
 */
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import type { Logger } from './log.js';
import { ThrottledLog } from './throttled-log.js';

/** Errors of a peer that left (or never spoke) rather than one that was refused. */
const ABANDONED = new Set(['ECONNRESET', 'ERR_TLS_HANDSHAKE_TIMEOUT', 'EPIPE', 'ETIMEDOUT']);

export function logTlsRefusals(server: TlsServer, log: Logger, msg: string): void {
  const refused = new ThrottledLog(log, 'info', msg);
  const abandoned = new ThrottledLog(log, 'debug', 'connection closed before its TLS handshake finished');
  server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    // A client certificate that fails verification (unknown CA, expired) makes Node destroy the
    // socket without an error of its own ("socket hang up"); the verify result is on the socket.
    // At runtime it is the OpenSSL verify code (a string), whatever @types/node says.
    const verify: unknown = socket.authorizationError;
    if (verify) refused.note({ remote: socket.remoteAddress, reason: `client certificate refused: ${String(verify)}` });
    else if (err.code !== undefined && ABANDONED.has(err.code)) abandoned.note({ remote: socket.remoteAddress, reason: err.message });
    else refused.note({ remote: socket.remoteAddress, reason: err.message });
  });
}
