/**
 * Telemetry samples for the heartbeat's unit tests: a haproxy load balancer with one HTTP
 * listener, its pool and two members, and an LVS (UDP) listener with a pool. Test data only.
 */
import type { HaproxyLoadBalancerSample, LvsListenerSample, TrafficCounters } from '../telemetry/samples.js';

export const LB = 'bbbbbbbb-0000-0000-0000-000000000001';
export const HTTP_LISTENER = 'aaaaaaaa-0000-0000-0000-000000000001';
export const HTTP_POOL = 'cccccccc-0000-0000-0000-000000000001';
export const UDP_LISTENER = 'aaaaaaaa-0000-0000-0000-000000000002';
export const UDP_POOL = 'cccccccc-0000-0000-0000-000000000002';
export const MEMBER_1 = 'dddddddd-0000-0000-0000-000000000001';
export const MEMBER_2 = 'dddddddd-0000-0000-0000-000000000002';

export function haproxyLb(counters: TrafficCounters | null = { bin: 100, bout: 200, stot: 5, ereq: 1 }, scur = 2): HaproxyLoadBalancerSample {
  return {
    kind: 'haproxy',
    loadBalancerId: LB,
    listeners: [{ id: HTTP_LISTENER, status: 'OPEN', counters, scur }],
    pools: [{ key: `${HTTP_POOL}:${HTTP_LISTENER}`, poolId: HTTP_POOL, status: 'UP', members: { [MEMBER_1]: 'UP', [MEMBER_2]: 'no check' } }],
    rows: [],
  };
}

export function lvsListener(counters: TrafficCounters | null = { bin: 1000, bout: 2000, stot: 7, ereq: 0 }, withPool = true): LvsListenerSample {
  return {
    kind: 'lvs',
    protocol: 'UDP',
    listener: { id: UDP_LISTENER, status: 'OPEN', counters, scur: 3 },
    pool: withPool ? { key: UDP_POOL, poolId: UDP_POOL, status: 'UP', members: { [MEMBER_1]: 'UP', [MEMBER_2]: 'DOWN' } } : null,
    ipvs: null,
    members: [],
  };
}
