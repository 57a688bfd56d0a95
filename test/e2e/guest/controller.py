#!/usr/bin/python3
"""The Octavia controller, as far as the e2e scenarios need it, in one long-lived process.

Imports python3-octavia once (slow under UML: several seconds) and then answers JSON requests,
one per line on stdin, with one JSON line on stdout:

  {"op": "render_lvs", "listener": {...}}          -> {"ok": true, "text": "..."}
  {"op": "render_vrrp", "vrrp": {...}}             -> {"ok": true, "text": "..."}
  {"op": "call", "agent": "a", "method": "upload_udp_config", "args": [...]}
                                                   -> {"ok": true, "status": 200, "body": ...}
                                                   or {"ok": false, "error": "...", "type": "..."}
  {"op": "heartbeats", "since_ms": T, "amphora_id": ID}
                                                   -> {"ok": true, "messages": [{"t": ms, "msg": {...}}, ...],
                                                       "rejected": n}
  {"op": "heartbeat_sums", "listener_id": L, "amphora_id": ID}
                                                   -> {"ok": true, "count": n, "sums": {"rx", "tx", "totconns",
                                                       "ereq"}, "first_t": ms, "last_t": ms}

Configs are rendered by the controller's own templaters (octavia.common.jinja.lvs.jinja_cfg.
LvsJinjaTemplater and octavia.amphorae.drivers.keepalived.jinja.jinja_cfg.KeepalivedJinjaTemplater)
from stand-in objects built here with the members, health monitor and persistence a scenario
chooses. The agent's base_path (check script paths) and network namespace are per amphora: on a
real cloud both amphorae of a pair use the defaults, here they share one VM.

Requests go through the real AmphoraAPIClient1_0 (mutual TLS, hostname check against the amphora
id, retries, error mapping). Nothing here reads an Octavia config file.

It is also the health manager's receiving end, as far as the scenarios need it: when the start
line names a heartbeat port and key, a thread binds that UDP port on 127.0.0.1 and opens every
datagram with Octavia's own status_message.unwrap_envelope (the HMAC check and zlib decoding
heartbeat_udp.py uses), keeping each message with its receive time (wall clock, ms, which node's
Date.now() reads too). A datagram that does not open is counted as rejected.
"""
import json
import socket
import sys
import threading
import time
import traceback
import types

from oslo_config import cfg

from octavia.common import config as _octavia_config  # noqa: F401  (registers the options)
from octavia.common import constants
from octavia.amphorae.drivers.haproxy import exceptions as amp_exc
from octavia.amphorae.drivers.haproxy import rest_api_driver as rad
from octavia.amphorae.driver_exceptions import exceptions as drv_exc
from octavia.amphorae.backends.health_daemon import status_message

CONF = cfg.CONF
N = types.SimpleNamespace


def setup(certs, retries, interval):
    CONF(args=[], project='octavia', default_config_files=[], default_config_dirs=[])
    CONF.set_override('client_cert', certs + '/client.pem', group='haproxy_amphora')
    CONF.set_override('server_ca', certs + '/server_ca.pem', group='haproxy_amphora')
    CONF.set_override('connection_max_retries', retries, group='haproxy_amphora')
    CONF.set_override('connection_retry_interval', interval, group='haproxy_amphora')
    CONF.set_override('agent_tls_protocol', 'TLSv1.2', group='amphora_agent')


def render_lvs(p):
    """p: listener_id, vip, port, protocol (UDP|SCTP), algorithm, members [{id, address, port,
    weight, enabled}], hm {type, delay, timeout, fall} or None, persistence {type, timeout,
    granularity} or None, base_path, namespace."""
    from octavia.common.jinja.lvs import jinja_cfg
    hm = None
    if p.get('hm'):
        h = p['hm']
        hm = N(id=h.get('id', 'cccccccc-0000-4000-8000-000000000001'), type=h['type'], delay=h['delay'],
               timeout=h['timeout'], enabled=True, fall_threshold=h['fall'], rise_threshold=h.get('rise', 1),
               provisioning_status='ACTIVE', url_path='/', http_method='GET', expected_codes='200')
    sp = None
    if p.get('persistence'):
        s = p['persistence']
        sp = N(type=s.get('type', 'SOURCE_IP'), persistence_timeout=s.get('timeout'),
               persistence_granularity=s.get('granularity'))
    members = [N(id=m['id'], ip_address=m['address'], protocol_port=m['port'], weight=m.get('weight', 1),
                 enabled=m.get('enabled', True), monitor_address=None, monitor_port=None,
                 provisioning_status='ACTIVE') for m in p['members']]
    pool = N(id=p.get('pool_id', 'bbbbbbbb-0000-4000-8000-000000000001'), protocol=p.get('protocol', 'UDP'),
             lb_algorithm=p.get('algorithm', 'ROUND_ROBIN'), provisioning_status='ACTIVE', enabled=True,
             health_monitor=hm, session_persistence=sp, members=members)
    lb = N(id=p.get('lb_id', 'aaaaaaaa-0000-4000-8000-000000000001'), vip=N(ip_address=p['vip']),
           additional_vips=[], enabled=True)
    listener = N(id=p['listener_id'], protocol_port=p['port'], protocol=p.get('protocol', 'UDP'), enabled=True,
                 connection_limit=-1, default_pool=pool, load_balancer=lb)
    # The templater reads the base path (udp_check.sh) from CONF and the namespace from
    # octavia.common.constants at render time.
    CONF.set_override('base_path', p.get('base_path', '/var/lib/octavia'), group='haproxy_amphora')
    saved = constants.AMPHORA_NAMESPACE
    constants.AMPHORA_NAMESPACE = p.get('namespace', saved)
    try:
        return jinja_cfg.LvsJinjaTemplater().build_config(listener=listener)
    finally:
        constants.AMPHORA_NAMESPACE = saved


def render_vrrp(p):
    """p: vip, vrrp_ip, peer_ip, role, priority, interface, cidr, gateway, base_path,
    check_interval, fall, rise, advert_int."""
    from octavia.amphorae.drivers.keepalived.jinja import jinja_cfg
    CONF.set_override('base_path', p['base_path'], group='haproxy_amphora')
    CONF.set_override('vrrp_check_interval', p.get('check_interval', 5), group='keepalived_vrrp')
    CONF.set_override('vrrp_fail_count', p.get('fall', 2), group='keepalived_vrrp')
    CONF.set_override('vrrp_success_count', p.get('rise', 2), group='keepalived_vrrp')
    me = N(vrrp_ip=p['vrrp_ip'], role=p['role'], vrrp_interface=p.get('interface', 'eth1'), vrrp_id=1,
           vrrp_priority=p['priority'], status=constants.AMPHORA_ALLOCATED)
    peer = N(vrrp_ip=p['peer_ip'], status=constants.AMPHORA_ALLOCATED)
    lb = N(vip=N(ip_address=p['vip']), amphorae=[me, peer],
           vrrp_group=N(vrrp_group_name=p.get('group', 'e2e0000000000000000000000000000'), vrrp_auth_type='PASS',
                        vrrp_auth_pass='e2epass', advert_int=p.get('advert_int', 1)))
    net = {'additional_vip_data': [],
           'vip_subnet': {'cidr': p['cidr'], 'gateway_ip': p.get('gateway'), 'host_routes': []}}
    return jinja_cfg.KeepalivedJinjaTemplater().build_keepalived_config(lb, me, net)


class HeartbeatReceiver:
    """Every heartbeat received on 127.0.0.1:port, opened with `key` by Octavia's own code."""

    def __init__(self, port, key):
        self.key = key
        self.lock = threading.Lock()
        self.messages = []  # (receive time in ms, message), in arrival order
        self.rejected = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(('127.0.0.1', port))
        threading.Thread(target=self.run, name='heartbeats', daemon=True).start()

    def run(self):
        while True:
            data, _ = self.sock.recvfrom(65536)  # heartbeat_udp.py's UDP_MAX_SIZE
            t = time.time() * 1000
            try:
                msg = status_message.unwrap_envelope(data, self.key)
            except Exception as e:
                print('heartbeat rejected: %s' % e, file=sys.stderr, flush=True)
                with self.lock:
                    self.rejected += 1
                continue
            with self.lock:
                self.messages.append((t, msg))

    def since(self, since_ms, amphora_id):
        with self.lock:
            return [{'t': t, 'msg': m} for t, m in self.messages
                    if t > since_ms and m.get('id') == amphora_id], self.rejected

    def sums(self, listener_id, amphora_id):
        """The listener's stats deltas summed over every message that carries it."""
        out = {'rx': 0, 'tx': 0, 'totconns': 0, 'ereq': 0}
        count, first, last = 0, None, None
        with self.lock:
            for t, m in self.messages:
                stats = m.get('listeners', {}).get(listener_id, {}).get('stats')
                if m.get('id') != amphora_id or stats is None:
                    continue
                for k in out:
                    out[k] += stats[k]
                count += 1
                first = t if first is None else first
                last = t
        return {'count': count, 'sums': out, 'first_t': first, 'last_t': last}


def response_body(r):
    if not hasattr(r, 'status_code'):
        return None, r
    try:
        body = r.json()
    except Exception:
        body = r.text
    return r.status_code, body


def main():
    start = json.loads(sys.stdin.readline())
    setup(start['certs'], start.get('retries', 30), start.get('retry_interval', 1))
    base = rad.AmphoraAPIClientBase()
    client = rad.AmphoraAPIClient1_0()
    amps = {name: a for name, a in start['agents'].items()}
    hb = start.get('heartbeat')
    receiver = HeartbeatReceiver(hb['port'], hb['key']) if hb else None
    print(json.dumps({'ok': True, 'ready': True}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        try:
            op = req['op']
            if op == 'render_lvs':
                out = {'ok': True, 'text': render_lvs(req['listener'])}
            elif op == 'render_vrrp':
                out = {'ok': True, 'text': render_vrrp(req['vrrp'])}
            elif op == 'heartbeats':
                msgs, rejected = receiver.since(req.get('since_ms', 0), req['amphora_id'])
                out = {'ok': True, 'messages': msgs, 'rejected': rejected}
            elif op == 'heartbeat_sums':
                out = dict(ok=True, **receiver.sums(req['listener_id'], req['amphora_id']))
            elif op == 'call':
                a = amps[req['agent']]
                CONF.set_override('bind_port', a['port'], group='haproxy_amphora')
                amp = N(id=a['id'], lb_network_ip=a['host'], api_version='1.0', status='ALLOCATED')
                args = req.get('args', [])
                if req['method'] == 'get_api_version':
                    amp.api_version = None
                    status, body = None, base.get_api_version(amp)
                else:
                    status, body = response_body(getattr(client, req['method'])(amp, *args))
                out = {'ok': True, 'status': status, 'body': body}
            else:
                out = {'ok': False, 'error': 'unknown op %s' % op}
        except (amp_exc.APIException, drv_exc.TimeOutException) as e:
            out = {'ok': False, 'type': type(e).__name__, 'error': str(e)}
        except Exception as e:  # a bug here, not an agent answer
            out = {'ok': False, 'type': type(e).__name__, 'error': str(e), 'trace': traceback.format_exc()}
        print(json.dumps(out, default=str), flush=True)


if __name__ == '__main__':
    main()
