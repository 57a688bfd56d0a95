/**
 * @module model/plug/requests
 * The bodies of `POST /1.0/plug/vip/{vip}` and `POST /1.0/plug/network` (contract §4.12, §4.13),
 * from Octavia 11 and master controllers (`additional_vips`, `is_sriov`, `vip_net_info`), parsed
 * into typed requests with the reference's answers: a body of the wrong shape is the framework
 * 400 (`Invalid subnet information` / `Invalid port information`), a bad address `Invalid VIP`,
 * `Invalid VRRP Address` or `Invalid network port`. Where the reference let a bad value through
 * to a 500 (a missing MAC, a host route that is not an address), this is a 400 too. Pure.
 */
import { z } from 'zod';
import { InvalidInput, ReferenceAnswer } from '../errors.js';
import { expectIpAddress, expectNetwork, exploded } from '../ip-address.js';

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

const hostRoute = z.object({ destination: z.string(), nexthop: z.string() });
const hostRoutes = z.array(hostRoute).nullish();
const mtu = z.number().int().min(0).max(65535).nullish();
const additionalVip = z.object({ ip_address: z.string(), subnet_cidr: z.string(), gateway: z.string().nullish(), host_routes: hostRoutes });

const plugVipBody = z.object({
  subnet_cidr: z.string(),
  gateway: z.string().nullable(),
  mac_address: z.string().regex(MAC),
  mtu,
  vrrp_ip: z.string().nullish(),
  host_routes: hostRoutes,
  additional_vips: z.array(additionalVip).nullish(),
  is_sriov: z.boolean().nullish(),
});

const fixedIp = z.object({ ip_address: z.string(), subnet_cidr: z.string(), gateway: z.string().nullish(), host_routes: hostRoutes });

const plugNetworkBody = z.object({
  mac_address: z.string().regex(MAC),
  fixed_ips: z.array(fixedIp).nullish(),
  mtu,
  vip_net_info: plugVipBody.partial({ mac_address: true }).extend({ vip: z.string() }).nullish(),
  is_sriov: z.boolean().nullish(),
});

export interface HostRoute {
  readonly destination: string;
  readonly nexthop: string;
}

/** One VIP as the interface file needs it: Octavia's `render_vips` entry. */
export interface VipSpec {
  /** `exploded` spelling, as the reference writes it. */
  readonly ip: string;
  readonly version: 4 | 6;
  /** The VIP subnet's prefix length. */
  readonly prefixlen: number;
  readonly gateway: string | null;
  readonly hostRoutes: readonly HostRoute[];
}

export interface FixedIpSpec {
  /** As sent (the reference writes it unchanged). */
  readonly ip: string;
  readonly version: 4 | 6;
  readonly prefixlen: number;
  readonly gateway: string | null;
  readonly hostRoutes: readonly HostRoute[];
}

export interface VipNetwork {
  readonly vips: readonly VipSpec[];
  /** The amphora's own address on the VIP subnet (`vrrp_ip`), exploded, with the subnet's prefix. */
  readonly vrrp: { readonly ip: string; readonly prefixlen: number } | null;
}

export interface PlugVipRequest extends VipNetwork {
  /** Lower case: the kernel's spelling, compared case-insensitively. */
  readonly mac: string;
  readonly mtu: number | null;
  readonly isSriov: boolean;
}

export interface PlugNetworkRequest {
  readonly mac: string;
  readonly fixedIps: readonly FixedIpSpec[] | null;
  readonly mtu: number | null;
  /** Master: the port is the VRRP port and gets a VIP file (`vip_net_info`). */
  readonly vipNet: VipNetwork | null;
  readonly isSriov: boolean;
}

const framework = (description: string) =>
  new ReferenceAnswer(400, 'invalid_input', { error: `400 Bad Request: ${description}`, http_code: 400 });

function checkRoutes(routes: readonly HostRoute[] | null | undefined): HostRoute[] {
  for (const r of routes ?? []) {
    expectNetwork(r.destination, false);
    expectIpAddress(r.nexthop);
  }
  return [...(routes ?? [])];
}

function vipSpec(ip: string, cidr: string, gateway: string | null | undefined, routes: readonly HostRoute[] | null | undefined): VipSpec {
  const address = expectIpAddress(ip);
  const subnet = expectNetwork(cidr);
  if (gateway != null) expectIpAddress(gateway);
  return { ip: exploded(address), version: address.version, prefixlen: subnet.prefixlen, gateway: gateway ?? null, hostRoutes: checkRoutes(routes) };
}

type VipBody = Omit<z.infer<typeof plugVipBody>, 'mac_address'>;

function vipNetwork(vip: string, body: VipBody): VipNetwork {
  let vips: VipSpec[];
  try {
    vips = [vipSpec(vip, body.subnet_cidr, body.gateway, body.host_routes), ...(body.additional_vips ?? []).map((a) => vipSpec(a.ip_address, a.subnet_cidr, a.gateway, a.host_routes))];
  } catch (err) {
    throw new InvalidInput(`Invalid VIP: ${(err as Error).message}`);
  }
  if (body.vrrp_ip == null || body.vrrp_ip === '') return { vips, vrrp: null };
  try {
    return { vips, vrrp: { ip: exploded(expectIpAddress(body.vrrp_ip)), prefixlen: expectNetwork(body.subnet_cidr).prefixlen } };
  } catch (err) {
    throw new InvalidInput(`Invalid VRRP Address: ${(err as Error).message}`);
  }
}

export function parsePlugVip(vip: string, body: unknown): PlugVipRequest {
  const parsed = plugVipBody.safeParse(body);
  if (!parsed.success) throw framework('Invalid subnet information');
  const b = parsed.data;
  return { ...vipNetwork(vip, b), mac: b.mac_address.toLowerCase(), mtu: b.mtu || null, isSriov: b.is_sriov ?? false };
}

function fixedIpSpec(f: z.infer<typeof fixedIp>): FixedIpSpec {
  const address = expectIpAddress(f.ip_address);
  const subnet = expectNetwork(f.subnet_cidr);
  if (f.gateway != null) expectIpAddress(f.gateway);
  return { ip: f.ip_address, version: address.version, prefixlen: subnet.prefixlen, gateway: f.gateway ?? null, hostRoutes: checkRoutes(f.host_routes) };
}

export function parsePlugNetwork(body: unknown): PlugNetworkRequest {
  const parsed = plugNetworkBody.safeParse(body);
  if (!parsed.success) throw framework('Invalid port information');
  const b = parsed.data;
  let fixedIps: FixedIpSpec[] | null;
  try {
    fixedIps = b.fixed_ips ? b.fixed_ips.map(fixedIpSpec) : null;
  } catch (err) {
    throw new InvalidInput('Invalid network port', (err as Error).message);
  }
  const vipNet = b.vip_net_info ? vipNetwork(b.vip_net_info.vip, b.vip_net_info) : null;
  return { mac: b.mac_address.toLowerCase(), fixedIps, mtu: b.mtu || null, vipNet, isSriov: b.is_sriov ?? false };
}
