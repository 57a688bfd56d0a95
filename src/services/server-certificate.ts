/**
 * @module services/server-certificate
 * PUT /1.0/certificate: the controller rotates the agent's own certificate. The PEM must hold a
 * certificate and its matching key (400 otherwise); it replaces `agent_server_cert` atomically
 * with mode 0600 and the TLS server uses it from the next connection, without a restart.
 */
import type { Logger } from '../log.js';
import { InvalidInput } from '../model/errors.js';
import { writeFileAtomic } from '../system/files.js';
import { checkServerPem } from '../system/tls.js';

export interface ServerCertificateDeps {
  readonly certPath: () => string;
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
    const path = this.deps.certPath();
    await writeFileAtomic(path, pem, 0o600);
    await this.deps.reloadTls();
    this.deps.log.info({ subject: cert.subject, validTo: cert.validTo, path }, 'server certificate rotated');
  }
}
