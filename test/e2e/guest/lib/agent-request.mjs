/**
 * @module test/e2e/guest/lib/agent-request
 * API 2.0 requests straight to an agent over mutual TLS (the controller client knows API 1.0
 * only): node's https with the controller's own client certificate (cert and key in one PEM),
 * the server CA, and the amphora id as the name the server certificate must carry (the agent
 * listens on 127.0.0.1). Answers { status, headers, body (JSON when it parses), ms }.
 */
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { WORK } from './context.mjs';
import { AGENTS } from './topology.mjs';

let pkiFiles = null;
export function agentRequest(agentName, method, path, body, timeoutMs = 120_000) {
  const a = AGENTS[agentName];
  pkiFiles ??= { ca: readFileSync(join(WORK, 'pki', 'server_ca.pem')), pem: readFileSync(join(WORK, 'pki', 'client.pem')) };
  const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: a.host,
      port: a.port,
      method,
      path,
      ca: pkiFiles.ca,
      cert: pkiFiles.pem,
      key: pkiFiles.pem,
      servername: a.id, // SNI and the name checked against the certificate's SAN
      minVersion: 'TLSv1.2',
      agent: false,
      timeout: timeoutMs,
      headers: data ? { 'content-type': 'application/json', 'content-length': String(data.length) } : {},
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try {
          json = JSON.parse(text);
        } catch {
          /* not JSON: kept as text */
        }
        resolve({ status: res.statusCode, headers: res.headers, body: json ?? text, ms: Math.round(performance.now() - t) });
      });
    });
    req.end(data);
  });
}
