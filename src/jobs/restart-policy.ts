/**
 * @module jobs/restart-policy
 * When the reconcile job restarts a listener daemon it found dead (a pure decision, tested
 * without processes or clocks): not before the failover grace has passed since it was first seen
 * dead (ACTIVE_STANDBY: the VIP moves to the peer first, so that a restart never races the VRRP
 * check), then with a doubling backoff between restarts, and at most `maxRestarts` restarts until
 * the daemon has stayed up for `stableMs`; past that cap it is left dead (a daemon that keeps
 * dying must keep failing the VRRP check and show as ERROR to the controller, not flap).
 * Why the agent and not systemd's Restart=, and the figures behind the numbers:
 * docs/design/0010-restarting-dead-daemons.md.
 * Must not: do I/O.
 */

export interface RestartLimits {
  /** The wait after the first restart; each further one doubles it. */
  readonly backoffMs: number;
  /** Restarts allowed before the daemon has stayed up for `stableMs`. */
  readonly maxRestarts: number;
  /** A daemon up this long since the job's last restart of it has its count cleared. */
  readonly stableMs: number;
}

export const RESTART_LIMITS: RestartLimits = { backoffMs: 30_000, maxRestarts: 3, stableMs: 10 * 60_000 };

/** What the job has done to one daemon since it last stayed up. */
export interface RestartHistory {
  readonly restarts: number;
  /** When the latest restart (successful or not) was tried, ms since the epoch. */
  readonly lastAt: number | undefined;
  readonly gaveUp: boolean;
}

export const NO_RESTARTS: RestartHistory = { restarts: 0, lastAt: undefined, gaveUp: false };

export type RestartDecision =
  | { readonly action: 'restart' }
  | { readonly action: 'wait'; readonly until: number }
  /** the cap is reached now: log and count it once, then leave the daemon dead */
  | { readonly action: 'give-up' }
  /** given up before: nothing to do until someone else starts it */
  | { readonly action: 'none' };

export interface DeadFor {
  /** When a run first saw it dead, ms since the epoch. */
  readonly firstSeen: number;
  readonly now: number;
  /** 0 in SINGLE; the VRRP failover time and a margin when a VRRP keepalived runs. */
  readonly graceMs: number;
}

export function decideRestart(history: RestartHistory, dead: DeadFor, limits: RestartLimits = RESTART_LIMITS): RestartDecision {
  if (history.gaveUp) return { action: 'none' };
  if (history.restarts >= limits.maxRestarts) return { action: 'give-up' };
  const afterGrace = dead.firstSeen + dead.graceMs;
  const afterBackoff = history.lastAt === undefined ? 0 : history.lastAt + limits.backoffMs * 2 ** (history.restarts - 1);
  const until = Math.max(afterGrace, afterBackoff);
  return dead.now >= until ? { action: 'restart' } : { action: 'wait', until };
}

/** A daemon found alive: its count is cleared once it stayed up, or when someone else started it after a give-up. */
export function historyWhenAlive(history: RestartHistory, now: number, limits: RestartLimits = RESTART_LIMITS): RestartHistory {
  if (history.gaveUp) return NO_RESTARTS;
  if (history.lastAt !== undefined && now - history.lastAt >= limits.stableMs) return NO_RESTARTS;
  return history;
}
