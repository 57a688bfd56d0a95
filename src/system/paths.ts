/**
 * @module system/paths
 * Every location the agent reads or writes, derived from the configuration. Nothing else
 * builds absolute paths. Names that become file names are checked against anchored patterns
 * here, so no request can name a path outside these directories.
 */
import { join } from 'node:path';
import type { AgentConfig } from '../config/schema.js';
import type { Uuid } from '../model/uuid.js';

const UNIT_NAME = /^[a-z][a-z0-9-]{0,126}$/;

function checked(name: string, pattern: RegExp, what: string): string {
  if (!pattern.test(name)) throw new Error(`invalid ${what}: ${JSON.stringify(name)}`);
  return name;
}

export interface Paths {
  /** `[haproxy_amphora] base_path`, /var/lib/octavia on an amphora. */
  readonly base: string;
  readonly certDir: string;
  readonly serverCert: string;
  readonly serverCa: string;
  /** Octavia's interface files (`agent_server_network_dir`, default /etc/octavia/interfaces). */
  readonly interfacesDir: string;
  readonly pluggedInterfaces: string;
  readonly haproxyUserGroup: string;
  /** The agent's typed registry of what it was sent (services/state). */
  readonly stateFile: string;
  readonly procDir: string;
  proc(pid: number): string;
  /** `<base>/lvs`: LVS listener configs, pid files and logs. */
  readonly lvsDir: string;
  lvsConfig(listenerId: Uuid): string;
  /** keepalived's main pid file for an LVS listener (Octavia's name, §5 of the contract). */
  lvsPidFile(listenerId: Uuid): string;
  lvsVrrpPidFile(listenerId: Uuid): string;
  lvsCheckPidFile(listenerId: Uuid): string;
  /** keepalived's console output (it runs with --log-console) for the failure tail. */
  lvsLogFile(listenerId: Uuid): string;
  /** The UDP-CONNECT member check that controller-rendered configs call. */
  readonly udpCheckScript: string;
  readonly vrrpDir: string;
  readonly vrrpConfig: string;
  readonly vrrpPidFile: string;
  readonly vrrpLogFile: string;
  /** Run by the VRRP keepalived's vrrp_script: runs every script in vrrpCheckScriptsDir. */
  readonly vrrpCheckScript: string;
  readonly vrrpCheckScriptsDir: string;
  /** Fails when an LVS listener that should run has no live keepalived. */
  readonly lvsLivenessCheckScript: string;
  /** Fails when a load balancer whose haproxy should run has no live master. */
  readonly haproxyLivenessCheckScript: string;
  /** Creates the network namespace and its sysctls; run by the netns unit. */
  readonly netnsSetupScript: string;
  /** Where `ip netns add` mounts the namespace (fixed by iproute2). */
  readonly netnsFile: string;
  /** `<base>/<lbId>`: the load balancer's haproxy config, log and staging files (Octavia's place). */
  haproxyDir(lbId: Uuid): string;
  /** The combined haproxy config of a load balancer's TCP and HTTP listeners. */
  haproxyConfig(lbId: Uuid): string;
  /** haproxy's pid file for a load balancer (the master's pid; Octavia's name). */
  haproxyPidFile(lbId: Uuid): string;
  /** haproxy's stats socket (Octavia's name), read for listener and member status. */
  haproxyStatsSocket(lbId: Uuid): string;
  /** haproxy's console output (it runs in the foreground, -db) for the failure tail. */
  haproxyLogFile(lbId: Uuid): string;
  systemdUnit(unit: string): string;
  sysvinitScript(unit: string): string;
  upstartJob(unit: string): string;
}

export function createPaths(config: AgentConfig): Paths {
  const agent = config.amphora_agent;
  const base = config.haproxy_amphora.base_path;
  return {
    base,
    certDir: config.haproxy_amphora.base_cert_dir,
    serverCert: agent.agent_server_cert,
    serverCa: agent.agent_server_ca,
    interfacesDir: agent.agent_server_network_dir ?? '/etc/octavia/interfaces',
    pluggedInterfaces: agent.plugged_interfaces_file,
    haproxyUserGroup: agent.haproxy_user_group_file,
    stateFile: join(base, 'amphora-agent-state.json'),
    procDir: agent.proc_dir,
    proc: (pid) => {
      if (!Number.isSafeInteger(pid) || pid <= 0) throw new Error(`invalid pid: ${pid}`);
      return join(agent.proc_dir, String(pid));
    },
    lvsDir: join(base, 'lvs'),
    lvsConfig: (id) => join(base, 'lvs', `octavia-keepalivedlvs-${id}.conf`),
    lvsPidFile: (id) => join(base, 'lvs', `octavia-keepalivedlvs-${id}.pid`),
    lvsVrrpPidFile: (id) => join(base, 'lvs', `octavia-keepalivedlvs-${id}.vrrp.pid`),
    lvsCheckPidFile: (id) => join(base, 'lvs', `octavia-keepalivedlvs-${id}.check.pid`),
    lvsLogFile: (id) => join(base, 'lvs', `octavia-keepalivedlvs-${id}.log`),
    udpCheckScript: join(base, 'lvs', 'check', 'udp_check.sh'),
    vrrpDir: join(base, 'vrrp'),
    vrrpConfig: join(base, 'vrrp', 'octavia-keepalived.conf'),
    vrrpPidFile: join(base, 'vrrp', 'octavia-keepalived.pid'),
    vrrpLogFile: join(base, 'vrrp', 'octavia-keepalived.log'),
    vrrpCheckScript: join(base, 'vrrp', 'check_script.sh'),
    vrrpCheckScriptsDir: join(base, 'vrrp', 'check_scripts'),
    lvsLivenessCheckScript: join(base, 'vrrp', 'check_scripts', 'lvs_udp_check.sh'),
    haproxyLivenessCheckScript: join(base, 'vrrp', 'check_scripts', 'haproxy_check.sh'),
    netnsSetupScript: join(base, 'amphora-netns.sh'),
    netnsFile: join('/run/netns', agent.network_namespace),
    haproxyDir: (id) => join(base, id),
    haproxyConfig: (id) => join(base, id, 'haproxy.cfg'),
    haproxyPidFile: (id) => join(base, `${id}.pid`),
    haproxyStatsSocket: (id) => join(base, `${id}.sock`),
    haproxyLogFile: (id) => join(base, id, 'haproxy.log'),
    systemdUnit: (unit) => join(agent.systemd_unit_dir, `${checked(unit, UNIT_NAME, 'unit name')}.service`),
    sysvinitScript: (unit) => join(agent.sysvinit_dir, checked(unit, UNIT_NAME, 'unit name')),
    upstartJob: (unit) => join(agent.upstart_dir, `${checked(unit, UNIT_NAME, 'unit name')}.conf`),
  };
}
