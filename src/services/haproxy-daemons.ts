/**
 * @module services/haproxy-daemons
 * One haproxy per load balancer (unit `haproxy-<lb id>`, Octavia's name, behind
 * `[amphora_agent] unit_name_prefix`) as an init-unit spec, and the render settings of its
 * config. haproxy runs in master-worker mode in the foreground of its supervisor
 * (`ip netns exec <ns> haproxy -W -db -f <cfg> -p <pid>`): the pid file names the master, which
 * stays the same process across reloads; SIGUSR2 makes it re-execute itself, load the config
 * again and replace its workers, or log "Loading failure!" and keep the old ones.
 */
import type { AgentConfig } from '../config/schema.js';
import type { Uuid } from '../model/uuid.js';
import type { HaproxyRenderSettings } from '../render/haproxy-view.js';
import type { ReloadProtocol } from '../render/init-units.js';
import type { DaemonUnitSpec, NetnsUnitSpec } from '../system/init/types.js';
import type { Paths } from '../system/paths.js';
import { KeepalivedDaemons } from './keepalived-daemons.js';

export const haproxyUnit = (lbId: Uuid) => `haproxy-${lbId}`;

/** haproxy 2.6's master logs these around a reload (src/haproxy.c, mworker). */
export const HAPROXY_RELOAD: ReloadProtocol = { signal: 'USR2', acknowledged: /Loading success\./, failed: /Loading failure!/ };

/** Octavia's HAPROXY_DEFAULT_MAXCONN: the limit of a listener without connection_limit. */
export const DEFAULT_MAXCONN = 50000;

export class HaproxyDaemons {
  private readonly keepalived: KeepalivedDaemons;

  constructor(
    private readonly config: AgentConfig,
    private readonly paths: Paths,
  ) {
    this.keepalived = new KeepalivedDaemons(config, paths);
  }

  /** The namespace unit every daemon of the amphora requires (one definition, in KeepalivedDaemons). */
  netns(): NetnsUnitSpec {
    return this.keepalived.netns();
  }

  lb(lbId: Uuid): DaemonUnitSpec {
    const a = this.config.amphora_agent;
    const p = this.paths;
    const prefix = a.unit_name_prefix;
    return {
      unit: `${prefix}${haproxyUnit(lbId)}`,
      description: `haproxy for load balancer ${lbId}`,
      argv: [
        a.ip_cmd, 'netns', 'exec', a.network_namespace,
        this.config.haproxy_amphora.haproxy_cmd, '-W', '-db', '-f', p.haproxyConfig(lbId), '-p', p.haproxyPidFile(lbId),
      ],
      pidFile: p.haproxyPidFile(lbId),
      // the workers are the master's business: it replaces them on reload and stops them on SIGTERM
      childPidFiles: [],
      logFile: p.haproxyLogFile(lbId),
      netnsUnit: this.keepalived.netns().unit,
      netnsSetupScript: p.netnsSetupScript,
      reload: HAPROXY_RELOAD,
      ready: HAPROXY_RELOAD.acknowledged,
    };
  }

  /**
   * Settings for render/haproxy-view: the stats socket under base_path, and logs to haproxy's
   * standard output, which its supervisor appends to the daemon's log file. Up to `notice` only:
   * server and backend state changes, not one line per connection, since that file is never
   * rotated.
   */
  renderSettings(lbId: Uuid): HaproxyRenderSettings {
    return {
      statsSocket: this.paths.haproxyStatsSocket(lbId),
      log: { target: 'stdout', facility: this.config.haproxy_amphora.administrative_log_facility, maxLevel: 'notice' },
      // Octavia's: haproxy drops root after binding. `nogroup` is Debian's and Ubuntu's name.
      user: 'nobody',
      group: 'nogroup',
      defaultMaxconn: DEFAULT_MAXCONN,
      // The sum of 50000 per listener needs more file descriptors than a container may have
      // (haproxy then refuses to start); haproxy sizes its global limit to what it can get.
      globalMaxconn: 'auto',
    };
  }
}
