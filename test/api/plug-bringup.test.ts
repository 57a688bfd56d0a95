/**
 * @module test/api/plug-bringup
 * plug vip / plug network over supertest through the production wiring, with a FakeRunner
 * scripted as a small stateful network (test/support/plug-network.ts). Proves the order and
 * content of what the agent runs: an `is_sriov` plug loads the SR-IOV VIP firewall (base ruleset
 * written 0600, `nft -o -f` in the namespace) before the link goes up and its masquerade has no
 * TCP notrack, a plain one does neither; a re-plug that adds a VIP to the up link sets its MAC
 * to itself (the kernel's announcement); a MAC no NIC has pokes `<sys_dir>/bus/pci/rescan`
 * (best effort: the answer stays the 404); the NICs holding bind_host or the default route
 * are a 409 with nothing moved or written.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { renderBaseRules } from '../../src/render/nft-rules.js';
import { apiApp } from '../support/api-app.js';
import { nic, scriptNetwork, type FakeNetwork } from '../support/plug-network.js';

const MAC = 'fa:16:3e:00:00:01';
const BODY = { subnet_cidr: '203.0.113.0/24', gateway: '203.0.113.1', mac_address: MAC, vrrp_ip: '203.0.113.7' };

async function setup(network: Partial<FakeNetwork> = {}, extraConfig = '') {
  const api = await apiApp(extraConfig);
  const net: FakeNetwork = { home: [nic('ens3', MAC)], inside: [nic('lo', '00:00:00:00:00:00')], homeDefault: { '-4': [], '-6': [] }, ...network };
  scriptNetwork(api.runner, net);
  const index = (prefix: string[]) => api.runner.calls.findIndex((argv) => prefix.every((p, i) => argv.slice(4)[i] === p));
  const masqueradeInput = () => api.runner.runs.filter((r) => r.argv.slice(4).join(' ') === 'nft -f -').map((r) => r.input ?? '').join('');
  return { ...api, net, index, masqueradeInput };
}

describe('plug: the SR-IOV VIP firewall and masquerade', () => {
  it('plug vip with is_sriov: base ruleset written 0600 and loaded before eth1 goes up; no TCP notrack', async () => {
    const { app, paths, index, masqueradeInput } = await setup();
    const res = await request(app).post('/1.0/plug/vip/203.0.113.5').send({ ...BODY, is_sriov: true });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(readFileSync(paths.nftRulesFile, 'utf8')).toBe(renderBaseRules());
    expect(statSync(paths.nftRulesFile).mode & 0o777).toBe(0o600);
    const load = index(['/usr/sbin/nft', '-o', '-f', paths.nftRulesFile]);
    expect(load).toBeGreaterThanOrEqual(0);
    expect(load).toBeLessThan(index(['/sbin/ip', 'link', 'set', 'dev', 'eth1', 'up']));
    expect(masqueradeInput()).toContain('oifname "eth1" meta l4proto udp masquerade');
    expect(masqueradeInput()).not.toContain('notrack');
  });

  it('plug network with is_sriov: the firewall is loaded before eth2 goes up', async () => {
    const { app, paths, index, masqueradeInput } = await setup({ home: [nic('ens4', 'fa:16:3e:00:00:02')] });
    const res = await request(app).post('/1.0/plug/network').send({ mac_address: 'fa:16:3e:00:00:02', fixed_ips: [{ ip_address: '198.51.100.10', subnet_cidr: '198.51.100.0/24' }], is_sriov: true });
    expect(res.body).toEqual({ message: 'OK', details: 'Plugged on interface eth2' });
    const load = index(['/usr/sbin/nft', '-o', '-f', paths.nftRulesFile]);
    expect(load).toBeGreaterThanOrEqual(0);
    expect(load).toBeLessThan(index(['/sbin/ip', 'link', 'set', 'dev', 'eth2', 'up']));
    expect(masqueradeInput()).not.toContain('notrack');
  });

  it('a first SR-IOV plug whose bring-up fails leaves no base ruleset: file removed, table deleted', async () => {
    const { app, runner, paths, index } = await setup();
    runner.on(['/sbin/ip', 'link', 'set', 'dev', 'eth1', 'up'], { exitCode: 2, stderr: 'RTNETLINK answers: Invalid argument' });
    const res = await request(app).post('/1.0/plug/vip/203.0.113.5').send({ ...BODY, is_sriov: true });
    expect(res.status).toBe(500);
    expect(index(['/usr/sbin/nft', '-o', '-f', paths.nftRulesFile])).toBeGreaterThanOrEqual(0);
    expect(index(['/usr/sbin/nft', 'delete', 'table', 'inet', 'amphora_table'])).toBeGreaterThan(index(['/usr/sbin/nft', '-o', '-f', paths.nftRulesFile]));
    expect(existsSync(paths.nftRulesFile)).toBe(false);
  });

  it('a failed SR-IOV plug keeps a ruleset it did not write (the controller’s rules stay)', async () => {
    const { app, runner, paths, index } = await setup();
    mkdirSync(join(paths.nftRulesFile, '..'), { recursive: true });
    writeFileSync(paths.nftRulesFile, '# rules the controller sent\n', { mode: 0o600 });
    runner.on(['/sbin/ip', 'link', 'set', 'dev', 'eth1', 'up'], { exitCode: 2, stderr: 'RTNETLINK answers: Invalid argument' });
    expect((await request(app).post('/1.0/plug/vip/203.0.113.5').send({ ...BODY, is_sriov: true })).status).toBe(500);
    expect(readFileSync(paths.nftRulesFile, 'utf8')).toBe('# rules the controller sent\n');
    expect(index(['/usr/sbin/nft', 'delete'])).toBe(-1);
  });

  it('a plain plug vip loads no firewall and keeps TCP notrack', async () => {
    const { app, paths, index, masqueradeInput } = await setup();
    expect((await request(app).post('/1.0/plug/vip/203.0.113.5').send(BODY)).status).toBe(202);
    expect(index(['/usr/sbin/nft'])).toBe(-1);
    expect(existsSync(paths.nftRulesFile)).toBe(false);
    expect(masqueradeInput()).toContain('iifname "eth1" meta l4proto tcp notrack');
  });
});

describe('plug: re-plug of an up link that adds a VIP', () => {
  it('sets the link’s MAC to itself after adding the address (GARP / NA), and not when nothing was added', async () => {
    const { app, runner } = await setup();
    expect((await request(app).post('/1.0/plug/vip/203.0.113.5').send(BODY)).status).toBe(202);
    const poke = ['ip', 'netns', 'exec', 'amphora-haproxy', '/sbin/ip', 'link', 'set', 'dev', 'eth1', 'address', MAC];
    expect(runner.calls).not.toContainEqual(poke);
    const { mac_address: _m, ...vipNet } = BODY;
    const body = { mac_address: MAC, vip_net_info: { ...vipNet, vip: '203.0.113.5', additional_vips: [{ ip_address: '203.0.113.6', subnet_cidr: '203.0.113.0/24', gateway: '203.0.113.1' }] } };
    const res = await request(app).post('/1.0/plug/network').send(body);
    expect(res.body).toEqual({ message: 'OK', details: 'Updated existing interface eth1' });
    const added = runner.calls.findIndex((c) => c.join(' ').endsWith('addr add 203.0.113.6/32 dev eth1'));
    expect(added).toBeGreaterThanOrEqual(0);
    expect(runner.calls.findIndex((c) => c.join(' ') === poke.join(' '))).toBeGreaterThan(added);
    const pokes = () => runner.calls.filter((c) => c.join(' ') === poke.join(' ')).length;
    expect(pokes()).toBe(1);
    // the same request again adds nothing, so announces nothing
    expect((await request(app).post('/1.0/plug/network').send(body)).status).toBe(202);
    expect(pokes()).toBe(1);
  });
});

describe('plug: no NIC with that MAC', () => {
  it('writes 1 into <sys_dir>/bus/pci/rescan, then answers the 404', async () => {
    const { app, root } = await setup({ home: [] });
    const rescan = join(root, 'sys', 'bus', 'pci', 'rescan');
    mkdirSync(join(rescan, '..'), { recursive: true });
    writeFileSync(rescan, '');
    const res = await request(app).post('/1.0/plug/vip/203.0.113.5').send(BODY);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ details: 'No suitable network interface found' });
    expect(readFileSync(rescan, 'utf8')).toBe('1');
  });

  it('no rescan file: none is created, and a rescan that fails still answers the 404', async () => {
    const { app, root } = await setup({ home: [] });
    const rescan = join(root, 'sys', 'bus', 'pci', 'rescan');
    expect((await request(app).post('/1.0/plug/network').send({ mac_address: MAC })).status).toBe(404);
    expect(existsSync(rescan)).toBe(false);
    mkdirSync(rescan, { recursive: true }); // a directory: the write fails (EISDIR)
    const res = await request(app).post('/1.0/plug/vip/203.0.113.5').send(BODY);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ details: 'No suitable network interface found' });
  });
});

/** Interface files other than lo.json, which the agent writes whenever it makes the namespace (plug_lo). */
const pluggedFiles = (root: string) => (existsSync(join(root, 'interfaces')) ? readdirSync(join(root, 'interfaces')).filter((f) => f !== 'lo.json') : []);

describe('plug: the agent’s own lifeline is never moved', () => {
  const mgmt = () => nic('ens3', MAC, [{ family: 'inet', local: '198.51.100.9', prefixlen: 24, scope: 'global' }]);

  it('the NIC holding bind_host: 409, nothing moved, no file, no plugged line', async () => {
    const { app, net, root, paths } = await setup({ home: [mgmt()] }, '[haproxy_amphora]\nbind_host = 198.51.100.9\n');
    const res = await request(app).post('/1.0/plug/vip/203.0.113.5').send(BODY);
    expect(res.status).toBe(409);
    expect(res.body.message).toBe('Interface ens3 holds 198.51.100.9, the address the amphora agent listens on: it is not moved into the amphora namespace');
    expect(net.home.map((n) => n.ifname)).toEqual(['ens3']);
    expect(pluggedFiles(root)).toEqual([]);
    expect(existsSync(paths.nftRulesFile)).toBe(false);
    expect(existsSync(join(root, 'lib', 'plugged_interfaces'))).toBe(false);
  });

  it('a wildcard bind_host names no NIC: the NIC without the default route is plugged', async () => {
    const { app, net } = await setup({ home: [mgmt()] }, '[haproxy_amphora]\nbind_host = 0.0.0.0\n');
    expect((await request(app).post('/1.0/plug/vip/203.0.113.5').send(BODY)).status).toBe(202);
    expect(net.inside.map((n) => n.ifname)).toContain('eth1');
  });

  it('the NIC of the default route (IPv6 too): 409 for plug network, nothing moved', async () => {
    const { app, net, root } = await setup({ home: [nic('ens3', MAC)], homeDefault: { '-4': [], '-6': ['ens3'] } });
    const res = await request(app).post('/1.0/plug/network').send({ mac_address: MAC.toUpperCase(), fixed_ips: null });
    expect(res.status).toBe(409);
    expect(res.body.message).toBe("Interface ens3 carries the default route of the amphora agent's own namespace: it is not moved into the amphora namespace");
    expect(net.home.map((n) => n.ifname)).toEqual(['ens3']);
    expect(pluggedFiles(root)).toEqual([]);
  });
});
