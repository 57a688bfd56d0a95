/**
 * @module test/image/lib/config-drive
 * The config drive an amphora boots with, made the way Octavia 11's controller and Nova make it.
 * Octavia's compute task passes Nova `files` (amphora-agent.conf from its AgentJinjaTemplater,
 * /etc/rsyslog.d/10-rsyslog.conf, the amphora's server.pem and the controller's client_ca.pem) and a
 * cloud-config `user_data`; Nova writes them to a config drive v2 (ISO 9660, label `config-2`:
 * openstack/latest/meta_data.json listing `files` [{path, content_path}], openstack/content/NNNN,
 * openstack/latest/user_data, openstack/latest/network_data.json). cloud-init's ConfigDrive datasource writes the files at first boot.
 *
 * The agent config and the user_data are rendered by Octavia's own templaters when python3-octavia
 * is installed (the real thing); otherwise by renderAgentConf/OCTAVIA_USER_DATA below, which give
 * the same text for Octavia 11's defaults (the report says which one was used). The test adds one
 * thing to the user_data: its probe script (write_files) and one runcmd entry that runs it.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The path the probe script gets inside the guest (a tmpfs: nothing stays in the image). */
export const PROBE_GUEST_PATH = '/run/amphora-image-test/probe.sh';

/** Octavia 11's agent template with its defaults (what the controller renders with no overrides). */
export function renderAgentConf({ amphoraId, heartbeat, heartbeatKey, topology = 'SINGLE' }) {
  return `
[DEFAULT]
debug = False
use_syslog = True
syslog_log_facility = LOG_LOCAL1

[haproxy_amphora]
base_cert_dir = /var/lib/octavia/certs
base_path = /var/lib/octavia
bind_host = ::
bind_port = 9443
haproxy_cmd = /usr/sbin/haproxy
respawn_count = 2
respawn_interval = 2
use_upstart = True
user_log_facility = 0
administrative_log_facility = 1

[health_manager]
controller_ip_port_list = ${heartbeat}
heartbeat_interval = 10
heartbeat_key = ${heartbeatKey}

[amphora_agent]
agent_server_ca = /etc/octavia/certs/client_ca.pem
agent_server_cert = /etc/octavia/certs/server.pem
agent_request_read_timeout = 180
amphora_id = ${amphoraId}
amphora_udp_driver = keepalived_lvs
agent_tls_protocol = TLSv1.2

[controller_worker]
loadbalancer_topology = ${topology}`;
}

/** Octavia 11's user_data for config-drive files (user_data_config_drive = False), comments left out. */
const OCTAVIA_USER_DATA = '#cloud-config\n\nruncmd:\n-   systemctl restart rsyslog\n\n\ntimezone: UTC';

// Octavia's templaters, run by the host's python3-octavia; prints a JSON object of the three texts.
const OCTAVIA_RENDER = `
import json, sys
from oslo_log import log as logging
from octavia.common.config import cfg
CONF = cfg.CONF
logging.register_options(CONF)
CONF([], project='octavia', default_config_files=[])
CONF.set_override('controller_ip_port_list', [sys.argv[2]], group='health_manager')
CONF.set_override('heartbeat_key', sys.argv[3], group='health_manager')
from octavia.amphorae.backends.agent import agent_jinja_cfg
from octavia.common.jinja.logging import logging_jinja_cfg
from octavia.common.jinja import user_data_jinja_cfg
print(json.dumps({
  'agent_conf': agent_jinja_cfg.AgentJinjaTemplater().build_agent_config(sys.argv[1], 'SINGLE'),
  'rsyslog_conf': logging_jinja_cfg.LoggingJinjaTemplater(CONF.amphora_agent.logging_template_override).build_logging_config(),
  'user_data': user_data_jinja_cfg.UserDataJinjaCfg().build_user_data_config({}),
}))
`;

/** The controller's texts: Octavia's templaters when importable, else the built-in equivalents. */
export function controllerTexts({ amphoraId, heartbeat = '127.0.0.1:5555', heartbeatKey = 'insecure' }) {
  try {
    const out = execFileSync('/usr/bin/python3', ['-c', OCTAVIA_RENDER, amphoraId, heartbeat, heartbeatKey], {
      cwd: '/',
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    return { ...JSON.parse(out), source: 'octavia' };
  } catch (e) {
    const why = String(e.stderr || e.message).trim().split('\n').pop();
    return {
      agent_conf: renderAgentConf({ amphoraId, heartbeat, heartbeatKey }),
      rsyslog_conf: '',
      user_data: OCTAVIA_USER_DATA,
      source: `built-in (python3-octavia not usable: ${why})`,
    };
  }
}

/** Octavia's user_data plus the probe: the script as a write_files entry and a runcmd line for it. */
export function withProbe(userData, probeScript) {
  const anchor = /^runcmd:\n(-   .*\n)*/m;
  const m = userData.match(anchor);
  if (!m) throw new Error(`the controller's user_data has no runcmd list:\n${userData}`);
  const run = `${m[0]}-   [bash, ${PROBE_GUEST_PATH}]\n`;
  const files = [
    'write_files:',
    `-   path: ${PROBE_GUEST_PATH}`,
    '    permissions: "0700"',
    '    encoding: b64',
    `    content: ${Buffer.from(probeScript).toString('base64')}`,
  ].join('\n');
  return `${userData.replace(anchor, run)}\n${files}\n`;
}

/**
 * Writes the config drive's tree under dir and packs it into an ISO (genisoimage, else xorriso in its
 * mkisofs mode). files: { guestPath: text }. Answers { iso, instanceUuid, metaData }.
 */
export function makeConfigDrive({ dir, iso, amphoraId, files, userData, mgmtMac }) {
  const os = join(dir, 'openstack');
  const content = join(os, 'content');
  mkdirSync(join(os, 'latest'), { recursive: true });
  mkdirSync(content, { recursive: true });
  const list = Object.entries(files).map(([path, text], i) => {
    const name = String(i).padStart(4, '0');
    writeFileSync(join(content, name), text);
    return { path, content_path: `/content/${name}` };
  });
  const instanceUuid = randomUUID();
  const metaData = {
    uuid: instanceUuid,
    name: `amphora-${amphoraId}`,
    hostname: `amphora-${amphoraId}`,
    launch_index: 0,
    availability_zone: 'nova',
    meta: {},
    files: list,
  };
  writeFileSync(join(os, 'latest', 'meta_data.json'), JSON.stringify(metaData));
  writeFileSync(join(os, 'latest', 'user_data'), userData);
  if (mgmtMac) writeFileSync(join(os, 'latest', 'network_data.json'), JSON.stringify(networkData(mgmtMac)));
  const args = ['-o', iso, '-ldots', '-allow-lowercase', '-allow-multidot', '-l', '-quiet', '-J', '-r', '-V', 'config-2', dir];
  const tool = isoTool();
  if (!tool) throw new Error('neither genisoimage nor xorriso is installed');
  execFileSync(tool.cmd, [...tool.pre, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return { iso, instanceUuid, metaData };
}

/**
 * Nova's network_data.json for an amphora booted on Octavia's management network alone (the VIP port
 * is attached later): one link, its subnet with DHCP enabled (`ipv4_dhcp`). Without it cloud-init
 * falls back to DHCP for IPv4 and IPv6 on the first NIC, and a DHCPv6 that never answers held
 * ifupdown's networking.service (and so the whole boot) for its 5-minute timeout.
 */
export function networkData(mac) {
  const vif = randomUUID();
  const link = `tap${vif.slice(0, 11)}`;
  return {
    links: [{ id: link, vif_id: vif, type: 'ovs', mtu: 1500, ethernet_mac_address: mac }],
    networks: [{ id: 'network0', type: 'ipv4_dhcp', link, network_id: randomUUID() }],
    services: [],
  };
}

/** genisoimage, else xorriso (-as mkisofs takes the same options); null when neither is there. */
export function isoTool() {
  for (const [cmd, pre] of [['genisoimage', []], ['xorriso', ['-as', 'mkisofs']]]) {
    try {
      execFileSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' });
      return { cmd, pre };
    } catch {
      /* next */
    }
  }
  return null;
}

/** The controller-side files of an amphora's config drive, from a gen-certs.sh PKI directory. */
export function controllerFiles({ pki, texts }) {
  return {
    '/etc/octavia/amphora-agent.conf': texts.agent_conf,
    '/etc/rsyslog.d/10-rsyslog.conf': texts.rsyslog_conf,
    '/etc/octavia/certs/server.pem': readFileSync(join(pki, 'server.pem'), 'utf8'),
    '/etc/octavia/certs/client_ca.pem': readFileSync(join(pki, 'client_ca.pem'), 'utf8'),
  };
}
