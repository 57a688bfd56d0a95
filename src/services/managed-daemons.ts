/**
 * @module services/managed-daemons
 * The daemons the agent manages, read from its state (never by globbing files): one keepalived
 * per LVS listener, one haproxy per load balancer, and the VRRP keepalived once a VRRP config
 * was uploaded; each with its unit spec (pid file, log file) and whether it should be running.
 * The one enumeration the scheduled jobs (rotation, reconcile) and the metrics' liveness share.
 * Must not: touch the daemons or their files.
 */
import type { Uuid } from '../model/uuid.js';
import type { DaemonSpecs } from './daemon-specs.js';
import type { AgentState } from './state.js';
import type { DaemonUnitSpec } from '../system/init/types.js';

export type DaemonKind = 'lvs' | 'haproxy' | 'vrrp';

export interface ManagedDaemon {
  readonly kind: DaemonKind;
  /** The listener or load balancer id; null for the VRRP keepalived. */
  readonly id: string | null;
  readonly spec: DaemonUnitSpec;
  /** Started by the controller and not stopped since (for VRRP: also needs its config on disk, see reconcile). */
  readonly wantRunning: boolean;
}

export function managedDaemons(state: Readonly<AgentState>, specs: DaemonSpecs): ManagedDaemon[] {
  const lvs = Object.values(state.lvsListeners).map((l): ManagedDaemon => ({ kind: 'lvs', id: l.id, spec: specs.lvs(l.id as Uuid), wantRunning: l.wantRunning }));
  // the pid and log files of a load balancer do not depend on how its config was sent
  const haproxy = Object.values(state.loadBalancers).map((lb): ManagedDaemon => ({ kind: 'haproxy', id: lb.id, spec: specs.haproxy(lb.id as Uuid), wantRunning: lb.wantRunning }));
  const vrrp: ManagedDaemon[] = state.vrrp === null ? [] : [{ kind: 'vrrp', id: null, spec: specs.vrrp(), wantRunning: state.vrrp.wantRunning }];
  return [...lvs, ...haproxy, ...vrrp];
}
