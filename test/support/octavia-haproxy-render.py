#!/usr/bin/python3
"""Render a load balancer's combined haproxy config with Octavia's own templater.

Used by test/support/octavia-haproxy.ts (renderOctaviaHaproxy). Reads one JSON spec on stdin and
prints the config the Octavia 11 controller would upload (PUT /1.0/loadbalancer/<amp>/<lb>/haproxy),
rendered by octavia.common.jinja.haproxy.combined_listeners.jinja_cfg.JinjaTemplater from Octavia's
data models (python3-octavia):

  {"base_path": str, "base_cert_dir": str, "amphora_id": str, "lb_id": str, "vip": str,
   "listeners": [{"id", "protocol": "HTTP"|"TCP"|"TERMINATED_HTTPS", "port": int, "pool_id",
                  "connection_limit": int (optional, -1: Octavia's default_connection_limit),
                  "members": [{"id", "address", "port", "weight": int (optional, 1),
                               "enabled": bool (optional, true)}],
                  "health_monitor": {"id", "type": "TCP"|"HTTP", "delay", "timeout", "fall", "rise"}
                                    (optional: none)}]}

A TERMINATED_HTTPS listener gets a tls_certificate_id, so the templater names its crt-list
<base_cert_dir>/<lb_id>/<listener id>.pem, as the controller uploads it. haproxy 2.6 features.
"""
import json
import sys

from oslo_config import cfg

from octavia.common import config as octavia_config  # noqa: F401 (registers the options)
from octavia.common import data_models as dm
from octavia.common.jinja.haproxy.combined_listeners import jinja_cfg

CONF = cfg.CONF


def main():
    spec = json.load(sys.stdin)
    CONF(args=[], project='octavia', default_config_files=[], default_config_dirs=[])
    CONF.set_override('base_path', spec['base_path'], group='haproxy_amphora')
    CONF.set_override('base_cert_dir', spec['base_cert_dir'], group='haproxy_amphora')
    amp = dm.Amphora(id=spec['amphora_id'], lb_network_ip='198.51.100.2', role='STANDALONE',
                     status='ALLOCATED')
    lb = dm.LoadBalancer(id=spec['lb_id'], project_id='project-1', topology='SINGLE', enabled=True,
                         vip=dm.Vip(ip_address=spec['vip']), amphorae=[amp], additional_vips=[])
    listeners = []
    for item in spec['listeners']:
        mode = 'TCP' if item['protocol'] == 'TCP' else 'HTTP'
        members = [dm.Member(id=m['id'], ip_address=m['address'], protocol_port=m['port'], weight=m.get('weight', 1),
                             enabled=m.get('enabled', True), backup=False, provisioning_status='ACTIVE')
                   for m in item['members']]
        pool = dm.Pool(id=item['pool_id'], protocol=mode, lb_algorithm='ROUND_ROBIN', members=members,
                       enabled=True, provisioning_status='ACTIVE', tls_enabled=False)
        hm = item.get('health_monitor')
        if hm is not None:
            pool.health_monitor = dm.HealthMonitor(
                id=hm['id'], type=hm['type'], delay=hm['delay'], timeout=hm['timeout'],
                fall_threshold=hm['fall'], rise_threshold=hm['rise'], enabled=True, pool=pool,
                http_method='GET', url_path='/', expected_codes='200',
                provisioning_status='ACTIVE')
        tls = 'tls-container-1' if item['protocol'] == 'TERMINATED_HTTPS' else None
        listeners.append(dm.Listener(
            id=item['id'], protocol=item['protocol'], protocol_port=item['port'], load_balancer=lb,
            enabled=True, default_pool=pool, pools=[pool], l7policies=[], connection_limit=item.get('connection_limit', -1),
            insert_headers={}, peer_port=1025, provisioning_status='ACTIVE', tls_certificate_id=tls))
    lb.listeners = listeners
    templater = jinja_cfg.JinjaTemplater(base_amp_path=spec['base_path'], base_crt_dir=spec['base_cert_dir'])
    out = templater.build_config(amp, listeners, tls_certs={}, haproxy_versions=('2', '6', '12'))
    sys.stdout.write(out if out.endswith('\n') else out + '\n')


if __name__ == '__main__':
    main()
