/**
 * @module services/telemetry/haproxy-sampler
 * What the haproxy of each load balancer says about itself, for the heartbeat and the metrics:
 * for every load balancer in the state whose haproxy master is alive (its pid file names a live
 * process, as `HaproxyLoadBalancers.statuses` judges it), one `show stat -1 -1 -1` on its stats
 * socket, read by services/telemetry/haproxy-stat.ts.
 *
 * One query, not the reference's two (`show stat`, then `show stat -1 6 -1` for the pools): the
 * second returns the same backend and server rows the first already holds, a moment later.
 *
 * A load balancer whose socket does not answer within the deadline, or answers something that
 * is not stats, is logged and left out of this sample; the others are still reported, and
 * `sample()` never rejects, so one hung haproxy cannot stop the heartbeat (the reference's
 * sender loses the whole message to one failing socket). Load balancers are asked in parallel:
 * a slow one costs the sample at most one deadline.
 */
import type { Logger } from '../../log.js';
import type { Uuid } from '../../model/uuid.js';
import { haproxySocketCommand } from '../../system/haproxy-socket.js';
import type { Paths } from '../../system/paths.js';
import { pidFileState } from '../../system/processes.js';
import { haproxyIdentity } from '../daemon-specs.js';
import type { StateStore } from '../state.js';
import { haproxySampleOf, parseShowStat, SAMPLE_COLUMNS } from './haproxy-stat.js';
import type { HaproxyLoadBalancerSample, HaproxySampler } from './samples.js';

/** Every proxy (-1), every kind of object (-1: frontends, backends, servers), every server (-1). */
const SHOW_STAT = 'show stat -1 -1 -1';

/** A haproxy answers `show stat` in milliseconds; this much means it is stuck (the heartbeat runs every 10 s by default). */
export const DEFAULT_STATS_TIMEOUT_MS = 5000;

export interface HaproxyStatsSamplerDeps {
  readonly state: StateStore;
  readonly paths: Paths;
  readonly log: Logger;
  /** The deadline of one load balancer's query, in milliseconds. */
  readonly timeoutMs?: () => number;
}

export class HaproxyStatsSampler implements HaproxySampler {
  constructor(private readonly deps: HaproxyStatsSamplerDeps) {}

  /** The samples of the load balancers whose haproxy runs and answered, in the state's order. */
  async sample(): Promise<HaproxyLoadBalancerSample[]> {
    const ids = Object.keys(this.deps.state.current.loadBalancers) as Uuid[];
    const samples = await Promise.all(ids.map((id) => this.sampleOne(id)));
    return samples.filter((s): s is HaproxyLoadBalancerSample => s !== null);
  }

  /** null: haproxy does not run, or did not answer (logged). */
  private async sampleOne(lbId: Uuid): Promise<HaproxyLoadBalancerSample | null> {
    const { paths, log } = this.deps;
    try {
      if ((await pidFileState(paths, paths.haproxyPidFile(lbId), haproxyIdentity(paths, lbId))) !== 'alive') return null;
      const timeoutMs = this.deps.timeoutMs?.() ?? DEFAULT_STATS_TIMEOUT_MS;
      const answer = await haproxySocketCommand(paths.haproxyStatsSocket(lbId), SHOW_STAT, { timeoutMs });
      return haproxySampleOf(lbId, parseShowStat(answer, SAMPLE_COLUMNS));
    } catch (err) {
      log.warn({ err, lbId }, 'no stats from the haproxy of this load balancer: it is left out of this sample');
      return null;
    }
  }
}
