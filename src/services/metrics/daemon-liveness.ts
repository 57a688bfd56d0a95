/**
 * @module services/metrics/daemon-liveness
 * Per daemon the agent manages (each LVS listener's keepalived, the VRRP keepalived, each load
 * balancer's haproxy): whether the agent was asked to run it (the state registry) and whether it
 * runs (its pid file names a live process, system/processes). The two side by side tell a daemon
 * that died from one that was stopped on purpose. Objects come from the state, never from globbing.
 */
import type { Uuid } from '../../model/uuid.js';
import type { Paths } from '../../system/paths.js';
import { pidFileState } from '../../system/processes.js';
import type { StateStore } from '../state.js';

export type DaemonKind = 'keepalived_lvs' | 'keepalived_vrrp' | 'haproxy';

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
    private readonly paths: Paths,
  ) {}

  async sample(): Promise<DaemonLiveness[]> {
    const { paths } = this;
    const current = this.state.current;
    const alive = async (pidFile: string) => (await pidFileState(paths, pidFile)) === 'alive';
    const lvs = Object.values(current.lvsListeners).map(async (l): Promise<DaemonLiveness> => ({
      daemon: 'keepalived_lvs',
      id: l.id,
      wanted: l.wantRunning,
      alive: await alive(paths.lvsPidFile(l.id as Uuid)),
    }));
    const haproxy = Object.values(current.loadBalancers).map(async (lb): Promise<DaemonLiveness> => ({
      daemon: 'haproxy',
      id: lb.id,
      wanted: lb.wantRunning,
      alive: await alive(paths.haproxyPidFile(lb.id as Uuid)),
    }));
    const vrrp = current.vrrp;
    const keepalived = vrrp === null ? [] : [(async (): Promise<DaemonLiveness> => ({ daemon: 'keepalived_vrrp', id: null, wanted: vrrp.wantRunning, alive: await alive(paths.vrrpPidFile) }))()];
    return Promise.all([...lvs, ...haproxy, ...keepalived]);
  }
}
