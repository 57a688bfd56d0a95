/**
 * @module system/tls-proof
 * Proof that TLS material makes a working mutual-TLS server, before the agent adopts it (PUT
 * /1.0/certificate, PUT /1.0/config): files that merely parse are not enough, since OpenSSL
 * refuses to serve some certificates that Node reads (a 512-bit RSA key, an MD5 signature: too
 * weak at Node 20's default security level) and ignores a client CA file without a certificate,
 * after which every client is refused. Three facts are checked:
 * - the secure context builds (OpenSSL's own key, signature and key-match checks);
 * - a throw-away server on 127.0.0.1 with that context completes a real handshake, for each TLS
 *   version the controller may speak (1.2, 1.3) at or above the configured minimum, presenting
 *   this certificate, to a client that does not check it (the controller's key is not ours to
 *   present, so the client sends no certificate and the server asks for one without insisting);
 * - the client CA file holds only readable certificates and at least one CA certificate, valid
 *   now, whose key is strong enough to verify a client certificate at the same security level.
 */
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { connect, createSecureContext, createServer, type SecureContextOptions, type SecureVersion, type TLSSocket } from 'node:tls';

/** A TLS server's material: certificate and key, client CA, minimum protocol (built by tls.ts). */
export interface ServerTlsOptions extends SecureContextOptions {
  readonly minVersion: SecureVersion;
}

/** Versions the controller speaks; older minimums are still proven with these. */
const PROVEN_VERSIONS: readonly SecureVersion[] = ['TLSv1.2', 'TLSv1.3'];
const ORDER: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
/** A loopback handshake takes milliseconds; this bounds it on a very busy machine. */
const HANDSHAKE_TIMEOUT_MS = 15_000;
/** OpenSSL security level 1 (Node 20's default): 80-bit security, RSA and DSA keys of 1024 bits. */
const MIN_RSA_BITS = 1024;

/** Why material cannot serve; the caller turns it into its own 400. */
export class TlsMaterialRefused extends Error {}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[^]*?-----END CERTIFICATE-----/g;

/** Every certificate of a PEM bundle; throws when a block is unreadable or none is there. */
export function certificatesOf(pem: string): X509Certificate[] {
  const blocks = pem.match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) throw new TlsMaterialRefused('it holds no PEM certificate');
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new TlsMaterialRefused(`certificate ${i + 1} of ${blocks.length} is not readable`);
    }
  });
}

function strongEnough(cert: X509Certificate): boolean {
  const key = cert.publicKey;
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss' || key.asymmetricKeyType === 'dsa') return (bits ?? 0) >= MIN_RSA_BITS;
  return key.asymmetricKeyType !== undefined;
}

/** The client CA bundle can anchor a client certificate: at least one CA, valid now, strong enough. */
export function checkClientCa(pem: string, now = new Date()): void {
  const certs = certificatesOf(pem);
  const anchors = certs.filter((c) => c.ca && new Date(c.validFrom) <= now && now < new Date(c.validTo) && strongEnough(c));
  if (anchors.length === 0) {
    throw new TlsMaterialRefused(`none of its ${certs.length} certificate(s) is a CA certificate (basicConstraints CA:TRUE) that is valid now with a key of at least ${MIN_RSA_BITS} bits: no client certificate could be verified`);
  }
}

/** `cert` was signed by `issuer`'s key (names and signature). */
function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

/**
 * Whether the CA bundle `caPem` anchors `chain` (a client's certificate first, then what it
 * presented): following signatures up from the client certificate through the chain and the
 * bundle reaches a self-signed certificate of the bundle, every one valid now (OpenSSL's rule
 * without partial chains, Node 20's default). A 'ca' that does not is a lockout of that client.
 */
export function anchorsChain(caPem: string, chain: readonly X509Certificate[], now = new Date()): boolean {
  const bundle = certificatesOf(caPem);
  const trusted = new Set(bundle.map((c) => c.fingerprint256));
  const candidates = [...chain.slice(1), ...bundle];
  const valid = (c: X509Certificate) => new Date(c.validFrom) <= now && now < new Date(c.validTo);
  let current = chain[0];
  for (let depth = 0; current !== undefined && depth < 10; depth++) {
    if (!valid(current)) return false;
    if (trusted.has(current.fingerprint256) && issuedBy(current, current)) return true;
    const cert: X509Certificate = current;
    current = candidates.find((c) => c.fingerprint256 !== cert.fingerprint256 && issuedBy(cert, c));
  }
  return false;
}

/** The versions to handshake with: those of PROVEN_VERSIONS at or above the minimum. */
function versionsFrom(min: SecureVersion): SecureVersion[] {
  return PROVEN_VERSIONS.filter((v) => ORDER.indexOf(v) >= ORDER.indexOf(min));
}

/** One client handshake to 127.0.0.1:port at exactly `version`; resolves with the presented certificate. */
function handshake(port: number, version: SecureVersion): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, minVersion: version, maxVersion: version });
    const timer = setTimeout(() => socket.destroy(new Error(`no handshake within ${HANDSHAKE_TIMEOUT_MS} ms`)), HANDSHAKE_TIMEOUT_MS);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const presented = socket.getPeerX509Certificate()?.fingerprint256;
      socket.end();
      resolve(presented);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Serves `options` on 127.0.0.1:0 for the length of the handshakes, then closes. */
async function loopbackHandshakes(options: ServerTlsOptions, expected: string): Promise<void> {
  const serverErrors: string[] = [];
  const server = createServer({ ...options, requestCert: true, rejectUnauthorized: false }, (socket) => socket.end());
  server.on('tlsClientError', (err) => serverErrors.push(err.message));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  try {
    const { port } = server.address() as AddressInfo;
    for (const version of versionsFrom(options.minVersion)) {
      const presented = await handshake(port, version).catch((err: Error) => {
        throw new TlsMaterialRefused(`a ${version} handshake with it fails: ${serverErrors.at(-1) ?? err.message}`);
      });
      if (presented !== expected) throw new TlsMaterialRefused(`a ${version} handshake presents another certificate than the one given`);
    }
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * Throws `TlsMaterialRefused` unless `options` (certificate and key, client CA, minimum version)
 * builds a secure context that completes real handshakes and a CA that can verify clients.
 */
export async function proveServerTls(options: ServerTlsOptions): Promise<void> {
  const pem = String(options.cert);
  try {
    createSecureContext(options);
  } catch (err) {
    throw new TlsMaterialRefused(`OpenSSL cannot use it: ${(err as Error).message}`);
  }
  await loopbackHandshakes(options, new X509Certificate(pem).fingerprint256);
}
