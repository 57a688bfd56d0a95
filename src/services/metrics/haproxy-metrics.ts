/**
 * @module services/metrics/haproxy-metrics
 * The families of TCP and HTTP listeners, from haproxy's `show stat` rows of each load
 * balancer: frontends (one per listener), backends (one per pool and listener) and servers (one
 * per member), each with haproxy's own counters, current sessions, errors and status. Octavia
 * names a frontend by its listener id, a backend `<pool>:<listener>` (the heartbeat's pool key)
 * and a server by its member id; the labels say so where the sample confirms it, and always
 * carry haproxy's own `proxy` name.
 */
import type { Registry } from 'prom-client';
import type { HaproxyLoadBalancerSample, HaproxyProxySample } from '../telemetry/samples.js';
import { absoluteCounter, gauge, type Labels, type Series } from './families.js';
import type { CurrentLook } from './look.js';
import { upValue } from './status.js';

type Kind = 'frontend' | 'backend' | 'server';
const LABELS = {
  frontend: ['load_balancer_id', 'proxy', 'listener_id'],
  backend: ['load_balancer_id', 'proxy', 'pool_id'],
  server: ['load_balancer_id', 'proxy', 'pool_id', 'member_id'],
} as const;
type Label = (typeof LABELS)[Kind][number];
type NumberField = Exclude<keyof HaproxyProxySample, 'proxy' | 'server' | 'status'>;

/** haproxy's cumulative counters: name suffix, field, what it counts, the kinds that have it. */
const COUNTERS: readonly (readonly [string, NumberField, string, readonly Kind[]])[] = [
  ['bytes_in_total', 'bin', 'Bytes received (haproxy bin)', ['frontend', 'backend', 'server']],
  ['bytes_out_total', 'bout', 'Bytes sent (haproxy bout)', ['frontend', 'backend', 'server']],
  ['sessions_total', 'stot', 'Sessions since haproxy started (haproxy stot)', ['frontend', 'backend', 'server']],
  ['request_errors_total', 'ereq', 'Request errors (haproxy ereq)', ['frontend']],
  ['connection_errors_total', 'econ', 'Failed connections to a server (haproxy econ)', ['backend', 'server']],
  ['response_errors_total', 'eresp', 'Response errors (haproxy eresp)', ['backend', 'server']],
];

function kindOf(row: HaproxyProxySample): Kind {
  return row.server === 'FRONTEND' ? 'frontend' : row.server === 'BACKEND' ? 'backend' : 'server';
}

function labelsOf(lb: HaproxyLoadBalancerSample, row: HaproxyProxySample, kind: Kind): Labels<Label> {
  const base = { load_balancer_id: lb.loadBalancerId, proxy: row.proxy };
  if (kind === 'frontend') return lb.listeners.some((l) => l.id === row.proxy) ? { ...base, listener_id: row.proxy } : base;
  const pool = lb.pools.find((p) => p.key === row.proxy);
  const withPool = pool === undefined ? base : { ...base, pool_id: pool.poolId };
  return kind === 'server' ? { ...withPool, member_id: row.server } : withPool;
}

export function registerHaproxyMetrics(registry: Registry, look: CurrentLook): void {
  /** The series of one kind of row for a value. */
  const series = (kind: Kind, value: (row: HaproxyProxySample) => number) =>
    function* (): Generator<Series<Label>> {
      for (const lb of look().haproxy ?? []) for (const row of lb.rows) if (kindOf(row) === kind) yield [labelsOf(lb, row, kind), value(row)];
    };
  for (const [suffix, field, what, kinds] of COUNTERS) {
    for (const kind of kinds) absoluteCounter(registry, { name: `amphora_haproxy_${kind}_${suffix}`, help: what, labelNames: LABELS[kind], series: series(kind, (row) => row[field]) });
  }
  for (const kind of ['frontend', 'backend', 'server'] as const) {
    gauge(registry, { name: `amphora_haproxy_${kind}_current_sessions`, help: 'Current sessions (haproxy scur)', labelNames: LABELS[kind], series: series(kind, (row) => row.scur) });
    gauge(registry, {
      name: `amphora_haproxy_${kind}_status`,
      help: "haproxy's status of the row (OPEN, FULL, STOP for frontends; UP, DOWN, MAINT, DRAIN, no check … otherwise), in the status label (always 1)",
      labelNames: [...LABELS[kind], 'status'],
      series: function* () {
        for (const lb of look().haproxy ?? []) for (const row of lb.rows) if (kindOf(row) === kind) yield [{ ...labelsOf(lb, row, kind), status: row.status }, 1];
      },
    });
  }
  for (const kind of ['backend', 'server'] as const) {
    gauge(registry, { name: `amphora_haproxy_${kind}_up`, help: 'Whether haproxy counts it up (1: UP, UP n/m, DRAIN, no check) or not (0)', labelNames: LABELS[kind], series: series(kind, (row) => upValue(row.status)) });
  }
}
