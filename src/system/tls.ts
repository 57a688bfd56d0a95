/**
 * @module system/tls
 * Mutual-TLS material: Octavia's single server PEM (certificate and key in one file), the
 * client CA, and the minimum protocol. `agent_tls_protocol` is a minimum here, as its help text
 * says (the reference pins exactly TLS 1.2). The `loadProven…` variants and
 * `checkRequesterTrusted` add the proofs of tls-proof.ts, as one-line `ConfigError`s naming the
 * option, for material the agent is about to adopt.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { SecureVersion } from 'node:tls';
import type { AgentConfig } from '../config/schema.js';
import { ConfigError } from '../model/errors.js';
import { InvalidInput } from '../model/errors.js';
import { anchorsChain, checkClientCa, proveServerTls, TlsMaterialRefused, type ServerTlsOptions } from './tls-proof.js';

export type { ServerTlsOptions };

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

/** The options the API's TLS material is built from (all read live). */
type TlsOptionsConfig = { readonly amphora_agent: Pick<AgentConfig['amphora_agent'], 'agent_server_cert' | 'agent_server_ca' | 'agent_tls_protocol'> };

/**
 * Builds the server's secure-context options from the files the config names; `pem` stands in
 * for the certificate file's content (a rotation proves its PEM before writing it).
 */
export async function loadServerTls(config: TlsOptionsConfig, pem?: string): Promise<ServerTlsOptions> {
  const agent = config.amphora_agent;
  const minVersion = MIN_VERSION[agent.agent_tls_protocol];
  if (minVersion === null) {
    throw new ConfigError('[amphora_agent] agent_tls_protocol = SSLv3 is not supported: use TLSv1.2 or TLSv1.3');
  }
  const [cert, ca] = await Promise.all([pem ?? readPem(agent.agent_server_cert, 'agent_server_cert'), readPem(agent.agent_server_ca, 'agent_server_ca')]);
  try {
    checkServerPem(cert);
  } catch (err) {
    throw new ConfigError(`[amphora_agent] agent_server_cert = ${agent.agent_server_cert}: ${(err as InvalidInput).details ?? String(err)}`);
  }
  return { cert, key: cert, ca, minVersion };
}

/** Runs a proof (system/tls-proof.ts), its refusal as a one-line ConfigError naming the option. */
async function provenAs<T>(option: string, path: string, proof: () => Promise<T> | T, section = 'amphora_agent'): Promise<T> {
  try {
    return await proof();
  } catch (err) {
    if (err instanceof TlsMaterialRefused) throw new ConfigError(`[${section}] ${option} = ${path}: ${err.message}`, err);
    throw err;
  }
}

/**
 * The client CA of `config` must still verify `requester` (the certificate chain of the client
 * that sends the new configuration): otherwise that client, the controller, is locked out at its
 * next connection. DER certificates, the client's first.
 */
export async function checkRequesterTrusted(config: TlsOptionsConfig, requester: readonly Buffer[]): Promise<void> {
  const agent = config.amphora_agent;
  const ca = await readPem(agent.agent_server_ca, 'agent_server_ca');
  const chain = requester.map((der) => new X509Certificate(der));
  await provenAs('agent_server_ca', agent.agent_server_ca, () => {
    if (!anchorsChain(ca, chain)) {
      throw new TlsMaterialRefused(`it would not verify the certificate of the client that sent this configuration (${chain[0]?.subject.replace(/\n/g, ', ') ?? 'none'}): that client would be locked out`);
    }
  });
}

/**
 * `loadServerTls`, then proof that the material serves (tls-proof.ts): the client CA can verify
 * a client, and the certificate completes real loopback handshakes. PUT /1.0/config runs it on
 * the new file before writing it, PUT /1.0/certificate on the new PEM (`pem`).
 */
export async function loadProvenServerTls(config: TlsOptionsConfig, pem?: string): Promise<ServerTlsOptions> {
  const agent = config.amphora_agent;
  const options = await loadServerTls(config, pem);
  await provenAs('agent_server_ca', agent.agent_server_ca, () => checkClientCa(String(options.ca)));
  await provenAs('agent_server_cert', agent.agent_server_cert, () => proveServerTls(options));
  return options;
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

/** `loadMetricsTls` with the same proofs as the API's material (`loadProvenServerTls`). */
export async function loadProvenMetricsTls(config: AgentConfig): Promise<ServerTlsOptions> {
  const clientCa = config.prometheus.client_ca;
  const options = clientCa === null ? await loadProvenServerTls(config) : await loadMetricsTls(config);
  if (clientCa !== null) await provenAs('client_ca', clientCa, () => checkClientCa(String(options.ca)), 'prometheus');
  return options;
}
// --- end metrics ---
