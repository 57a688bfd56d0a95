/**
 * @module services/daemon-specs
 * Every daemon of the amphora as an init-unit spec (system/init/types.ts), all inside the
 * amphora namespace, which the `amphora-netns` unit creates:
 * - the N+1 keepalived model: one keepalived per LVS listener (`octavia-keepalivedlvs-<id>`)
 *   and one VRRP keepalived (`octavia-keepalived`), each in the foreground of its supervisor
 *   (`--dont-fork --log-console`) with explicit child pid files, so that they stay apart from
 *   any system keepalived and the agent can tell which process is which;
 * - one haproxy per load balancer (`haproxy-<lb id>`), in master-worker mode in the foreground
 *   (`haproxy -W -db`): the pid file names the master, which stays the same process across
 *   reloads; SIGUSR2 makes it re-execute itself and replace its workers, or log
 *   "Loading failure!" and keep the old ones.
 * Unit names are Octavia's, behind `paths.unitName` (`unit_name_prefix`, so that two agents
 * can share one init system). The daemon binaries are startup options (`paths.keepalivedCmd`,
 * `paths.haproxyCmd`); `ip_cmd` and the log facility are read live and reach the next unit installed.
 */
import type { LiveConfig } from '../config/startup.js';
import type { Uuid } from '../model/uuid.js';
import { haproxyRenderSettings, type HaproxyRenderSettings } from '../render/haproxy-settings.js';
import type { DaemonUnitSpec, NetnsUnitSpec, ReloadProtocol } from '../system/init/types.js';
import { netnsExec } from '../system/netns-exec.js';
import type { Paths } from '../system/paths.js';
import type { DaemonIdentity } from '../system/processes.js';
import type { HaproxyRunOptions } from './apply/validators.js';

/** haproxy 2.6's master logs these around a reload (src/haproxy.c, mworker). */
export const HAPROXY_RELOAD: ReloadProtocol = { signal: 'USR2', acknowledged: /Loading success\./, failed: /Loading failure!/ };

/**
 * haproxy's open-file limit: the reference's unit sets LimitNOFILE=2600000. A global `maxconn`
 * needs about two descriptors per connection (Octavia's default of 50000 per listener makes
 * haproxy 2.6 ask for over 200000), and haproxy refuses to start when it cannot raise its limit
 * that far. keepalived keeps the inherited limit.
 */
export const HAPROXY_NOFILE = 2_600_000;

/**
 * What makes a process each daemon (system/processes.ts): its command name and the `-f` and `-p`
 * its argv below gives it. The names are the binaries' (`keepalived_cmd` and `haproxy_cmd` name
 * where they are, not what they are called), as the liveness check scripts have always checked.
 * For callers that know only the object's id; the specs carry the same.
 */
export const lvsIdentity = (paths: Paths, id: Uuid): DaemonIdentity => ({ comm: 'keepalived', config: paths.lvsConfig(id), pidFile: paths.lvsPidFile(id) });
export const vrrpIdentity = (paths: Paths): DaemonIdentity => ({ comm: 'keepalived', config: paths.vrrpConfig, pidFile: paths.vrrpPidFile });
export const haproxyIdentity = (paths: Paths, lbId: Uuid): DaemonIdentity => ({ comm: 'haproxy', config: paths.haproxyConfig(lbId), pidFile: paths.haproxyPidFile(lbId) });

/**
 * keepalived's niceness, inherited by its checker and every MISC_CHECK script (udp_check.sh,
 * amphora-health-checker): keepalived resets only a priority it set itself. A check that gets too
 * little CPU outlives misc_timeout and counts as failed, so a busy vCPU would take healthy members
 * out of IPVS (issue 14 item 12: seen in the VM tier with a CPU hog in the guest). VRRP adverts
 * likewise. -10 gives keepalived about nine tenths of a CPU contended by ordinary processes.
 */
export const KEEPALIVED_NICE = -10;

export class DaemonSpecs {
  constructor(
    private readonly config: () => LiveConfig,
    private readonly paths: Paths,
  ) {}

  /** Every daemon runs inside the amphora namespace (the one prefix, with ip_cmd). */
  private inNamespace(argv: readonly string[]): string[] {
    return netnsExec(this.config().amphora_agent.ip_cmd, this.paths.namespace, argv);
  }

  private keepalived(configFile: string, pid: string, vrrpPid: string, checkPid: string, only: string[]): string[] {
    const config = this.config();
    return this.inNamespace([
      this.paths.keepalivedCmd, '--dont-fork', '--log-console', '--log-detail',
      `--log-facility=${config.haproxy_amphora.administrative_log_facility}`,
      ...only,
      '-f', configFile, '-p', pid, '-r', vrrpPid, '-c', checkPid,
    ]);
  }

  netns(): NetnsUnitSpec {
    return { unit: this.paths.unitName('amphora-netns'), namespace: this.paths.namespace, setupScript: this.paths.netnsSetupScript };
  }

  lvs(id: Uuid): DaemonUnitSpec {
    const p = this.paths;
    return {
      unit: p.unitName(`octavia-keepalivedlvs-${id}`),
      description: `keepalived LVS for listener ${id}`,
      argv: this.keepalived(p.lvsConfig(id), p.lvsPidFile(id), p.lvsVrrpPidFile(id), p.lvsCheckPidFile(id), []),
      pidFile: p.lvsPidFile(id),
      identity: lvsIdentity(p, id),
      childPidFiles: [p.lvsVrrpPidFile(id), p.lvsCheckPidFile(id)],
      logFile: p.lvsLogFile(id),
      netnsUnit: this.netns().unit,
      netnsSetupScript: p.netnsSetupScript,
      nice: KEEPALIVED_NICE,
    };
  }

  vrrp(): DaemonUnitSpec {
    const p = this.paths;
    return {
      unit: p.unitName('octavia-keepalived'),
      description: 'keepalived VRRP for the amphora',
      // --vrrp: VRRP only
      argv: this.keepalived(p.vrrpConfig, p.vrrpPidFile, p.vrrpChildPidFile, p.vrrpCheckPidFile, ['--vrrp']),
      pidFile: p.vrrpPidFile,
      identity: vrrpIdentity(p),
      childPidFiles: [p.vrrpChildPidFile, p.vrrpCheckPidFile],
      logFile: p.vrrpLogFile,
      netnsUnit: this.netns().unit,
      netnsSetupScript: p.netnsSetupScript,
      nice: KEEPALIVED_NICE,
    };
  }

  /**
   * `run`: a config the controller uploaded (API 1.0) also reads the user-group file and names
   * the amphora's local peer, as it was validated (services/apply/validators.ts).
   */
  haproxy(lbId: Uuid, run: HaproxyRunOptions | null = null): DaemonUnitSpec {
    const p = this.paths;
    const uploaded = run === null ? [] : ['-f', run.userGroupFile, '-L', run.peer];
    return {
      unit: p.unitName(`haproxy-${lbId}`),
      description: `haproxy for load balancer ${lbId}`,
      argv: this.inNamespace([this.paths.haproxyCmd, '-W', '-db', '-f', p.haproxyConfig(lbId), ...uploaded, '-p', p.haproxyPidFile(lbId)]),
      pidFile: p.haproxyPidFile(lbId),
      identity: haproxyIdentity(p, lbId),
      // the workers are the master's business: it replaces them on reload and stops them on SIGTERM
      childPidFiles: [],
      logFile: p.haproxyLogFile(lbId),
      netnsUnit: this.netns().unit,
      netnsSetupScript: p.netnsSetupScript,
      reload: HAPROXY_RELOAD,
      ready: HAPROXY_RELOAD.acknowledged,
      nofile: HAPROXY_NOFILE,
    };
  }

  /** What the load balancer's haproxy config is rendered with (render/haproxy-settings.ts). */
  haproxyRenderSettings(lbId: Uuid): HaproxyRenderSettings {
    const { paths } = this;
    return haproxyRenderSettings(paths.haproxyStatsSocket(lbId), this.config().haproxy_amphora.administrative_log_facility, paths.haproxyServersState(lbId));
  }
}
