/**
 * @module test/e2e/guest/lib/agent-request
 * API 2.0 requests straight to an agent over mutual TLS (the controller client knows API 1.0
 * only): node's https with the controller's own client certificate (cert and key in one PEM),
 * the server CA, and the amphora id as the name the server certificate must carry (the agent
 * listens on 127.0.0.1). Answers { status, headers, body (JSON when it parses), ms }.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentRequest as request } from '../../../image/lib/agent-https.mjs';
import { WORK } from './context.mjs';
import { AGENTS } from './topology.mjs';

let pkiFiles = null;
export function agentRequest(agentName, method, path, body, timeoutMs = 120_000) {
  const a = AGENTS[agentName];
  pkiFiles ??= { ca: readFileSync(join(WORK, 'pki', 'server_ca.pem')), pem: readFileSync(join(WORK, 'pki', 'client.pem')) };
  return request({ host: a.host, port: a.port, ca: pkiFiles.ca, clientPem: pkiFiles.pem, servername: a.id }, method, path, { body, timeoutMs });
}
