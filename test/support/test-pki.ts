/**
 * @module test/support/test-pki
 * The test PKI: `makePki` runs the shared `gen-certs.sh` (Octavia's two-CA layout, plus rogue and
 * expired client certificates) and `issueServerCert` signs further agent certificates with its
 * server CA. Files go only under the directory the caller gives.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GEN_CERTS } from './agent-paths.js';

const run = promisify(execFile);

/** The files gen-certs.sh writes (see shared/tools/octavia-ref/README.md). */
export interface TestPki {
  readonly dir: string;
  readonly amphoraId: string;
  /** Agent certificate and key in one PEM; CN = SAN DNS = amphora id; signed by server_ca. */
  readonly serverPem: string;
  /** Like serverPem, a different certificate (and key) with the CN only, no SAN. */
  readonly serverCnOnlyPem: string;
  /** Signed by server_ca but for another amphora id. */
  readonly serverWrongIdPem: string;
  readonly serverCaPem: string;
  readonly serverCaKey: string;
  /** The CA the agent trusts for client certificates. */
  readonly clientCaPem: string;
  /** The controller's certificate and key in one PEM. */
  readonly clientPem: string;
  /** Client certificate and key from an untrusted CA. */
  readonly rogueClientPem: string;
  /** Client certificate and key from client_ca, valid only on 2020-01-01. */
  readonly expiredClientPem: string;
}

/** Runs gen-certs.sh into `dir` (a few seconds: seven RSA keys). */
export async function makePki(dir: string, amphoraId?: string): Promise<TestPki> {
  if (!existsSync(GEN_CERTS)) throw new Error(`${GEN_CERTS} is missing: set AMPHORA_SHARED to the shared folder`);
  await run(GEN_CERTS, amphoraId === undefined ? [dir] : [dir, amphoraId], { timeout: 120_000 });
  return readPki(dir);
}

/** The PKI `makePki` made in `dir` earlier (one test PKI shared by a run's files). */
export async function readPki(dir: string): Promise<TestPki> {
  const f = (name: string) => join(dir, name);
  return {
    dir,
    amphoraId: (await readFile(f('amphora_id'), 'utf8')).trim(),
    serverPem: f('server.pem'),
    serverCnOnlyPem: f('server_cn_only.pem'),
    serverWrongIdPem: f('server_wrong_id.pem'),
    serverCaPem: f('server_ca.pem'),
    serverCaKey: f('server_ca.key'),
    clientCaPem: f('client_ca.pem'),
    clientPem: f('client.pem'),
    rogueClientPem: f('rogue_client.pem'),
    expiredClientPem: f('expired_client.pem'),
  };
}

export interface IssuedCert {
  /** Certificate followed by its key: what PUT /1.0/certificate takes. */
  readonly pem: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly fingerprint256: string;
}

/**
 * Signs a new agent certificate (fresh RSA key, CN = SAN DNS = `cn`, serverAuth) with the PKI's
 * server CA, as Octavia's certificate generator does for a rotation.
 */
export async function issueServerCert(pki: TestPki, workDir: string, cn = pki.amphoraId): Promise<IssuedCert> {
  await mkdir(workDir, { recursive: true });
  const dir = await mkdtemp(join(workDir, 'issue-'));
  const f = (name: string) => join(dir, name);
  await writeFile(
    f('leaf.ext'),
    `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${cn}\n`,
  );
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('leaf.key'), '-out', f('leaf.csr'), '-subj', `/CN=${cn}`], { timeout: 60_000 });
  await run(
    'openssl',
    ['x509', '-req', '-in', f('leaf.csr'), '-CA', pki.serverCaPem, '-CAkey', pki.serverCaKey, '-CAcreateserial', '-CAserial', f('ca.srl'),
      '-days', '30', '-extfile', f('leaf.ext'), '-out', f('leaf.crt')],
    { timeout: 60_000 },
  );
  const certPem = await readFile(f('leaf.crt'), 'utf8');
  const keyPem = await readFile(f('leaf.key'), 'utf8');
  return { pem: certPem + keyPem, certPem, keyPem, fingerprint256: new X509Certificate(certPem).fingerprint256 };
}

/** SHA-256 fingerprint of the (first) certificate in a PEM file, in Node's `AA:BB:…` form. */
export async function fingerprintOf(pemFile: string): Promise<string> {
  return new X509Certificate(await readFile(pemFile)).fingerprint256;
}
