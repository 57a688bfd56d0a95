/**
 * @module services/network/lifeline
 * Which NICs of the agent's own namespace plug must never move into the amphora namespace: the
 * one holding the address the agent listens on (`[haproxy_amphora] bind_host`, when it is not
 * a wildcard) and the ones the namespace's default routes leave through. The reference moves
 * any NIC whose MAC the controller names, so a wrong MAC (or the management port's) takes the
 * amphora off its management network for good; here that is a 409 and nothing moves.
 */
import { normalizeIp } from '../../model/ip-address.js';
import type { IpState, Link } from './ip-state.js';

/** bind_host values that name no one address: the agent listens on every interface. */
const WILDCARDS = new Set(['0.0.0.0', '::']);

/** Why `link` is the agent's lifeline, or undefined when it may be moved. */
export async function lifelineReason(ip: IpState, bindHost: string | null, link: Link): Promise<string | undefined> {
  const bound = bindHost === null ? undefined : normalizeIp(bindHost);
  if (bound !== undefined && !WILDCARDS.has(bound)) {
    const addresses = await ip.addresses(undefined, link.ifname);
    if (addresses.some((a) => a.local === bound)) return `holds ${bound}, the address the amphora agent listens on`;
  }
  if ((await ip.defaultRouteDevices(undefined)).has(link.ifname)) return "carries the default route of the amphora agent's own namespace";
  return undefined;
}
