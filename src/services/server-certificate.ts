/**
 * @module services/server-certificate
 * PUT /1.0/certificate: the controller rotates the agent's own certificate. The PEM must hold a
 * certificate and its matching key, and OpenSSL must be able to serve it: it is proven with a
 * real loopback handshake (system/tls-proof.ts) before anything is written, so that a key too
 * weak or a signature too old for OpenSSL's security level is a 400, not a file that stops the
 * agent at its next start. It then replaces `agent_server_cert` atomically with mode 0600 and the
 * TLS server uses it from the next connection, without a restart. Should the reload still fail,
 * the previous file is put back.
 */
import type { LiveConfig } from '../config/startup.js';
import type { Logger } from '../log.js';
import { ConfigError, InvalidInput } from '../model/errors.js';
import { readBytesIfExists, writeFileAtomic } from '../system/files.js';
import { checkServerPem, loadProvenServerTls } from '../system/tls.js';

export interface ServerCertificateDeps {
  readonly config: () => LiveConfig;
  /** Re-reads the TLS material so that the next handshake uses it. */
  readonly reloadTls: () => Promise<void>;
  readonly log: Logger;
}

export class ServerCertificate {
  constructor(private readonly deps: ServerCertificateDeps) {}

  async rotate(body: Buffer): Promise<void> {
    if (body.length === 0) throw new InvalidInput('Invalid certificate', 'the request body is empty');
    const pem = body.toString('utf8');
    const cert = checkServerPem(pem);
    const config = this.deps.config();
    try {
      await loadProvenServerTls(config, pem);
    } catch (err) {
      if (err instanceof ConfigError) throw new InvalidInput('Invalid certificate', err.message, err);
      throw err;
    }
    const path = config.amphora_agent.agent_server_cert;
    const previous = await readBytesIfExists(path);
    await writeFileAtomic(path, pem, 0o600);
    try {
      await this.deps.reloadTls();
    } catch (err) {
      if (previous !== undefined) await writeFileAtomic(path, previous, 0o600);
      throw err;
    }
    this.deps.log.info({ subject: cert.subject, validTo: cert.validTo, path }, 'server certificate rotated');
  }
}
