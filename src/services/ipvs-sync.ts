/**
 * @module services/ipvs-sync
 * IPVS connection synchronisation between the two amphorae of an ACTIVE_STANDBY pair
 * (docs/design/0011-ipvs-connection-sync.md): while the VRRP keepalived is wanted, both kernel
 * sync daemons (master: sends this amphora's connections; backup: takes the peer's) run in the
 * amphora namespace on the VRRP interface, with the VRRP instance's virtual_router_id as sync
 * id, so that the amphora taking the VIP already holds the peer's UDP connections and
 * persistence templates. Both run on both amphorae all the time: the kernel allows it, and
 * nothing has to follow the VRRP state. `[amphora_agent] ipvs_sync = false` turns it off (the
 * daemons are stopped at the next VRRP action).
 *
 * `follow` never throws: the sync only improves a failover, so a failure to start it is logged
 * and does not fail the VRRP request that triggered it. ipvsadm runs through the ProcessRunner
 * with argument arrays only.
 * Must not: change the controller's VRRP config.
 */
import type { LiveConfig } from '../config/startup.js';
import type { Logger } from '../log.js';
import { ipvsSyncPlan, matchesPlan, parseSyncDaemons, startDaemonArgs, SYNC_ROLES, type IpvsSyncPlan, type RunningSyncDaemon } from '../model/ipvs-sync-plan.js';
import type { ProcessRunner } from '../system/exec.js';
import type { Paths } from '../system/paths.js';

export interface IpvsSyncDeps {
  readonly config: () => LiveConfig;
  readonly paths: Paths;
  readonly runner: ProcessRunner;
  readonly log: Logger;
}

/** What `follow` did, for the log and the tests. */
export interface SyncOutcome {
  readonly started: readonly string[];
  readonly stopped: readonly string[];
  /** Why no daemon runs for this config (off, no plan), or the failure. */
  readonly note?: string;
}

export class IpvsSync {
  constructor(private readonly deps: IpvsSyncDeps) {}

  /**
   * Brings the sync daemons in line with the VRRP config the keepalived runs (`null`: none is
   * wanted, stop them). Idempotent: one `ipvsadm -L --daemon`, then only the changes.
   */
  async follow(vrrpText: string | null): Promise<SyncOutcome> {
    const enabled = this.deps.config().amphora_agent.ipvs_sync;
    const plan = vrrpText === null || !enabled ? 'not wanted' : ipvsSyncPlan(vrrpText);
    try {
      const running = await this.running();
      const outcome = typeof plan === 'string' ? { started: [], stopped: await this.stop(running), note: plan } : await this.ensure(plan, running);
      if (outcome.started.length > 0 || outcome.stopped.length > 0) this.deps.log.info({ ...outcome }, 'IPVS connection sync daemons changed');
      if (typeof plan === 'string' && vrrpText !== null && enabled) this.deps.log.warn({ reason: plan }, 'no IPVS connection sync for this VRRP config');
      return outcome;
    } catch (err) {
      this.deps.log.error({ err }, 'IPVS connection sync: ipvsadm failed; the pair fails over without it');
      return { started: [], stopped: [], note: err instanceof Error ? err.message : String(err) };
    }
  }

  private async ensure(plan: IpvsSyncPlan, running: readonly RunningSyncDaemon[]): Promise<SyncOutcome> {
    const wrong = running.filter((d) => !matchesPlan(d, plan));
    const stopped = await this.stop(wrong);
    const started: string[] = [];
    for (const role of SYNC_ROLES) {
      if (running.some((d) => d.role === role && matchesPlan(d, plan))) continue;
      await this.ipvsadm(startDaemonArgs(plan, role));
      started.push(`${role} (mcast=${plan.interface}, syncid=${plan.syncId}, group=${plan.group})`);
    }
    return { started, stopped };
  }

  private async stop(daemons: readonly RunningSyncDaemon[]): Promise<string[]> {
    for (const d of daemons) await this.ipvsadm(['--stop-daemon', d.role]);
    return daemons.map((d) => d.role);
  }

  private async running(): Promise<RunningSyncDaemon[]> {
    return parseSyncDaemons((await this.ipvsadm(['-L', '--daemon'])).stdout);
  }

  private ipvsadm(args: readonly string[]) {
    return this.deps.runner.run(this.deps.config().amphora_agent.ipvsadm_cmd, args, { netns: this.deps.paths.namespace });
  }
}
