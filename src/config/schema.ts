/**
 * @module config/schema
 * The options of amphora-agent.conf that this agent reads: Octavia's own names and defaults
 * (octavia/common/config.py, 11.0.0) plus this agent's additions in [amphora_agent], marked
 * "ours". Options Octavia defines for the controller are accepted and ignored like any other
 * unknown option. Pure data.
 */
import {
  absPath,
  bool,
  choice,
  float,
  hostPortList,
  int,
  ipAddress,
  optionalAbsPath,
  optionalStr,
  port,
  str,
  token,
  unitPrefix,
  type OptionKind,
} from './option-types.js';

export const TLS_PROTOCOLS = ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export const INIT_SYSTEMS = ['auto', 'systemd', 'sysvinit', 'upstart', 'direct'] as const;
export const TOPOLOGIES = ['SINGLE', 'ACTIVE_STANDBY'] as const;

export const SCHEMA = {
  DEFAULT: {
    debug: bool(false),
    log_file: optionalAbsPath(),
  },
  haproxy_amphora: {
    base_path: absPath('/var/lib/octavia'),
    base_cert_dir: absPath('/var/lib/octavia/certs'),
    bind_host: ipAddress('::'),
    bind_port: port(9443),
    haproxy_cmd: absPath('/usr/sbin/haproxy'),
    respawn_count: int(2, 0),
    respawn_interval: int(2, 0),
    use_upstart: bool(true),
    user_log_facility: int(0, 0, 7),
    administrative_log_facility: int(1, 0, 7),
  },
  amphora_agent: {
    agent_server_ca: absPath('/etc/octavia/certs/client_ca.pem'),
    agent_server_cert: absPath('/etc/octavia/certs/server.pem'),
    agent_server_network_dir: optionalAbsPath(),
    agent_request_read_timeout: int(180, 1),
    agent_tls_protocol: choice(TLS_PROTOCOLS, 'TLSv1.2'),
    amphora_id: optionalStr(),
    amphora_udp_driver: str('keepalived_lvs'),
    administrative_log_facility: int(1, 0, 7),
    user_log_facility: int(0, 0, 7),
    // ours: how processes are supervised, and every system location, so that the whole
    // agent can run inside a temporary root (tests, a developer's laptop).
    init_system: choice(INIT_SYSTEMS, 'auto'),
    network_namespace: token('amphora-haproxy'),
    // prepended to the names of the units the agent installs (amphora-netns, octavia-keepalived,
    // octavia-keepalivedlvs-<id>), so that two agents can share one init system (e2e tier)
    unit_name_prefix: unitPrefix(''),
    systemd_unit_dir: absPath('/usr/lib/systemd/system'),
    sysvinit_dir: absPath('/etc/init.d'),
    upstart_dir: absPath('/etc/init'),
    proc_dir: absPath('/proc'),
    // ours: where sysfs is mounted; plug writes <sys_dir>/bus/pci/rescan when a NIC is not
    // found, as the reference does (a test root points it at a directory of its own)
    sys_dir: absPath('/sys'),
    // ours: where `ip netns add` mounts namespaces (iproute2 uses /run/netns; a test root may
    // point the agent's check for its namespace elsewhere)
    netns_run_dir: absPath('/run/netns'),
    haproxy_user_group_file: absPath('/var/lib/octavia/haproxy-default-user-group.conf'),
    plugged_interfaces_file: absPath('/var/lib/octavia/plugged_interfaces'),
    keepalived_cmd: absPath('/usr/sbin/keepalived'),
    ip_cmd: absPath('/sbin/ip'),
    // ours: iproute2's tc, which makes members' replies to ONE_PACKET_SCHEDULING listeners
    // leave from the VIP (services/one-packet-nat.ts)
    tc_cmd: absPath('/sbin/tc'),
    // ours: nftables, which loads the SR-IOV VIP firewall (services/network/vip-firewall.ts);
    // Octavia master's NFT_CMD
    nft_cmd: absPath('/usr/sbin/nft'),
    // ours: ipvsadm, which reads the IPVS table of LVS listeners for the heartbeat and metrics
    // (system/ipvs.ts); Debian installs it in /usr/sbin
    ipvsadm_cmd: absPath('/usr/sbin/ipvsadm'),
    // ours: IPVS connection sync between the amphorae of an ACTIVE_STANDBY pair while the VRRP
    // keepalived runs (services/ipvs-sync.ts, docs/design/0011-ipvs-connection-sync.md)
    ipvs_sync: bool(true),
    // how long keepalived must stay alive after start/reload before the agent reports success
    process_settle_seconds: float(0.5, 0),
    // how long a started daemon may take to be running (its pid files, its ready line) and a reloaded
    // one to acknowledge the reload, before the answer is a 500; a daemon that is quicker answers
    // sooner. Generous, because a busy amphora is slow and a false 500 makes the controller fail over.
    process_ready_timeout: float(30, 1),
    max_request_body_bytes: int(64 * 1024 * 1024, 1024),
    command_timeout: float(120, 1),
    // ours: the probe keepalived runs for SCTP health monitors of listeners the agent renders
    // (API 2.0), called as `<cmd> sctp -t <timeout> <address> <port>`
    sctp_check_cmd: absPath('/usr/bin/amphora-health-checker'),
    // ours: the console logs of keepalived and haproxy (`<unit>.log`) are rotated (copy-truncate,
    // jobs/rotate-daemon-logs.ts) once larger than this, keeping this many copies (.1 newest)
    daemon_log_max_bytes: int(10 * 1024 * 1024, 4096),
    daemon_log_keep: int(3, 0, 20),
  },
  api_settings: {
    // Octavia's API limit, applied by the agent's own listener model (API 2.0)
    udp_connect_min_interval_health_monitor: int(3, 0),
  },
  health_manager: {
    controller_ip_port_list: hostPortList([]),
    heartbeat_interval: int(10, 1),
    heartbeat_key: optionalStr(),
  },
  controller_worker: {
    loadbalancer_topology: choice(TOPOLOGIES, 'SINGLE'),
  },
  // --- metrics ---
  // ours: the Prometheus metrics listener (docs/design/0007-metrics.md). Off unless enabled; with
  // tls (the default) it presents agent_server_cert and asks for a client certificate from
  // client_ca (empty: agent_server_ca, the API's); plain HTTP is allowed on a loopback bind_host
  // only (config/cross-checks.ts).
  prometheus: {
    enabled: bool(false),
    bind_host: ipAddress('127.0.0.1'),
    bind_port: port(9447),
    tls: bool(true),
    client_ca: optionalAbsPath(),
  },
  // --- end metrics ---
} satisfies Record<string, Record<string, OptionKind<unknown>>>;

export type Schema = typeof SCHEMA;
type ValueOf<K> = K extends OptionKind<infer T> ? T : never;

/** The typed, validated agent configuration: `config.haproxy_amphora.bind_port` and so on. */
export type AgentConfig = {
  readonly [S in keyof Schema]: { readonly [O in keyof Schema[S]]: ValueOf<Schema[S][O]> };
};
