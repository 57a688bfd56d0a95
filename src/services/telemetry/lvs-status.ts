/**
 * @module services/telemetry/lvs-status
 * One LVS listener's sample from its layout (model/lvs-layout.ts) and one look at IPVS
 * (system/ipvs.ts): the listener's counters and connections, its pool's status and each
 * member's, decided as the reference decides them (keepalivedlvs_query.py, Octavia 11 with
 * master's dual-stack fix). Pure.
 *
 * The reference's rules: a member not in IPVS is DOWN (RESTARTING while keepalived runs an older
 * config), weight 0 is DRAIN, a disabled member MAINT, the others UP, or "no check" when no
 * checker runs. When none of the listener's real servers is in IPVS, the pool is DOWN if
 * monitored (UP otherwise) and every enabled member DOWN, RESTARTING or "no check". A pool
 * without members is UP.
 *
 * Where this differs from the reference, on purpose:
 * - virtual servers are matched on protocol as well as address and port: a UDP and an SCTP
 *   listener may share a VIP and port, and the reference mixes their real servers and counters;
 * - "RESTARTING" comes from the state (the installed config's hash differs from the one
 *   keepalived proved it loaded), not from comparing the config's mtime with the checker's pid
 *   file, which is wrong after a reload (the agent reloads keepalived with SIGHUP, and the
 *   checker's pid file keeps its time);
 * - a listener whose virtual servers are not in IPVS has `counters: null` instead of zeros,
 *   which the reference also stores as its last counters and so counts twice at the next look;
 * - every VIP's virtual server is summed (the reference reads the first address of each group).
 */
import type { LvsLayout, LvsLayoutMember } from '../../model/lvs-layout.js';
import type { IpvsRealServer, IpvsStats, IpvsVirtualServer } from '../../system/ipvs.js';
import type { IpvsCounters, LvsListenerSample, LvsMemberSample, PoolSample } from './samples.js';

/** haproxy's words, which the controller's health manager reads (heartbeat_udp.py). */
export const MEMBER_STATUS = { up: 'UP', down: 'DOWN', drain: 'DRAIN', maint: 'MAINT', noCheck: 'no check', restarting: 'RESTARTING' } as const;

/** IPVS's virtual servers by protocol, address and port: one look serves every listener. */
export type IpvsIndex = ReadonlyMap<string, readonly IpvsVirtualServer[]>;

const serviceKey = (protocol: string, address: string, port: number) => `${protocol} ${address} ${port}`;

/**
 * The index of one look at IPVS. The heartbeat samples every listener against the same look: a
 * scan of the whole table per listener made a heartbeat at N listeners cost N × N comparisons.
 */
export function indexIpvs(virtualServers: readonly IpvsVirtualServer[]): IpvsIndex {
  const index = new Map<string, IpvsVirtualServer[]>();
  for (const vs of virtualServers) {
    const key = serviceKey(vs.protocol, vs.address, vs.port);
    const same = index.get(key);
    if (same === undefined) index.set(key, [vs]);
    else same.push(vs);
  }
  return index;
}

export interface LvsListenerInput {
  readonly id: string;
  readonly protocol: 'UDP' | 'SCTP';
  readonly layout: LvsLayout;
  /** Every virtual server IPVS has (empty when the kernel has none), or their index (indexIpvs). */
  readonly ipvs: readonly IpvsVirtualServer[] | IpvsIndex;
  /** keepalived runs another config than the installed one (a reload is pending or failed). */
  readonly restarting: boolean;
}

const endpoint = (address: string, port: number) => `${address} ${port}`;

function sum(stats: readonly (IpvsStats | null)[]): IpvsCounters | null {
  const known = stats.filter((s): s is IpvsStats => s !== null);
  if (known.length === 0) return null;
  return known.reduce((a, s) => ({
    conns: a.conns + s.conns,
    inPackets: a.inPackets + s.inPackets,
    outPackets: a.outPackets + s.outPackets,
    inBytes: a.inBytes + s.inBytes,
    outBytes: a.outBytes + s.outBytes,
  }));
}

/** A member's real servers: one per virtual server of its family (several VIPs of one family give several). */
function memberSample(m: LvsLayoutMember, realServers: readonly IpvsRealServer[], status: string): LvsMemberSample {
  const weights = realServers.map((rs) => rs.weight).filter((w): w is number => w !== null);
  return {
    id: m.id,
    // a disabled member of a controller-rendered config has no address in it
    address: m.address ?? '',
    port: m.port ?? 0,
    status,
    inIpvs: realServers.length > 0,
    weight: weights.length > 0 ? Math.max(...weights) : null,
    activeConns: realServers.reduce((n, rs) => n + rs.activeConns, 0),
    inactiveConns: realServers.reduce((n, rs) => n + rs.inactiveConns, 0),
    counters: sum(realServers.map((rs) => rs.stats)),
  };
}

function memberStatus(m: LvsLayoutMember, found: readonly IpvsRealServer[], input: LvsListenerInput, anyInIpvs: boolean, checked: boolean): string {
  if (m.disabled) return MEMBER_STATUS.maint;
  const absent = input.restarting ? MEMBER_STATUS.restarting : MEMBER_STATUS.down;
  if (!anyInIpvs) return checked ? absent : MEMBER_STATUS.noCheck;
  if (found.length === 0) return absent;
  if (found.every((rs) => rs.weight === 0)) return MEMBER_STATUS.drain;
  return checked ? MEMBER_STATUS.up : MEMBER_STATUS.noCheck;
}

export function lvsListenerSample(input: LvsListenerInput): LvsListenerSample {
  const { layout } = input;
  const index = input.ipvs instanceof Map ? input.ipvs : indexIpvs(input.ipvs as readonly IpvsVirtualServer[]);
  const wanted = new Set(layout.virtualServers.map((v) => serviceKey(input.protocol, v.address, v.port)));
  const services = [...wanted].flatMap((key) => index.get(key) ?? []);
  const ipvs = services.length === 0 ? null : sum(services.map((vs) => vs.stats));
  const realServers = services.flatMap((vs) => vs.realServers);
  const byEndpoint = new Map<string, IpvsRealServer[]>();
  for (const rs of realServers) {
    const key = endpoint(rs.address, rs.port);
    const same = byEndpoint.get(key);
    if (same === undefined) byEndpoint.set(key, [rs]);
    else same.push(rs);
  }

  let pool: PoolSample | null = null;
  const members: LvsMemberSample[] = [];
  if (layout.pool !== null) {
    const { checked } = layout.pool;
    const anyInIpvs = realServers.length > 0;
    const statuses: Record<string, string> = {};
    for (const m of layout.pool.members) {
      const found = m.disabled || m.address === null || m.port === null ? [] : (byEndpoint.get(endpoint(m.address, m.port)) ?? []);
      const status = memberStatus(m, found, input, anyInIpvs, checked);
      statuses[m.id] = status;
      members.push(memberSample(m, found, status));
    }
    const down = layout.pool.members.length > 0 && !anyInIpvs && checked;
    pool = { key: layout.pool.id, poolId: layout.pool.id, status: down ? 'DOWN' : 'UP', members: statuses };
  }

  return {
    kind: 'lvs',
    protocol: input.protocol,
    listener: {
      id: input.id,
      status: 'OPEN',
      counters: ipvs === null ? null : { bin: ipvs.inBytes, bout: ipvs.outBytes, stot: ipvs.conns, ereq: 0 },
      scur: realServers.reduce((n, rs) => n + rs.activeConns, 0),
    },
    pool,
    ipvs,
    members,
  };
}
