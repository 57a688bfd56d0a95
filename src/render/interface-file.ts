/**
 * @module render/interface-file
 * Plug requests → interface files (contract §8), meaning for meaning what Octavia's
 * `VIPInterfaceFile` / `PortInterfaceFile` write for the same body (proved against
 * python3-octavia in test/integration/interface-file-equivalence.test.ts), plus master's
 * `if_type` and `is_sriov`. In ACTIVE_STANDBY keepalived owns the VIPs, so they are listed but
 * not `octavia_owned`, and no table-1 routes or source rules are written. Pure.
 */
import { expectNetwork, exploded } from '../model/ip-address.js';
import type { InterfaceFile, InterfaceRoute } from '../model/plug/interface-file.js';
import type { FixedIpSpec, HostRoute, VipNetwork } from '../model/plug/requests.js';

export type Topology = 'SINGLE' | 'ACTIVE_STANDBY';

const anyRoute = (version: 4 | 6) => (version === 6 ? '::/0' : '0.0.0.0/0');
const hostLen = (version: 4 | 6) => (version === 6 ? 128 : 32);

function hostRoutes(routes: readonly HostRoute[], table?: number): InterfaceRoute[] {
  return routes.map((r) => ({ dst: r.destination, gateway: r.nexthop, flags: ['onlink' as const], ...(table === undefined ? {} : { table }) }));
}

function defaultRoutes(version: 4 | 6, gateway: string | null, topology: Topology): InterfaceRoute[] {
  if (!gateway) return [];
  const main: InterfaceRoute = { dst: anyRoute(version), gateway, flags: ['onlink'] };
  return topology === 'ACTIVE_STANDBY' ? [main] : [main, { ...main, table: 1 }];
}

function masquerade(name: string, versions: Iterable<4 | 6>, sriov: boolean): InterfaceFile['scripts'] {
  const families = [...new Set(versions)].sort().map((v) => (v === 6 ? 'ipv6' : 'ipv4'));
  const suffix = sriov ? ' sriov' : '';
  return {
    up: families.map((f) => ({ command: `octavia-agent-lvs-masquerade add ${f} ${name}${suffix}` })),
    down: families.map((f) => ({ command: `octavia-agent-lvs-masquerade delete ${f} ${name}${suffix}` })),
  };
}

function withMtu(file: InterfaceFile, mtu: number | null): InterfaceFile {
  return mtu ? { ...file, mtu } : file;
}

export interface VipFileSpec extends VipNetwork {
  readonly name: string;
  readonly mtu: number | null;
  readonly topology: Topology;
  readonly isSriov: boolean;
  /** plug network on the VRRP port (master's `vip_net_info`): the port's fixed IPs as well. */
  readonly fixedIps?: readonly FixedIpSpec[] | null;
}

export function vipInterfaceFile(spec: VipFileSpec): InterfaceFile {
  const { vips, topology } = spec;
  const owned = topology !== 'ACTIVE_STANDBY';
  const addresses: InterfaceFile['addresses'] = spec.vrrp
    ? [{ address: spec.vrrp.ip, prefixlen: spec.vrrp.prefixlen }]
    : [...(vips.some((v) => v.version === 4) ? [{ dhcp: true }] : []), ...(vips.some((v) => v.version === 6) ? [{ ipv6auto: true }] : [])];
  const routes: InterfaceRoute[] = [];
  const rules: InterfaceFile['rules'] = [];
  const versions = new Set<4 | 6>();
  for (const vip of vips) {
    versions.add(vip.version);
    routes.push(...defaultRoutes(vip.version, vip.gateway, topology));
    addresses.push({ address: vip.ip, prefixlen: hostLen(vip.version), octavia_owned: owned });
    const subnet = `${exploded(expectNetwork(`${vip.ip}/${vip.prefixlen}`, false))}/${vip.prefixlen}`;
    routes.push({ dst: subnet, scope: 'link' });
    if (owned) {
      routes.push({ dst: subnet, prefsrc: vip.ip, scope: 'link', table: 1 });
      rules.push({ src: vip.ip, src_len: hostLen(vip.version), table: 1 });
    }
    routes.push(...hostRoutes(vip.hostRoutes), ...hostRoutes(vip.hostRoutes, 1));
  }
  for (const f of spec.fixedIps ?? []) {
    addresses.push({ address: f.ip, prefixlen: f.prefixlen });
    versions.add(f.version);
    routes.push(...defaultRoutes(f.version, f.gateway, topology), ...hostRoutes(f.hostRoutes));
  }
  const file: InterfaceFile = { name: spec.name, if_type: 'vip', addresses, routes, rules, scripts: masquerade(spec.name, versions, spec.isSriov), is_sriov: spec.isSriov };
  return withMtu(file, spec.mtu);
}

export interface PortFileSpec {
  readonly name: string;
  readonly mtu: number | null;
  readonly fixedIps: readonly FixedIpSpec[] | null;
  readonly isSriov: boolean;
}

export function portInterfaceFile(spec: PortFileSpec): InterfaceFile {
  const fixed = spec.fixedIps ?? [];
  // no fixed IPs: the reference lets DHCP and SLAAC configure the port, for both families
  const addresses = fixed.length > 0 ? fixed.map((f) => ({ address: f.ip, prefixlen: f.prefixlen })) : [{ dhcp: true, ipv6auto: true }];
  const versions: (4 | 6)[] = fixed.length > 0 ? fixed.map((f) => f.version) : [4, 6];
  const file: InterfaceFile = {
    name: spec.name,
    if_type: 'backend',
    addresses,
    routes: fixed.flatMap((f) => hostRoutes(f.hostRoutes)),
    rules: [],
    scripts: masquerade(spec.name, versions, spec.isSriov),
    is_sriov: spec.isSriov,
  };
  return withMtu(file, spec.mtu);
}

/** The loopback file the agent writes at startup (Octavia's `plug_lo`). */
export function loopbackInterfaceFile(): InterfaceFile {
  return { name: 'lo', addresses: [{ address: '127.0.0.1', prefixlen: 8 }], routes: [], rules: [], scripts: { up: [], down: [] } };
}

/** The file's text: compact JSON, as the reference writes it. */
export function interfaceFileText(file: InterfaceFile): string {
  return JSON.stringify(file);
}
