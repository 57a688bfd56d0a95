/**
 * @module test/api/plug
 * POST /1.0/plug/vip/{vip} and /1.0/plug/network over supertest with a FakeRunner: the
 * reference's answers for bad bodies (framework 400, Invalid VIP, Invalid VRRP Address, Invalid
 * network port), the retryable 404 with no message key, the 409 for a MAC already inside, and
 * that none of them writes an interface file or a plugged_interfaces line (api-app points
 * agent_server_network_dir and plugged_interfaces_file under the test root; the check is shown
 * to fail when a file is there).
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { apiApp } from '../support/api-app.js';

const BODY = { subnet_cidr: '203.0.113.0/24', gateway: '203.0.113.1', mac_address: 'fa:16:3e:00:00:01', vrrp_ip: '203.0.113.7' };
const link = (ifname: string, address: string) => ({ ifname, address, mtu: 1500, flags: ['BROADCAST'] });

async function setup(inside: object[] = [], home: object[] = []) {
  const api = await apiApp();
  api.runner.on(['/sbin/ip', '-j', 'link', 'show'], (_argv, options) => ({ stdout: JSON.stringify(options.netns ? inside : home) }));
  return api;
}

/** No interface file of the plug in agent_server_network_dir and no plugged_interfaces file. */
async function nothingWritten(root: string): Promise<void> {
  const files = async (dir: string) => readdir(dir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(err)));
  // lo.json is plug_lo's, written whenever the agent makes the namespace (boot restore), not the plug's
  expect((await files(join(root, 'interfaces'))).filter((f) => f !== 'lo.json')).toEqual([]);
  expect(await files(join(root, 'lib'))).not.toContain('plugged_interfaces');
}

describe('plug API answers', () => {
  it.each([
    ['not JSON', 'nope'],
    ['a JSON list', '[]'],
    ['no gateway key', JSON.stringify({ subnet_cidr: BODY.subnet_cidr, mac_address: BODY.mac_address })],
    ['a MAC that is not one', JSON.stringify({ ...BODY, mac_address: 'lo' })],
  ])('plug vip with %s: the framework 400', async (_what, body) => {
    const { app, root } = await setup();
    const res = await request(app).post('/1.0/plug/vip/203.0.113.5').set('Content-Type', 'application/json').send(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: '400 Bad Request: Invalid subnet information', http_code: 400 });
    await nothingWritten(root);
  });

  it('bad VIP, subnet and vrrp_ip: the reference’s messages', async () => {
    const { app } = await setup();
    const vip = await request(app).post('/1.0/plug/vip/203.0.113.500').send(BODY);
    expect(vip.status).toBe(400);
    expect(vip.body.message).toMatch(/^Invalid VIP: /);
    const subnet = await request(app).post('/1.0/plug/vip/203.0.113.5').send({ ...BODY, subnet_cidr: '203.0.113.1/24' });
    expect(subnet.body.message).toBe('Invalid VIP: 203.0.113.1/24 has host bits set');
    const vrrp = await request(app).post('/1.0/plug/vip/203.0.113.5').send({ ...BODY, vrrp_ip: 'x' });
    expect(vrrp.status).toBe(400);
    expect(vrrp.body.message).toMatch(/^Invalid VRRP Address: /);
  });

  it('no NIC with that MAC: 404 with only `details`, which the controller retries on', async () => {
    const { app, root } = await setup([link('lo', '00:00:00:00:00:00')], [link('eth0', 'fa:16:3e:99:99:99')]);
    const res = await request(app).post('/1.0/plug/vip/203.0.113.5').send(BODY);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ details: 'No suitable network interface found' });
    await nothingWritten(root);
  });

  it('the MAC already inside the namespace (any case): 409', async () => {
    const { app, root } = await setup([link('eth1', 'fa:16:3e:00:00:01')]);
    const res = await request(app).post('/1.0/plug/vip/203.0.113.5').send({ ...BODY, mac_address: 'FA:16:3E:00:00:01' });
    expect(res.status).toBe(409);
    expect(res.body.message).toBe('Interface already exists');
    await nothingWritten(root);
  });

  it.each([
    ['no MAC', {}],
    ['a null MAC', { mac_address: null, fixed_ips: [] }],
  ])('plug network with %s: the framework 400, never a 500', async (_what, body) => {
    const { app, root } = await setup();
    const res = await request(app).post('/1.0/plug/network').send(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: '400 Bad Request: Invalid port information', http_code: 400 });
    await nothingWritten(root);
  });

  it('plug network with an unparsable fixed IP: Invalid network port', async () => {
    const { app, root } = await setup();
    const res = await request(app).post('/1.0/plug/network').send({ mac_address: 'fa:16:3e:00:00:02', fixed_ips: [{ ip_address: 'x', subnet_cidr: '198.51.100.0/24' }] });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('Invalid network port');
    await nothingWritten(root);
  });

  it('the "nothing written" check fails when an interface file or the plugged file is there', async () => {
    const { root } = await setup();
    await nothingWritten(root);
    await mkdir(join(root, 'interfaces'), { recursive: true });
    await writeFile(join(root, 'interfaces', 'eth1.json'), '{}');
    await expect(nothingWritten(root)).rejects.toThrow();
    const other = await setup();
    await mkdir(join(other.root, 'lib'), { recursive: true });
    await writeFile(join(other.root, 'lib', 'plugged_interfaces'), 'fa:16:3e:00:00:01 eth1\n');
    await expect(nothingWritten(other.root)).rejects.toThrow();
  });
});
