#!/usr/bin/python3
"""UDP listener calls through the real Octavia controller client, for the bench suites.

Imports octavia-client.py from the octavia-ref tools the way measure.py does (importlib), so
that python and python3-octavia are imported once and every call below is one real
AmphoraAPIClient1_0 call (mutual TLS, the controller's URL layout, retries, error mapping).

Run with /usr/bin/python3 (where python3-octavia lives):

  udp_client.py pairs  SPEC.json   time N upload_udp_config + reload_listener pairs per agent
  udp_client.py create SPEC.json   upload + reload listeners (what the controller does for each)
  udp_client.py delete SPEC.json   DELETE listeners (a 404 counts as done)

SPEC.json (written by the suites):

  {"certs": DIR, "amphora_id": ID, "tools": DIR,
   "agents": [{"name": "reference", "base_url": "https://127.0.0.1:PORT",
               "namespace": "amphora-haproxy"}, ...],
   "listener_ids": [ID, ...],
   "n": 50,                 # pairs: pairs per phase and agent (after one warm-up pair)
   "parallel": 8}           # create/delete: concurrent requests

Configs are the controller's own rendering of a disabled UDP listener
(octavia-client.py render-udp ID --disabled), whose `net_namespace amphora-haproxy` is
replaced with the agent's namespace. This host has no IPVS, and a config without
virtual_server is one that keepalived can really run here.

pairs: for each agent, a warm-up pair (the first reload starts keepalived), then
  changed: N pairs alternating two configs that differ in one comment line, so every reload
           has a new config to apply (the reference restarts; ours validates and SIGHUPs);
  same:    N pairs re-sending the config that is already applied (the controller re-pushes
           every UDP listener of a load balancer on every change).
The agents are interleaved pair by pair (alternating which goes first), so that both see the
same host load. Each pair is timed from before the upload to after the reload's answer. A pair
counts as failed unless the upload answered 200 and the reload 202; failed pairs are still
timed. The listener is deleted at the end. One JSON document goes to stdout.
"""
import concurrent.futures
import importlib.util
import json
import logging
import os
import queue
import statistics
import sys
import time

sys.dont_write_bytecode = True


def load_client(tools):
    spec = importlib.util.spec_from_file_location('octavia_ref_client', os.path.join(tools, 'octavia-client.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # re-execs under /usr/bin/python3 if needed
    return mod


class Agent:
    """One agent: its own AmphoraAPIClient1_0 (own requests session) and port."""

    def __init__(self, oc, spec, common):
        self.oc = oc
        self.name = spec['name']
        self.namespace = spec['namespace']
        args = type('Args', (), {})()
        args.base_url = spec['base_url']
        args.certs = common['certs']
        args.amphora_id = common['amphora_id']
        args.client_cert = args.server_ca = None
        # One try per request: a refused connection is a failure to report, not a 1 s retry
        # hidden inside a timing.
        args.retries, args.retry_interval = 1, 1
        args.conn_timeout, args.read_timeout = 10, 60
        args.tls_protocol = 'TLSv1.2'
        oc.finish_args(args)
        oc.setup_conf(args)
        _, self.client, self.amp = oc.make_clients(args)
        # The client reads [haproxy_amphora] bind_port on every request (make_clients sets
        # it): remember ours, and select() it before each call, outside the timed section.
        self.port = oc.CONF.haproxy_amphora.bind_port

    def select(self):
        self.oc.CONF.set_override('bind_port', self.port, group='haproxy_amphora')

    def config(self, listener_id, variant=0):
        text = self.oc.render_lvs_config(listener_id, listener_enabled=False)
        if 'net_namespace amphora-haproxy' not in text:
            raise SystemExit('rendered config has no "net_namespace amphora-haproxy":\n' + text)
        text = text.replace('net_namespace amphora-haproxy', 'net_namespace %s' % self.namespace)
        if variant:
            lines = text.split('\n')
            lines.insert(1, '# bench variant %d' % variant)
            text = '\n'.join(lines)
        return text

    def upload(self, listener_id, text):
        return self.client.upload_udp_config(self.amp, listener_id, text)

    def reload(self, listener_id):
        return self.client.reload_listener(self.amp, listener_id)

    def delete(self, listener_id):
        return self.client.delete_listener(self.amp, listener_id)


def describe(err):
    text = '%s: %s' % (type(err).__name__, err)
    resp = getattr(err, 'response', None)
    if resp is not None:
        try:
            text += ' %s' % resp.text.strip()[:300]
        except Exception:
            pass
    return text[:500]


def pair(agent, listener_id, text, select=True):
    """(total_ms, upload_ms, reload_ms, error or None)."""
    if select:
        agent.select()
    err = None
    t0 = time.perf_counter()
    t1 = t0
    try:
        r = agent.upload(listener_id, text)
        t1 = time.perf_counter()
        if r.status_code != 200:
            err = 'upload answered %s: %s' % (r.status_code, r.text.strip()[:300])
        r = agent.reload(listener_id)
        if err is None and r.status_code != 202:
            err = 'reload answered %s: %s' % (r.status_code, r.text.strip()[:300])
    except Exception as e:  # APIException (500 …) or TimeOutException
        err = describe(e)
    t2 = time.perf_counter()
    if t1 == t0:
        t1 = t2
    return (t2 - t0) * 1000.0, (t1 - t0) * 1000.0, (t2 - t1) * 1000.0, err


def stats(oc, values):
    if not values:
        return None
    v = sorted(values)
    return {'n': len(v), 'median_ms': round(statistics.median(v), 2),
            'p90_ms': round(oc.percentile(v, 0.90), 2), 'p99_ms': round(oc.percentile(v, 0.99), 2),
            'min_ms': round(v[0], 2), 'max_ms': round(v[-1], 2), 'mean_ms': round(statistics.mean(v), 2)}


def cmd_pairs(oc, spec):
    agents = [Agent(oc, a, spec) for a in spec['agents']]
    listener_id = spec['listener_ids'][0]
    n = int(spec['n'])
    res = {'listener_id': listener_id, 'n': n, 'agents': {}}
    rec = {a.name: {'first': None, 'changed': [], 'same': [], 'errors': []} for a in agents}
    configs = {a.name: [a.config(listener_id, 0), a.config(listener_id, 1)] for a in agents}
    for a in agents:
        res['agents'][a.name] = {'config_bytes': [len(c) for c in configs[a.name]]}

    def run(phase, i):
        order = agents if i % 2 == 0 else list(reversed(agents))
        for a in order:
            if phase == 'changed':
                text = configs[a.name][(i + 1) % 2]  # B, A, B, … after the warm-up's A
            else:
                text = configs[a.name][n % 2]  # what the last changed pair applied
            total, up, rl, err = pair(a, listener_id, text)
            r = rec[a.name]
            if phase == 'first':
                r['first'] = (total, up, rl, err)
            else:
                r[phase].append((total, up, rl, err))
            if err:
                r['errors'].append('%s #%d: %s' % (phase, i, err))

    try:
        run('first', 0)
        for phase in ('changed', 'same'):
            print('udp_client: %s: %d pairs per agent' % (phase, n), file=sys.stderr, flush=True)
            for i in range(n):
                run(phase, i)
    finally:
        for a in agents:
            a.select()
            try:
                a.delete(listener_id)
                res['agents'][a.name]['cleanup'] = 'DELETE ok'
            except Exception as e:
                res['agents'][a.name]['cleanup'] = 'DELETE failed: %s' % describe(e)
                rec[a.name]['errors'].append('delete: %s' % describe(e))

    for a in agents:
        r, out = rec[a.name], res['agents'][a.name]
        if r['first'] is not None:
            out['first_ms'] = round(r['first'][0], 2)
            out['first_error'] = r['first'][3]
        for phase in ('changed', 'same'):
            rows = r[phase]
            out[phase] = {
                'pair': stats(oc, [x[0] for x in rows]),
                'upload': stats(oc, [x[1] for x in rows]),
                'reload': stats(oc, [x[2] for x in rows]),
                'failures': sum(1 for x in rows if x[3]),
            }
        out['errors'] = r['errors'][:20]
        out['n_errors'] = len(r['errors'])
    return res


def parallel(spec, fn):
    agent_spec = spec['agents'][0]
    ids = spec['listener_ids']
    workers = max(1, min(len(ids), int(spec.get('parallel', 8))))
    oc = load_client(spec['tools'])
    # One client (and requests session) per worker, made here: oslo.config is global state, so
    # it is set up once, and the workers, which all talk to one agent, never change it.
    idle = queue.SimpleQueue()
    for _ in range(workers):
        idle.put(Agent(oc, agent_spec, spec))

    def one(listener_id):
        agent = idle.get()
        try:
            return fn(agent, listener_id)
        finally:
            idle.put(agent)

    errors = []
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for listener_id, err in zip(ids, pool.map(one, ids)):
            if err:
                errors.append('%s: %s' % (listener_id, err))
    return {'n': len(ids), 'seconds': round(time.perf_counter() - t0, 2), 'errors': errors}


def create_one(agent, listener_id):
    return pair(agent, listener_id, agent.config(listener_id), select=False)[3]


def delete_one(agent, listener_id):
    try:
        agent.delete(listener_id)
        return None
    except Exception as e:
        return describe(e)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ('pairs', 'create', 'delete'):
        raise SystemExit('usage: udp_client.py pairs|create|delete SPEC.json')
    with open(sys.argv[2]) as f:
        spec = json.load(f)
    # The client logs every error status at ERROR; the results carry them instead.
    logging.disable(logging.CRITICAL)
    if sys.argv[1] == 'pairs':
        res = cmd_pairs(load_client(spec['tools']), spec)
    elif sys.argv[1] == 'create':
        res = parallel(spec, create_one)
    else:
        res = parallel(spec, delete_one)
    print(json.dumps(res, indent=1))


if __name__ == '__main__':
    main()
