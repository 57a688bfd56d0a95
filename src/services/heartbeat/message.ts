/**
 * @module services/heartbeat/message
 * The v3 heartbeat message Octavia's health manager reads (amphorae/drivers/health/heartbeat_udp.py):
 * `{"id", "seq", "listeners", "pools", "ver": 3}`, built from one telemetry snapshot and the
 * counter deltas since the previous message (services/heartbeat/counters.ts). Pure: no I/O.
 *
 * Per listener: its status and `stats` of deltas (`tx` ← bout, `rx` ← bin, `totconns` ← stot,
 * `ereq`) plus `conns`, the current connections, which is not a delta. Per pool, keyed as the
 * sampler keyed it (`<pool>:<listener>` for haproxy, the pool id for LVS): its status and each
 * member's status. haproxy load balancers first, then LVS listeners, as the reference does.
 */
import type { ListenerSample, PoolSample, TelemetrySnapshot, TrafficCounters } from '../telemetry/samples.js';

/** The message format version: 3 reports deltas (the reference's MSG_VER). */
export const HEARTBEAT_VERSION = 3;

export interface ListenerStats {
  readonly tx: number;
  readonly rx: number;
  readonly conns: number;
  readonly totconns: number;
  readonly ereq: number;
}

export interface ListenerReport {
  readonly status: string;
  readonly stats: ListenerStats;
}

export interface PoolReport {
  readonly status: string;
  readonly members: Readonly<Record<string, string>>;
}

export interface HeartbeatMessage {
  readonly id: string;
  readonly seq: number;
  readonly listeners: Readonly<Record<string, ListenerReport>>;
  readonly pools: Readonly<Record<string, PoolReport>>;
  readonly ver: typeof HEARTBEAT_VERSION;
}

export const ZERO_COUNTERS: TrafficCounters = { bin: 0, bout: 0, stot: 0, ereq: 0 };

/** Every listener of the snapshot, haproxy's first, in the order the message lists them. */
export function snapshotListeners(snapshot: TelemetrySnapshot): ListenerSample[] {
  return [...snapshot.haproxy.flatMap((lb) => lb.listeners), ...snapshot.lvs.map((l) => l.listener)];
}

function listenerReport(sample: ListenerSample, delta: TrafficCounters): ListenerReport {
  return {
    status: sample.status,
    stats: { tx: delta.bout, rx: delta.bin, conns: sample.scur, totconns: delta.stot, ereq: delta.ereq },
  };
}

const poolReport = (pool: PoolSample): PoolReport => ({ status: pool.status, members: { ...pool.members } });

/**
 * The message numbered `seq` for `snapshot`; `deltas` maps listener ids to what their counters
 * grew by since the previous message (a listener without an entry reports zeros).
 */
export function buildHeartbeatMessage(
  amphoraId: string,
  seq: number,
  snapshot: TelemetrySnapshot,
  deltas: ReadonlyMap<string, TrafficCounters>,
): HeartbeatMessage {
  const listeners: Record<string, ListenerReport> = {};
  const pools: Record<string, PoolReport> = {};
  for (const lb of snapshot.haproxy) {
    for (const l of lb.listeners) listeners[l.id] = listenerReport(l, deltas.get(l.id) ?? ZERO_COUNTERS);
    for (const p of lb.pools) pools[p.key] = poolReport(p);
  }
  for (const lvs of snapshot.lvs) {
    if (lvs.pool !== null) pools[lvs.pool.key] = poolReport(lvs.pool);
    listeners[lvs.listener.id] = listenerReport(lvs.listener, deltas.get(lvs.listener.id) ?? ZERO_COUNTERS);
  }
  return { id: amphoraId, seq, listeners, pools, ver: HEARTBEAT_VERSION };
}
