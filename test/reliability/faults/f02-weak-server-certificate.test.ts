/**
 * Issue 14, item 2: a certificate and key that match but that OpenSSL refuses to serve at Node
 * 20's default security level (level 1: a 512-bit RSA key is "ee key too small", an MD5
 * signature "ca md too weak") replaced server.pem through `PUT /1.0/certificate`, then the answer
 * was a 500 and the next start failed; `PUT /1.0/config` pointing `agent_server_cert` at such a
 * file did the same. Both are made here with the real `openssl`, signed by the PKI's server CA
 * for the amphora id, exactly as a rotation would be. Now: 400 before anything is written, the
 * running TLS server unchanged, and the agent starts again from its files.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { canRunTlsFaults, expectRefusedBeforeWriting, run, TlsAgent } from './config-faults-kit.js';

const canRun = canRunTlsFaults('f02');

/** A certificate for `cn` signed by the server CA: `bits` of RSA key, `digest` for the signature. Cert then key, one PEM. */
async function weakServerPem(t: TlsAgent, name: string, bits: number, digest: string): Promise<string> {
  const dir = t.root.at(`weak/${name}`);
  await mkdir(dir, { recursive: true });
  const f = (n: string) => join(dir, n);
  await run('openssl', ['genrsa', '-out', f('key.pem'), String(bits)], { timeout: 60_000 });
  await run('openssl', ['req', '-new', '-key', f('key.pem'), '-subj', `/CN=${t.pki.amphoraId}`, '-out', f('req.csr')], { timeout: 60_000 });
  await run('openssl', ['x509', '-req', `-${digest}`, '-in', f('req.csr'), '-CA', t.pki.serverCaPem, '-CAkey', t.pki.serverCaKey,
    '-CAcreateserial', '-CAserial', f('ca.srl'), '-days', '30', '-out', f('cert.pem')], { timeout: 60_000 });
  const pem = (await readFile(f('cert.pem'), 'utf8')) + (await readFile(f('key.pem'), 'utf8'));
  await writeFile(f('server.pem'), pem, { mode: 0o600 });
  return pem;
}

const WEAK = [
  ['a 512-bit RSA key', 'rsa512', 512, 'sha256', /key too small/],
  ['an MD5 signature', 'md5', 2048, 'md5', /md too weak/],
] as const;

describe.skipIf(!canRun)('f02: certificates OpenSSL refuses to serve are refused before writing', () => {
  let t: TlsAgent;
  const pems = new Map<string, string>();

  beforeAll(async () => {
    t = await TlsAgent.start('amphora-f02-');
    for (const [, name, bits, digest] of WEAK) pems.set(name, await weakServerPem(t, name, bits, digest));
  });

  afterAll(async () => {
    await t?.stop();
  });

  it.each(WEAK)('PUT /1.0/certificate with %s: 400, server.pem and the running TLS server unchanged', async (_what, name, _bits, _digest, details) => {
    await expectRefusedBeforeWriting(t, '/1.0/certificate', pems.get(name) ?? '', t.root.certFile, details);
  });

  it.each(WEAK)('PUT /1.0/config with agent_server_cert holding %s: 400, the file and the running TLS server unchanged', async (_what, name, _bits, _digest, details) => {
    const text = t.root.render({ amphora_agent: { agent_server_cert: t.root.at(`weak/${name}/server.pem`) } });
    await expectRefusedBeforeWriting(t, '/1.0/config', text, t.root.configFile, details);
  });

  it('starts again from its files afterwards', async () => {
    await t.restartFromFiles();
  });
});
