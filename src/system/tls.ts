/**
 * @module system/tls
 * Mutual-TLS material: Octavia's single server PEM (certificate and key in one file), the
 * client CA, and the minimum protocol. `agent_tls_protocol` is a minimum here, as its help text
 * says (the reference pins exactly TLS 1.2).
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { SecureContextOptions, SecureVersion } from 'node:tls';
import type { AgentConfig } from '../config/schema.js';
import { ConfigError } from '../model/errors.js';
import { InvalidInput } from '../model/errors.js';

export interface ServerTlsOptions extends SecureContextOptions {
  readonly minVersion: SecureVersion;
}

const MIN_VERSION: Record<AgentConfig['amphora_agent']['agent_tls_protocol'], SecureVersion | null> = {
  SSLv3: null,
  TLSv1: 'TLSv1',
  'TLSv1.1': 'TLSv1.1',
  'TLSv1.2': 'TLSv1.2',
  'TLSv1.3': 'TLSv1.3',
};

/** Checks that `pem` holds a certificate and the private key that belongs to it. */
export function checkServerPem(pem: string): X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    throw new InvalidInput('Invalid certificate', 'the PEM holds no readable certificate', err);
  }
  let key;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new InvalidInput('Invalid certificate', 'the PEM holds no readable private key', err);
  }
  if (!cert.checkPrivateKey(key)) {
    throw new InvalidInput('Invalid certificate', 'the private key does not belong to the certificate');
  }
  return cert;
}

async function readPem(path: string, option: string, section = 'amphora_agent'): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`[${section}] ${option} = ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
}

/** Builds the server's secure-context options from the files the config names. */
export async function loadServerTls(config: AgentConfig): Promise<ServerTlsOptions> {
  const agent = config.amphora_agent;
  const minVersion = MIN_VERSION[agent.agent_tls_protocol];
  if (minVersion === null) {
    throw new ConfigError('[amphora_agent] agent_tls_protocol = SSLv3 is not supported: use TLSv1.2 or TLSv1.3');
  }
  const [pem, ca] = await Promise.all([readPem(agent.agent_server_cert, 'agent_server_cert'), readPem(agent.agent_server_ca, 'agent_server_ca')]);
  try {
    checkServerPem(pem);
  } catch (err) {
    throw new ConfigError(`[amphora_agent] agent_server_cert = ${agent.agent_server_cert}: ${(err as InvalidInput).details ?? String(err)}`);
  }
  return { cert: pem, key: pem, ca, minVersion };
}

// --- metrics ---
/**
 * The metrics listener's material (docs/design/0007-metrics.md): the API's, with
 * `[prometheus] client_ca` as the CA of client certificates when it is set, so that a scraper's
 * certificate need not be one the API accepts.
 */
export async function loadMetricsTls(config: AgentConfig): Promise<ServerTlsOptions> {
  const api = await loadServerTls(config);
  const clientCa = config.prometheus.client_ca;
  return clientCa === null ? api : { ...api, ca: await readPem(clientCa, 'client_ca', 'prometheus') };
}
// --- end metrics ---
