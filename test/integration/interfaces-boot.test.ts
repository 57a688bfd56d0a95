/**
 * @module test/integration/interfaces-boot
 * Interfaces come back after a reboot, with real `ip`, `nft`, veth pairs and the built CLI
 * (`npm run build` first), as root. The agent's "own" namespace is a test namespace (`home`):
 * the real setup script and the real agent process run in it with `nsenter --net` (only the
 * network namespace changes, so the namespace the script creates is visible to the test; under
 * `ip netns exec` it would be mounted in a private mount namespace). veth pairs stand in for
 * Neutron ports, their peers in `net`, which holds the gateway.
 *
 * A reboot is simulated by moving the NICs back to `home` under their original names and
 * deleting the amphora namespace: a veth end dies with its namespace, and the NIC of a real
 * amphora is back in the root namespace after a reboot, so this is what the netns unit finds.
 * Proves: the script (run by every init system's netns unit) recreates the namespace and its
 * `interfaces up` brings addresses, routes, rules, nftables masquerade and lo back exactly as
 * after the plugs, and traffic reaches the VIP; a second run changes nothing; a NIC that is gone
 * is reported while the others come up; and an agent started in `direct` mode does the same.
 */
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { AgentConfig } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log.js';
import { parsePlugNetwork, parsePlugVip } from '../../src/model/plug/requests.js';
import { AmphoraNamespace } from '../../src/services/namespace.js';
import { buildStandaloneNetwork } from '../../src/services/network/build.js';
import { ExecaRunner } from '../../src/system/exec.js';
import { createPaths, type Paths } from '../../src/system/paths.js';
import { CLI, createAgentRoot, freePort, GEN_CERTS, removeDir, Spawned, type AgentRoot } from '../support/agent-fixture.js';
import { must, sh, show } from '../support/commands.js';
import { inHome } from '../support/in-home.js';
import { netState, type NetState } from '../support/net-state.js';
import { addNetns, deleteNetns, netnsExists, uniqueName } from '../support/netns.js';
import { tierCanRun } from '../support/requirements.js';
import { waitFor } from '../support/wait-for.js';

const canRun = tierCanRun('integration: interfaces after a reboot', { root: true, binaries: ['ip', 'nft', 'nc', 'ping', 'nsenter', 'flock', 'curl', 'openssl'], files: [CLI, GEN_CERTS] });

const MAC_VIP = 'fa:16:3e:5b:00:01';
const MAC_MEMBER = 'fa:16:3e:5b:00:02';
const VIP_BODY = {
  subnet_cidr: '203.0.113.0/24',
  gateway: '203.0.113.1',
  mac_address: MAC_VIP.toUpperCase(),
  vrrp_ip: '203.0.113.7',
  mtu: 1450,
  host_routes: [{ destination: '198.51.100.128/25', nexthop: '203.0.113.254' }],
  additional_vips: [{ ip_address: '2001:db8:7::5', subnet_cidr: '2001:db8:7::/64', gateway: '2001:db8:7::1', host_routes: [] }],
};
const MEMBER_BODY = { mac_address: MAC_MEMBER, fixed_ips: [{ ip_address: '198.51.100.10', subnet_cidr: '198.51.100.0/24', gateway: null, host_routes: [] }], mtu: 1400 };
/** The NICs as the amphora namespace names them, and their names in `home`. */
const NICS = [['eth1', 'ens3'], ['eth2', 'ens4']] as const;

/** The state with eth2 gone: the namespace's nftables without eth2's masquerade rules. */
const withoutEth2 = (s: NetState) => ({ ...s, nft: s.nft.filter((l) => !l.includes('"eth2"')) });


describe.skipIf(!canRun)('interfaces come back after a reboot', () => {
  const home = uniqueName('bhome');
  const net = uniqueName('bnet');
  const amp = uniqueName('bamp');
  let root: AgentRoot | undefined;
  let config: AgentConfig;
  let paths: Paths;
  let plugged: Record<string, NetState> = {};
  let agent: Spawned | undefined;

  const inHomeNs = (argv: string[], timeoutMs = 120_000) => sh('nsenter', [`--net=/run/netns/${home}`, ...argv], { timeoutMs });
  const runScript = () => inHomeNs(['/bin/sh', paths.netnsSetupScript]);
  const cliUp = () => inHomeNs([process.execPath, CLI, '--config-file', root!.configFile, 'interfaces', 'up']);
  const state = async () => ({ eth1: await netState(amp, 'eth1'), eth2: await netState(amp, 'eth2'), lo: await netState(amp, 'lo') });

  /** The NICs back in `home` under their first names, the amphora namespace gone. */
  async function reboot(): Promise<void> {
    for (const [inside, outside] of NICS) {
      if ((await sh('ip', ['-n', amp, 'link', 'show', 'dev', inside])).code === 0) await must('ip', ['-n', amp, 'link', 'set', 'dev', inside, 'netns', home, 'name', outside]);
    }
    await must('ip', ['netns', 'del', amp]);
    expect(await netnsExists(amp)).toBe(false);
  }

  async function vipAnswers(): Promise<void> {
    expect((await sh('ip', ['netns', 'exec', net, 'ping', '-c', '1', '-W', '5', '203.0.113.5'])).code).toBe(0);
    expect((await sh('ip', ['netns', 'exec', net, 'ping', '-6', '-c', '1', '-W', '5', '2001:db8:7::5'])).code).toBe(0);
    const server = sh('ip', ['netns', 'exec', amp, 'nc', '-l', '-s', '203.0.113.5', '-p', '8080', '-q', '1'], { timeoutMs: 30_000 });
    await waitFor('the listener', async () => (await sh('ip', ['netns', 'exec', amp, 'ss', '-Hltn', 'sport = :8080'])).stdout.includes('8080'), 20_000);
    const client = await sh('ip', ['netns', 'exec', net, 'sh', '-c', 'echo hello | nc -q 1 -w 5 203.0.113.5 8080'], { timeoutMs: 30_000 });
    expect(client.code, show(client)).toBe(0);
    expect((await server).stdout).toBe('hello\n');
  }

  beforeAll(async () => {
    root = await createAgentRoot({ port: await freePort(), overrides: { amphora_agent: { network_namespace: amp, ip_cmd: '/usr/sbin/ip' } } });
    config = (await loadConfig([root.configFile])).config;
    paths = createPaths(config);
    for (const ns of [home, net]) await addNetns(ns);
    await must('ip', ['-n', home, 'link', 'add', 'ens3', 'address', MAC_VIP, 'type', 'veth', 'peer', 'name', 'gw0', 'netns', net]);
    await must('ip', ['-n', home, 'link', 'add', 'ens4', 'address', MAC_MEMBER, 'type', 'veth', 'peer', 'name', 'mem0', 'netns', net]);
    for (const [dev, addr] of [['gw0', '203.0.113.1/24'], ['gw0', '2001:db8:7::1/64'], ['mem0', '198.51.100.1/24']] as const) await must('ip', ['-n', net, 'addr', 'add', addr, 'dev', dev, 'nodad']);
    for (const dev of ['gw0', 'mem0']) await must('ip', ['-n', net, 'link', 'set', dev, 'up']);
  }, 120_000);

  afterAll(async () => {
    await agent?.stop('SIGKILL', 5_000);
    for (const ns of [amp, home, net]) await deleteNetns(ns).catch(() => undefined);
    // the setup script's lock file (named by the test's namespace)
    await rm(`/run/amphora-netns-${amp}.lock`, { force: true });
    await removeDir(root?.dir);
  });

  it('the setup script creates the namespace and, with nothing plugged, brings lo up', async () => {
    // rendered as the agent renders it when cli.ts started it: this node, the built CLI, the config
    const boot = [process.execPath, CLI, '--config-file', root!.configFile];
    await new AmphoraNamespace(() => config, paths, new ExecaRunner(silentLogger(), 60_000), boot).writeSetupScript();
    expect(await readFile(paths.netnsSetupScript, 'utf8')).toContain(`${boot.join(' ')} interfaces up 9>&-`);
    const r = await runScript();
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toContain('amphora-agent: interfaces up: up: lo\n');
    expect((await netState(amp, 'lo')).addresses).toEqual(['127.0.0.1/8']);
  }, 120_000);

  it('plug vip and plug network (the agent in-process, its namespace being home)', async () => {
    const runner = inHome(new ExecaRunner(silentLogger(), 60_000), home);
    // the same command as above, so that ensure() leaves the script as it is
    const namespace = new AmphoraNamespace(() => config, paths, runner, [process.execPath, CLI, '--config-file', root!.configFile]);
    const network = buildStandaloneNetwork({ config: () => config, paths, runner, namespace, bindHost: null, homeNetns: home, log: silentLogger() });
    expect(await network.plugs.plugVip(parsePlugVip('203.0.113.5', VIP_BODY))).toMatch(/^VIPs plugged on interface eth1/);
    expect(await network.plugs.plugNetwork(parsePlugNetwork(MEMBER_BODY))).toBe('Plugged on interface eth2');
    expect(await readFile(config.amphora_agent.plugged_interfaces_file, 'utf8')).toBe(`${MAC_VIP} eth1\n${MAC_MEMBER} eth2\n`);
    plugged = await state();
    expect(plugged['eth1']!.addresses).toEqual(['2001:db8:7::5/128', '203.0.113.5/32', '203.0.113.7/24']);
    expect(plugged['eth1']!.nft.join('\n')).toContain('masquerade');
    expect(plugged['eth1']!.rules).toContain('203.0.113.5/ 1');
    await vipAnswers();
  }, 120_000);

  it('after a reboot the setup script brings every interface back from its file, exactly', async () => {
    await reboot();
    const r = await runScript();
    expect(r.code, show(r)).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`amphora-agent: interfaces up: moved ${MAC_VIP} ens3 -> eth1, ${MAC_MEMBER} ens4 -> eth2; up: eth1, eth2, lo\n`);
    expect(await state()).toEqual(plugged);
    await vipAnswers();
  }, 180_000);

  it('running the script again, or the CLI by hand, changes nothing', async () => {
    const again = await runScript();
    expect(again.code, show(again)).toBe(0);
    expect(again.stdout + again.stderr).toBe('');
    const byHand = await cliUp();
    expect(byHand.code, show(byHand)).toBe(0);
    expect(byHand.stdout).toContain('amphora-agent: interfaces up: up: eth1, eth2, lo\n');
    expect(await state()).toEqual(plugged);
  }, 120_000);

  it('a NIC that is gone is reported, and the others still come up', async () => {
    await reboot();
    await must('ip', ['-n', home, 'link', 'del', 'ens4']);
    const r = await runScript();
    // the script reports it and succeeds: the daemons' units require the netns unit
    expect(r.code, show(r)).toBe(0);
    const problems = `2 interface problem(s): ${MAC_MEMBER} (eth2): no network interface with this MAC address; eth2.json: Interface eth2 is not in namespace ${amp}`;
    expect(r.stderr).toBe(`amphora-agent: interfaces up: ${problems}\namphora-netns: interfaces up failed (exit 1); the other interfaces are up\n`);
    const eth1 = await netState(amp, 'eth1');
    expect(withoutEth2(eth1)).toEqual(withoutEth2(plugged['eth1']!));
    expect(withoutEth2(await netState(amp, 'lo'))).toEqual(withoutEth2(plugged['lo']!));
    const byHand = await cliUp();
    expect(byHand.code).toBe(1);
    expect(byHand.stderr).toBe(`amphora-agent: interfaces up: ${problems}\n`);
    await vipAnswers();
  }, 180_000);

  it('an agent started in direct mode brings the interfaces back itself, and serves while one fails', async () => {
    await reboot();
    await rm(join(config.amphora_agent.agent_server_network_dir!, 'lo.json'), { force: true });
    agent = new Spawned(spawn('nsenter', [`--net=/run/netns/${home}`, process.execPath, CLI, '--config-file', root!.configFile], { stdio: ['ignore', 'pipe', 'pipe'] }));
    // the restore logs its end: what came up, then the problems (eth2 is gone since the last test)
    await agent.waitFor('the bring-up to end with the failure of eth2 logged', () => agent!.stdout.includes('interfaces not brought back into the namespace'), 120_000);
    expect(agent.stdout).toContain(`${MAC_MEMBER} (eth2): no network interface with this MAC address`);
    expect(withoutEth2(await netState(amp, 'eth1'))).toEqual(withoutEth2(plugged['eth1']!));
    expect(withoutEth2(await netState(amp, 'lo'))).toEqual(withoutEth2(plugged['lo']!));
    expect(JSON.parse(await readFile(join(config.amphora_agent.agent_server_network_dir!, 'lo.json'), 'utf8'))).toMatchObject({ name: 'lo' });
    const pki = root!.pki;
    const info = await inHomeNs(['curl', '-sS', '--cert', pki.clientPem, '--cacert', pki.serverCaPem, '--resolve', `${pki.amphoraId}:${root!.port}:127.0.0.1`, `https://${pki.amphoraId}:${root!.port}/1.0/info`], 30_000);
    expect(info.code, show(info)).toBe(0);
    expect(JSON.parse(info.stdout)).toHaveProperty('api_version', '1.0');
    await vipAnswers();
  }, 240_000);
});
