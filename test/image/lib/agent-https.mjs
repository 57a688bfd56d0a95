/**
 * @module test/image/lib/agent-https
 * Requests to the amphora's agent through qemu's port forward, the way Octavia's controller makes
 * them: node's https with the controller's client certificate (cert and key in one PEM), the server
 * CA, and the amphora id as the server name (SNI, and the name the server certificate must carry).
 * The host is 127.0.0.1 unless `target.host` says otherwise, so the name check is done by hand
 * against `servername`, not the address. The VM tier's guest (test/e2e/guest/lib/agent-request.mjs)
 * sends its API 2.0 requests through this too.
 * Answers { status, headers, body (JSON when it parses, else text), ms }; rejects on a transport error.
 */
import { request } from 'node:https';
import { checkServerIdentity } from 'node:tls';

export function agentRequest(target, method, path, { body, timeoutMs = 30_000, cert } = {}) {
  const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const clientPem = cert === undefined ? target.clientPem : cert; // cert: null sends no certificate
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({
      host: target.host ?? '127.0.0.1',
      port: target.port,
      method,
      path,
      ca: target.ca,
      ...(clientPem ? { cert: clientPem, key: clientPem } : {}),
      servername: target.servername,
      checkServerIdentity: (_host, peer) => checkServerIdentity(target.servername, peer),
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

/**
 * One look at the agent through `req` (agentRequest bound to a target): null when `GET /` answered
 * 200 with API version 1.0, else what it answered or the transport error. The boot check and the
 * bench's boot timing poll with it, each with its own stop rule.
 */
export async function agentNotAnswering(req) {
  try {
    const r = await req('GET', '/', { timeoutMs: 15_000 });
    return r.status === 200 && r.body?.api_version === '1.0' ? null : `GET / answered ${r.status}`;
  } catch (e) {
    return e.code ?? e.message;
  }
}
