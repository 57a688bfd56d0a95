#!/usr/bin/python3
"""The controller's calls that give our agent the listeners of the heartbeat suite, through the
real Octavia client (one AmphoraAPIClient1_0 call per request, see udp_client.py).

Run with /usr/bin/python3 (python3-octavia):  heartbeat_client.py SPEC.json

It imports the client once, prints READY on stderr, then serves one command per stdin line, a
JSON object, with one JSON line on stdout: {"n", "seconds", "errors": [...], ...}. SPEC.json
(written by lib/heartbeat-python.mjs) is what every command shares:

  {"certs": DIR, "amphora_id": ID, "tools": DIR,
   "agents": [{"name": "ours", "base_url": ..., "namespace": NS}]}

The commands:

  {"cmd": "lb", "lb_id": ID, "listener_ids": [ID, ...], "first_port": 20001, "base_path": DIR}
      One load balancer whose combined haproxy config has a frontend per listener (port
      first_port + i, on 127.0.0.1), each with its own backend (pool) and one server (member),
      built from octavia-client.py's minimal config (the one controller_calls uploads):
      PUT /1.0/loadbalancer/<amp>/<lb>/haproxy, then PUT /1.0/loadbalancer/<lb>/reload.
  {"cmd": "lvs", "listener_ids": [ID, ...], "parallel": 8}
      UDP listeners without a pool, rendered by Octavia's own LvsJinjaTemplater (no
      virtual_server: keepalived runs idle, which this host without IPVS can do), uploaded and
      reloaded (PUT .../udp_listener, PUT /1.0/loadbalancer/<id>/reload).
  {"cmd": "config", "text": ...}   the agent's whole configuration file, PUT /1.0/config.
  {"cmd": "delete", "ids": [ID, ...], "parallel": 8}
      DELETE /1.0/listeners/<id> (load balancers and LVS listeners alike).
"""
import concurrent.futures
import json
import logging
import os
import queue
import sys
import time
import types

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import udp_client  # noqa: E402  (its Agent: one real AmphoraAPIClient1_0 per agent)

# The ids octavia-client.py's minimal haproxy config names for its one pool and member, and the
# member's address (in the host's own subnet here, so it is replaced by a documentation address
# that is only ever unrouted, inside the suite's namespace).
MIN_POOL = 'bbbbbbbb-0000-0000-0000-000000000009'
MIN_MEMBER = 'dddddddd-0000-0000-0000-000000000009'
MIN_MEMBER_ADDRESS = '192.0.2.11:80'


def replaced(text, old, new):
    if old not in text:
        raise SystemExit('octavia-client.py haproxy_cfg has no %r any more:\n%s' % (old, text))
    return text.replace(old, new)


def combined_haproxy(oc, lb_id, listener_ids, first_port, base_path):
    """global + defaults once, then a frontend and its backend per listener."""
    head, parts = None, []
    for i, listener_id in enumerate(listener_ids):
        text = oc.haproxy_cfg(lb_id, listener_id, port=first_port + i)
        cut = text.index('\nfrontend ')
        if head is None:
            head = replaced(text[:cut], '/var/lib/octavia/', base_path.rstrip('/') + '/')
        part = text[cut:]
        part = replaced(part, MIN_POOL, 'bbbbbbbb-0000-0000-0001-%012d' % (i + 1))
        part = replaced(part, MIN_MEMBER, 'dddddddd-0000-0000-0001-%012d' % (i + 1))
        part = replaced(part, MIN_MEMBER_ADDRESS, '203.0.113.%d:80' % (100 + i % 100))
        parts.append(part)
    return head + ''.join(parts)


def poolless_lvs(listener_id, namespace):
    """What the controller renders for an enabled UDP listener without a default pool."""
    from octavia.common.jinja.lvs import jinja_cfg
    n = types.SimpleNamespace
    lb = n(id='aaaaaaaa-0000-0000-0000-0000000000b7', vip=n(ip_address='203.0.113.10'),
           additional_vips=[], enabled=True)
    listener = n(id=listener_id, protocol_port=53, protocol='UDP', enabled=True,
                 connection_limit=-1, default_pool=None, load_balancer=lb)
    text = jinja_cfg.LvsJinjaTemplater().build_config(listener=listener)
    return replaced(text, 'net_namespace amphora-haproxy', 'net_namespace %s' % namespace)


def expect(response, status, what):
    if response.status_code != status:
        raise RuntimeError('%s answered %s: %s' % (what, response.status_code, response.text.strip()[:300]))


def call(fn):
    try:
        fn()
        return None
    except Exception as e:  # RuntimeError above, APIException, TimeOutException
        return udp_client.describe(e)


def cmd_lb(oc, spec, agent):
    text = combined_haproxy(oc, spec['lb_id'], spec['listener_ids'], int(spec['first_port']), spec['base_path'])

    def apply():
        expect(agent.client.upload_config(agent.amp, spec['lb_id'], text), 202, 'haproxy upload')
        expect(agent.client.reload_listener(agent.amp, spec['lb_id']), 202, 'reload')
    err = call(apply)
    return {'n': len(spec['listener_ids']), 'config_bytes': len(text), 'errors': [err] if err else []}


def in_parallel(oc, spec, ids, fn):
    """fn(agent, id) for each id, up to `parallel` at once, one client per worker."""
    workers = max(1, min(len(ids), int(spec.get('parallel', 8))))
    idle = queue.SimpleQueue()
    for _ in range(workers):
        idle.put(udp_client.Agent(oc, spec['agents'][0], spec))

    def one(item):
        agent = idle.get()
        try:
            return call(lambda: fn(agent, item))
        finally:
            idle.put(agent)

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return ['%s: %s' % (i, e) for i, e in zip(ids, pool.map(one, ids)) if e]


def cmd_lvs(oc, spec, agent):
    def create(a, listener_id):
        expect(a.upload(listener_id, poolless_lvs(listener_id, a.namespace)), 200, 'udp_listener upload')
        expect(a.reload(listener_id), 202, 'reload')
    return {'n': len(spec['listener_ids']), 'errors': in_parallel(oc, spec, spec['listener_ids'], create)}


def cmd_config(oc, spec, agent):
    err = call(lambda: expect(agent.client.update_agent_config(agent.amp, spec['text']), 202, 'PUT /1.0/config'))
    return {'n': 1, 'errors': [err] if err else []}


def cmd_delete(oc, spec, agent):
    return {'n': len(spec['ids']), 'errors': in_parallel(oc, spec, spec['ids'], lambda a, i: a.delete(i))}


COMMANDS = {'lb': cmd_lb, 'lvs': cmd_lvs, 'config': cmd_config, 'delete': cmd_delete}


def main():
    if len(sys.argv) != 2:
        raise SystemExit('usage: heartbeat_client.py SPEC.json  (commands on stdin)')
    with open(sys.argv[1]) as f:
        common = json.load(f)
    # The client logs every error status at ERROR; the results carry them instead.
    logging.disable(logging.CRITICAL)
    oc = udp_client.load_client(common['tools'])
    agent = udp_client.Agent(oc, common['agents'][0], common)
    print('READY', file=sys.stderr, flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        spec = dict(common, **json.loads(line))
        t0 = time.perf_counter()
        if spec['cmd'] in COMMANDS:
            res = COMMANDS[spec['cmd']](oc, spec, agent)
        else:
            res = {'n': 0, 'errors': ['unknown command %r' % spec['cmd']]}
        res['seconds'] = round(time.perf_counter() - t0, 2)
        print(json.dumps(res), flush=True)


if __name__ == '__main__':
    main()
