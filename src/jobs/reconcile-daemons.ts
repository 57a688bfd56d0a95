/**
 * @module jobs/reconcile-daemons
 * Finds the daemons that should run and do not: an LVS listener's keepalived or a load
 * balancer's haproxy the controller started (`wantRunning`), and the VRRP keepalived once it
 * was started with its config installed, whose pid file names no live process. It logs each at
 * warn once when it is found dead and once when it is back, keeps the dead ones queryable
 * (`deadDaemons()`), and restarts the listener daemons (ADR 0010):
 *  - through the owning service (services/daemon-revival.ts): under the same per-object lock as
 *    the controller's requests, only while the state still wants it and it is still dead, started
 *    through the init seam and proven healthy as a controller's start is;
 *  - when a VRRP keepalived runs (ACTIVE_STANDBY), not before the VRRP failover time read from its
 *    config (and a margin) has passed since it was first seen dead: the VIP moves to the peer
 *    first, and the restart then makes this amphora a healthy standby again;
 *  - with a doubling backoff and a cap (jobs/restart-policy.ts), after which it is left dead;
 *  - counted per kind and outcome (DaemonRestartCounts, `amphora_daemon_restarts_total`).
 * The VRRP keepalived is never restarted: its death is how the peer and the health manager learn
 * that this amphora has failed (no heartbeat is sent without it).
 * A daemon counts as dead only when two runs in a row find it so: a stop or delete ends the
 * process a moment before it records that the daemon is no longer wanted, and one run must not
 * report that moment as a death.
 * Must not: restart anything but through the DaemonReviver; change a unit or the state itself.
 */
import type { Logger } from '../log.js';
import type { Uuid } from '../model/uuid.js';
import { vrrpFailoverSeconds } from '../model/vrrp-timing.js';
import type { DaemonReviver, DaemonRestartCounts, ReviveOutcome } from '../services/daemon-revival.js';
import type { DaemonSpecs } from '../services/daemon-specs.js';
import { managedDaemons, type DaemonKind, type ManagedDaemon } from '../services/managed-daemons.js';
import type { StateStore } from '../services/state.js';
import { readIfExists } from '../system/files.js';
import type { Paths } from '../system/paths.js';
import { pidFileState, type PidFileState } from '../system/processes.js';
import { decideRestart, historyWhenAlive, NO_RESTARTS, RESTART_LIMITS, type RestartHistory, type RestartLimits } from './restart-policy.js';

/** Beyond the VRRP failover time: the peer's takeover under a busy CPU, and one run of this job. */
export const FAILOVER_MARGIN_MS = 10_000;

export interface DeadDaemon {
  readonly unit: string;
  readonly kind: DaemonKind;
  readonly id: string | null;
  /** 'absent': no pid file; 'stale': it names a process that is gone (or junk). */
  readonly pidFile: Exclude<PidFileState, 'alive'>;
  /** When the run that confirmed it found it dead. */
  readonly since: Date;
  /** When a run first saw it dead (the run before `since`). */
  readonly firstSeen: Date;
}

export interface ReconcileDeps {
  readonly state: StateStore;
  readonly specs: DaemonSpecs;
  readonly paths: Paths;
  readonly revival: DaemonReviver;
  readonly restarts: DaemonRestartCounts;
  readonly log: Logger;
  readonly limits?: RestartLimits;
  readonly now?: () => Date;
}

export class DaemonReconciler {
  /** Units found dead by the latest run only (with when): confirmed (or cleared) by the next. */
  private suspects = new Map<string, Date>();
  private readonly dead = new Map<string, DeadDaemon>();
  private readonly history = new Map<string, RestartHistory>();

  constructor(private readonly deps: ReconcileDeps) {}

  /** The daemons that should run and have been found dead (two runs in a row) since. */
  deadDaemons(): DeadDaemon[] {
    return [...this.dead.values()];
  }

  async run(): Promise<void> {
    const { daemons: wanted, graceMs } = await this.wanted();
    const suspects = new Map<string, Date>();
    for (const daemon of wanted) {
      const unit = daemon.spec.unit;
      const pid = await pidFileState(this.deps.paths, daemon.spec.pidFile, daemon.spec.identity);
      if (pid === 'alive') {
        this.alive(daemon);
        continue;
      }
      if (!this.dead.has(unit)) {
        const seen = this.suspects.get(unit);
        if (seen === undefined) {
          suspects.set(unit, this.now());
          continue;
        }
        this.died(daemon, pid, seen);
      }
      if (daemon.kind !== 'vrrp') await this.maybeRestart(daemon, graceMs);
    }
    this.suspects = suspects;
    this.forgetUnwanted(wanted);
  }

  private now(): Date {
    return (this.deps.now ?? (() => new Date()))();
  }

  /**
   * The daemons that should be running now, and the failover grace: in ACTIVE_STANDBY (a VRRP
   * keepalived is wanted) the peer must hold the VIP before a listener daemon is restarted.
   */
  private async wanted(): Promise<{ daemons: ManagedDaemon[]; graceMs: number }> {
    const all = managedDaemons(this.deps.state.current, this.deps.specs).filter((d) => d.wantRunning);
    // the VRRP keepalived only with its config installed (an older agent recorded no hash)
    const vrrpText = all.some((d) => d.kind === 'vrrp') ? await readIfExists(this.deps.paths.vrrpConfig) : undefined;
    const daemons = all.filter((d) => d.kind !== 'vrrp' || vrrpText !== undefined);
    return { daemons, graceMs: vrrpText === undefined ? 0 : vrrpFailoverSeconds(vrrpText) * 1000 + FAILOVER_MARGIN_MS };
  }

  private async maybeRestart(daemon: ManagedDaemon, graceMs: number): Promise<void> {
    const unit = daemon.spec.unit;
    const dead = this.dead.get(unit);
    if (dead === undefined || daemon.id === null) return;
    const history = this.history.get(unit) ?? NO_RESTARTS;
    const limits = this.deps.limits ?? RESTART_LIMITS;
    const decision = decideRestart(history, { firstSeen: dead.firstSeen.getTime(), now: this.now().getTime(), graceMs }, limits);
    const about = { unit, kind: daemon.kind, id: daemon.id, log: daemon.spec.logFile };
    if (decision.action === 'give-up') {
      this.history.set(unit, { ...history, gaveUp: true });
      this.deps.restarts.add(daemon.kind, 'given_up');
      this.deps.log.error({ ...about, restarts: history.restarts }, 'daemon keeps dying: restarted as often as allowed, now left dead (only a start by the controller brings it back)');
      return;
    }
    if (decision.action !== 'restart') return;
    const at = this.now().getTime();
    let outcome: ReviveOutcome | 'failed';
    try {
      outcome = await this.deps.revival.revive(daemon.kind as 'lvs' | 'haproxy', daemon.id as Uuid);
    } catch (err) {
      outcome = 'failed';
      this.deps.log.error({ ...about, err, attempt: history.restarts + 1 }, 'restarting a dead daemon failed');
    }
    if (outcome === 'started' || outcome === 'failed') {
      this.history.set(unit, { restarts: history.restarts + 1, lastAt: at, gaveUp: false });
      this.deps.restarts.add(daemon.kind, outcome);
    }
    if (outcome === 'failed') return;
    this.dead.delete(unit);
    const why = { started: 'daemon restarted by the agent', alive: 'daemon is running again (started meanwhile)', 'not-wanted': 'a daemon found dead is no longer wanted (stopped or deleted)' }[outcome];
    this.deps.log.warn({ ...about, attempt: history.restarts + 1, deadSince: dead.firstSeen.toISOString() }, why);
  }

  private forgetUnwanted(wanted: readonly ManagedDaemon[]): void {
    // stopped or deleted meanwhile: no longer this job's business
    const units = new Set(wanted.map((d) => d.spec.unit));
    for (const unit of this.history.keys()) if (!units.has(unit)) this.history.delete(unit);
    for (const [unit, d] of this.dead) {
      if (units.has(unit)) continue;
      this.dead.delete(unit);
      this.deps.log.info({ unit, kind: d.kind, id: d.id }, 'a daemon found dead is no longer wanted (stopped or deleted)');
    }
  }

  private alive(daemon: ManagedDaemon): void {
    const unit = daemon.spec.unit;
    const history = this.history.get(unit);
    if (history !== undefined) this.history.set(unit, historyWhenAlive(history, this.now().getTime(), this.deps.limits ?? RESTART_LIMITS));
    const d = this.dead.get(unit);
    if (d === undefined) return;
    this.dead.delete(unit);
    this.deps.log.warn({ unit, kind: d.kind, id: d.id, deadSince: d.since.toISOString() }, 'daemon is running again');
  }

  private died(daemon: ManagedDaemon, pidFile: Exclude<PidFileState, 'alive'>, firstSeen: Date): void {
    const entry: DeadDaemon = { unit: daemon.spec.unit, kind: daemon.kind, id: daemon.id, pidFile, since: this.now(), firstSeen };
    this.dead.set(entry.unit, entry);
    // the daemon's own last words are in its log (logFile): named here, not read
    const what = daemon.kind === 'vrrp' ? 'VRRP keepalived should be running and is not (not restarted: the peer takes the VIP)' : 'daemon should be running and is not';
    this.deps.log.warn({ unit: entry.unit, kind: entry.kind, id: entry.id, pidFile: daemon.spec.pidFile, state: pidFile, log: daemon.spec.logFile }, what);
  }
}
