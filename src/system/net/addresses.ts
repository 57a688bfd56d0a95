/**
 * @module system/net/addresses
 * The addresses configured on the interfaces of a network namespace, read from iproute2's JSON
 * (`ip -j addr show`, run through the ProcessRunner with its `netns` option). Each address is
 * the interface's own (`local`, the kernel's IFA_LOCAL, which equals IFA_ADDRESS except on
 * point-to-point links). Knows nothing about HTTP or about what the addresses are for.
 */
import type { ProcessRunner } from '../exec.js';

export interface InterfaceAddress {
  readonly ifname: string;
  readonly family: 'inet' | 'inet6';
  /** As iproute2 spells it. */
  readonly local: string;
  readonly prefixlen: number;
  /** `ip` marks addresses with a lifetime (SLAAC, DHCP) as dynamic; the rest are permanent. */
  readonly dynamic: boolean;
  /** An IPv6 address still in duplicate address detection. */
  readonly tentative: boolean;
  /** host, link or global. */
  readonly scope: string;
}

const field = (o: unknown, key: string): unknown => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[key] : undefined);

/** iproute2's `-j addr show` output as a flat list; throws on anything that is not that shape. */
export function parseIpAddrJson(text: string): InterfaceAddress[] {
  const links: unknown = JSON.parse(text.trim() === '' ? '[]' : text);
  if (!Array.isArray(links)) throw new Error('ip -j addr show: expected a JSON array');
  const out: InterfaceAddress[] = [];
  for (const link of links) {
    const ifname = field(link, 'ifname');
    const infos = field(link, 'addr_info') ?? [];
    if (typeof ifname !== 'string' || !Array.isArray(infos)) throw new Error('ip -j addr show: a link without ifname or addr_info');
    for (const info of infos) {
      const family = field(info, 'family');
      const local = field(info, 'local');
      const prefixlen = field(info, 'prefixlen');
      // other families (e.g. a link-layer entry some kernels list) carry no IP address
      if ((family !== 'inet' && family !== 'inet6') || typeof local !== 'string' || typeof prefixlen !== 'number') continue;
      const scope = field(info, 'scope');
      out.push({ ifname, family, local, prefixlen, dynamic: field(info, 'dynamic') === true, tentative: field(info, 'tentative') === true, scope: typeof scope === 'string' ? scope : 'global' });
    }
  }
  return out;
}

/** Every address inside `netns`, read with `<ipCmd> -j addr show` there. */
export async function namespaceAddresses(runner: ProcessRunner, ipCmd: string, netns: string): Promise<InterfaceAddress[]> {
  const result = await runner.run(ipCmd, ['-j', 'addr', 'show'], { netns });
  return parseIpAddrJson(result.stdout);
}
