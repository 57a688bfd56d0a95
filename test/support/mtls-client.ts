/**
 * @module test/support/mtls-client
 * Node clients that speak to the agent as the controller does: mutual TLS with a client
 * certificate (cert and key in one PEM, as Octavia's client_cert), the server CA, and the
 * amphora id as the name checked in the server certificate (the IP in the URL is not checked).
 * `tlsProbe` is a raw socket for handshake outcomes; `mtlsRequest` is one HTTPS request.
 */
import { request, type Agent } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { connect, type SecureVersion, type TLSSocket } from 'node:tls';

export interface TlsTarget {
  readonly port: number;
  readonly host?: string;
  /** The server CA PEM (text). */
  readonly ca: string;
  /** The name the server certificate must carry: the amphora id. */
  readonly servername: string;
  /** Client certificate and key in one PEM (text); omitted: no client certificate. */
  readonly clientPem?: string | undefined;
  readonly minVersion?: SecureVersion;
  readonly maxVersion?: SecureVersion;
}

function tlsOptions(t: TlsTarget) {
  return {
    host: t.host ?? '127.0.0.1',
    port: t.port,
    ca: t.ca,
    servername: t.servername,
    ...(t.clientPem === undefined ? {} : { cert: t.clientPem, key: t.clientPem }),
    ...(t.minVersion === undefined ? {} : { minVersion: t.minVersion }),
    ...(t.maxVersion === undefined ? {} : { maxVersion: t.maxVersion }),
  };
}

export interface ProbeResult {
  /** The client's side of the handshake finished (with TLS 1.3 the server may still refuse after this). */
  readonly secureConnected: boolean;
  readonly protocol: string | null;
  /** Everything the server sent after the handshake, in answer to `GET // HTTP/1.1`. */
  readonly response: string;
  readonly error: (Error & { code?: string }) | undefined;
}

/**
 * Connects, sends `GET //` once the handshake is done, and reads until the server closes.
 * A refused client ends with an error and an empty response.
 */
export function tlsProbe(t: TlsTarget, timeoutMs = 30_000): Promise<ProbeResult> {
  return new Promise((resolveProbe) => {
    let secureConnected = false;
    let protocol: string | null = null;
    let response = '';
    let error: (Error & { code?: string }) | undefined;
    const socket: TLSSocket = connect(tlsOptions(t));
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('secureConnect', () => {
      secureConnected = true;
      protocol = socket.getProtocol();
      socket.write('GET // HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n\r\n');
    });
    socket.on('data', (chunk: string) => (response += chunk));
    socket.on('error', (err) => (error ??= err));
    socket.on('close', () => {
      clearTimeout(timer);
      resolveProbe({ secureConnected, protocol, response, error });
    });
  });
}

export interface MtlsResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** TLS protocol of the connection that carried the request. */
  readonly protocol: string | null;
  /** SHA-256 fingerprint of the certificate the server presented. */
  readonly peerFingerprint256: string | undefined;
  /** True when an https.Agent sent this request on a socket it had used before. */
  readonly reusedSocket: boolean;
  readonly socket: TLSSocket;
  json(): unknown;
}

export interface RequestOptions {
  readonly method?: string;
  readonly path: string;
  readonly body?: string | Buffer;
  readonly headers?: Readonly<Record<string, string>>;
  /** An https.Agent (for keep-alive); by default every request has a fresh connection. */
  readonly agent?: Agent;
  readonly timeoutMs?: number;
}

export function mtlsRequest(t: TlsTarget, r: RequestOptions): Promise<MtlsResponse> {
  return new Promise((resolveResponse, reject) => {
    const req = request({
      ...tlsOptions(t),
      method: r.method ?? 'GET',
      path: r.path,
      headers: { ...(r.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(r.body)) }), ...r.headers },
      agent: r.agent ?? false,
      timeout: r.timeoutMs ?? 30_000,
    });
    req.on('timeout', () => req.destroy(new Error(`${r.method ?? 'GET'} ${r.path}: no answer in time`)));
    req.on('error', reject);
    req.on('response', (res) => {
      const socket = res.socket as TLSSocket;
      const protocol = socket.getProtocol();
      const peerFingerprint256 = socket.getPeerX509Certificate()?.fingerprint256;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolveResponse({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          protocol,
          peerFingerprint256,
          reusedSocket: req.reusedSocket,
          socket,
          json: () => JSON.parse(body) as unknown,
        });
      });
    });
    req.end(r.body);
  });
}
