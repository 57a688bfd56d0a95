import { fakeSyncDaemons } from '../fakes/fake-sync-daemons.js';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import type { Uuid } from '../../src/model/uuid.js';
import { apiApp } from '../support/api-app.js';

const AMP = '11111111-2222-3333-4444-555555555555';
const L1 = 'ffffffff-0000-0000-0000-0000000000a1' as Uuid;
const L2 = 'ffffffff-0000-0000-0000-0000000000a2' as Uuid;

const lvsConfig = (port = 53, weight = 1) => `net_namespace amphora-haproxy

virtual_server_group ipv4-group {
    203.0.113.10 ${port}
}

virtual_server group ipv4-group {
    lb_algo wrr
    lb_kind NAT
    protocol UDP
    real_server 192.0.2.11 5353 {
        weight ${weight}
    }
}
`;
const DISABLED = 'net_namespace amphora-haproxy\n';

type App = Parameters<typeof request>[0];

/** The controller sends config uploads with no Content-Type. */
const upload = (app: App, id: string, body: string) => request(app).put(`/1.0/listeners/${AMP}/${id}/udp_listener`).send(body);

describe('PUT /1.0/listeners/{amp}/{id}/udp_listener', () => {
  it('validates with keepalived, stores the config, installs the unit and answers 200 with the MD5 ETag', async () => {
    const t = await apiApp();
    const body = lvsConfig();
    const res = await upload(t.app, L1, body).expect(200);
    expect(res.body).toEqual({ message: 'OK' });
    expect(res.headers['etag']).toBe(createHash('md5').update(body).digest('hex'));
    const conf = t.paths.lvsConfig(L1);
    expect(readFileSync(conf, 'utf8')).toBe(body);
    expect(statSync(conf).mode & 0o777).toBe(0o644);
    expect(t.runner.calls).toContainEqual(['/usr/sbin/keepalived', '--config-test', '-f', `${conf}.new`]);
    expect(t.init.calls).toEqual([`install octavia-keepalivedlvs-${L1} amphora-netns`, `enable octavia-keepalivedlvs-${L1}`]);
    expect(statSync(t.paths.udpCheckScript).mode & 0o777).toBe(0o755);
    expect(readFileSync(t.paths.netnsSetupScript, 'utf8')).toContain('netns add amphora-haproxy');
    expect((await request(t.app).get(`/1.0/listeners/${L1}/udp_listener`).expect(200)).text).toBe(body);
    expect((await request(t.app).get('/1.0/listeners').expect(200)).body).toEqual([{ status: 'OFFLINE', uuid: L1, type: 'UDP' }]);
  });

  it('refuses a config keepalived rejects with 400 and its output, and keeps the running listener as it was', async () => {
    const t = await apiApp();
    await upload(t.app, L1, lvsConfig()).expect(200);
    await request(t.app).put(`/1.0/loadbalancer/${L1}/reload`).expect(202);
    t.runner.on(['/usr/sbin/keepalived', '--config-test'], { exitCode: 5, stderr: "(x.conf: Line 3) Unknown keyword 'bogus'\n" });
    const res = await upload(t.app, L1, 'virtual_server x {\n bogus 1\n').expect(400);
    expect(res.body).toMatchObject({ message: 'Invalid request', details: "(x.conf: Line 3) Unknown keyword 'bogus'" });
    expect(readFileSync(t.paths.lvsConfig(L1), 'utf8')).toBe(lvsConfig());
    expect(readFileSync(`${t.paths.lvsConfig(L1)}.new-failed`, 'utf8')).toContain('bogus');
    expect((await request(t.app).get('/1.0/listeners').expect(200)).body).toEqual([{ status: 'ACTIVE', uuid: L1, type: 'UDP' }]);
    expect(t.init.calls.filter((c) => c.startsWith('stop') || c.startsWith('reload'))).toEqual([]);
  });

  it('creates nothing when a new listener is rejected', async () => {
    const t = await apiApp();
    t.runner.on(['/usr/sbin/keepalived', '--config-test'], { exitCode: 5, stderr: 'There are 1 missing }' });
    await upload(t.app, L2, 'virtual_server x {\n').expect(400);
    await request(t.app).get(`/1.0/listeners/${L2}/udp_listener`).expect(404);
    expect((await request(t.app).get('/1.0/listeners')).body).toEqual([]);
    expect(t.init.calls).toEqual([]);
  });

  it("accepts keepalived's script_security-only finding (exit 6)", async () => {
    const t = await apiApp();
    t.runner.on(['/usr/sbin/keepalived', '--config-test'], { exitCode: 6, stderr: 'SECURITY VIOLATION - scripts are being executed but script_security not enabled.' });
    await upload(t.app, L1, lvsConfig()).expect(200);
  });

  it('refuses a config for another network namespace, and creates the namespace before validating', async () => {
    const t = await apiApp();
    const res = await upload(t.app, L1, lvsConfig().replace('net_namespace amphora-haproxy', 'net_namespace elsewhere')).expect(400);
    expect(res.body.details).toMatch(/^line \d+: net_namespace must name amphora-haproxy and nothing else/);
    await upload(t.app, L1, lvsConfig()).expect(200);
    const setup = t.runner.calls.findIndex((c) => c.join(' ') === `/bin/sh ${t.paths.netnsSetupScript} --namespace-only`);
    const validate = t.runner.calls.findIndex((c) => c[1] === '--config-test');
    expect(setup).toBeGreaterThanOrEqual(0);
    expect(setup).toBeLessThan(validate);
  });

  it('validates a re-pushed identical config only once, and sets the namespace up once', async () => {
    const t = await apiApp();
    const validations = () => t.runner.calls.filter((c) => c[1] === '--config-test').length;
    const setups = () => t.runner.calls.filter((c) => c.join(' ') === `/bin/sh ${t.paths.netnsSetupScript} --namespace-only`).length;
    await upload(t.app, L1, lvsConfig()).expect(200);
    await upload(t.app, L1, lvsConfig()).expect(200);
    expect(validations()).toBe(1);
    await upload(t.app, L1, lvsConfig(53, 7)).expect(200);
    expect(validations()).toBe(2);
    expect(readFileSync(t.paths.lvsConfig(L1), 'utf8')).toBe(lvsConfig(53, 7));
    expect(setups()).toBe(1);
    // a reboot empties /run: the namespace is set up again
    rmSync(t.paths.netnsFile);
    await upload(t.app, L1, lvsConfig(53, 8)).expect(200);
    expect(setups()).toBe(2);
  });

  it('leaves no half-made listener when installing the unit fails', async () => {
    const t = await apiApp();
    t.init.failNextInstall = true;
    const res = await upload(t.app, L1, lvsConfig()).expect(500);
    expect(res.body.message).toBe('Internal Server Error');
    expect(existsSync(t.paths.lvsConfig(L1))).toBe(false);
    expect(t.state.current.lvsListeners).toEqual({});
    await request(t.app).get(`/1.0/listeners/${L1}/udp_listener`).expect(404);
  });

  it.each([
    ['a listener id that is no UUID', `/1.0/listeners/${AMP}/not-a-uuid/udp_listener`],
    ['an amphora id that is no UUID', `/1.0/listeners/amp/${L1}/udp_listener`],
    ['an encoded path outside the state directory', `/1.0/listeners/${AMP}/..%2F..%2Fetc%2Fpasswd/udp_listener`],
  ])('refuses %s with 400', async (_name, path) => {
    const t = await apiApp();
    const res = await request(t.app).put(path).send(lvsConfig()).expect(400);
    expect(res.body.details).toMatch(/must be a UUID/);
    expect(t.runner.calls.filter((c) => c[0] === '/usr/sbin/keepalived')).toEqual([]);
  });

  it('refuses an empty body with 400 and an oversized one with 413', async () => {
    const t = await apiApp('max_request_body_bytes = 1024\n');
    await upload(t.app, L1, '').expect(400);
    await upload(t.app, L1, `# ${'x'.repeat(2000)}\n`).expect(413);
    expect(t.state.current.lvsListeners).toEqual({});
  });
});

describe('PUT /1.0/loadbalancer/{id}/{action} on LVS listeners', () => {
  it('starts on the first reload, and does not restart an unchanged config', async () => {
    const t = await apiApp();
    await upload(t.app, L1, lvsConfig()).expect(200);
    expect((await request(t.app).put(`/1.0/loadbalancer/${L1}/reload`).expect(202)).body).toEqual({
      message: 'OK',
      details: `keepalivedlvs listener ${L1} started`,
    });
    await upload(t.app, L1, lvsConfig()).expect(200);
    const again = await request(t.app).put(`/1.0/loadbalancer/${L1}/reload`).expect(202);
    expect(again.body.details).toMatch(/configuration unchanged, not restarted/);
    expect(t.init.calls.filter((c) => /^(start|stop|reload) /.test(c))).toEqual([`start octavia-keepalivedlvs-${L1}`]);
    expect((await request(t.app).get('/1.0/listeners')).body).toEqual([{ status: 'ACTIVE', uuid: L1, type: 'UDP' }]);
  });

  it('applies a changed config with a reload (SIGHUP), not a restart', async () => {
    const t = await apiApp();
    await upload(t.app, L1, lvsConfig()).expect(200);
    await request(t.app).put(`/1.0/loadbalancer/${L1}/start`).expect(202);
    await upload(t.app, L1, lvsConfig(53, 5)).expect(200);
    const res = await request(t.app).put(`/1.0/loadbalancer/${L1}/RELOAD`).expect(202);
    expect(res.body.details).toBe(`keepalivedlvs listener ${L1} reloaded`);
    expect(t.init.calls.filter((c) => /^(start|stop|reload) /.test(c))).toEqual([`start octavia-keepalivedlvs-${L1}`, `reload octavia-keepalivedlvs-${L1}`]);
  });

  it('writes the state and the liveness check once per start, reload or stop', async () => {
    const t = await apiApp();
    await upload(t.app, L1, lvsConfig()).expect(200);
    const updates = vi.spyOn(t.state, 'update');
    const liveness = vi.spyOn(t.scripts, 'writeLvsLiveness');
    for (const [action, body] of [['start', lvsConfig()], ['reload', lvsConfig(53, 4)], ['reload', lvsConfig(53, 4)], ['stop', lvsConfig(53, 4)]] as const) {
      await upload(t.app, L1, body).expect(200);
      updates.mockClear();
      liveness.mockClear();
      await request(t.app).put(`/1.0/loadbalancer/${L1}/${action}`).expect(202);
      expect([action, updates.mock.calls.length, liveness.mock.calls.length]).toEqual([action, 1, 1]);
    }
  });

  it('answers 500 when keepalived does not act on the reload signal', async () => {
    const t = await apiApp();
    await upload(t.app, L1, lvsConfig()).expect(200);
    await request(t.app).put(`/1.0/loadbalancer/${L1}/start`).expect(202);
    await upload(t.app, L1, lvsConfig(53, 9)).expect(200);
    t.init.ignoreNextReload = true;
    const res = await request(t.app).put(`/1.0/loadbalancer/${L1}/reload`).expect(500);
    expect(res.body.message).toBe(`octavia-keepalivedlvs-${L1} did not acknowledge the reload`);
    expect((await request(t.app).get('/1.0/listeners')).body).toEqual([{ status: 'ACTIVE', uuid: L1, type: 'UDP' }]);
  }, 20_000);

  it('answers 500 with the log tail when keepalived dies right after starting, and lists the listener as ERROR', async () => {
    const t = await apiApp();
    await upload(t.app, L1, lvsConfig()).expect(200);
    t.init.dieOnNextStart = true;
    const res = await request(t.app).put(`/1.0/loadbalancer/${L1}/reload`).expect(500);
    expect(res.body.message).toBe(`octavia-keepalivedlvs-${L1} is not running after start`);
    expect(res.body.details).toContain("IPVS: Can't initialize ipvs");
    expect((await request(t.app).get('/1.0/listeners')).body).toEqual([{ status: 'ERROR', uuid: L1, type: 'UDP' }]);
    expect(readFileSync(t.paths.lvsLivenessCheckScript, 'utf8')).toContain(L1);
  });

  it('keeps a disabled listener (no virtual server) OFFLINE while its keepalived idles', async () => {
    const t = await apiApp();
    await upload(t.app, L1, DISABLED).expect(200);
    await request(t.app).put(`/1.0/loadbalancer/${L1}/start`).expect(202);
    expect((await request(t.app).get('/1.0/listeners')).body).toEqual([{ status: 'OFFLINE', uuid: L1, type: 'UDP' }]);
  });

  it('stops on purpose: OFFLINE, and no longer checked by the VRRP liveness script', async () => {
    const t = await apiApp();
    await upload(t.app, L1, lvsConfig()).expect(200);
    await request(t.app).put(`/1.0/loadbalancer/${L1}/start`).expect(202);
    expect(readFileSync(t.paths.lvsLivenessCheckScript, 'utf8')).toContain(t.paths.lvsCheckPidFile(L1));
    expect((await request(t.app).put(`/1.0/loadbalancer/${L1}/stop`).expect(202)).body.details).toBe(`keepalivedlvs listener ${L1} stopped`);
    expect((await request(t.app).get('/1.0/listeners')).body).toEqual([{ status: 'OFFLINE', uuid: L1, type: 'UDP' }]);
    expect(readFileSync(t.paths.lvsLivenessCheckScript, 'utf8')).not.toContain(L1);
  });

  it('checks the action before the object, then answers 404 for an unknown object', async () => {
    const t = await apiApp();
    expect((await request(t.app).put(`/1.0/loadbalancer/${L2}/explode`).expect(400)).body).toMatchObject({
      message: 'Invalid Request',
      details: 'Unknown action: explode',
    });
    expect((await request(t.app).put(`/1.0/loadbalancer/${L2}/start`).expect(404)).body).toMatchObject({
      message: 'Loadbalancer Not Found',
      details: `No loadbalancer with UUID: ${L2}`,
    });
  });
});

describe('DELETE /1.0/listeners/{id}', () => {
  it('removes a crashed listener with a stale pid file, and is idempotent', async () => {
    const t = await apiApp();
    await upload(t.app, L1, lvsConfig()).expect(200);
    await request(t.app).put(`/1.0/loadbalancer/${L1}/start`).expect(202);
    t.init.crash(t.specs.lvs(L1));
    expect((await request(t.app).get('/1.0/listeners')).body).toEqual([{ status: 'ERROR', uuid: L1, type: 'UDP' }]);
    expect((await request(t.app).delete(`/1.0/listeners/${L1}`).expect(200)).body).toEqual({ message: 'OK' });
    for (const f of [t.paths.lvsConfig(L1), t.paths.lvsPidFile(L1), t.paths.lvsCheckPidFile(L1)]) expect(existsSync(f)).toBe(false);
    expect(t.init.calls).toContain(`uninstall octavia-keepalivedlvs-${L1}`);
    expect(readFileSync(t.paths.lvsLivenessCheckScript, 'utf8')).not.toContain(L1);
    await request(t.app).delete(`/1.0/listeners/${L1}`).expect(200);
    await request(t.app).delete(`/1.0/listeners/${L2}`).expect(200);
    expect((await request(t.app).get('/1.0/listeners')).body).toEqual([]);
  });

  it('answers 405 for GET on a listener, as the reference does', async () => {
    const t = await apiApp();
    await request(t.app).get(`/1.0/listeners/${L1}`).expect(405);
  });
});

describe('VRRP', () => {
  const VRRP = 'vrrp_script check_script {\n    script /var/lib/octavia/vrrp/check_script.sh\n}\nvrrp_instance a {\n    interface eth1\n}\n';

  it('uploads with validation inside the namespace, writes the check script, starts and reloads', async () => {
    const t = await apiApp();
    const res = await request(t.app).put('/1.0/vrrp/upload').send(VRRP).expect(200);
    expect(res.headers['etag']).toBe(createHash('md5').update(VRRP).digest('hex'));
    expect(t.runner.calls).toContainEqual(['ip', 'netns', 'exec', 'amphora-haproxy', '/usr/sbin/keepalived', '--config-test', '-f', `${t.paths.vrrpConfig}.new`]);
    expect(statSync(t.paths.vrrpCheckScript).mode & 0o777).toBe(0o755);
    expect((await request(t.app).put('/1.0/vrrp/start').expect(202)).body).toEqual({ message: 'OK', details: 'keepalived started' });
    expect((await request(t.app).put('/1.0/vrrp/start').expect(202)).body.details).toMatch(/unchanged/);
    await request(t.app).put('/1.0/vrrp/upload').send(`${VRRP}# changed\n`).expect(200);
    expect((await request(t.app).put('/1.0/vrrp/reload').expect(202)).body.details).toBe('keepalived reloaded');
    expect((await request(t.app).put('/1.0/vrrp/stop').expect(202)).body.details).toBe('keepalived stopped');
    expect(t.init.calls.filter((c) => /^(start|stop|reload) /.test(c))).toEqual(['start octavia-keepalived', 'reload octavia-keepalived', 'stop octavia-keepalived']);
  });

  it('runs both IPVS sync daemons in the namespace while the VRRP keepalived is wanted (ADR 0011)', async () => {
    const t = await apiApp();
    const daemons = fakeSyncDaemons(t.runner);
    const text = 'vrrp_instance a {\n    interface eth1\n    virtual_router_id 5\n    unicast_src_ip 10.0.0.11\n    unicast_peer {\n        10.0.0.12\n    }\n}\n';
    await request(t.app).put('/1.0/vrrp/upload').send(text).expect(200);
    expect(daemons.size).toBe(0);
    await request(t.app).put('/1.0/vrrp/start').expect(202);
    expect(t.runner.calls).toContainEqual(['ip', 'netns', 'exec', 'amphora-haproxy', '/usr/sbin/ipvsadm', '--start-daemon', 'backup', '--mcast-interface', 'eth1', '--syncid', '5', '--mcast-group', '224.0.0.81']);
    expect([...daemons.keys()]).toEqual(['master', 'backup']);
    await request(t.app).put('/1.0/vrrp/stop').expect(202);
    expect(daemons.size).toBe(0);
  });

  it('refuses a bad VRRP config and unknown actions; acting before an upload is 404', async () => {
    const t = await apiApp();
    await request(t.app).put('/1.0/vrrp/start').expect(404);
    await request(t.app).put('/1.0/vrrp/dance').expect(400);
    t.runner.on(['ip', 'netns', 'exec', 'amphora-haproxy', '/usr/sbin/keepalived', '--config-test'], { exitCode: 5, stderr: 'Non-existent interface specified in configuration' });
    const res = await request(t.app).put('/1.0/vrrp/upload').send(VRRP).expect(400);
    expect(res.body.details).toBe('Non-existent interface specified in configuration');
    expect(existsSync(t.paths.vrrpConfig)).toBe(false);
  });

  it('leaves no unit, config or state behind when the first upload fails after validation', async () => {
    const t = await apiApp();
    t.init.failNextInstall = true;
    await request(t.app).put('/1.0/vrrp/upload').send(VRRP).expect(500);
    expect(existsSync(t.paths.vrrpConfig)).toBe(false);
    expect(t.init.installed.has('octavia-keepalived')).toBe(false);
    expect(t.init.calls).toContain('uninstall octavia-keepalived');
    expect(t.state.current.vrrp).toBeNull();
    await request(t.app).put('/1.0/vrrp/start').expect(404);
  });

  it('keeps the previous config, unit and state when a later upload fails after validation', async () => {
    const t = await apiApp();
    await request(t.app).put('/1.0/vrrp/upload').send(VRRP).expect(200);
    await request(t.app).put('/1.0/vrrp/start').expect(202);
    t.init.failNextInstall = true;
    await request(t.app).put('/1.0/vrrp/upload').send(`${VRRP}# changed\n`).expect(500);
    expect(readFileSync(t.paths.vrrpConfig, 'utf8')).toBe(VRRP);
    expect(t.init.calls).not.toContain('uninstall octavia-keepalived');
    expect((await request(t.app).put('/1.0/vrrp/reload').expect(202)).body.details).toMatch(/unchanged/);
  });
});
