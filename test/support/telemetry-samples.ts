/**
 * @module test/support/telemetry-samples
 * Builders of telemetry samples (services/telemetry/samples.ts) as the LVS and haproxy samplers
 * fill them, for the metrics tests: every field has a plausible value a test may override.
 */
import type { HaproxyLoadBalancerSample, HaproxyProxySample, IpvsCounters, LvsListenerSample, LvsMemberSample } from '../../src/services/telemetry/samples.js';

export const ipvs = (c: Partial<IpvsCounters> = {}): IpvsCounters => ({ conns: 0, inPackets: 0, outPackets: 0, inBytes: 0, outBytes: 0, ...c });

export function lvsMember(m: Partial<LvsMemberSample> & Pick<LvsMemberSample, 'id' | 'address'>): LvsMemberSample {
  return { port: 5000, status: 'UP', inIpvs: true, weight: 1, activeConns: 0, inactiveConns: 0, counters: ipvs(), ...m };
}

export function lvsListener(id: string, poolId: string | null, members: readonly LvsMemberSample[], over: Partial<LvsListenerSample> = {}): LvsListenerSample {
  const scur = members.reduce((n, m) => n + m.activeConns, 0);
  return {
    kind: 'lvs',
    protocol: 'UDP',
    listener: { id, status: 'OPEN', counters: null, scur },
    pool: poolId === null ? null : { key: poolId, poolId, status: members.some((m) => m.status === 'UP') ? 'UP' : 'DOWN', members: Object.fromEntries(members.map((m) => [m.id, m.status])) },
    ipvs: ipvs(),
    members,
    ...over,
  };
}

export const row = (proxy: string, server: string, r: Partial<HaproxyProxySample> = {}): HaproxyProxySample => ({
  proxy,
  server,
  status: server === 'FRONTEND' ? 'OPEN' : 'UP',
  bin: 0,
  bout: 0,
  stot: 0,
  scur: 0,
  ereq: 0,
  econ: 0,
  eresp: 0,
  ...r,
});

/** A load balancer whose listener's frontend is `listenerId` and whose pool's backend is `<poolId>:<listenerId>`, as Octavia names them. */
export function haproxyLb(lbId: string, listenerId: string, poolId: string, rows: readonly HaproxyProxySample[]): HaproxyLoadBalancerSample {
  const key = `${poolId}:${listenerId}`;
  const servers = rows.filter((r) => r.proxy === key && r.server !== 'BACKEND');
  return {
    kind: 'haproxy',
    loadBalancerId: lbId,
    listeners: [{ id: listenerId, status: 'OPEN', counters: null, scur: 0 }],
    pools: [{ key, poolId, status: 'UP', members: Object.fromEntries(servers.map((s) => [s.server, s.status])) }],
    rows,
  };
}
