/**
 * API 1.0 haproxy load balancers end to end with the real binaries: configs rendered by
 * Octavia's own templater (python3-octavia's combined-listeners JinjaTemplater) for an HTTP and a
 * TERMINATED_HTTPS listener, certificates made with openssl and uploaded through the API as the
 * controller uploads them (the certificate+key PEM named by its SHA-1, the listener's crt-list),
 * the config uploaded and started by the controller's reload. The agent's services run over the
 * real ExecaRunner and the `direct` init adapter under a temporary root; haproxy runs in a network
 * namespace of the test's own, in front of small HTTP servers started there, and real requests
 * (curl, HTTP and HTTPS with the test CA) go through the VIP. The tests run in order and share one
 * load balancer; each states what it expects from the one before.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { silentLogger } from '../../src/log.js';
import type { Uuid } from '../../src/model/uuid.js';
import { ExecaRunner } from '../../src/system/exec.js';
import type { Paths } from '../../src/system/paths.js';
import { directHaproxyHarness, haproxyMasterPid, haproxyNamespace, removeHaproxyNamespace } from '../support/haproxy-namespace.js';
import { SYSTEM_PYTHON, isGone, isRunning, must, procComm, sh, show, uniqueName, waitFor } from '../support/keepalived-fixture.js';
import { crtList, renderOctaviaHaproxy, type OctaviaHaproxyListener } from '../support/octavia-haproxy.js';
import { tierCanRun } from '../support/requirements.js';

const canRun = tierCanRun('integration: API 1.0 haproxy uploads with certificates, direct supervision', {
  root: true,
  binaries: ['haproxy', 'ip', 'curl', 'openssl'],
  files: ['/usr/sbin/haproxy', SYSTEM_PYTHON, '/usr/lib/python3/dist-packages/octavia/common/jinja/haproxy/combined_listeners/jinja_cfg.py'],
});

const VIP = '203.0.113.10';
const PORT_A = 18181;
const PORT_B = 18182;

const md5 = (data: string) => createHash('md5').update(data).digest('hex');

describe.skipIf(!canRun)('API 1.0 haproxy: Octavia-rendered configs and uploaded certificates, real haproxy', () => {
  const ns = uniqueName('h1');
  const AMP = randomUUID();
  const LB = randomUUID() as Uuid;
  const HTTP_L = randomUUID();
  const TLS_L = randomUUID();
  const log = silentLogger();
  const runner = new ExecaRunner(log, 60_000);
  let dir: string;
  let paths: Paths;
  let app: ReturnType<typeof createApp>;
  let caFile: string;
  /** The certificate and key, as the controller's build_pem joins them, and its file name (its SHA-1). */
  let serverPem: string;
  let certName: string;

  const listeners = (port: number): OctaviaHaproxyListener[] => {
    const members = [{ id: randomUUID(), address: '127.0.0.1', port }];
    // Octavia's default (50000 per listener, global maxconn the sum) makes haproxy raise its file
    // limit past 200000; a host whose hard limit is lower (this sandbox: 20000, and root may not
    // raise it) cannot run that. The reference's unit sets LimitNOFILE=2600000.
    const connection_limit = 2000;
    return [
      { id: HTTP_L, protocol: 'HTTP', port: 80, pool_id: randomUUID(), connection_limit, members },
      { id: TLS_L, protocol: 'TERMINATED_HTTPS', port: 443, pool_id: randomUUID(), connection_limit, members },
    ];
  };
  const render = (port: number) =>
    renderOctaviaHaproxy({ base_path: paths.base, base_cert_dir: `${dir}/octavia/certs`, amphora_id: AMP, lb_id: LB, vip: VIP, listeners: listeners(port) });
  /** The controller's calls: config upload, then reload. */
  const upload = (text: string) => request(app).put(`/1.0/loadbalancer/${AMP}/${LB}/haproxy`).send(text);
  /** The controller's reload; a failure shows the agent's answer (haproxy's output tail). */
  const reload = async () => {
    const res = await request(app).put(`/1.0/loadbalancer/${LB}/reload`);
    expect(res.status, res.text).toBe(202);
    return res;
  };
  const curl = (url: string) => sh('ip', ['netns', 'exec', ns, 'curl', '-sS', '--max-time', '3', '--cacert', caFile, url]);
  /** Both listeners answer with the member's name. */
  const servedBy = async (name: string) => {
    for (const url of [`http://${VIP}/`, `https://${VIP}/`]) {
      const r = await curl(url);
      expect(r.code, `${url}: ${show(r)}`).toBe(0);
      expect(r.stdout, url).toBe(name);
    }
  };
  const masterPid = () => haproxyMasterPid(paths, LB);

  async function makeCertificates(): Promise<void> {
    const o = (...args: string[]) => must('openssl', args);
    const at = (f: string) => join(dir, f);
    await o('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', at('ca.key'), '-out', at('ca.pem'), '-subj', '/CN=haproxy1 test CA', '-days', '2');
    await o('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', at('srv.key'), '-out', at('srv.csr'), '-subj', '/CN=lb.example');
    await writeFile(at('ext.cnf'), `subjectAltName=IP:${VIP}\n`);
    await o('x509', '-req', '-in', at('srv.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at('srv.pem'), '-days', '2', '-extfile', at('ext.cnf'));
    caFile = at('ca.pem');
    const cert = await readFile(at('srv.pem'), 'utf8');
    serverPem = cert + (await readFile(at('srv.key'), 'utf8'));
    certName = `${createHash('sha1').update(cert).digest('hex')}.pem`;
  }

  beforeAll(async () => {
    await haproxyNamespace(ns, VIP, [
      { port: PORT_A, body: 'A', label: 'backend A' },
      { port: PORT_B, body: 'B', label: 'backend B' },
    ]);
    dir = await mkdtemp(join(tmpdir(), 'aat-h1-'));
    await makeCertificates();
    const t = await directHaproxyHarness({ dir, ns, runner, log });
    paths = t.paths;
    app = createApp({ ...t, log });
  });

  afterAll(() => removeHaproxyNamespace(ns, dir));

  it('takes the certificate and the crt-list as the controller uploads them (md5sum first, then PUT)', async () => {
    const list = crtList([paths.certFile(LB, certName)]);
    for (const [name, body] of [[certName, serverPem], [`${TLS_L}.pem`, list]] as const) {
      await request(app).get(`/1.0/loadbalancer/${LB}/certificates/${name}`).expect(404);
      const put = await request(app).put(`/1.0/loadbalancer/${LB}/certificates/${name}`).send(body).expect(200);
      expect(put.headers['etag']).toBe(md5(body));
      expect((await request(app).get(`/1.0/loadbalancer/${LB}/certificates/${name}`).expect(200)).body).toEqual({ md5sum: md5(body) });
    }
  });

  it('installs the Octavia-rendered config without starting it; the controller reload starts haproxy, which serves HTTP and HTTPS', async () => {
    const text = await render(PORT_A);
    expect(text).toMatch(/ssl crt-list \S+\.pem/);
    expect((await upload(text).expect(202)).headers['etag']).toBe(md5(text));
    expect(existsSync(paths.haproxyPidFile(LB))).toBe(false);
    expect((await request(app).get('/1.0/listeners').expect(200)).body).toEqual([
      { status: 'OFFLINE', uuid: HTTP_L, type: 'HTTP' },
      { status: 'OFFLINE', uuid: TLS_L, type: 'TERMINATED_HTTPS' },
    ]);
    expect((await reload()).body.details).toBe(`haproxy daemon for ${LB} started`);
    const pid = await masterPid();
    expect(await procComm(pid)).toBe('haproxy');
    expect((await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')).toEqual(expect.arrayContaining(['-L', '-f', paths.haproxyUserGroupFile]));
    await servedBy('A');
    const listed = (await request(app).get('/1.0/listeners').expect(200)).body as { status: string }[];
    expect(listed.map((l) => l.status)).toEqual(['ACTIVE', 'ACTIVE']);
    const got = await request(app).get(`/1.0/loadbalancer/${LB}/haproxy`).expect(200);
    expect(got.text).toBe(text);
  });

  it('reloads a changed config: the same master, both listeners now served by the new member', async () => {
    const pid = await masterPid();
    await upload(await render(PORT_B)).expect(202);
    // installed only: still the old member until the reload
    await servedBy('A');
    expect((await reload()).body.details).toBe(`haproxy daemon for ${LB} reloaded`);
    expect(await masterPid()).toBe(pid);
    await waitFor('the new worker to serve B', async () => (await curl(`http://${VIP}/`)).stdout === 'B', 15_000);
    await servedBy('B');
  });

  it("refuses a broken config with 400 and haproxy's words; the running config keeps serving", async () => {
    const pid = await masterPid();
    const before = (await request(app).get(`/1.0/loadbalancer/${LB}/haproxy`).expect(200)).text;
    const broken = (await render(PORT_A)).replace(/^(\s+balance roundrobin)$/m, '$1\n    bogus_keyword 42');
    const res = await upload(broken).expect(400);
    expect(res.body.details).toMatch(/unknown keyword 'bogus_keyword'/);
    expect((await request(app).get(`/1.0/loadbalancer/${LB}/haproxy`).expect(200)).text).toBe(before);
    await reload();
    expect(await masterPid()).toBe(pid);
    await servedBy('B');
  });

  it('DELETE /1.0/listeners/{lb} stops haproxy and removes its files and certificates; again is 200', async () => {
    const pid = await masterPid();
    expect((await request(app).delete(`/1.0/listeners/${LB}`).expect(200)).body).toEqual({ message: 'OK' });
    await waitFor(`haproxy ${pid} to be gone`, () => isGone(pid), 15_000);
    expect(await isRunning(pid)).toBe(false);
    for (const f of [paths.haproxyPidFile(LB), paths.haproxyConfig(LB), paths.haproxyStatsSocket(LB), paths.haproxyDir(LB), paths.certDir(LB)]) {
      expect(existsSync(f), f).toBe(false);
    }
    expect((await request(app).get('/1.0/listeners').expect(200)).body).toEqual([]);
    await request(app).delete(`/1.0/listeners/${LB}`).expect(200);
    expect((await curl(`http://${VIP}/`)).code).not.toBe(0);
  });
});
