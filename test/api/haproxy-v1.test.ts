/**
 * API 1.0 haproxy load balancers with a FakeRunner and FakeInit (the real ones: test/integration/
 * haproxy-v1.test.ts): the controller's combined config uploaded, read back, started by the
 * controller's reload, listed, refused without harm, and deleted with its certificates.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { Uuid } from '../../src/model/uuid.js';
import { apiApp } from '../support/api-app.js';

const AMP = '11111111-2222-3333-4444-555555555555';
/** haproxyPeerName(AMP), as the contract gives it. */
const PEER = 'l9IvhlJXHEKslNZJNrp406vOEoI';
const LB = 'aaaaaaaa-0000-4000-8000-000000000001' as Uuid;
const HTTP_L = 'eeeeeeee-0000-4000-8000-000000000001';
const TLS_L = 'eeeeeeee-0000-4000-8000-000000000002';
const TCP_L = 'eeeeeeee-0000-4000-8000-000000000003';

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/** What an older controller sends: a group line in global, which the agent takes out. */
const config = (port = 80) => `# Configuration for loadbalancer ${LB}
global
    daemon
    user nobody
    group nogroup
    stats socket /var/lib/octavia/${LB}.sock mode 0666 level user

defaults
    log global

frontend ${HTTP_L}
    bind 203.0.113.10:${port}
    mode http
    default_backend pool:${HTTP_L}

frontend ${TLS_L}
    bind 203.0.113.10:443 ssl crt-list /var/lib/octavia/certs/${LB}/${TLS_L}.pem
    mode http

frontend ${TCP_L}
    bind 203.0.113.10:22
    mode tcp

backend pool:${HTTP_L}
    mode http
    server m1 192.0.2.11:80 weight 1
`;
const stored = (port = 80) => config(port).replace('    group nogroup\n', '');

type App = Parameters<typeof request>[0];
/** The controller sends config uploads with no Content-Type. */
const upload = (app: App, body: string, lb: string = LB, amp = AMP) => request(app).put(`/1.0/loadbalancer/${amp}/${lb}/haproxy`).send(body);

const listeners = (status: string) => [
  { status, uuid: HTTP_L, type: 'HTTP' },
  { status, uuid: TLS_L, type: 'TERMINATED_HTTPS' },
  { status, uuid: TCP_L, type: 'TCP' },
];

describe('PUT /1.0/loadbalancer/{amp}/{lb}/haproxy', () => {
  it('validates as the reference does, stores the config without group lines and installs the unit, without starting it', async () => {
    const t = await apiApp();
    const body = config();
    const res = await upload(t.app, body).expect(202);
    expect(res.body).toEqual({ message: 'OK' });
    expect(res.headers['etag']).toBe(md5(body));
    const cfg = t.paths.haproxyConfig(LB);
    expect(readFileSync(cfg, 'utf8')).toBe(stored());
    expect(statSync(cfg).mode & 0o777).toBe(0o600);
    const ug = t.paths.haproxyUserGroupFile;
    expect(t.runner.calls).toContainEqual(['/usr/sbin/haproxy', '-c', '-L', PEER, '-f', `${cfg}.new`, '-f', ug]);
    // the image had none: Debian's
    expect(readFileSync(ug, 'utf8')).toBe('global\n    group nogroup\n');
    expect(t.init.calls).toEqual([`install haproxy-${LB} amphora-netns`, `enable haproxy-${LB}`]);
    const unit = t.init.installed.get(`haproxy-${LB}`);
    expect(unit?.argv.slice(4)).toEqual(['/usr/sbin/haproxy', '-W', '-db', '-f', cfg, '-f', ug, '-L', PEER, '-p', t.paths.haproxyPidFile(LB)]);
    expect(existsSync(t.paths.haproxyPidFile(LB))).toBe(false);
    expect((await request(t.app).get('/1.0/listeners').expect(200)).body).toEqual(listeners('OFFLINE'));
  });

  it("keeps the image's user-group file", async () => {
    const t = await apiApp();
    mkdirSync(dirname(t.paths.haproxyUserGroupFile), { recursive: true });
    writeFileSync(t.paths.haproxyUserGroupFile, 'global\n\tgroup haproxy\n');
    await upload(t.app, config()).expect(202);
    expect(readFileSync(t.paths.haproxyUserGroupFile, 'utf8')).toBe('global\n\tgroup haproxy\n');
  });

  it("refuses a config haproxy rejects with 400 and haproxy's output; the running haproxy, its config and unit stay", async () => {
    const t = await apiApp();
    await upload(t.app, config()).expect(202);
    await request(t.app).put(`/1.0/loadbalancer/${LB}/reload`).expect(202);
    const pid = readFileSync(t.paths.haproxyPidFile(LB), 'utf8');
    const calls = t.init.calls.length;
    t.runner.on(['/usr/sbin/haproxy', '-c'], { exitCode: 1, stdout: "[ALERT]    (1) : config : parsing [x:3] : unknown keyword 'bogus'\n" });
    const broken = `${config(8080)}    bogus 1\n`;
    const res = await upload(t.app, broken).expect(400);
    expect(res.body).toMatchObject({ message: 'Invalid request', details: "[ALERT]    (1) : config : parsing [x:3] : unknown keyword 'bogus'" });
    expect(readFileSync(t.paths.haproxyConfig(LB), 'utf8')).toBe(stored());
    expect(readFileSync(`${t.paths.haproxyConfig(LB)}.new-failed`, 'utf8')).toContain('bogus 1');
    expect(t.init.calls.slice(calls)).toEqual([]);
    expect(readFileSync(t.paths.haproxyPidFile(LB), 'utf8')).toBe(pid);
    expect((await request(t.app).get('/1.0/listeners')).body).toEqual(listeners('ACTIVE'));
  });

  it('creates nothing listed or startable when a new load balancer is refused', async () => {
    const t = await apiApp();
    t.runner.on(['/usr/sbin/haproxy', '-c'], { exitCode: 1, stdout: '[ALERT] bad' });
    await upload(t.app, config()).expect(400);
    expect((await request(t.app).get('/1.0/listeners')).body).toEqual([]);
    await request(t.app).get(`/1.0/loadbalancer/${LB}/haproxy`).expect(404);
    await request(t.app).put(`/1.0/loadbalancer/${LB}/reload`).expect(404);
    expect(t.init.calls).toEqual([]);
  });

  it('refuses an empty body and ids that are not UUIDs with 400', async () => {
    const t = await apiApp();
    expect((await upload(t.app, '').expect(400)).body).toMatchObject({ message: 'Invalid request' });
    expect((await upload(t.app, config(), 'not-a-uuid').expect(400)).body.details).toMatch(/load balancer id must be a UUID/);
    expect((await upload(t.app, config(), LB, '../x').expect(404)).body).toMatchObject({ http_code: 404 });
    expect((await upload(t.app, config(), LB, 'amp').expect(400)).body.details).toMatch(/amphora id must be a UUID/);
    expect(t.init.calls).toEqual([]);
  });
});

describe('GET /1.0/loadbalancer/{lb}/haproxy', () => {
  it('answers the stored config as text with the MD5 of the stored file', async () => {
    const t = await apiApp();
    await upload(t.app, config()).expect(202);
    const res = await request(t.app).get(`/1.0/loadbalancer/${LB}/haproxy`).expect(200);
    expect(res.text).toBe(stored());
    expect(res.headers['content-type']).toMatch(/^text\/plain; charset=utf-8$/i);
    // not the upload's ETag: the group line went
    expect(res.headers['etag']).toBe(md5(stored()));
    expect(res.headers['etag']).not.toBe(md5(config()));
  });

  it("answers 404 in the reference's words for an unknown load balancer", async () => {
    const t = await apiApp();
    const res = await request(t.app).get(`/1.0/loadbalancer/${LB}/haproxy`).expect(404);
    expect(res.body).toMatchObject({ message: 'Loadbalancer Not Found', details: `No loadbalancer with UUID: ${LB}` });
  });
});

describe('the controller reload after an upload', () => {
  it('starts a stopped haproxy, then reloads it; the listeners turn ACTIVE and the VRRP check watches it', async () => {
    const t = await apiApp();
    await upload(t.app, config()).expect(202);
    const started = await request(t.app).put(`/1.0/loadbalancer/${LB}/reload`).expect(202);
    expect(started.body).toEqual({ message: 'OK', details: `haproxy daemon for ${LB} started` });
    expect(t.init.calls.slice(-1)).toEqual([`start haproxy-${LB}`]);
    expect((await request(t.app).get('/1.0/listeners')).body).toEqual(listeners('ACTIVE'));
    expect((await request(t.app).get('/1.0/details')).body.listeners).toEqual([HTTP_L, TLS_L, TCP_L]);
    expect(readFileSync(t.paths.haproxyLivenessCheckScript, 'utf8')).toContain(t.paths.haproxyPidFile(LB));

    await upload(t.app, config(8080)).expect(202);
    // installed only: the running haproxy still runs the old one until the reload
    expect(t.init.calls.slice(-2)).toEqual([`install haproxy-${LB} amphora-netns`, `enable haproxy-${LB}`]);
    const reloaded = await request(t.app).put(`/1.0/loadbalancer/${LB}/reload`).expect(202);
    expect(reloaded.body.details).toBe(`haproxy daemon for ${LB} reloaded`);
    expect(t.init.calls.slice(-1)).toEqual([`reload haproxy-${LB}`]);
  });

  it('lists a crashed haproxy that should run as ERROR', async () => {
    const t = await apiApp();
    await upload(t.app, config()).expect(202);
    await request(t.app).put(`/1.0/loadbalancer/${LB}/start`).expect(202);
    t.init.crash(t.specs.haproxy(LB));
    expect((await request(t.app).get('/1.0/listeners')).body).toEqual(listeners('ERROR'));
  });

  it('answers 500 with the exit status and the log tail as soon as the init adapter reports that haproxy exited before writing its pid file', async () => {
    // a ready timeout far longer than the test may run: only the reported exit can end the wait
    const t = await apiApp('process_ready_timeout = 3600\n');
    await upload(t.app, config()).expect(202);
    t.init.exitOnNextStart = { exitCode: 1, signal: null };
    const res = await request(t.app).put(`/1.0/loadbalancer/${LB}/reload`).expect(500);
    expect(res.body.message).toBe(`haproxy-${LB} exited during start (exit code 1)`);
    expect(res.body.details).toContain('Cannot raise FD limit to 200029, limit is 20000.');
    expect(existsSync(t.paths.haproxyPidFile(LB))).toBe(false);
    // the upload stays installed for the next reload, which starts it
    expect(readFileSync(t.paths.haproxyConfig(LB), 'utf8')).toBe(stored());
    await request(t.app).put(`/1.0/loadbalancer/${LB}/reload`).expect(202);
    expect((await request(t.app).get('/1.0/listeners')).body).toEqual(listeners('ACTIVE'));
  }, 15_000);
});

describe('DELETE /1.0/listeners/{lb} for an uploaded load balancer', () => {
  it('stops haproxy and removes its unit, config, pid file, certificates and state; again is 200', async () => {
    const t = await apiApp();
    await upload(t.app, config()).expect(202);
    await request(t.app).put(`/1.0/loadbalancer/${LB}/reload`).expect(202);
    await request(t.app).put(`/1.0/loadbalancer/${LB}/certificates/${TLS_L}.pem`).send('PEM').expect(200);
    t.init.calls.length = 0;
    expect((await request(t.app).delete(`/1.0/listeners/${LB}`).expect(200)).body).toEqual({ message: 'OK' });
    expect(t.init.calls).toEqual([`stop haproxy-${LB}`, `disable haproxy-${LB}`, `uninstall haproxy-${LB}`]);
    for (const f of [t.paths.haproxyConfig(LB), t.paths.haproxyPidFile(LB), t.paths.haproxyDir(LB), t.paths.certDir(LB)]) expect(existsSync(f), f).toBe(false);
    expect(t.state.current.loadBalancers).toEqual({});
    expect((await request(t.app).get('/1.0/listeners')).body).toEqual([]);
    expect(readFileSync(t.paths.haproxyLivenessCheckScript, 'utf8')).not.toContain(LB);
    await request(t.app).get(`/1.0/loadbalancer/${LB}/haproxy`).expect(404);
    expect((await request(t.app).delete(`/1.0/listeners/${LB}`).expect(200)).body).toEqual({ message: 'OK' });
  });

  it('removes a crashed one (stale pid file) and a never-started one', async () => {
    const t = await apiApp();
    await upload(t.app, config()).expect(202);
    await request(t.app).put(`/1.0/loadbalancer/${LB}/start`).expect(202);
    t.init.crash(t.specs.haproxy(LB));
    await request(t.app).delete(`/1.0/listeners/${LB}`).expect(200);
    expect(existsSync(t.paths.haproxyPidFile(LB))).toBe(false);
    const other = 'aaaaaaaa-0000-4000-8000-000000000002';
    await upload(t.app, config(), other).expect(202);
    await request(t.app).delete(`/1.0/listeners/${other}`).expect(200);
    expect(existsSync(t.paths.haproxyDir(other as Uuid))).toBe(false);
    expect(t.state.current.loadBalancers).toEqual({});
  });
});
