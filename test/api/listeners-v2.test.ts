/**
 * API 2.0 listener routes over createApp with the fake runner and init (test/support/api-app):
 * the flow (validate, put, get, delete), the answer's rendered text and ETag, 409 on a taken
 * port, and that a refused request installs nothing.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { Uuid } from '../../src/model/uuid.js';
import { apiApp } from '../support/api-app.js';
import { merge, udpListener } from '../support/listener-fixtures.js';

const L1 = 'eeeeeeee-0000-0000-0000-000000000001' as Uuid;
const L2 = 'eeeeeeee-0000-0000-0000-000000000002' as Uuid;
type App = Parameters<typeof request>[0];
const put = (app: App, id: string, body: unknown) => request(app).put(`/2.0/listeners/${id}`).send(JSON.stringify(body));

describe('API 2.0 listeners', () => {
  it('validate renders and checks with keepalived but installs nothing', async () => {
    const t = await apiApp();
    const res = await request(t.app).post(`/2.0/listeners/${L1}/validate`).send(JSON.stringify(udpListener())).expect(200);
    expect(res.body.rendered.kind).toBe('keepalived-lvs');
    expect(res.body.rendered.text).toContain('lb_kind NAT');
    expect(res.headers['etag']).toBe(`"${createHash('md5').update(res.body.rendered.text).digest('hex')}"`);
    expect(t.runner.calls.some((c) => c[0] === '/usr/sbin/keepalived' && c[1] === '--config-test')).toBe(true);
    expect(existsSync(t.paths.lvsConfig(L1))).toBe(false);
    expect(t.init.calls).toEqual([]);
    await request(t.app).get(`/2.0/listeners/${L1}`).expect(404);
  });

  it('PUT installs the rendered config, starts keepalived and GET returns model and text', async () => {
    const t = await apiApp();
    const res = await put(t.app, L1, udpListener()).expect(200);
    const text = readFileSync(t.paths.lvsConfig(L1), 'utf8');
    expect(res.body.rendered).toMatchObject({ kind: 'keepalived-lvs', path: t.paths.lvsConfig(L1), text });
    expect(res.body.listener.connection_limit).toBe(-1);
    expect(t.init.calls).toEqual([`install octavia-keepalivedlvs-${L1} amphora-netns`, `enable octavia-keepalivedlvs-${L1}`, `start octavia-keepalivedlvs-${L1}`]);
    const got = await request(t.app).get(`/2.0/listeners/${L1}`).expect(200);
    expect(got.body).toEqual(res.body);
    expect(got.headers['etag']).toBe(res.headers['etag']);
    expect((await request(t.app).get('/1.0/listeners').expect(200)).body).toEqual([{ status: 'ACTIVE', uuid: L1, type: 'UDP' }]);
  });

  it('a second listener with the same protocol and port on a VIP is a 409; UDP and TCP may share a port', async () => {
    const t = await apiApp();
    await put(t.app, L1, udpListener()).expect(200);
    const res = await put(t.app, L2, merge(udpListener(), { vip_addresses: ['198.51.100.1', '203.0.113.10'] })).expect(409);
    expect(res.body).toMatchObject({ code: 'conflict', details: `UDP port 53 on 203.0.113.10 is already used by listener ${L1}` });
    expect(existsSync(t.paths.lvsConfig(L2))).toBe(false);
    await put(t.app, L2, merge(udpListener(), { protocol_port: 54 })).expect(200);
    await put(t.app, L1, merge(udpListener(), { protocol_port: 54 })).expect(409);
    const sctp = merge(udpListener(), { protocol: 'SCTP', default_pool: { health_monitor: { type: 'SCTP' } } });
    await request(t.app).post(`/2.0/listeners/${L2}/validate`).send(JSON.stringify(merge(sctp, { protocol_port: 53 }))).expect(200);
  });

  it('a 400 lists every violation with its JSON path and leaves the running listener untouched', async () => {
    const t = await apiApp();
    await put(t.app, L1, udpListener()).expect(200);
    const before = readFileSync(t.paths.lvsConfig(L1), 'utf8');
    const calls = t.init.calls.length;
    const bad = merge(udpListener(), { insert_headers: { 'X-Forwarded-For': 'true' }, default_pool: { health_monitor: { timeout: 9, max_retries: 11 } } });
    const res = await put(t.app, L1, bad).expect(400);
    expect(res.body.code).toBe('invalid_input');
    expect(res.body.violations).toEqual([
      { path: '$.insert_headers', message: 'UDP listeners cannot insert headers' },
      { path: '$.default_pool.health_monitor.timeout', message: 'timeout (9) must be less than delay (5)' },
      { path: '$.default_pool.health_monitor.max_retries', message: 'must be from 1 to 10' },
    ]);
    expect(readFileSync(t.paths.lvsConfig(L1), 'utf8')).toBe(before);
    expect(t.init.calls.length).toBe(calls);
  });

  it('DELETE removes the listener, its model and its unit; 1.0 DELETE forgets the model too', async () => {
    const t = await apiApp();
    await put(t.app, L1, udpListener()).expect(200);
    await request(t.app).delete(`/2.0/listeners/${L1}`).expect(200);
    expect(existsSync(t.paths.lvsConfig(L1))).toBe(false);
    await request(t.app).get(`/2.0/listeners/${L1}`).expect(404);
    await request(t.app).delete(`/2.0/listeners/${L1}`).expect(404);
    await put(t.app, L1, udpListener()).expect(200);
    await request(t.app).delete(`/1.0/listeners/${L1}`).expect(200);
    await request(t.app).get(`/2.0/listeners/${L1}`).expect(404);
  });

  it('a disabled listener renders no virtual server; its keepalived runs idle and is listed OFFLINE, not ERROR', async () => {
    const t = await apiApp();
    const res = await put(t.app, L1, merge(udpListener(), { admin_state_up: false })).expect(200);
    expect(res.body.rendered.text).not.toContain('virtual_server');
    expect(t.init.calls).toContain(`start octavia-keepalivedlvs-${L1}`);
    expect((await request(t.app).get('/1.0/listeners').expect(200)).body).toEqual([{ status: 'OFFLINE', uuid: L1, type: 'UDP' }]);
    // enabling it again reloads the running keepalived
    await put(t.app, L1, udpListener()).expect(200);
    expect(t.init.calls.at(-1)).toBe(`reload octavia-keepalivedlvs-${L1}`);
    expect((await request(t.app).get('/1.0/listeners').expect(200)).body).toEqual([{ status: 'ACTIVE', uuid: L1, type: 'UDP' }]);
  });

  it('refuses a body that is not JSON, and an id that is not a UUID', async () => {
    const t = await apiApp();
    expect((await request(t.app).put(`/2.0/listeners/${L1}`).send('{').expect(400)).body.details).toMatch(/not JSON/);
    await put(t.app, 'nope', udpListener()).expect(400);
  });
});

const tcpListener = (extra: Record<string, unknown> = {}) =>
  merge(udpListener(), {
    protocol: 'TCP',
    default_pool: { health_monitor: { type: 'TCP' } },
    ...extra,
  });

describe('API 2.0 listeners rendered into haproxy', () => {
  it('TCP and HTTP listeners of one load balancer share one haproxy config; a TCP and a UDP listener may share a port', async () => {
    const t = await apiApp();
    await put(t.app, L1, udpListener()).expect(200);
    const tcp = await put(t.app, L2, tcpListener()).expect(200);
    const lb = udpListener()['loadbalancer_id'] as Uuid;
    expect(tcp.body.rendered).toMatchObject({ kind: 'haproxy', path: t.paths.haproxyConfig(lb) });
    expect(tcp.body.rendered.text).toContain(`frontend ${L2}`);
    // the fake init started haproxy: its listener is listed next to the LVS one
    expect((await request(t.app).get('/1.0/listeners').expect(200)).body).toEqual([
      { status: 'ACTIVE', uuid: L1, type: 'UDP' },
      { status: 'ACTIVE', uuid: L2, type: 'TCP' },
    ]);
    expect(t.runner.calls).toContainEqual(['/usr/sbin/haproxy', '-c', '-f', `${t.paths.haproxyConfig(lb)}.new`]);
    const L3 = 'eeeeeeee-0000-0000-0000-000000000003';
    const http = await put(t.app, L3, merge(tcpListener({ protocol: 'HTTP', protocol_port: 80 }), { default_pool: { id: 'bbbbbbbb-0000-0000-0000-000000000003' } })).expect(200);
    expect(http.body.rendered.text).toContain(`frontend ${L2}`);
    expect(http.body.rendered.text).toContain(`frontend ${L3}`);
    expect(readFileSync(t.paths.haproxyConfig(lb), 'utf8')).toBe(http.body.rendered.text);
    // HTTP binds a TCP socket too
    await put(t.app, 'eeeeeeee-0000-0000-0000-000000000004', tcpListener({ protocol: 'HTTP' })).expect(409);
    // deleting one frontend keeps the other; deleting the last removes haproxy
    await request(t.app).delete(`/2.0/listeners/${L3}`).expect(200);
    const left = readFileSync(t.paths.haproxyConfig(lb), 'utf8');
    expect(left).toContain(`frontend ${L2}`);
    expect(left).not.toContain(`frontend ${L3}`);
    expect((await request(t.app).get(`/2.0/listeners/${L2}`).expect(200)).body.rendered.text).toBe(left);
    await request(t.app).delete(`/1.0/listeners/${L2}`).expect(200);
    expect(existsSync(t.paths.haproxyConfig(lb))).toBe(false);
    expect(existsSync(t.paths.lvsConfig(L1))).toBe(true);
  });

  it('PUT /1.0/loadbalancer/{lb}/{action} stops, starts and reloads the haproxy of a load balancer made through 2.0', async () => {
    const t = await apiApp();
    const lb = udpListener()['loadbalancer_id'] as Uuid;
    await put(t.app, L2, tcpListener()).expect(200);
    const unit = `haproxy-${lb}`;
    expect((await request(t.app).put(`/1.0/loadbalancer/${lb}/stop`).expect(202)).body.details).toBe(`haproxy daemon for ${lb} stopped`);
    expect(t.init.calls.at(-1)).toBe(`stop ${unit}`);
    expect(readFileSync(t.paths.haproxyLivenessCheckScript, 'utf8')).not.toContain(lb);
    expect((await request(t.app).get('/1.0/listeners').expect(200)).body).toEqual([{ status: 'OFFLINE', uuid: L2, type: 'TCP' }]);
    expect((await request(t.app).put(`/1.0/loadbalancer/${lb}/start`).expect(202)).body.details).toBe(`haproxy daemon for ${lb} started`);
    expect(readFileSync(t.paths.haproxyLivenessCheckScript, 'utf8')).toContain(lb);
    expect((await request(t.app).put(`/1.0/loadbalancer/${lb}/reload`).expect(202)).body.details).toBe(`haproxy daemon for ${lb} reloaded`);
    expect(t.init.calls.at(-1)).toBe(`reload ${unit}`);
    await request(t.app).put('/1.0/loadbalancer/aaaaaaaa-0000-0000-0000-00000000ffff/reload').expect(404);
  });

  it('a listener that changes protocol moves from keepalived to haproxy and back', async () => {
    const t = await apiApp();
    const lb = udpListener()['loadbalancer_id'] as Uuid;
    await put(t.app, L1, udpListener()).expect(200);
    await put(t.app, L1, tcpListener()).expect(200);
    expect(existsSync(t.paths.lvsConfig(L1))).toBe(false);
    expect(readFileSync(t.paths.haproxyConfig(lb), 'utf8')).toContain(`frontend ${L1}`);
    await put(t.app, L1, udpListener()).expect(200);
    expect(existsSync(t.paths.haproxyConfig(lb))).toBe(false);
    expect(readFileSync(t.paths.lvsConfig(L1), 'utf8')).toContain('protocol UDP');
  });

  it('a config haproxy refuses is a 400 with its words, and the running one stays', async () => {
    const t = await apiApp();
    const lb = udpListener()['loadbalancer_id'] as Uuid;
    await put(t.app, L2, tcpListener()).expect(200);
    const before = readFileSync(t.paths.haproxyConfig(lb), 'utf8');
    t.runner.on(['/usr/sbin/haproxy', '-c'], { exitCode: 1, stderr: "[ALERT] (1) : config : parsing [x.cfg:3] : unknown keyword 'bogus'\n" });
    const res = await put(t.app, L2, tcpListener({ protocol_port: 81 })).expect(400);
    expect(res.body.details).toContain("unknown keyword 'bogus'");
    expect(readFileSync(t.paths.haproxyConfig(lb), 'utf8')).toBe(before);
    expect((await request(t.app).get(`/2.0/listeners/${L2}`).expect(200)).body.listener.protocol_port).toBe(53);
  });
});
