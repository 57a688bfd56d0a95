/**
 * @module test/integration/plug
 * plug vip and plug network with real `ip`, `nft` and veth pairs, as root. The agent's network
 * services run in-process over the real ExecaRunner; their "default namespace" is a namespace
 * this test creates (`home`): every command the agent would run in its own namespace is run
 * there (`inHome` below places it, nothing else changes), and the amphora namespace has a
 * unique name. veth pairs stand in for Neutron ports: the port's MAC on the `home` side, the
 * peer in `net`, which holds the gateway. Proves: the state inside the amphora namespace equals
 * what Octavia's own `amphora-interface up eth1` sets for the same file in a twin namespace;
 * GARP and unsolicited NA reach the peer; ping and TCP reach the VIPs; a second bring-up changes
 * nothing; plug network names eth2 and updates it in place; a re-plug that adds a VIP to the up
 * eth1 (master's vip_net_info) announces it; the NICs holding the agent's bind_host and its
 * default route are refused (409) and stay; a failed plug leaves nothing; an SR-IOV port gets the
 * VIP firewall's base ruleset and masquerade without TCP notrack.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import { parsePlugNetwork, parsePlugVip } from '../../src/model/plug/requests.js';
import { AmphoraNamespace } from '../../src/services/namespace.js';
import { buildNetwork } from '../../src/services/network/build.js';
import { NamespaceInterfaces } from '../../src/services/network/interfaces.js';
import { VipFirewall } from '../../src/services/network/vip-firewall.js';
import { ExecaRunner } from '../../src/system/exec.js';
import { createPaths } from '../../src/system/paths.js';
import { must, sh } from '../support/commands.js';
import { inHome } from '../support/in-home.js';
import { ipJson as j, netState } from '../support/net-state.js';
import { addNetns, deleteNetns, uniqueName } from '../support/netns.js';
import { tierCanRun } from '../support/requirements.js';
import { waitFor } from '../support/wait-for.js';

const canRun = tierCanRun('integration: plug vip / plug network', { root: true, binaries: ['ip', 'nft', 'nc', 'ping'], python: 'octavia', files: ['/usr/bin/amphora-interface'] });

const MAC_VIP = 'fa:16:3e:5a:00:01';
const MAC_MEMBER = 'fa:16:3e:5a:00:02';
const MAC_TWIN = 'fa:16:3e:5a:00:03';
/** The agent's management NIC (bind_host) and the NIC of its default route, in `home`. */
const MAC_MGMT = 'fa:16:3e:5a:00:0a';
const MAC_UPLINK = 'fa:16:3e:5a:00:0b';
const MAC_SRIOV = 'fa:16:3e:5a:00:0c';
const BIND_HOST = '2001:db8:99::10';
const VIP_BODY = {
  subnet_cidr: '203.0.113.0/24',
  gateway: '203.0.113.1',
  mac_address: MAC_VIP.toUpperCase(),
  vrrp_ip: '203.0.113.7',
  mtu: 1450,
  host_routes: [{ destination: '198.51.100.128/25', nexthop: '203.0.113.254' }],
  additional_vips: [{ ip_address: '2001:db8:7::5', subnet_cidr: '2001:db8:7::/64', gateway: '2001:db8:7::1', host_routes: [] }],
};

describe.skipIf(!canRun)('plug vip and plug network with real namespaces', () => {
  const home = uniqueName('home');
  const net = uniqueName('net');
  const amp = uniqueName('amp');
  const twin = uniqueName('twin');
  const twinPeer = uniqueName('twp');
  let root = '';
  let network: ReturnType<typeof buildNetwork>;
  let netDir = '';
  let plugged = '';
  let plugVipMs = 0;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'plug-'));
    netDir = join(root, 'interfaces');
    plugged = join(root, 'lib', 'plugged_interfaces');
    const conf = join(root, 'amphora-agent.conf');
    await writeFile(conf, `[haproxy_amphora]\nbase_path = ${root}/lib\nbind_host = ${BIND_HOST}\n[amphora_agent]\nnetwork_namespace = ${amp}\nagent_server_network_dir = ${netDir}\nplugged_interfaces_file = ${plugged}\nip_cmd = /usr/sbin/ip\nnft_cmd = /usr/sbin/nft\n[controller_worker]\nloadbalancer_topology = SINGLE\n`);
    const config = (await loadConfig([conf])).config;
    const paths = createPaths(config);
    const runner = inHome(new ExecaRunner(silentLogger(), 60_000), home);
    const namespace = new AmphoraNamespace(() => config, paths, runner);
    const vipFirewall = new VipFirewall({ config: () => config, paths, runner, interfaces: new NamespaceInterfaces({ config: () => config, paths, runner }), log: silentLogger() });
    network = buildNetwork({ config: () => config, paths, runner, namespace, homeNetns: home, bindHost: config.haproxy_amphora.bind_host, vipFirewall, log: silentLogger() });
    // `ip netns add` under `ip netns exec` mounts into a private mount namespace: the amphora
    // namespace is made here, and the agent's setup script finds it (a host's agent makes its own)
    for (const ns of [home, net, twin, twinPeer, amp]) await addNetns(ns);
    await must('ip', ['-n', home, 'link', 'add', 'ens3', 'address', MAC_VIP, 'type', 'veth', 'peer', 'name', 'gw0', 'netns', net]);
    await must('ip', ['-n', home, 'link', 'add', 'ens4', 'address', MAC_MEMBER, 'type', 'veth', 'peer', 'name', 'mem0', 'netns', net]);
    for (const [dev, addr] of [['gw0', '203.0.113.1/24'], ['gw0', '2001:db8:7::1/64'], ['mem0', '198.51.100.1/24']] as const) await must('ip', ['-n', net, 'addr', 'add', addr, 'dev', dev, 'nodad']);
    for (const dev of ['gw0', 'mem0']) await must('ip', ['-n', net, 'link', 'set', dev, 'up']);
    // the agent's lifelines: its management address and the default route of its namespace
    await must('ip', ['-n', home, 'link', 'add', 'mgmt0', 'address', MAC_MGMT, 'type', 'veth', 'peer', 'name', 'mg0', 'netns', net]);
    await must('ip', ['-n', home, 'link', 'add', 'upl0', 'address', MAC_UPLINK, 'type', 'veth', 'peer', 'name', 'up0', 'netns', net]);
    await must('ip', ['-n', home, 'addr', 'add', `${BIND_HOST}/64`, 'dev', 'mgmt0', 'nodad']);
    await must('ip', ['-n', home, 'addr', 'add', '198.51.100.250/30', 'dev', 'upl0']);
    for (const dev of ['mgmt0', 'upl0']) await must('ip', ['-n', home, 'link', 'set', dev, 'up']);
    await must('ip', ['-n', home, 'route', 'add', 'default', 'via', '198.51.100.249', 'dev', 'upl0']);
    // the peer learns from gratuitous ARP and unsolicited NA (NA needs forwarding on the receiver)
    await must('ip', ['netns', 'exec', net, 'sysctl', '-qw', 'net.ipv4.conf.gw0.arp_accept=1', 'net.ipv6.conf.all.forwarding=1', 'net.ipv6.conf.gw0.accept_untracked_na=1']);
  }, 60_000);

  afterAll(async () => {
    for (const ns of [amp, home, net, twin, twinPeer]) await deleteNetns(ns).catch(() => undefined);
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('plug vip: eth1 in the namespace, its file and plugged line, GARP and NA seen by the peer', async () => {
    const started = performance.now();
    const details = await network.plugs.plugVip(parsePlugVip('203.0.113.5', VIP_BODY));
    plugVipMs = performance.now() - started;
    process.stderr.write(`PLUG-REPORT ${JSON.stringify({ plugVipMs: Math.round(plugVipMs) })}\n`);
    expect(details).toBe('VIPs plugged on interface eth1: 203.0.113.5, 2001:0db8:0007:0000:0000:0000:0000:0005');
    expect((await j(amp, ['link', 'show', 'dev', 'eth1']))[0]!['address']).toBe(MAC_VIP);
    expect((await sh('ip', ['-n', home, 'link', 'show', 'dev', 'ens3'])).code).not.toBe(0);
    expect(await readFile(plugged, 'utf8')).toBe(`${MAC_VIP} eth1\n`);
    const file = JSON.parse(await readFile(join(netDir, 'eth1.json'), 'utf8')) as Record<string, unknown>;
    expect(file['if_type']).toBe('vip');
    const neigh = async () => (await j(net, ['neigh', 'show', 'dev', 'gw0'])).filter((n) => n['lladdr'] === MAC_VIP).map((n) => n['dst']);
    await waitFor('GARP for the VIP and NA for the IPv6 VIP at the peer', async () => {
      const seen = await neigh();
      return seen.includes('203.0.113.5') && seen.includes('2001:db8:7::5');
    }, 30_000, async () => JSON.stringify(await neigh()));
  }, 90_000);

  it('equals what Octavia’s amphora-interface sets for the same file, nftables included', async () => {
    await must('ip', ['-n', twin, 'link', 'add', 'eth1', 'address', MAC_TWIN, 'type', 'veth', 'peer', 'name', 'p0', 'netns', twinPeer]);
    await must('ip', ['-n', twinPeer, 'link', 'set', 'p0', 'up']);
    const refDir = join(root, 'ref-interfaces');
    await must('mkdir', ['-p', refDir]);
    // Octavia 11's InterfaceFile takes no if_type / is_sriov (master's keys): the twin gets the file without them
    const { if_type: _t, is_sriov: _s, ...file11 } = JSON.parse(await readFile(join(netDir, 'eth1.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(refDir, 'eth1.json'), JSON.stringify(file11));
    const conf = join(root, 'ref.conf');
    await writeFile(conf, `[amphora_agent]\nagent_server_network_dir = ${refDir}\n`);
    const r = await sh('ip', ['netns', 'exec', twin, '/usr/bin/amphora-interface', '--config-file', conf, 'up', 'eth1'], { timeoutMs: 120_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await netState(amp, 'eth1')).toEqual(await netState(twin, 'eth1'));
  }, 150_000);

  it('traffic from the network namespace reaches both VIPs (ping, TCP)', async () => {
    expect((await sh('ip', ['netns', 'exec', net, 'ping', '-c', '1', '-W', '5', '203.0.113.5'])).code).toBe(0);
    expect((await sh('ip', ['netns', 'exec', net, 'ping', '-6', '-c', '1', '-W', '5', '2001:db8:7::5'])).code).toBe(0);
    const server = sh('ip', ['netns', 'exec', amp, 'nc', '-l', '-s', '203.0.113.5', '-p', '8080', '-q', '1'], { timeoutMs: 30_000 });
    await waitFor('the listener', async () => (await sh('ip', ['netns', 'exec', amp, 'ss', '-Hltn', 'sport = :8080'])).stdout.includes('8080'), 20_000);
    const client = await sh('ip', ['netns', 'exec', net, 'sh', '-c', 'echo hello | nc -q 1 -w 5 203.0.113.5 8080'], { timeoutMs: 30_000 });
    expect(client.code).toBe(0);
    expect((await server).stdout).toBe('hello\n');
  }, 90_000);

  it('plug network: eth2, then the same MAC again is updated in place', async () => {
    const body = { mac_address: MAC_MEMBER, fixed_ips: [{ ip_address: '198.51.100.10', subnet_cidr: '198.51.100.0/24', gateway: null, host_routes: [] }], mtu: 1400 };
    expect(await network.plugs.plugNetwork(parsePlugNetwork(body))).toBe('Plugged on interface eth2');
    expect((await netState(amp, 'eth2')).addresses).toEqual(['198.51.100.10/24']);
    expect((await netState(amp, 'eth2')).mtu).toBe(1400);
    expect((await sh('ip', ['netns', 'exec', net, 'ping', '-c', '1', '-W', '5', '198.51.100.10'])).code).toBe(0);
    const moved = { ...body, fixed_ips: [{ ...body.fixed_ips[0]!, ip_address: '198.51.100.11' }] };
    expect(await network.plugs.plugNetwork(parsePlugNetwork(moved))).toBe('Updated existing interface eth2');
    expect((await netState(amp, 'eth2')).addresses).toEqual(['198.51.100.11/24']);
    expect(await readFile(plugged, 'utf8')).toBe(`${MAC_VIP} eth1\n${MAC_MEMBER} eth2\n`);
    // the VIP's source rule survives a member port's bring-up (Octavia 11 removed it)
    expect((await netState(amp, 'eth1')).rules).toContain('203.0.113.5/ 1');
  }, 90_000);

  it('bringing every interface up again changes nothing', async () => {
    const before = [await netState(amp, 'eth1'), await netState(amp, 'eth2')];
    expect(await network.interfacesBoot.upAll()).toEqual(['eth1', 'eth2', 'lo']);
    expect([await netState(amp, 'eth1'), await netState(amp, 'eth2')]).toEqual(before);
  }, 90_000);

  it('a re-plug of the up eth1 that adds a VIP (vip_net_info) announces it to the peer', async () => {
    const { mac_address: _m, ...vipNet } = VIP_BODY;
    const extra = { ip_address: '203.0.113.6', subnet_cidr: '203.0.113.0/24', gateway: '203.0.113.1', host_routes: [] };
    const body = { mac_address: MAC_VIP, mtu: 1450, vip_net_info: { ...vipNet, vip: '203.0.113.5', additional_vips: [...VIP_BODY.additional_vips, extra] } };
    const learned = async () => (await j(net, ['neigh', 'show', 'dev', 'gw0'])).filter((n) => n['lladdr'] === MAC_VIP).map((n) => n['dst']);
    expect(await learned()).not.toContain('203.0.113.6');
    const upBefore = (await netState(amp, 'eth1')).up;
    expect(await network.plugs.plugNetwork(parsePlugNetwork(body))).toBe('Updated existing interface eth1');
    expect(upBefore).toBe(true);
    expect((await netState(amp, 'eth1')).addresses).toContain('203.0.113.6/32');
    await waitFor('GARP for the added VIP at the peer', async () => (await learned()).includes('203.0.113.6'), 30_000, async () => JSON.stringify(await learned()));
  }, 90_000);

  it('the NICs of the agent’s bind_host and of its default route are refused (409) and stay', async () => {
    const state = async () => [await j(home, ['addr', 'show', 'dev', 'mgmt0']), await j(home, ['addr', 'show', 'dev', 'upl0']), await j(home, ['route', 'show', 'default'])];
    const before = await state();
    const files = async () => (await readdir(netDir)).sort();
    const filesBefore = await files();
    const pluggedBefore = await readFile(plugged, 'utf8');
    await expect(network.plugs.plugVip(parsePlugVip('203.0.113.5', { ...VIP_BODY, mac_address: MAC_MGMT }))).rejects.toMatchObject({
      status: 409,
      message: `Interface mgmt0 holds ${BIND_HOST}, the address the amphora agent listens on: it is not moved into the amphora namespace`,
    });
    await expect(network.plugs.plugNetwork(parsePlugNetwork({ mac_address: MAC_UPLINK.toUpperCase(), fixed_ips: null }))).rejects.toMatchObject({
      status: 409,
      message: "Interface upl0 carries the default route of the amphora agent's own namespace: it is not moved into the amphora namespace",
    });
    expect(await state()).toEqual(before);
    expect(await files()).toEqual(filesBefore);
    expect(await readFile(plugged, 'utf8')).toBe(pluggedBefore);
    expect((await j(amp, ['link', 'show'])).map((l) => l['address'])).not.toEqual(expect.arrayContaining([MAC_MGMT]));
  }, 60_000);

  it('a plug that is refused or fails leaves the NIC where it was and writes nothing', async () => {
    await must('ip', ['-n', home, 'link', 'add', 'ens5', 'address', 'fa:16:3e:5a:00:09', 'type', 'veth', 'peer', 'name', 'bad0', 'netns', net]);
    await expect(network.plugs.plugVip(parsePlugVip('203.0.113.5', VIP_BODY))).rejects.toMatchObject({ status: 409 });
    await expect(network.plugs.plugVip(parsePlugVip('203.0.113.5', { ...VIP_BODY, mac_address: 'fa:16:3e:5a:00:77' }))).rejects.toMatchObject({ status: 404, body: { details: 'No suitable network interface found' } });
    // an MTU below the kernel's minimum (68) makes the bring-up fail after the move
    const bad = { mac_address: 'fa:16:3e:5a:00:09', fixed_ips: [{ ip_address: '198.51.100.20', subnet_cidr: '198.51.100.0/24', gateway: null, host_routes: [] }], mtu: 67 };
    const rulesBefore = (await netState(amp, 'eth1')).rules;
    await expect(network.plugs.plugNetwork(parsePlugNetwork(bad))).rejects.toMatchObject({ status: 500 });
    expect((await j(home, ['link', 'show', 'dev', 'ens5']))[0]!['address']).toBe('fa:16:3e:5a:00:09');
    expect((await sh('ip', ['-n', amp, 'link', 'show', 'dev', 'eth3'])).code).not.toBe(0);
    await expect(readFile(join(netDir, 'eth3.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(plugged, 'utf8')).toBe(`${MAC_VIP} eth1\n${MAC_MEMBER} eth2\n`);
    expect((await netState(amp, 'eth1')).rules).toEqual(rulesBefore);
    expect((await netState(amp, 'eth1')).nft.join('\n')).not.toContain('eth3');
  }, 90_000);

  it('an SR-IOV port (is_sriov): the VIP firewall’s base ruleset is loaded, masquerade has no TCP notrack', async () => {
    await must('ip', ['-n', home, 'link', 'add', 'ens6', 'address', MAC_SRIOV, 'type', 'veth', 'peer', 'name', 'sr0', 'netns', net]);
    const body = { mac_address: MAC_SRIOV, fixed_ips: [{ ip_address: '198.51.100.30', subnet_cidr: '198.51.100.0/24', gateway: null, host_routes: [] }], is_sriov: true };
    expect(await network.plugs.plugNetwork(parsePlugNetwork(body))).toBe('Plugged on interface eth3');
    const firewall = JSON.parse((await must('ip', ['netns', 'exec', amp, 'nft', '-j', 'list', 'table', 'inet', 'amphora_table'])).stdout) as { nftables: Record<string, Record<string, unknown>>[] };
    const chain = firewall.nftables.find((i) => i['chain'])?.['chain'];
    expect(chain).toMatchObject({ name: 'amphora_chain', hook: 'input', policy: 'drop' });
    expect((await stat(join(root, 'lib', 'nftables-vip.rules'))).mode & 0o777).toBe(0o600);
    // which chains of `ip octavia-ipv4` hold a rule naming each interface
    const masq = JSON.parse((await must('ip', ['netns', 'exec', amp, 'nft', '-j', 'list', 'table', 'ip', 'octavia-ipv4'])).stdout) as { nftables: { rule?: { chain: string; expr: unknown[] } }[] };
    const chainsOf = (iface: string) => masq.nftables.filter((i) => i.rule && JSON.stringify(i.rule.expr).includes(`"right":"${iface}"`)).map((i) => i.rule!.chain).sort();
    expect(chainsOf('eth3')).toEqual(['ip-sctp-masq', 'ip-udp-masq']);
    expect(chainsOf('eth1')).toEqual(['ip-sctp-masq', 'ip-udp-masq', 'output', 'prerouting']);
  }, 90_000);
});
