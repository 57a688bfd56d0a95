/**
 * @module test/integration/interface-file-equivalence
 * The interface files the agent writes for plug vip and plug network (render/interface-file.ts)
 * equal what Octavia's own `VIPInterfaceFile` / `PortInterfaceFile` write for the same request
 * body: Octavia 11 as installed (python3-octavia) and master's interface_file.py (from the bare
 * mirror; skipped with a reason where it is absent), run by test/support/octavia-interface-file.py
 * through Octavia's `Plug.render_vips` and `build_vrrp_info`. Every case's request is collected
 * while the tests are declared and Octavia's files for all of them come from one python run in
 * beforeAll (importing Octavia costs seconds a process); each case then compares its own file.
 * Compared as parsed JSON, after two normalizations, both deliberate:
 * - Octavia 11 writes no `if_type` / `is_sriov`: the agent writes master's keys, dropped
 *   before comparing with 11;
 * - master's scripts name `/usr/local/bin/lvs-masquerade.sh` (its image element's copy), the
 *   agent keeps Octavia 11's `octavia-agent-lvs-masquerade` (Debian's name): the bring-up reads
 *   both spellings and does their work itself.
 */
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { parsePlugNetwork, parsePlugVip } from '../../src/model/plug/requests.js';
import { portInterfaceFile, vipInterfaceFile, type Topology } from '../../src/render/interface-file.js';
import type { InterfaceFile } from '../../src/model/plug/interface-file.js';
import { tierCanRun } from '../support/requirements.js';

const SCRIPT = new URL('../support/octavia-interface-file.py', import.meta.url).pathname;
const MIRROR = '/work/.mirror/openstack+octavia/repo';
const canRun = tierCanRun('integration: interface files equal Octavia’s', { python: 'octavia', files: [SCRIPT] });

function masterSource(): string | undefined {
  try {
    return execFileSync('git', ['-C', MIRROR, 'show', 'HEAD:octavia/amphorae/backends/utils/interface_file.py'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    process.stderr.write(`SKIP master interface files: no Octavia mirror at ${MIRROR}\n`);
    return undefined;
  }
}

type Release = '11' | 'master';

/** Octavia's files for every spec, in order, from one python process. */
function octaviaBatch(specs: readonly Record<string, unknown>[], masterSource: string | undefined): Record<string, unknown>[] {
  const input = JSON.stringify({ specs, ...(masterSource ? { master_source: masterSource } : {}) });
  const out = execFileSync('/usr/bin/python3', [SCRIPT], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const files = JSON.parse(out) as Record<string, unknown>[];
  if (files.length !== specs.length) throw new Error(`octavia-interface-file.py wrote ${files.length} files for ${specs.length} requests`);
  return files;
}

function normalized(file: InterfaceFile, release: Release): Record<string, unknown> {
  const { if_type, is_sriov, ...rest } = file;
  return release === '11' ? rest : { ...rest, if_type, is_sriov };
}

function fromMaster(file: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(file).replaceAll('/usr/local/bin/lvs-masquerade.sh', 'octavia-agent-lvs-masquerade')) as Record<string, unknown>;
}

const v4 = { subnet_cidr: '203.0.113.0/24', gateway: '203.0.113.1', mac_address: 'FA:16:3E:00:00:01', vrrp_ip: '203.0.113.7', mtu: 1450, host_routes: [] };
const v6 = { subnet_cidr: '2001:db8:1::/64', gateway: '2001:db8:1::1', mac_address: 'fa:16:3e:00:00:02', vrrp_ip: '2001:db8:1::7', mtu: 1500, host_routes: [] };
const routes4 = [{ destination: '198.51.100.0/24', nexthop: '203.0.113.254' }, { destination: '192.0.2.128/25', nexthop: '203.0.113.253' }];

const VIP_CASES: { name: string; vip: string; body: Record<string, unknown>; masterOnly?: boolean }[] = [
  { name: 'IPv4', vip: '203.0.113.5', body: v4 },
  { name: 'IPv4, host routes', vip: '203.0.113.5', body: { ...v4, host_routes: routes4 } },
  { name: 'IPv4, no gateway, no mtu', vip: '203.0.113.5', body: { ...v4, gateway: null, mtu: null } },
  { name: 'IPv4, no vrrp_ip (DHCP)', vip: '203.0.113.5', body: { ...v4, vrrp_ip: null } },
  { name: 'IPv6 in short spelling', vip: '2001:db8:1::5', body: v6 },
  { name: 'IPv6, host routes, no vrrp_ip', vip: '2001:db8:1::5', body: { ...v6, vrrp_ip: null, host_routes: [{ destination: '2001:db8:9::/48', nexthop: '2001:db8:1::fe' }] } },
  {
    name: 'dual stack (additional_vips)',
    vip: '203.0.113.5',
    body: { ...v4, host_routes: routes4, additional_vips: [{ ip_address: '2001:db8:1::5', subnet_cidr: '2001:db8:1::/64', gateway: '2001:db8:1::1', host_routes: [] }] },
  },
  { name: 'SR-IOV (master)', vip: '203.0.113.5', body: { ...v4, additional_vips: [], is_sriov: true }, masterOnly: true },
];

const fixed = (ip: string, cidr: string, gateway: string | null, host_routes: unknown[] = []) => ({ ip_address: ip, subnet_cidr: cidr, gateway, host_routes });
const PORT_CASES: { name: string; body: Record<string, unknown>; masterOnly?: boolean }[] = [
  { name: 'one IPv4 fixed IP', body: { mac_address: 'fa:16:3e:00:00:03', fixed_ips: [fixed('198.51.100.10', '198.51.100.0/24', '198.51.100.1')], mtu: 1450 } },
  { name: 'host routes, dual stack', body: { mac_address: 'fa:16:3e:00:00:03', fixed_ips: [fixed('198.51.100.10', '198.51.100.0/24', null, routes4), fixed('2001:db8:2::10', '2001:db8:2::/64', null)] } },
  { name: 'no fixed IPs', body: { mac_address: 'fa:16:3e:00:00:03', fixed_ips: null, mtu: 9000 } },
  { name: 'SR-IOV (master)', body: { mac_address: 'fa:16:3e:00:00:03', fixed_ips: [fixed('198.51.100.10', '198.51.100.0/24', null)], is_sriov: true }, masterOnly: true },
];

describe.skipIf(!canRun)('interface files: the agent writes what Octavia writes', () => {
  const master = masterSource();
  const releases: Release[] = master ? ['11', 'master'] : ['11'];
  // filled while the cases are declared, answered in one python run before any case runs
  const specs: Record<string, unknown>[] = [];
  let files: Record<string, unknown>[] = [];
  beforeAll(() => {
    files = octaviaBatch(specs, master);
  }, 120_000);

  for (const release of releases) {
    /** Registers the request now; the returned function gives Octavia's file once beforeAll ran. */
    const theirs = (spec: Record<string, unknown>) => {
      const index = specs.push({ ...spec, release }) - 1;
      return () => (release === 'master' ? fromMaster(files[index]!) : files[index]!);
    };
    for (const topology of ['SINGLE', 'ACTIVE_STANDBY'] as Topology[]) {
      for (const c of VIP_CASES.filter((c) => release === 'master' || !c.masterOnly)) {
        const octaviaFile = theirs({ kind: 'vip', name: 'eth1', topology, vip: c.vip, body: c.body });
        it(`${release}, ${topology}: VIP file, ${c.name}`, () => {
          const req = parsePlugVip(c.vip, c.body);
          const ours = vipInterfaceFile({ ...req, name: 'eth1', topology });
          expect(normalized(ours, release)).toEqual(octaviaFile());
        });
      }
      const vipNetInfo = { ...v4, vip: '203.0.113.5', additional_vips: [] };
      const fixedIps = [fixed('203.0.113.7', '203.0.113.0/24', '203.0.113.1'), fixed('2001:db8:1::7', '2001:db8:1::/64', null)];
      const vrrpPortFile = theirs({ kind: 'vip', name: 'eth1', topology, vip: vipNetInfo.vip, body: { ...vipNetInfo, mtu: 1450, fixed_ips: fixedIps } });
      it(`${release}, ${topology}: VIP file of the VRRP port (vip_net_info) with fixed IPs`, () => {
        const req = parsePlugNetwork({ mac_address: v4.mac_address, fixed_ips: fixedIps, mtu: 1450, vip_net_info: vipNetInfo });
        const ours = vipInterfaceFile({ ...req.vipNet!, name: 'eth1', topology, mtu: req.mtu, isSriov: req.isSriov, fixedIps: req.fixedIps });
        expect(normalized(ours, release)).toEqual(vrrpPortFile());
      });
    }
    for (const c of PORT_CASES.filter((c) => release === 'master' || !c.masterOnly)) {
      const octaviaFile = theirs({ kind: 'port', name: 'eth2', topology: 'SINGLE', body: c.body });
      it(`${release}: port file, ${c.name}`, () => {
        const req = parsePlugNetwork(c.body);
        const ours = portInterfaceFile({ name: 'eth2', mtu: req.mtu, fixedIps: req.fixedIps, isSriov: req.isSriov });
        expect(normalized(ours, release)).toEqual(octaviaFile());
      });
    }
  }
});
