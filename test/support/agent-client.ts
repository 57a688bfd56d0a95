/**
 * @module test/support/agent-client
 * A client bound to one running agent over mutual TLS, with the test PKI's CA and client
 * certificate, and helpers to read its answers in a test. It sends what it is given and judges
 * no answer.
 */
import { readFile } from 'node:fs/promises';
import type { TestPki } from './agent-fixture.js';
import { mtlsRequest, type MtlsResponse } from './mtls-client.js';

export interface AgentClient {
  port: number;
  request(method: string, path: string, body?: string): Promise<MtlsResponse>;
}

export async function agentClient(pki: TestPki, port: number): Promise<AgentClient> {
  const ca = await readFile(pki.serverCaPem, 'utf8');
  const clientPem = await readFile(pki.clientPem, 'utf8');
  const client: AgentClient = {
    port,
    request: (method, path, body) =>
      mtlsRequest({ port: client.port, ca, servername: pki.amphoraId, clientPem }, { method, path, ...(body === undefined ? {} : { body }), timeoutMs: 120_000 }),
  };
  return client;
}

/** Body as JSON, with the whole response in the error when it is not JSON. */
export function jsonOf(res: MtlsResponse): unknown {
  try {
    return res.json();
  } catch {
    throw new Error(`not JSON (status ${res.status}): ${res.body}`);
  }
}

export const describeResponse = (res: MtlsResponse): string => `HTTP ${res.status}: ${res.body}`;
