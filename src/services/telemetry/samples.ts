/**
 * @module services/telemetry/samples
 * What one look at the running daemons gives: per listener its status and absolute traffic
 * counters, per pool its status and its members' statuses, in the vocabulary Octavia's health
 * manager reads (haproxy's words: OPEN, UP, DOWN, DRAIN, MAINT, "no check", and keepalived's
 * RESTARTING). Two sources fill it (LVS listeners from IPVS, haproxy load balancers from the
 * stats socket); two consumers read it: the heartbeat (services/heartbeat/, which turns the
 * counters into deltas) and the Prometheus metrics (services/metrics/). Types only.
 */

/** Cumulative counters as the daemon reports them; the heartbeat sends their deltas. */
export interface TrafficCounters {
  /** bytes in (haproxy `bin`, IPVS InBytes) */
  readonly bin: number;
  /** bytes out (haproxy `bout`, IPVS OutBytes) */
  readonly bout: number;
  /** connections since start (haproxy `stot`, IPVS Conns) */
  readonly stot: number;
  /** request errors (haproxy `ereq`; always 0 for LVS) */
  readonly ereq: number;
}

export interface ListenerSample {
  readonly id: string;
  /** OPEN, FULL or STOP (haproxy's frontend status); LVS listeners are OPEN while keepalived runs */
  readonly status: string;
  /** null: the daemon runs but gave no counters this time (e.g. its virtual server is not in IPVS yet) */
  readonly counters: TrafficCounters | null;
  /** current connections (haproxy `scur`, IPVS ActiveConn summed over real servers) */
  readonly scur: number;
}

export interface PoolSample {
  /** the key of the heartbeat's `pools` map: `<pool>:<listener>` for haproxy, the pool id for LVS */
  readonly key: string;
  readonly poolId: string;
  /** UP or DOWN */
  readonly status: string;
  /** member id → UP, DOWN, DRAIN, MAINT, "no check", RESTARTING or haproxy's transitional "UP 1/3" */
  readonly members: Readonly<Record<string, string>>;
}

/** IPVS counters of one virtual or real server (`ipvsadm -Ln --stats --exact`). */
export interface IpvsCounters {
  readonly conns: number;
  readonly inPackets: number;
  readonly outPackets: number;
  readonly inBytes: number;
  readonly outBytes: number;
}

/** One member of an LVS listener as IPVS sees it, for metrics. */
export interface LvsMemberSample {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  /** the status reported in the heartbeat */
  readonly status: string;
  /** false when keepalived's checker took it out of IPVS (or it is disabled) */
  readonly inIpvs: boolean;
  readonly weight: number | null;
  readonly activeConns: number;
  readonly inactiveConns: number;
  readonly counters: IpvsCounters | null;
}

export interface LvsListenerSample {
  readonly kind: 'lvs';
  readonly protocol: 'UDP' | 'SCTP';
  readonly listener: ListenerSample;
  readonly pool: PoolSample | null;
  /** the listener's virtual servers summed (IPv4 and IPv6), null when none is in IPVS */
  readonly ipvs: IpvsCounters | null;
  readonly members: readonly LvsMemberSample[];
}

/** One row of haproxy's `show stat` that metrics export (frontends, backends, servers). */
export interface HaproxyProxySample {
  readonly proxy: string;
  /** FRONTEND, BACKEND or the server name (a member id) */
  readonly server: string;
  readonly status: string;
  readonly bin: number;
  readonly bout: number;
  readonly stot: number;
  readonly scur: number;
  readonly ereq: number;
  readonly econ: number;
  readonly eresp: number;
}

export interface HaproxyLoadBalancerSample {
  readonly kind: 'haproxy';
  readonly loadBalancerId: string;
  readonly listeners: readonly ListenerSample[];
  readonly pools: readonly PoolSample[];
  readonly rows: readonly HaproxyProxySample[];
}

/** Everything one look found. Only running daemons appear (the reference reports no stopped listener). */
export interface TelemetrySnapshot {
  readonly lvs: readonly LvsListenerSample[];
  readonly haproxy: readonly HaproxyLoadBalancerSample[];
}

export interface LvsSampler {
  sample(): Promise<LvsListenerSample[]>;
}

export interface HaproxySampler {
  sample(): Promise<HaproxyLoadBalancerSample[]>;
}
