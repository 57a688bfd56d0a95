/**
 * @module system/paths
 * Every location the agent reads or writes, derived from the configuration. Nothing else
 * builds absolute paths. Names that become file names are checked against anchored patterns
 * here, so no request can name a path outside these directories.
 */
import { dirname, join } from 'node:path';
import type { StartupConfig } from '../config/startup.js';
import { CERTIFICATE_NAME } from '../model/certificate-name.js';
import { UnsafeValue } from '../model/errors.js';
import type { Uuid } from '../model/uuid.js';

const UNIT_NAME = /^[a-z][a-z0-9-]{0,126}$/;

/** Staging and scratch copies sit beside their target; the token names one request's copy. */
const SCRATCH_TOKEN = /^[a-z0-9-]{1,64}$/;

function checked(name: string, pattern: RegExp, what: string): string {
  if (!pattern.test(name)) throw new UnsafeValue(`invalid ${what}: ${JSON.stringify(name)}`);
  return name;
}

// --- plug (interface files) ---
/** Octavia's default `agent_server_network_dir`. */
export const DEFAULT_NETWORK_DIR = '/etc/octavia/interfaces';
const IFACE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

/** `<dir>/<name>.json`, the interface file of one interface (`dir`: the live agent_server_network_dir). */
export function interfaceFilePath(dir: string | null | undefined, name: string): string {
  return join(dir ?? DEFAULT_NETWORK_DIR, `${checked(name, IFACE_NAME, 'interface name')}.json`);
}
// --- end plug ---

export interface Paths {
  /** `[haproxy_amphora] base_path`, /var/lib/octavia on an amphora. */
  readonly base: string;
  /** The agent's typed registry of what it was sent (services/state). */
  readonly stateFile: string;
  readonly procDir: string;
  proc(pid: number): string;
  /** The network namespace every daemon of the amphora runs in (`[amphora_agent] network_namespace`). */
  readonly namespace: string;
  /** Where `ip netns add` mounts that namespace (`<netns_run_dir>/<namespace>`). */
  readonly netnsFile: string;
  /** Creates the network namespace and its sysctls; run by the netns unit. */
  readonly netnsSetupScript: string;
  /** The setup script's flock (beside it, under base_path, not a fixed /run path: issue 14, fault 10). */
  readonly netnsLockFile: string;
  /** An init unit's name: `[amphora_agent] unit_name_prefix` + Octavia's name. */
  unitName(name: string): string;

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
  /** The VRRP keepalived's children (its VRRP and checker processes). */
  readonly vrrpChildPidFile: string;
  readonly vrrpCheckPidFile: string;
  readonly vrrpLogFile: string;
  /** Run by the VRRP keepalived's vrrp_script: runs every script in vrrpCheckScriptsDir. */
  readonly vrrpCheckScript: string;
  readonly vrrpCheckScriptsDir: string;
  /** Fails when an LVS listener that should run has no live keepalived. */
  readonly lvsLivenessCheckScript: string;
  /** Fails when a load balancer whose haproxy should run has no live master. */
  readonly haproxyLivenessCheckScript: string;

  /** `<base>/<lbId>`: the load balancer's haproxy config, log and staging files (Octavia's place). */
  haproxyDir(lbId: Uuid): string;
  /** The combined haproxy config of a load balancer's TCP and HTTP listeners. */
  haproxyConfig(lbId: Uuid): string;
  /** haproxy's pid file for a load balancer (the master's pid): `<base>/<lb>/<lb>.pid`, where Octavia's util.pid_path and its units put it. */
  haproxyPidFile(lbId: Uuid): string;
  /** haproxy's stats socket (Octavia's name), read for listener and member status. */
  haproxyStatsSocket(lbId: Uuid): string;
  /** haproxy's console output (it runs in the foreground, -db) for the failure tail. */
  haproxyLogFile(lbId: Uuid): string;
  // --- server state (kept across reloads) ---
  /** `<base>/<lbId>/servers-state`: `show servers state` saved before a reload (Octavia's name and place). */
  haproxyServersState(lbId: Uuid): string;
  // --- end server state ---

  // --- heartbeat ---
  /** `<base>/stats_counters.json`: the counters of the previous heartbeat (the reference's name and format). */
  readonly statsCountersFile: string;
  // --- end heartbeat ---

  /** The SR-IOV VIP firewall's nftables ruleset (Octavia master's NFT_RULES_FILE name, under base_path). */
  readonly nftRulesFile: string;
  // haproxy load balancers of API 1.0: the group file and the certificates their configs name
  /** `[amphora_agent] haproxy_user_group_file`: a `global` section with the `group` haproxy drops to. */
  readonly haproxyUserGroupFile: string;
  /** `<base_cert_dir>/<lbId>`: the load balancer's certificates, CA, CRLs and crt-lists. */
  certDir(lbId: Uuid): string;
  /** One file there; `name` must match model/certificate-name's anchored rule. */
  certFile(lbId: Uuid, name: string): string;

  /** A config being applied: written here, validated, then renamed over `target`. */
  stagedConfig(target: string): string;
  /** A config the validator refused, kept for the operator (Octavia's `-failed` copy). */
  rejectedConfig(target: string): string;
  /** A throw-away copy of a config that is only validated (`token` names the request). */
  scratchConfig(target: string, token: string): string;

  // jobs: the rotated copies of a daemon's console log (`<log>.1` is the newest)
  rotatedLog(log: string, generation: number): string;

  // plug: written when no NIC has the requested MAC, so a hot-plugged one the kernel missed appears
  /** `<sys_dir>/bus/pci/rescan`. */
  readonly pciRescanFile: string;

  // --- daemon binaries ---
  /** `[amphora_agent] keepalived_cmd` as started: validates and runs every keepalived (config/startup.ts says why). */
  readonly keepalivedCmd: string;
  /** `[haproxy_amphora] haproxy_cmd` as started: validates and runs every haproxy. */
  readonly haproxyCmd: string;
  // --- end daemon binaries ---

  systemdUnit(unit: string): string;
  sysvinitScript(unit: string): string;
  upstartJob(unit: string): string;

  // --- issue 14 (fault 10): where the agent writes ---
  /** The fixed directories the agent writes in as root (services/agent-directories adds the live ones). */
  readonly writtenDirs: readonly string[];
  /** `[haproxy_amphora] base_cert_dir`: one directory per load balancer below it. */
  readonly certBaseDir: string;
  // --- end fault 10 ---
}

export function createPaths(config: StartupConfig): Paths {
  const agent = config.amphora_agent;
  const base = config.haproxy_amphora.base_path;
  const lvs = (id: Uuid, suffix: string) => join(base, 'lvs', `octavia-keepalivedlvs-${id}${suffix}`);
  const vrrp = (name: string) => join(base, 'vrrp', name);
  return {
    base,
    stateFile: join(base, 'amphora-agent-state.json'),
    procDir: agent.proc_dir,
    proc: (pid) => {
      if (!Number.isSafeInteger(pid) || pid <= 0) throw new UnsafeValue(`invalid pid: ${pid}`);
      return join(agent.proc_dir, String(pid));
    },
    namespace: agent.network_namespace,
    netnsFile: join(agent.netns_run_dir, agent.network_namespace),
    netnsSetupScript: join(base, 'amphora-netns.sh'),
    netnsLockFile: join(base, 'amphora-netns.lock'),
    unitName: (name) => checked(`${agent.unit_name_prefix}${name}`, UNIT_NAME, 'unit name'),
    lvsDir: join(base, 'lvs'),
    lvsConfig: (id) => lvs(id, '.conf'),
    lvsPidFile: (id) => lvs(id, '.pid'),
    lvsVrrpPidFile: (id) => lvs(id, '.vrrp.pid'),
    lvsCheckPidFile: (id) => lvs(id, '.check.pid'),
    lvsLogFile: (id) => lvs(id, '.log'),
    udpCheckScript: join(base, 'lvs', 'check', 'udp_check.sh'),
    vrrpDir: join(base, 'vrrp'),
    vrrpConfig: vrrp('octavia-keepalived.conf'),
    vrrpPidFile: vrrp('octavia-keepalived.pid'),
    vrrpChildPidFile: vrrp('octavia-keepalived.vrrp.pid'),
    vrrpCheckPidFile: vrrp('octavia-keepalived.check.pid'),
    vrrpLogFile: vrrp('octavia-keepalived.log'),
    vrrpCheckScript: vrrp('check_script.sh'),
    vrrpCheckScriptsDir: vrrp('check_scripts'),
    lvsLivenessCheckScript: join(base, 'vrrp', 'check_scripts', 'lvs_udp_check.sh'),
    haproxyLivenessCheckScript: join(base, 'vrrp', 'check_scripts', 'haproxy_check.sh'),
    haproxyDir: (id) => join(base, id),
    haproxyConfig: (id) => join(base, id, 'haproxy.cfg'),
    haproxyPidFile: (id) => join(base, id, `${id}.pid`),
    haproxyStatsSocket: (id) => join(base, `${id}.sock`),
    haproxyLogFile: (id) => join(base, id, 'haproxy.log'),
    haproxyServersState: (id) => join(base, id, 'servers-state'),
    statsCountersFile: join(base, 'stats_counters.json'),
    nftRulesFile: join(base, 'nftables-vip.rules'),
    haproxyUserGroupFile: agent.haproxy_user_group_file,
    certDir: (id) => join(config.haproxy_amphora.base_cert_dir, id),
    certFile: (id, name) => join(config.haproxy_amphora.base_cert_dir, id, checked(name, CERTIFICATE_NAME, 'certificate file name')),
    stagedConfig: (target) => `${target}.new`,
    rejectedConfig: (target) => `${target}.new-failed`,
    scratchConfig: (target, token) => `${target}.check-${checked(token, SCRATCH_TOKEN, 'scratch token')}`,
    rotatedLog: (log, generation) => {
      if (!Number.isSafeInteger(generation) || generation < 1) throw new UnsafeValue(`invalid log generation: ${generation}`);
      return `${log}.${generation}`;
    },
    pciRescanFile: join(agent.sys_dir, 'bus', 'pci', 'rescan'),
    keepalivedCmd: agent.keepalived_cmd,
    haproxyCmd: config.haproxy_amphora.haproxy_cmd,
    systemdUnit: (unit) => join(agent.systemd_unit_dir, `${checked(unit, UNIT_NAME, 'unit name')}.service`),
    sysvinitScript: (unit) => join(agent.sysvinit_dir, checked(unit, UNIT_NAME, 'unit name')),
    upstartJob: (unit) => join(agent.upstart_dir, `${checked(unit, UNIT_NAME, 'unit name')}.conf`),
    writtenDirs: [base, join(base, 'lvs'), join(base, 'lvs', 'check'), join(base, 'vrrp'), vrrp('check_scripts'), config.haproxy_amphora.base_cert_dir, dirname(agent.haproxy_user_group_file), agent.systemd_unit_dir, agent.sysvinit_dir, agent.upstart_dir],
    certBaseDir: config.haproxy_amphora.base_cert_dir,
  };
}
