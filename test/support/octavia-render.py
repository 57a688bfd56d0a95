#!/usr/bin/python3
"""Render keepalived configs with Octavia's own templaters (Debian python3-octavia 11.0.0).

Used by the integration tests through test/support/octavia-templaters.ts (renderLvs, renderVrrp)
and test/support/octavia-lvs-spec.ts (the LVS equivalence tests, test/integration/lvs-equivalence.test.ts
and lvs-octavia-divergences.test.ts). Reads one JSON spec on
stdin and prints the config the Octavia controller would send:

  {"kind": "lvs", "listener_id": ..., "protocol": "UDP"|"SCTP", "hm_type": null|"UDP-CONNECT"|
   "HTTP"|"TCP"|"SCTP"|"PING", "listener_enabled": bool, "pool_enabled": bool,
   "algorithm": "ROUND_ROBIN"|"LEAST_CONNECTIONS"|"SOURCE_IP", "connection_limit": int,
   "session_persistence": null|{"type": "SOURCE_IP", "persistence_timeout": int|null,
   "persistence_granularity": str|null}, "vip": str, "port": int,
   "members": [{"id", "address", "port", "enabled", "weight", "monitor_address", "monitor_port"}],
   "base_path": str}

  Optional LVS keys (absent: the values the older callers were written against):
   "additional_vips": [str] (the load balancer's other VIPs, e.g. the IPv6 one of a dual-stack
   LB; default []), "hm_enabled": bool (default true), "hm_max_retries_down": int (Octavia's
   fall_threshold, rendered as `retry`; default 3), "hm_max_retries": int (rise_threshold;
   default 2), "hm_url_path": str (default "/healthz"), "hm_http_method": str (default "GET"),
   "hm_expected_codes": "200" | "200,202" | "200-204" (default "200-202"), "hm_id", "pool_id",
   "lb_id".

  {"kind": "vrrp", "vip", "vrrp_ip", "peer_ip", "role", "priority", "intf", "cidr", "gw",
   "base_path", "check_interval", "fail_count", "success_count", "advert_int"}

The LVS part follows octavia-client.py's render_lvs_config (the same SimpleNamespace objects
for LvsJinjaTemplater.build_config); the VRRP part its render_vrrp_config, with the
[keepalived_vrrp] and [haproxy_amphora] base_path options set as a controller would set them.
Octavia always renders `net_namespace amphora-haproxy`; the tests substitute their own name.
"""
import json
import sys
import types

from oslo_config import cfg

from octavia.common import config as octavia_config  # noqa: F401 (registers the options)

CONF = cfg.CONF
N = types.SimpleNamespace


def render_lvs(spec):
    from octavia.common.jinja.lvs import jinja_cfg
    hm_type = spec.get('hm_type')
    hm = None
    if hm_type:
        # Octavia's data model calls max_retries_down fall_threshold and max_retries rise_threshold.
        hm = N(id=spec.get('hm_id', 'cccccccc-0000-0000-0000-000000000001'), type=hm_type,
               delay=spec.get('hm_delay', 5), timeout=spec.get('hm_timeout', 3),
               enabled=spec.get('hm_enabled', True),
               fall_threshold=spec.get('hm_max_retries_down', 3),
               rise_threshold=spec.get('hm_max_retries', 2), provisioning_status='ACTIVE',
               url_path=spec.get('hm_url_path', '/healthz'),
               http_method=spec.get('hm_http_method', 'GET'),
               expected_codes=spec.get('hm_expected_codes', '200-202'))
    sp = spec.get('session_persistence')
    persistence = None
    if sp:
        persistence = N(type=sp['type'], persistence_timeout=sp.get('persistence_timeout'),
                        persistence_granularity=sp.get('persistence_granularity'))
    members = spec['members'] if 'members' in spec else [
        {'id': 'dddddddd-0000-0000-0000-000000000001', 'address': '192.0.2.11', 'port': 5353},
        {'id': 'dddddddd-0000-0000-0000-000000000002', 'address': '192.0.2.12', 'port': 5353},
    ]
    protocol = spec.get('protocol', 'UDP')
    pool = N(id=spec.get('pool_id', 'bbbbbbbb-0000-0000-0000-000000000001'), protocol=protocol,
             lb_algorithm=spec.get('algorithm', 'ROUND_ROBIN'), provisioning_status='ACTIVE',
             enabled=spec.get('pool_enabled', True), health_monitor=hm,
             session_persistence=persistence,
             members=[N(id=m['id'], ip_address=m['address'], protocol_port=m['port'],
                        weight=m.get('weight', 1), enabled=m.get('enabled', True),
                        monitor_address=m.get('monitor_address'),
                        monitor_port=m.get('monitor_port'), provisioning_status='ACTIVE')
                      for m in members])
    lb = N(id=spec.get('lb_id', 'aaaaaaaa-0000-0000-0000-000000000001'),
           vip=N(ip_address=spec.get('vip', '203.0.113.10')),
           additional_vips=[N(ip_address=a) for a in spec.get('additional_vips', [])], enabled=True)
    listener = N(id=spec['listener_id'], protocol_port=spec.get('port', 53), protocol=protocol,
                 enabled=spec.get('listener_enabled', True),
                 connection_limit=spec.get('connection_limit', -1),
                 default_pool=pool if spec.get('with_pool', True) else None, load_balancer=lb)
    return jinja_cfg.LvsJinjaTemplater().build_config(listener=listener)


def render_vrrp(spec):
    from octavia.amphorae.drivers.keepalived.jinja import jinja_cfg
    me = N(vrrp_ip=spec['vrrp_ip'], role=spec.get('role', 'MASTER'),
           vrrp_interface=spec.get('intf', 'eth1'), vrrp_id=spec.get('vrrp_id', 1),
           vrrp_priority=spec.get('priority', 100), status='ALLOCATED')
    peer = N(vrrp_ip=spec['peer_ip'], status='ALLOCATED')
    lb = N(vip=N(ip_address=spec['vip']), amphorae=[me, peer],
           vrrp_group=N(vrrp_group_name=spec.get('group', 'aaaaaaaa00000000000000000000000'),
                        vrrp_auth_type='PASS', vrrp_auth_pass='secretpw',
                        advert_int=spec.get('advert_int', 1)))
    net = {'additional_vip_data': [],
           'vip_subnet': {'cidr': spec['cidr'], 'gateway_ip': spec.get('gw'), 'host_routes': []}}
    return jinja_cfg.KeepalivedJinjaTemplater().build_keepalived_config(lb, me, net)


def main():
    spec = json.load(sys.stdin)
    CONF(args=[], project='octavia', default_config_files=[], default_config_dirs=[])
    if spec.get('base_path'):
        CONF.set_override('base_path', spec['base_path'], group='haproxy_amphora')
    for opt, key in (('vrrp_check_interval', 'check_interval'), ('vrrp_fail_count', 'fail_count'),
                     ('vrrp_success_count', 'success_count')):
        if spec.get(key) is not None:
            CONF.set_override(opt, spec[key], group='keepalived_vrrp')
    if spec['kind'] == 'lvs':
        out = render_lvs(spec)
    elif spec['kind'] == 'vrrp':
        out = render_vrrp(spec)
    else:
        sys.exit('unknown kind %r' % spec['kind'])
    sys.stdout.write(out if out.endswith('\n') else out + '\n')


if __name__ == '__main__':
    main()
