/**
 * The TLS proofs with material made by the real `openssl`: what OpenSSL refuses to serve, what a
 * client CA bundle must hold, and which bundles anchor a client's chain.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anchorsChain, certificatesOf, checkClientCa, proveServerTls, TlsMaterialRefused } from './tls-proof.js';

let dir: string;
const f = (name: string) => join(dir, name);
const read = (name: string) => readFileSync(f(name), 'utf8');
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore', timeout: 60_000 });

/** A CA (`name.pem`, `name.key`), self-signed, or signed by `parent`. */
function ca(name: string, parent?: string): void {
  writeFileSync(f(`${name}.ext`), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${name}`);
  const signer = parent === undefined ? ['-key', f(`${name}.key`)] : ['-CA', f(`${parent}.pem`), '-CAkey', f(`${parent}.key`), '-CAcreateserial', '-CAserial', f(`${name}.srl`)];
  openssl('x509', '-req', '-in', f(`${name}.csr`), ...signer, '-days', '30', '-extfile', f(`${name}.ext`), '-out', f(`${name}.pem`));
}

/** A leaf `name.pem` (certificate then key) signed by `issuer`, with an RSA key of `bits` and `digest`. */
function leaf(name: string, issuer: string, bits = 2048, digest = 'sha256'): void {
  openssl('genrsa', '-out', f(`${name}.key`), String(bits));
  openssl('req', '-new', '-key', f(`${name}.key`), '-subj', `/CN=${name}`, '-out', f(`${name}.csr`));
  openssl('x509', '-req', `-${digest}`, '-in', f(`${name}.csr`), '-CA', f(`${issuer}.pem`), '-CAkey', f(`${issuer}.key`), '-CAcreateserial', '-CAserial', f(`${name}.srl`), '-days', '30', '-out', f(`${name}.crt`));
  writeFileSync(f(`${name}.pem`), read(`${name}.crt`) + read(`${name}.key`));
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tls-proof-'));
  ca('root');
  ca('other');
  ca('intermediate', 'root');
  leaf('server', 'root');
  leaf('client', 'intermediate');
  leaf('weak', 'root', 512);
  leaf('md5', 'root', 2048, 'md5');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = (pem: string, minVersion: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.2') => ({ cert: pem, key: pem, ca: read('root.pem'), minVersion });

describe('proveServerTls', () => {
  it('passes a certificate OpenSSL serves, over TLS 1.2 and 1.3 and with TLS 1.3 as the minimum', async () => {
    await expect(proveServerTls(options(read('server.pem')))).resolves.toBeUndefined();
    await expect(proveServerTls(options(read('server.pem'), 'TLSv1.3'))).resolves.toBeUndefined();
  });

  it.each([
    ['weak.pem', /ee key too small/],
    ['md5.pem', /ca md too weak/],
  ])('refuses %s, which OpenSSL will not serve at its default security level', async (name, why) => {
    await expect(proveServerTls(options(read(name)))).rejects.toThrow(why);
  });

  it('refuses a certificate with the key of another', async () => {
    const pem = read('server.crt') + read('client.key');
    await expect(proveServerTls({ ...options(pem), key: pem })).rejects.toBeInstanceOf(TlsMaterialRefused);
  });
});

describe('client CA bundles', () => {
  it('reads every certificate of a bundle, and refuses text without one or with an unreadable one', () => {
    expect(certificatesOf(read('root.pem') + read('other.pem'))).toHaveLength(2);
    expect(() => certificatesOf('amphora\n')).toThrow(/no PEM certificate/);
    expect(() => certificatesOf('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')).toThrow(/certificate 1 of 1 is not readable/);
  });

  it('needs a CA certificate that is valid now', () => {
    expect(() => checkClientCa(read('root.pem'))).not.toThrow();
    expect(() => checkClientCa(read('server.crt'))).toThrow(/is a CA certificate/);
    expect(() => checkClientCa(read('root.pem'), new Date('2000-01-01T00:00:00Z'))).toThrow(/valid now/);
  });

  it('anchors a client chain only through a self-signed certificate of the bundle', () => {
    const chain = [new X509Certificate(read('client.crt')), new X509Certificate(read('intermediate.pem'))];
    expect(anchorsChain(read('root.pem'), chain)).toBe(true);
    expect(anchorsChain(read('other.pem') + read('root.pem'), chain)).toBe(true);
    expect(anchorsChain(read('intermediate.pem') + read('root.pem'), chain.slice(0, 1))).toBe(true);
    expect(anchorsChain(read('other.pem'), chain)).toBe(false);
    // an intermediate alone is no anchor without partial chains (Node 20's default)
    expect(anchorsChain(read('intermediate.pem'), chain)).toBe(false);
    expect(anchorsChain(read('root.pem'), chain, new Date('2000-01-01T00:00:00Z'))).toBe(false);
  });
});
