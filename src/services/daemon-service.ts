/**
 * @module services/daemon-service
 * What the services that own a daemon (LVS listeners, the VRRP keepalived, haproxy load
 * balancers) work with, and the one name of the actions API 1.0 asks of them.
 */
import type { LiveConfig } from '../config/startup.js';
import type { Logger } from '../log.js';
import type { ProcessRunner } from '../system/exec.js';
import type { InitSystem } from '../system/init/types.js';
import type { Paths } from '../system/paths.js';
import type { StagedApply } from './apply/staged-apply.js';
import type { CheckScripts } from './check-scripts.js';
import type { DaemonLogs } from './daemon-logs.js';
import type { DaemonSpecs } from './daemon-specs.js';
import type { KeyedLock } from './keyed-lock.js';
import type { StateStore } from './state.js';

/** `PUT /1.0/loadbalancer/{id}/{action}` and `PUT /1.0/vrrp/{action}`. */
export type DaemonAction = 'start' | 'stop' | 'reload';
export const DAEMON_ACTIONS: readonly DaemonAction[] = ['start', 'stop', 'reload'];

/** The status `/1.0/listeners` reports for a listener. */
export type ListenerStatus = 'ACTIVE' | 'OFFLINE' | 'ERROR';

export interface ListenerStatusEntry {
  readonly status: ListenerStatus;
  readonly uuid: string;
  readonly type: string;
}

export interface DaemonServiceDeps {
  readonly config: () => LiveConfig;
  readonly paths: Paths;
  readonly runner: ProcessRunner;
  readonly init: InitSystem;
  readonly specs: DaemonSpecs;
  readonly scripts: CheckScripts;
  readonly state: StateStore;
  readonly applier: StagedApply;
  /** Removal of a deleted object's console log and its rotated copies. */
  readonly logs: DaemonLogs;
  /**
   * One lock per object id (listener or load balancer), shared by every service that changes one
   * and by API 1.0 and 2.0 alike, so that requests on one id never interleave.
   */
  readonly objectLocks: KeyedLock;
  readonly log: Logger;
}
