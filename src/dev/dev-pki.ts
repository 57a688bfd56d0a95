/**
 * @module dev/dev-pki
 * A throwaway PKI for the embedded default (`npm start` with no --config-file): one dev CA, an
 * agent certificate whose CN and SAN are a generated amphora id (the name the controller checks),
 * and a controller client certificate. Made with the openssl binary through the ProcessRunner.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProcessRunner } from '../system/exec.js';
import { ensureDir, readIfExists, writeFileAtomic } from '../system/files.js';

export interface DevPki {
  readonly dir: string;
  readonly amphoraId: string;
  readonly caPem: string;
  /** Agent certificate and key in one PEM, as Octavia's agent_server_cert. */
  readonly serverPem: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** Client certificate and key in one PEM, as the controller's client_cert. */
  readonly clientPem: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function ensureDevPki(runner: ProcessRunner, dir: string): Promise<DevPki> {
  await ensureDir(dir, 0o700);
  const f = (name: string) => join(dir, name);
  const pki: DevPki = {
    dir,
    amphoraId: (await readIfExists(f('amphora_id')))?.trim() ?? randomUUID(),
    caPem: f('ca.pem'),
    serverPem: f('server.pem'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
    clientPem: f('client.pem'),
  };
  if ((await readIfExists(pki.serverPem)) !== undefined && (await readIfExists(pki.clientPem)) !== undefined) return pki;

  const openssl = (args: string[]) => runner.run('openssl', args);
  await openssl(['req', '-x509', ...EC, '-keyout', f('ca.key'), '-out', pki.caPem, '-days', '3650', '-subj', '/CN=amphora-agent dev CA']);
  const issue = async (name: string, cn: string, extensions: string[]) => {
    await openssl(['req', '-new', ...EC, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`, ...extensions.flatMap((e) => ['-addext', e])]);
    await openssl(['x509', '-req', '-in', f(`${name}.csr`), '-CA', pki.caPem, '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '825', '-copy_extensions', 'copyall', '-out', f(`${name}.crt`)]);
    const pem = (await readFile(f(`${name}.crt`), 'utf8')) + (await readFile(f(`${name}.key`), 'utf8'));
    await writeFileAtomic(f(`${name}.pem`), pem, 0o600);
  };
  await issue('server', pki.amphoraId, [`subjectAltName=DNS:${pki.amphoraId}`, 'extendedKeyUsage=serverAuth,clientAuth']);
  await issue('client', 'octavia-controller', ['extendedKeyUsage=clientAuth']);
  await writeFileAtomic(f('amphora_id'), `${pki.amphoraId}\n`, 0o644);
  return pki;
}
