/**
 * @module jobs/index
 * The agent's scheduled jobs, built from the services and handed to the scheduler; main.ts
 * starts them once the server listens and stops them on shutdown.
 *   rotate-daemon-logs  every minute, at second 15: a log checked once a minute overshoots its
 *                       size by at most what a daemon writes in a minute (console output, kilobytes)
 *   reconcile-daemons   every 10 s: a dead daemon is confirmed by two runs (10-20 s after it
 *                       died) and a dead listener daemon restarted then (SINGLE) or once the
 *                       VRRP failover time has passed (ACTIVE_STANDBY); ADR 0010
 * The schedules are constants, not options: nothing on an amphora needs them otherwise, and
 * each job's own thresholds (`daemon_log_max_bytes`, `daemon_log_keep`) are live options.
 * The heartbeat's counters are not persisted by a job: the heartbeat writes them ahead of each
 * send itself (a periodic flush would send the same deltas twice after a crash).
 * Must not: be imported by anything but main.ts.
 */
import type { LiveConfig } from '../config/startup.js';
import type { Logger } from '../log.js';
import type { DaemonLogs } from '../services/daemon-logs.js';
import type { DaemonRestartCounts, DaemonReviver } from '../services/daemon-revival.js';
import type { DaemonSpecs } from '../services/daemon-specs.js';
import type { StateStore } from '../services/state.js';
import type { Paths } from '../system/paths.js';
import { DaemonReconciler } from './reconcile-daemons.js';
import { rotateDaemonLogs } from './rotate-daemon-logs.js';
import { Scheduler, type Job } from './scheduler.js';

export const ROTATE_SCHEDULE = '15 * * * * *';
export const RECONCILE_SCHEDULE = '*/10 * * * * *';

export interface JobDeps {
  readonly state: StateStore;
  readonly specs: DaemonSpecs;
  readonly logs: DaemonLogs;
  readonly paths: Paths;
  readonly config: () => LiveConfig;
  /** The reconcile job's restarts go through the owning services (their locks, the init seam). */
  readonly revival: DaemonReviver;
  readonly restarts: DaemonRestartCounts;
  readonly log: Logger;
}

export interface AgentJobs {
  readonly scheduler: Scheduler;
  /** The dead daemons the reconcile job found (`deadDaemons()`), for metrics. */
  readonly reconciler: DaemonReconciler;
}

export function buildJobs(deps: JobDeps): AgentJobs {
  const { state, specs, logs, paths, config, revival, restarts, log } = deps;
  const reconciler = new DaemonReconciler({ state, specs, paths, revival, restarts, log: log.child({ job: 'reconcile-daemons' }) });
  const rotateLog = log.child({ job: 'rotate-daemon-logs' });
  const jobs: Job[] = [
    { name: 'rotate-daemon-logs', schedule: ROTATE_SCHEDULE, run: async () => void (await rotateDaemonLogs({ state, specs, logs, config, log: rotateLog })) },
    { name: 'reconcile-daemons', schedule: RECONCILE_SCHEDULE, run: () => reconciler.run() },
  ];
  return { scheduler: new Scheduler(jobs, log), reconciler };
}
