/**
 * @module services/metrics/lvs-metrics
 * The families of UDP and SCTP listeners, from the LVS samples (IPVS through keepalived): per
 * listener its virtual servers' counters summed (IPv4 and IPv6) and its connections; per pool
 * whether it is up; per member its real server's counters, connections, weight, whether IPVS has
 * it, and its heartbeat status. Counters a sample does not have (a virtual server not in IPVS
 * yet, a member taken out) are left out, not exported as 0.
 */
import type { Registry } from 'prom-client';
import type { IpvsCounters, LvsListenerSample, LvsMemberSample } from '../telemetry/samples.js';
import { absoluteCounter, gauge, type Labels, type Series } from './families.js';
import type { CurrentLook } from './look.js';
import { upValue } from './status.js';

const LISTENER = ['listener_id', 'protocol'] as const;
const POOL = ['listener_id', 'pool_id', 'protocol'] as const;
const MEMBER = ['listener_id', 'pool_id', 'member_id', 'address', 'port', 'protocol'] as const;
type ListenerLabel = (typeof LISTENER)[number];
type MemberLabel = (typeof MEMBER)[number];

/** IPVS's cumulative counters (`ipvsadm -Ln --stats --exact`): name suffix, field, what it counts. */
const IPVS_COUNTERS: readonly (readonly [string, keyof IpvsCounters, string])[] = [
  ['packets_in_total', 'inPackets', 'Packets received (IPVS InPkts)'],
  ['packets_out_total', 'outPackets', 'Packets sent (IPVS OutPkts)'],
  ['bytes_in_total', 'inBytes', 'Bytes received (IPVS InBytes)'],
  ['bytes_out_total', 'outBytes', 'Bytes sent (IPVS OutBytes)'],
  ['connections_total', 'conns', 'Connections scheduled (IPVS Conns)'],
];

/** A disabled member is not in the config keepalived runs: its address and port are not known (empty, 0) and left out. */
function memberLabels(s: LvsListenerSample, m: LvsMemberSample): Labels<MemberLabel> {
  const labels: Labels<MemberLabel> = { listener_id: s.listener.id, member_id: m.id, protocol: s.protocol };
  if (s.pool !== null) labels.pool_id = s.pool.poolId;
  if (m.address !== '') labels.address = m.address;
  if (m.port !== 0) labels.port = m.port;
  return labels;
}

export function registerLvsMetrics(registry: Registry, look: CurrentLook): void {
  const listeners = (): readonly LvsListenerSample[] => look().lvs ?? [];
  registerListenerFamilies(registry, listeners);
  registerMemberFamilies(registry, listeners);
}

function registerListenerFamilies(registry: Registry, listeners: () => readonly LvsListenerSample[]): void {
  /** The listener's series of a value; a listener without one (null) has none. */
  const series = (value: (s: LvsListenerSample) => number | null) =>
    function* (): Generator<Series<ListenerLabel>> {
      for (const s of listeners()) {
        const v = value(s);
        if (v !== null) yield [{ listener_id: s.listener.id, protocol: s.protocol }, v];
      }
    };
  for (const [suffix, field, what] of IPVS_COUNTERS) {
    absoluteCounter(registry, { name: `amphora_lvs_listener_${suffix}`, help: `${what}, the listener's virtual servers summed`, labelNames: LISTENER, series: series((s) => s.ipvs?.[field] ?? null) });
  }
  // connections are those of the virtual servers' real servers: none while no virtual server is in IPVS
  gauge(registry, { name: 'amphora_lvs_listener_active_connections', help: "Active connections (IPVS ActiveConn) of the listener's members", labelNames: LISTENER, series: series((s) => (s.ipvs === null ? null : s.listener.scur)) });
  gauge(registry, {
    name: 'amphora_lvs_listener_inactive_connections',
    help: "Inactive connections (IPVS InActConn) of the listener's members",
    labelNames: LISTENER,
    series: series((s) => (s.ipvs === null ? null : s.members.reduce((sum, m) => sum + m.inactiveConns, 0))),
  });
  gauge(registry, {
    name: 'amphora_lvs_pool_up',
    help: "Whether the listener's pool is up (1) or down (0), as the heartbeat reports it",
    labelNames: POOL,
    series: function* () {
      for (const s of listeners()) if (s.pool !== null) yield [{ listener_id: s.listener.id, pool_id: s.pool.poolId, protocol: s.protocol }, upValue(s.pool.status)];
    },
  });
}

function registerMemberFamilies(registry: Registry, listeners: () => readonly LvsListenerSample[]): void {
  const series = (value: (m: LvsMemberSample) => number | null) =>
    function* (): Generator<Series<MemberLabel>> {
      for (const s of listeners()) {
        for (const m of s.members) {
          const v = value(m);
          if (v !== null) yield [memberLabels(s, m), v];
        }
      }
    };
  for (const [suffix, field, what] of IPVS_COUNTERS) {
    absoluteCounter(registry, { name: `amphora_lvs_member_${suffix}`, help: `${what} of the member's real server`, labelNames: MEMBER, series: series((m) => m.counters?.[field] ?? null) });
  }
  gauge(registry, { name: 'amphora_lvs_member_active_connections', help: 'Active connections (IPVS ActiveConn) of the member', labelNames: MEMBER, series: series((m) => m.activeConns) });
  gauge(registry, { name: 'amphora_lvs_member_inactive_connections', help: 'Inactive connections (IPVS InActConn) of the member', labelNames: MEMBER, series: series((m) => m.inactiveConns) });
  gauge(registry, { name: 'amphora_lvs_member_weight', help: "The member's IPVS weight", labelNames: MEMBER, series: series((m) => m.weight) });
  gauge(registry, { name: 'amphora_lvs_member_in_ipvs', help: "Whether IPVS has the member as a real server (0: keepalived's checker took it out, or it is disabled)", labelNames: MEMBER, series: series((m) => (m.inIpvs ? 1 : 0)) });
  gauge(registry, { name: 'amphora_lvs_member_up', help: 'Whether the member serves (1: UP, DRAIN, no check) or not (0: DOWN, MAINT, RESTARTING)', labelNames: MEMBER, series: series((m) => upValue(m.status)) });
  gauge(registry, {
    name: 'amphora_lvs_member_status',
    help: "The member's status as the heartbeat reports it, in the status label (always 1)",
    labelNames: [...MEMBER, 'status'],
    series: function* () {
      for (const s of listeners()) for (const m of s.members) yield [{ ...memberLabels(s, m), status: m.status }, 1];
    },
  });
}
