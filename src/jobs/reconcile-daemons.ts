/**
 * @module jobs/reconcile-daemons
 * Finds the daemons that should run and do not: an LVS listener's keepalived or a load
 * balancer's haproxy the controller started (`wantRunning`), and the VRRP keepalived once it
 * was started with its config installed, whose pid file names no live process. It logs each at
 * warn once when it is found dead and once when it is back, and keeps the dead ones queryable
 * (`deadDaemons()`, for metrics and diagnostics). It restarts nothing: whether the agent should
 * restart a daemon behind the controller's back (and how often) is a later issue's decision.
 * A daemon counts as dead only when two runs in a row find it so: a stop or delete ends the
 * process a moment before it records that the daemon is no longer wanted, and one run must not
 * report that moment as a death.
 * Must not: change a daemon, a unit or the state.
 */
import type { Logger } from '../log.js';
import type { DaemonSpecs } from '../services/daemon-specs.js';
import type { StateStore } from '../services/state.js';
import { exists } from '../system/files.js';
import type { Paths } from '../system/paths.js';
import { pidFileState, type PidFileState } from '../system/processes.js';
import { managedDaemons, type DaemonKind, type ManagedDaemon } from '../services/managed-daemons.js';

export interface DeadDaemon {
  readonly unit: string;
  readonly kind: DaemonKind;
  readonly id: string | null;
  /** 'absent': no pid file; 'stale': it names a process that is gone (or junk). */
  readonly pidFile: Exclude<PidFileState, 'alive'>;
  /** When the run that confirmed it found it dead. */
  readonly since: Date;
}

export interface ReconcileDeps {
  readonly state: StateStore;
  readonly specs: DaemonSpecs;
  readonly paths: Paths;
  readonly log: Logger;
  readonly now?: () => Date;
}

export class DaemonReconciler {
  /** Units found dead by the latest run only: confirmed (or cleared) by the next. */
  private suspects = new Set<string>();
  private readonly dead = new Map<string, DeadDaemon>();

  constructor(private readonly deps: ReconcileDeps) {}

  /** The daemons that should run and have been found dead (two runs in a row) since. */
  deadDaemons(): DeadDaemon[] {
    return [...this.dead.values()];
  }

  async run(): Promise<void> {
    const wanted = await this.wanted();
    const suspects = new Set<string>();
    for (const daemon of wanted) {
      const unit = daemon.spec.unit;
      const pid = await pidFileState(this.deps.paths, daemon.spec.pidFile, daemon.spec.identity);
      if (pid === 'alive') this.alive(unit);
      else if (this.dead.has(unit)) continue;
      else if (this.suspects.has(unit)) this.died(daemon, pid);
      else suspects.add(unit);
    }
    this.suspects = suspects;
    // stopped or deleted meanwhile: no longer this job's business
    const units = new Set(wanted.map((d) => d.spec.unit));
    for (const [unit, d] of this.dead) {
      if (units.has(unit)) continue;
      this.dead.delete(unit);
      this.deps.log.info({ unit, kind: d.kind, id: d.id }, 'a daemon found dead is no longer wanted (stopped or deleted)');
    }
  }

  /** The daemons that should be running now. */
  private async wanted(): Promise<ManagedDaemon[]> {
    const all = managedDaemons(this.deps.state.current, this.deps.specs).filter((d) => d.wantRunning);
    // the VRRP keepalived only with its config installed (an older agent recorded no hash)
    const vrrpInstalled = await exists(this.deps.paths.vrrpConfig);
    return all.filter((d) => d.kind !== 'vrrp' || vrrpInstalled);
  }

  private alive(unit: string): void {
    const d = this.dead.get(unit);
    if (d === undefined) return;
    this.dead.delete(unit);
    this.deps.log.warn({ unit, kind: d.kind, id: d.id, deadSince: d.since.toISOString() }, 'daemon is running again');
  }

  private died(daemon: ManagedDaemon, pidFile: Exclude<PidFileState, 'alive'>): void {
    const entry: DeadDaemon = { unit: daemon.spec.unit, kind: daemon.kind, id: daemon.id, pidFile, since: (this.deps.now ?? (() => new Date()))() };
    this.dead.set(entry.unit, entry);
    // the daemon's own last words are in its log (logFile): named here, not read
    this.deps.log.warn({ unit: entry.unit, kind: entry.kind, id: entry.id, pidFile: daemon.spec.pidFile, state: pidFile, log: daemon.spec.logFile }, 'daemon should be running and is not (not restarted)');
  }
}
