/**
 * @module services/metrics/daemon-liveness
 * Per daemon the agent manages (each LVS listener's keepalived, the VRRP keepalived, each load
 * balancer's haproxy): whether the agent was asked to run it (the state registry) and whether it
 * runs (its pid file names a live process, system/processes). The two side by side tell a daemon
 * that died from one that was stopped on purpose. Objects come from the state, never from globbing.
 */
import type { Paths } from '../../system/paths.js';
import { pidFileState } from '../../system/processes.js';
import type { DaemonSpecs } from '../daemon-specs.js';
import { managedDaemons, type DaemonKind as ManagedKind } from '../managed-daemons.js';
import type { StateStore } from '../state.js';

export type DaemonKind = 'keepalived_lvs' | 'keepalived_vrrp' | 'haproxy';

/** The `daemon` label of each kind of managed daemon. */
export const LABEL: Record<ManagedKind, DaemonKind> = { lvs: 'keepalived_lvs', vrrp: 'keepalived_vrrp', haproxy: 'haproxy' };

export interface DaemonLiveness {
  readonly daemon: DaemonKind;
  /** The listener (keepalived_lvs) or load balancer (haproxy); null for the one VRRP keepalived. */
  readonly id: string | null;
  readonly wanted: boolean;
  readonly alive: boolean;
}

export class DaemonLivenessReader {
  constructor(
    private readonly state: StateStore,
    private readonly specs: DaemonSpecs,
    private readonly paths: Paths,
  ) {}

  async sample(): Promise<DaemonLiveness[]> {
    return Promise.all(
      managedDaemons(this.state.current, this.specs).map(async (d): Promise<DaemonLiveness> => ({
        daemon: LABEL[d.kind],
        id: d.id,
        wanted: d.wantRunning,
        alive: (await pidFileState(this.paths, d.spec.pidFile, d.spec.identity)) === 'alive',
      })),
    );
  }
}
