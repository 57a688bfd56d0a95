/**
 * @module services/keepalived-daemons
 * The daemons of the N+1 model as init-unit specs: one keepalived per LVS listener
 * (octavia-keepalivedlvs-<id>) and one VRRP keepalived (octavia-keepalived), all in the
 * amphora network namespace, plus the namespace unit (amphora-netns). Unit names follow
 * Octavia's so that operators find what they know; `[amphora_agent] unit_name_prefix` (empty by
 * default) is put in front of all three, so that two agents can share one init system.
 */
import type { AgentConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { ProcessRunner } from '../system/exec.js';
import type { InitSystem } from '../system/init/types.js';
import type { Uuid } from '../model/uuid.js';
import type { Paths } from '../system/paths.js';
import type { DaemonUnitSpec, NetnsUnitSpec } from '../system/init/types.js';
import type { CheckScripts } from './check-scripts.js';
import type { StateStore } from './state.js';

/** What the LVS listener and VRRP services both work with. */
export interface KeepalivedServiceDeps {
  readonly config: () => AgentConfig;
  readonly paths: Paths;
  readonly runner: ProcessRunner;
  readonly init: InitSystem;
  readonly daemons: KeepalivedDaemons;
  readonly scripts: CheckScripts;
  readonly state: StateStore;
  readonly log: Logger;
}

export const NETNS_UNIT = 'amphora-netns';
export const VRRP_UNIT = 'octavia-keepalived';
export const lvsUnit = (id: Uuid) => `octavia-keepalivedlvs-${id}`;

export class KeepalivedDaemons {
  constructor(
    private readonly config: AgentConfig,
    private readonly paths: Paths,
  ) {}

  private unit(name: string): string {
    return `${this.config.amphora_agent.unit_name_prefix}${name}`;
  }

  private foreground(configFile: string, pid: string, vrrpPid: string, checkPid: string, only: string[]): string[] {
    const a = this.config.amphora_agent;
    return [
      a.ip_cmd, 'netns', 'exec', a.network_namespace,
      a.keepalived_cmd, '--dont-fork', '--log-console', '--log-detail',
      `--log-facility=${this.config.haproxy_amphora.administrative_log_facility}`,
      ...only,
      '-f', configFile, '-p', pid, '-r', vrrpPid, '-c', checkPid,
    ];
  }

  netns(): NetnsUnitSpec {
    return { unit: this.unit(NETNS_UNIT), namespace: this.config.amphora_agent.network_namespace, setupScript: this.paths.netnsSetupScript };
  }

  lvs(id: Uuid): DaemonUnitSpec {
    const p = this.paths;
    return {
      unit: this.unit(lvsUnit(id)),
      description: `keepalived LVS for listener ${id}`,
      argv: this.foreground(p.lvsConfig(id), p.lvsPidFile(id), p.lvsVrrpPidFile(id), p.lvsCheckPidFile(id), []),
      pidFile: p.lvsPidFile(id),
      childPidFiles: [p.lvsVrrpPidFile(id), p.lvsCheckPidFile(id)],
      logFile: p.lvsLogFile(id),
      netnsUnit: this.unit(NETNS_UNIT),
      netnsSetupScript: p.netnsSetupScript,
    };
  }

  vrrpChildPidFile(): string {
    return this.paths.vrrpPidFile.replace(/\.pid$/, '.vrrp.pid');
  }

  vrrp(): DaemonUnitSpec {
    const p = this.paths;
    const checkPid = p.vrrpPidFile.replace(/\.pid$/, '.check.pid');
    return {
      unit: this.unit(VRRP_UNIT),
      description: 'keepalived VRRP for the amphora',
      // --vrrp: VRRP only; explicit child pid files keep it apart from any system keepalived
      argv: this.foreground(p.vrrpConfig, p.vrrpPidFile, this.vrrpChildPidFile(), checkPid, ['--vrrp']),
      pidFile: p.vrrpPidFile,
      childPidFiles: [this.vrrpChildPidFile(), checkPid],
      logFile: p.vrrpLogFile,
      netnsUnit: this.unit(NETNS_UNIT),
      netnsSetupScript: p.netnsSetupScript,
    };
  }
}
