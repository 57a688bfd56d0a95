/**
 * @module services/daemon-revival
 * The one way the reconcile job (jobs/reconcile-daemons.ts) restarts a listener daemon that died:
 * through the service that owns it (LvsListeners, HaproxyLoadBalancers), under that service's
 * per-object lock, so that a restart never races a request on the same listener or load balancer
 * and never starts a daemon the controller stopped or deleted meanwhile (the owner looks at the
 * state again once it holds the lock). The owner starts it through the init seam and the same
 * health proof a controller's start gets. The VRRP keepalived is not restarted: its death is how
 * the peer learns to take the VIP (docs/design/0010-restarting-dead-daemons.md).
 * Also the restart counts per kind, which the metrics read (`amphora_daemon_restarts_total`).
 * Must not: decide when to restart (the job's policy does), or touch the VRRP keepalived.
 */
import type { Uuid } from '../model/uuid.js';
import type { DaemonKind } from './managed-daemons.js';

/** 'started': restarted and proven healthy; 'not-wanted': stopped or deleted; 'alive': someone started it. */
export type ReviveOutcome = 'started' | 'not-wanted' | 'alive';

/** The kinds the agent restarts. */
export type RestartableKind = Exclude<DaemonKind, 'vrrp'>;

/** What each owner offers: a start of the object's daemon if it is still wanted and still dead. */
export interface RevivableOwner {
  revive(id: Uuid): Promise<ReviveOutcome>;
}

export interface DaemonReviver {
  /** Rejects when the start failed (the error the controller's start would have had). */
  revive(kind: RestartableKind, id: Uuid): Promise<ReviveOutcome>;
}

export class DaemonRevival implements DaemonReviver {
  constructor(private readonly owners: Readonly<Record<RestartableKind, RevivableOwner>>) {}

  revive(kind: RestartableKind, id: Uuid): Promise<ReviveOutcome> {
    return this.owners[kind].revive(id);
  }
}

/** How a restart the job decided on ended; 'given_up': the cap was reached and the daemon is left dead. */
export type RestartOutcome = 'started' | 'failed' | 'given_up';

export interface RestartCount {
  readonly kind: DaemonKind;
  readonly outcome: RestartOutcome;
  readonly count: number;
}

/** Counts since the agent started (a Prometheus counter starts at 0 with its process). */
export class DaemonRestartCounts {
  private readonly counts = new Map<string, RestartCount>();

  add(kind: DaemonKind, outcome: RestartOutcome): void {
    const key = `${kind}/${outcome}`;
    this.counts.set(key, { kind, outcome, count: (this.counts.get(key)?.count ?? 0) + 1 });
  }

  snapshot(): RestartCount[] {
    return [...this.counts.values()];
  }
}
