/**
 * Issue 14, item 1: `PUT /1.0/config` naming TLS material that cannot make a working mutual-TLS
 * server (a client CA file without a certificate, an empty one, a certificate that is no CA, a
 * server PEM whose key does not match, a CA that is sound but would not verify the controller's
 * certificate) was answered 202, and from then on every handshake failed,
 * also after a restart: the controller was locked out for good. Now: 400 before the file is
 * written, the running TLS server unchanged, and the agent starts again from its files. A sound
 * change (a CA bundle that still holds the controller's CA) is still taken.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canRunTlsFaults, expectRefusedBeforeWriting, TlsAgent } from './config-faults-kit.js';

const canRun = canRunTlsFaults('f01');

describe.skipIf(!canRun)('f01: PUT /1.0/config with TLS material that cannot serve is refused before writing', () => {
  let t: TlsAgent;

  beforeAll(async () => {
    t = await TlsAgent.start('amphora-f01-');
    await writeFile(t.root.at('empty.pem'), '');
    // the agent's own leaf certificate (CA:FALSE) and a CA file holding only that
    const leaf = /-----BEGIN CERTIFICATE-----[^]*?-----END CERTIFICATE-----\n/.exec(await readFile(t.pki.serverPem, 'utf8'))?.[0] ?? '';
    await writeFile(t.root.at('leaf-only.pem'), leaf);
    // a certificate with the key of another: the controller's certificate, the agent's key
    const key = /-----BEGIN PRIVATE KEY-----[^]*?-----END PRIVATE KEY-----\n/.exec(await readFile(t.pki.serverPem, 'utf8'))?.[0] ?? '';
    const clientCert = /-----BEGIN CERTIFICATE-----[^]*?-----END CERTIFICATE-----\n/.exec(await readFile(t.pki.clientPem, 'utf8'))?.[0] ?? '';
    await writeFile(t.root.at('mismatch.pem'), clientCert + key);
  });

  afterAll(async () => {
    await t?.stop();
  });

  it.each([
    ['agent_server_ca', '/etc/hostname', /agent_server_ca = \/etc\/hostname: it holds no PEM certificate/],
    ['agent_server_ca', 'empty.pem', /agent_server_ca = .*empty\.pem: it holds no PEM certificate/],
    ['agent_server_ca', 'leaf-only.pem', /agent_server_ca = .*leaf-only\.pem: none of its 1 certificate\(s\) is a CA certificate/],
    // a sound CA, but not the controller's: the usual mix-up of the two CAs of Octavia's PKI
    ['agent_server_ca', 'server_ca.pem', /agent_server_ca = .*server_ca\.pem: it would not verify the certificate of the client that sent this configuration \(CN=octavia-controller\)/],
    ['agent_server_cert', 'empty.pem', /agent_server_cert = .*empty\.pem/],
    ['agent_server_cert', 'mismatch.pem', /agent_server_cert = .*mismatch\.pem: the private key does not belong/],
  ])('%s = %s: 400, the file and the running TLS server unchanged', async (option, file, details) => {
    const path = file.startsWith('/') ? file : file === 'server_ca.pem' ? t.pki.serverCaPem : t.root.at(file);
    const text = t.root.render({ amphora_agent: { [option]: path } });
    await expectRefusedBeforeWriting(t, '/1.0/config', text, t.root.configFile, details);
  });

  it('takes a CA bundle that still holds the controller CA (202), and the controller still gets in', async () => {
    const bundle = t.root.at('bundle.pem');
    await writeFile(bundle, (await readFile(t.pki.serverCaPem, 'utf8')) + (await readFile(t.pki.clientCaPem, 'utf8')));
    const res = await t.put('/1.0/config', t.root.render({ amphora_agent: { agent_server_ca: bundle } }));
    expect(res.status, res.body).toBe(202);
    expect(await t.presented()).toBeDefined();
  });

  it('starts again from its files afterwards', async () => {
    await t.restartFromFiles();
  });
});
