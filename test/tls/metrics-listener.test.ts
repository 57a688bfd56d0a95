/**
 * The Prometheus metrics listener on real sockets, with the agent started in process on
 * 127.0.0.1 and the shared test PKI: mutual TLS with the API's CA and certificate (a client
 * from the CA gets /metrics, one without a certificate or from another CA is refused at the
 * handshake), only GET /metrics, the server certificate rotated through the API presented here
 * too, a client CA of its own that keeps scrapers and the controller apart, plain HTTP on loopback, and a non-loopback address without TLS refused at startup and by
 * PUT /1.0/config.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load.js';
import type { AgentHandle } from '../../src/main.js';
import { captureLogger, createAgentRoot, GEN_CERTS, issueServerCert, makePki, removeDir, startInProcess, type AgentRoot, type TestPki } from '../support/agent-fixture.js';
import { mtlsRequest, tlsProbe, type TlsTarget } from '../support/mtls-client.js';
import { parsePromText } from '../support/prom-text.js';
import { tierCanRun } from '../support/requirements.js';

const canRun = tierCanRun('tls (metrics)', { binaries: ['openssl', 'bash'], files: [GEN_CERTS] });

const metricsOn = (options: Record<string, string> = {}) => ({ prometheus: { enabled: 'true', bind_host: '127.0.0.1', bind_port: '0', ...options } });

/** One plain-HTTP GET on loopback. */
function httpGet(port: number, path: string): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 30_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer in time`)));
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!canRun)('metrics listener', () => {
  let work: string | undefined;
  let pki: TestPki;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'amphora-metrics-'));
    pki = await makePki(join(work, 'pki'));
  });

  afterAll(async () => {
    await removeDir(work);
  });

  describe('with mutual TLS (the default)', () => {
    let root: AgentRoot;
    let agent: AgentHandle | undefined;
    let target: TlsTarget;
    const logged = captureLogger();

    beforeAll(async () => {
      root = await createAgentRoot({ pki, parent: work, overrides: metricsOn() });
      agent = await startInProcess(root, logged.log);
      target = { port: agent.metrics?.port ?? 0, ca: await readFile(pki.serverCaPem, 'utf8'), servername: pki.amphoraId, clientPem: await readFile(pki.clientPem, 'utf8') };
    });

    afterAll(async () => {
      await agent?.close();
    });

    it('listens on a port of its own, with TLS', () => {
      expect(agent?.metrics).toMatchObject({ host: '127.0.0.1', tls: true });
      expect(agent?.metrics?.port).not.toBe(agent?.port);
    });

    it('answers GET /metrics to a client certificate from the CA, in the Prometheus text format', async () => {
      const res = await mtlsRequest(target, { path: '/metrics' });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      const text = parsePromText(res.body);
      expect(text.value('amphora_metrics_source_up', { source: 'daemons' })).toBe(1);
      expect(text.value('amphora_agent_process_resident_memory_bytes')).toBeGreaterThan(0);
      expect(text.types.get('amphora_lvs_member_up')).toBe('gauge');
      expect(text.types.get('amphora_haproxy_server_bytes_in_total')).toBe('counter');
    });

    it.each([
      ['without a client certificate', () => undefined, /peer did not return a certificate/],
      ['with a certificate from another CA', () => readFile(pki.rogueClientPem, 'utf8'), /^client certificate refused: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/],
    ])('refuses a client %s at the handshake', async (_what, pem, reason) => {
      const before = logged.lines.length;
      // TLS 1.2: the client's side of the handshake fails too (with 1.3 it ends before the server has checked)
      const probe = await tlsProbe({ ...target, clientPem: await pem(), maxVersion: 'TLSv1.2' });
      expect(probe.secureConnected).toBe(false);
      expect(probe.response).toBe('');
      await expect
        .poll(() => logged.lines.slice(before).find((l) => l['msg'] === 'metrics: TLS handshake refused'), { timeout: 10_000 })
        .toMatchObject({ component: 'metrics', reason: expect.stringMatching(reason) });
    });

    it('answers 404 on any other path and 405 on any other method', async () => {
      for (const path of ['/', '//', '/metrics/', '/1.0/info', '/metricsx']) {
        const res = await mtlsRequest(target, { path });
        expect([path, res.status]).toEqual([path, 404]);
      }
      const post = await mtlsRequest(target, { method: 'POST', path: '/metrics', body: 'x' });
      expect(post.status).toBe(405);
      expect(post.headers['allow']).toBe('GET');
      expect((await mtlsRequest(target, { path: '/metrics?name[]=x' })).status).toBe(200);
    });

    it('is not served by the API listener', async () => {
      const res = await mtlsRequest({ ...target, port: agent?.port ?? 0 }, { path: '/metrics' });
      expect(res.status).toBe(404);
    });

    it('presents the certificate PUT /1.0/certificate rotated in, from the next connection', async () => {
      const next = await issueServerCert(pki, join(work ?? tmpdir(), 'issued'));
      const before = await mtlsRequest(target, { path: '/metrics' });
      expect(before.peerFingerprint256).not.toBe(next.fingerprint256);
      const put = await mtlsRequest({ ...target, port: agent?.port ?? 0 }, { method: 'PUT', path: '/1.0/certificate', body: next.pem });
      expect(put.status).toBe(202);
      const after = await mtlsRequest(target, { path: '/metrics' });
      expect(after.status).toBe(200);
      expect(after.peerFingerprint256).toBe(next.fingerprint256);
    });

    it('refuses (400) a configuration that would serve plain HTTP on a non-loopback address, keeping the file', async () => {
      const before = await readFile(root.configFile, 'utf8');
      const res = await mtlsRequest({ ...target, port: agent?.port ?? 0 }, { method: 'PUT', path: '/1.0/config', body: root.render(metricsOn({ bind_host: '0.0.0.0', tls: 'false' })) });
      expect(res.status, res.body).toBe(400);
      expect(res.json()).toMatchObject({ details: expect.stringContaining('tls = false needs a loopback bind_host') });
      expect(await readFile(root.configFile, 'utf8')).toBe(before);
    });
  });

  describe('with a client CA of its own ([prometheus] client_ca)', () => {
    let agent: AgentHandle | undefined;
    let target: TlsTarget;
    let api: TlsTarget;

    beforeAll(async () => {
      // gen-certs.sh's rogue CA plays the scrapers' CA: the API does not trust it
      const root = await createAgentRoot({ pki, parent: work, overrides: metricsOn({ client_ca: join(pki.dir, 'rogue_ca.pem') }) });
      agent = await startInProcess(root);
      target = { port: agent.metrics?.port ?? 0, ca: await readFile(pki.serverCaPem, 'utf8'), servername: pki.amphoraId, clientPem: await readFile(pki.rogueClientPem, 'utf8') };
      api = { ...target, port: agent.port };
    });

    afterAll(async () => {
      await agent?.close();
    });

    it("serves a scraper's certificate from that CA, which the API refuses", async () => {
      expect((await mtlsRequest(target, { path: '/metrics' })).status).toBe(200);
      const probe = await tlsProbe({ ...api, maxVersion: 'TLSv1.2' });
      expect(probe.secureConnected).toBe(false);
    });

    it("refuses the controller's certificate, which the API serves", async () => {
      const controller = await readFile(pki.clientPem, 'utf8');
      expect((await mtlsRequest({ ...api, clientPem: controller }, { path: '//' })).status).toBe(200);
      const probe = await tlsProbe({ ...target, clientPem: controller, maxVersion: 'TLSv1.2' });
      expect(probe.secureConnected).toBe(false);
      expect(probe.response).toBe('');
    });

    it('keeps that CA when the server certificate is rotated', async () => {
      const next = await issueServerCert(pki, join(work ?? tmpdir(), 'issued-own-ca'));
      const put = await mtlsRequest({ ...api, clientPem: await readFile(pki.clientPem, 'utf8') }, { method: 'PUT', path: '/1.0/certificate', body: next.pem });
      expect(put.status).toBe(202);
      const after = await mtlsRequest(target, { path: '/metrics' });
      expect(after.status).toBe(200);
      expect(after.peerFingerprint256).toBe(next.fingerprint256);
    });

    it('refuses (400) a configuration naming a client_ca that cannot be read', async () => {
      const next = createAgentRoot({ pki, parent: work, overrides: metricsOn({ client_ca: join(work ?? tmpdir(), 'no-such-ca.pem') }) });
      const res = await mtlsRequest({ ...api, clientPem: await readFile(pki.clientPem, 'utf8') }, { method: 'PUT', path: '/1.0/config', body: (await next).render() });
      expect(res.status, res.body).toBe(400);
      expect(res.json()).toMatchObject({ details: expect.stringContaining('[prometheus] client_ca') });
    });
  });

  it('does not start with a client_ca that cannot be read, naming it', async () => {
    const missing = join(work ?? tmpdir(), 'no-such-ca.pem');
    const root = await createAgentRoot({ pki, parent: work, overrides: metricsOn({ client_ca: missing }) });
    await expect(startInProcess(root)).rejects.toThrow(`[prometheus] client_ca = ${missing}: cannot read it (ENOENT)`);
  });

  describe('without TLS', () => {
    it('serves plain HTTP on loopback', async () => {
      const root = await createAgentRoot({ pki, parent: work, overrides: metricsOn({ tls: 'false' }) });
      const agent = await startInProcess(root);
      try {
        expect(agent.metrics).toMatchObject({ tls: false });
        const res = await httpGet(agent.metrics?.port ?? 0, '/metrics');
        expect(res.status).toBe(200);
        expect(parsePromText(res.body).value('amphora_metrics_source_up', { source: 'daemons' })).toBe(1);
        expect((await httpGet(agent.metrics?.port ?? 0, '/')).status).toBe(404);
      } finally {
        await agent.close();
      }
    });

    it.each(['0.0.0.0', '::', '192.0.2.10'])('refuses to start on %s with a one-line error naming the options', async (host) => {
      const root = await createAgentRoot({ pki, parent: work, overrides: metricsOn({ bind_host: host, tls: 'false' }) });
      const started = startInProcess(root);
      await expect(started).rejects.toBeInstanceOf(ConfigError);
      await expect(started).rejects.toThrow(new RegExp(`amphora-agent\\.conf:\\d+: \\[prometheus\\] tls = false needs a loopback bind_host \\(127\\.0\\.0\\.1 or ::1\\), not ${host.replace(/\./g, '\\.')}`));
    });
  });

  it('is off unless enabled', async () => {
    const root = await createAgentRoot({ pki, parent: work });
    const agent = await startInProcess(root);
    try {
      expect(agent.metrics).toBeUndefined();
    } finally {
      await agent.close();
    }
  });
});
