import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiApp } from '../support/api-app.js';
import { fakeDaemonProc } from '../support/daemon-stand-in.js';
import { lvsIdentity } from '../../src/services/daemon-specs.js';

const NOT_FOUND = {
  error: '404 Not Found: The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.',
  http_code: 404,
};

/** A certificate and its key (and a second, unrelated key) made with openssl. */
function pemPair(): { cert: string; key: string; otherKey: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pem-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  execFileSync('openssl', ['req', '-x509', ...ec, '-keyout', join(dir, 'k'), '-out', join(dir, 'c'), '-days', '2', '-subj', '/CN=x'], { stdio: 'ignore' });
  execFileSync('openssl', ['genpkey', '-algorithm', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', join(dir, 'o')], { stdio: 'ignore' });
  return { cert: readFileSync(join(dir, 'c'), 'utf8'), key: readFileSync(join(dir, 'k'), 'utf8'), otherKey: readFileSync(join(dir, 'o'), 'utf8') };
}

describe('version discovery', () => {
  it.each(['/', '//', '///'])('GET %s answers api_version 1.0', async (path) => {
    const { app } = await apiApp();
    const res = await request(app).get(path).expect(200);
    expect(res.body).toEqual({ api_version: '1.0' });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
  });
});

describe('GET /1.0/info', () => {
  it('reports package versions, hostname and api version, and asks the package manager once', async () => {
    const { app, runner } = await apiApp();
    const res = await request(app).get('/1.0/info').expect(200);
    expect(res.body).toEqual({
      hostname: 'amphora-test',
      haproxy_version: '2.6.12-1+deb12u4',
      keepalived_version: '1:2.2.7-1+b2',
      ipvsadm_version: '1:1.31-1+b1',
      api_version: '1.0',
    });
    await request(app).get('//1.0/info').expect(200);
    expect(runner.calls.filter((c) => c[0] === 'dpkg-query')).toHaveLength(3);
  });

  it('answers 200 and names what is missing when a package is absent', async () => {
    const { app, runner } = await apiApp();
    runner.on(['dpkg-query', '-W', '-f=${db:Status-Status} ${Version}', 'ipvsadm'], { exitCode: 1, stderr: 'no packages found matching ipvsadm' });
    const res = await request(app).get('/1.0/info').expect(200);
    expect(res.body.ipvsadm_version).toBeNull();
    expect(res.body.unavailable.ipvsadm).toMatch(/no installed package 'ipvsadm'/);
    expect(res.body.haproxy_version).toBe('2.6.12-1+deb12u4');
  });
});

describe('GET /1.0/details', () => {
  it('reports host figures, namespace counters and the configured topology', async () => {
    const { app, host } = await apiApp('[controller_worker]\nloadbalancer_topology = ACTIVE_STANDBY\n');
    const res = await request(app).get('/1.0/details').expect(200);
    expect(res.body).toMatchObject({
      api_version: '1.0',
      active: true,
      topology: 'ACTIVE_STANDBY',
      topology_status: 'OK',
      cpu: { total: 1000, user: 100, system: 50, soft_irq: 5 },
      disk: { used: 1e9, available: 2e9 },
      load: [0.1, 0.2, 0.3],
      networks: { eth1: { network_tx: 5, network_rx: 7 } },
      listeners: [],
      haproxy_count: 0,
      lvs_listener_process_count: 0,
    });
    expect(res.body.memory.total).toBe(2048);
    expect(host.netnsAsked).toEqual(['amphora-haproxy']);
  });

  it('lists the listeners of the registry and counts live keepalived processes from pid files', async () => {
    const { app, state, paths, root } = await apiApp();
    const live = 'aaaaaaaa-0000-0000-0000-000000000001';
    const dead = 'aaaaaaaa-0000-0000-0000-000000000002';
    await state.update((s) => {
      s.lvsListeners[live] = { id: live, wantRunning: true, protocol: 'UDP', installed: { hash: 'h', virtualServers: true }, applied: null };
      s.lvsListeners[dead] = { id: dead, wantRunning: true, protocol: 'UDP', installed: { hash: 'h', virtualServers: true }, applied: null };
    });
    execFileSync('mkdir', ['-p', join(root, 'lib', 'lvs')]);
    fakeDaemonProc(join(root, 'proc'), 4242, lvsIdentity(paths, live as never));
    // a pid reused by another program is no keepalived either
    fakeDaemonProc(join(root, 'proc'), 4444, { comm: 'sleep', config: '', pidFile: '' });
    writeFileSync(paths.lvsPidFile(live as never), '4242\n');
    writeFileSync(paths.lvsPidFile(dead as never), '4444\n');
    const res = await request(app).get('/1.0/details').expect(200);
    expect(res.body.listeners).toEqual([live, dead]);
    expect(res.body.lvs_listener_process_count).toBe(1);
  });
});

describe('unknown routes and methods', () => {
  it('answers 404 in the reference shape', async () => {
    const { app } = await apiApp();
    expect((await request(app).get('/info').expect(404)).body).toEqual(NOT_FOUND);
    expect((await request(app).get('/2.0/info').expect(404)).body).toEqual(NOT_FOUND);
  });

  it('answers 405 for a known path with another method', async () => {
    const { app } = await apiApp();
    const res = await request(app).post('/1.0/info').expect(405);
    expect(res.body).toEqual({ error: '405 Method Not Allowed: The method is not allowed for the requested URL.', http_code: 405 });
    expect(res.headers['allow']).toContain('GET');
    await request(app).get('/1.0/config').expect(405);
  });
});

describe('PUT /1.0/config', () => {
  it('validates, replaces the file atomically with mode 0600 and applies it in process', async () => {
    const { app, configFile, agentConfig } = await apiApp();
    const before = readFileSync(configFile, 'utf8');
    const next = `${before}[controller_worker]\nloadbalancer_topology = ACTIVE_STANDBY\n[DEFAULT]\ndebug = True\n`;
    const res = await request(app).put('/1.0/config').send(next).expect(202);
    expect(res.body).toEqual({ message: 'OK' });
    expect(readFileSync(configFile, 'utf8')).toBe(next);
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    expect(agentConfig.current.controller_worker.loadbalancer_topology).toBe('ACTIVE_STANDBY');
    expect((await request(app).get('/1.0/details').expect(200)).body.topology).toBe('ACTIVE_STANDBY');
  });

  it('names the options that only take effect at the next restart', async () => {
    const { app, configFile } = await apiApp();
    const next = `${readFileSync(configFile, 'utf8')}[haproxy_amphora]\nbind_port = 19999\n`;
    const res = await request(app).put('/1.0/config').set('Content-Type', 'application/octet-stream').send(next).expect(202);
    expect(res.body.details).toBe('takes effect at the next restart: haproxy_amphora.bind_port');
  });

  it('applies the options services read live at once, and names only the startup ones as pending', async () => {
    const { app, configFile, paths, runner, agentConfig } = await apiApp();
    const next = readFileSync(configFile, 'utf8')
      .replace('process_settle_seconds = 0\n', 'process_settle_seconds = 0.01\n')
      .replace('[amphora_agent]\n', '[amphora_agent]\nkeepalived_cmd = /opt/keepalived\nnetwork_namespace = elsewhere\n');
    const res = await request(app).put('/1.0/config').send(next).expect(202);
    // process_settle_seconds is read when used; the namespace places daemons, keepalived_cmd runs them
    expect(res.body.details).toBe('takes effect at the next restart: amphora_agent.network_namespace, amphora_agent.keepalived_cmd');
    expect(agentConfig.current.amphora_agent.process_settle_seconds).toBe(0.01);
    const L = 'ffffffff-0000-0000-0000-0000000000c1';
    // keepalived_cmd validates as started until the restart (test/reliability/faults/f09)
    await request(app).put(`/1.0/listeners/11111111-2222-3333-4444-555555555555/${L}/udp_listener`).send('net_namespace amphora-haproxy\n').expect(200);
    expect(runner.calls.filter((c) => c[1] === '--config-test').map((c) => c[0])).toEqual(['/usr/sbin/keepalived']);
    // and the namespace stays the one the agent started with
    expect(paths.namespace).toBe('amphora-haproxy');
    expect(agentConfig.current.amphora_agent.network_namespace).toBe('amphora-haproxy');
  });

  it.each([
    ['[haproxy_amphora\nbind_port = 1\n', /cannot parse: at line 1/],
    ['[haproxy_amphora]\nbind_port = http\n', /\[haproxy_amphora\] bind_port = "http" is invalid: expected a port number/],
  ])('refuses %j with 400 and leaves the file as it was', async (text, details) => {
    const { app, configFile, agentConfig } = await apiApp();
    const before = readFileSync(configFile, 'utf8');
    const res = await request(app).put('/1.0/config').send(text).expect(400);
    expect(res.body.message).toBe('Invalid configuration');
    expect(res.body.details).toMatch(details);
    expect(readFileSync(configFile, 'utf8')).toBe(before);
    expect(agentConfig.current.haproxy_amphora.bind_port).toBe(9443);
  });

  it('refuses an empty body', async () => {
    const { app } = await apiApp();
    expect((await request(app).put('/1.0/config').expect(400)).body.details).toMatch(/empty/);
  });

  it('answers 413 above max_request_body_bytes', async () => {
    const { app, configFile } = await apiApp('max_request_body_bytes = 2048\n');
    const res = await request(app).put('/1.0/config').send(`${'#'.repeat(4096)}\n`).expect(413);
    expect(res.body.code).toBe('payload_too_large');
    expect(readFileSync(configFile, 'utf8')).toContain('max_request_body_bytes = 2048');
  });
});

describe('PUT /1.0/certificate', () => {
  let pair: ReturnType<typeof pemPair>;
  beforeAll(() => {
    pair = pemPair();
  });

  it('stores a certificate with its key (0600) and reloads TLS', async () => {
    const { app, agentConfig, tlsReloads } = await apiApp();
    const path = agentConfig.current.amphora_agent.agent_server_cert;
    // the client CA the proof's server loads (the self-signed certificate is a CA)
    writeFileSync(agentConfig.current.amphora_agent.agent_server_ca, pair.cert);
    const res = await request(app).put('/1.0/certificate').send(pair.cert + pair.key).expect(202);
    expect(res.body).toEqual({ message: 'OK' });
    expect(readFileSync(path, 'utf8')).toBe(pair.cert + pair.key);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(tlsReloads()).toBe(1);
  });

  it.each([
    ['a certificate without key', (p: ReturnType<typeof pemPair>) => p.cert, /no readable private key/],
    ['a key without certificate', (p: ReturnType<typeof pemPair>) => p.key, /no readable certificate/],
    ['a key of another certificate', (p: ReturnType<typeof pemPair>) => p.cert + p.otherKey, /does not belong/],
    ['garbage', () => 'hello', /no readable certificate/],
    ['nothing', () => '', /empty/],
  ])('refuses %s with 400 and keeps the old file', async (_name, body, details) => {
    const { app, agentConfig, tlsReloads } = await apiApp();
    const path = agentConfig.current.amphora_agent.agent_server_cert;
    writeFileSync(path, 'OLD');
    const res = await request(app).put('/1.0/certificate').send(body(pair)).expect(400);
    expect(res.body.details).toMatch(details);
    expect(readFileSync(path, 'utf8')).toBe('OLD');
    expect(tlsReloads()).toBe(0);
    expect(existsSync(path)).toBe(true);
  });
});

describe('request ids', () => {
  it('echoes a well-formed X-Request-Id and generates one otherwise', async () => {
    const { app } = await apiApp();
    expect((await request(app).get('/').set('X-Request-Id', 'req-abc.1').expect(200)).headers['x-request-id']).toBe('req-abc.1');
    expect((await request(app).get('/').set('X-Request-Id', 'bad id\u00e9').expect(200)).headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
