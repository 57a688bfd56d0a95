import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './load.js';

const one = (text: string) => parseConfig([{ path: '/etc/octavia/amphora-agent.conf', text }]);

describe('parseConfig', () => {
  it("uses Octavia's defaults when a file says nothing", () => {
    const { config } = one('');
    expect(config.haproxy_amphora.bind_host).toBe('::');
    expect(config.haproxy_amphora.bind_port).toBe(9443);
    expect(config.haproxy_amphora.base_path).toBe('/var/lib/octavia');
    expect(config.amphora_agent.agent_server_cert).toBe('/etc/octavia/certs/server.pem');
    expect(config.amphora_agent.agent_server_ca).toBe('/etc/octavia/certs/client_ca.pem');
    expect(config.amphora_agent.agent_tls_protocol).toBe('TLSv1.2');
    expect(config.amphora_agent.network_namespace).toBe('amphora-haproxy');
    expect(config.amphora_agent.init_system).toBe('auto');
    expect(config.controller_worker.loadbalancer_topology).toBe('SINGLE');
    expect(config.DEFAULT.debug).toBe(false);
  });

  it('reads the file the reference agent is given', () => {
    const { config, unknown } = one(`[DEFAULT]
debug = True
[haproxy_amphora]
base_path = /var/lib/octavia
bind_host = 127.0.0.1
bind_port = 19443
use_upstart = True
[health_manager]
controller_ip_port_list = 127.0.0.1:15555, [::1]:5555
heartbeat_key = insecure#key
[amphora_agent]
amphora_id = 11111111-2222-3333-4444-555555555555
agent_tls_protocol = TLSv1.3
[controller_worker]
loadbalancer_topology = ACTIVE_STANDBY
amp_active_retries = 30
`);
    expect(config.DEFAULT.debug).toBe(true);
    expect(config.haproxy_amphora.bind_host).toBe('127.0.0.1');
    expect(config.haproxy_amphora.bind_port).toBe(19443);
    expect(config.health_manager.controller_ip_port_list).toEqual(['127.0.0.1:15555', '[::1]:5555']);
    expect(config.health_manager.heartbeat_key).toBe('insecure#key');
    expect(config.amphora_agent.amphora_id).toBe('11111111-2222-3333-4444-555555555555');
    expect(config.amphora_agent.agent_tls_protocol).toBe('TLSv1.3');
    expect(config.controller_worker.loadbalancer_topology).toBe('ACTIVE_STANDBY');
    expect(unknown).toEqual(['[controller_worker] amp_active_retries']);
  });

  it('lets a later file override an earlier one', () => {
    const { config } = parseConfig([
      { path: '/a.conf', text: '[haproxy_amphora]\nbind_port = 1\n' },
      { path: '/b.conf', text: '[haproxy_amphora]\nbind_port = 2\n' },
    ]);
    expect(config.haproxy_amphora.bind_port).toBe(2);
  });

  it.each([
    ['[haproxy_amphora]\nbind_port = 99999\n', /amphora-agent\.conf:2: \[haproxy_amphora\] bind_port = "99999" is invalid: expected a port number from 0 to 65535/],
    ['[DEFAULT]\ndebug = maybe\n', /\[DEFAULT\] debug = "maybe" is invalid: expected true or false/],
    ['[haproxy_amphora]\nbind_host = localhost\n', /bind_host .* expected an IPv4 or IPv6 address/],
    ['[controller_worker]\nloadbalancer_topology = ACTIVE_ACTIVE\n', /expected one of SINGLE, ACTIVE_STANDBY/],
    ['[amphora_agent]\ninit_system = launchd\n', /expected one of auto, systemd, sysvinit, upstart, direct/],
    ['[amphora_agent]\nnetwork_namespace = a b\n', /network_namespace .* expected a name/],
    ['[haproxy_amphora]\nbase_path = relative/dir\n', /base_path .* expected an absolute path/],
    ['[health_manager]\ncontroller_ip_port_list = 10.0.0.1\n', /expected a comma-separated list of host:port/],
    ['[haproxy_amphora\n', /cannot parse: at line 1, invalid section/],
  ])('stops on %j with one line naming file, section, option and form', (text, message) => {
    let error: unknown;
    try {
      one(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });
});
