#!/usr/bin/python3
"""The controller's calls of the scale suite, against both agents, through the real Octavia client
(one AmphoraAPIClient1_0 call per request: udp_client.py's Agent, one client per agent and worker).

Run with /usr/bin/python3 (python3-octavia):  scale_client.py SPEC.json

It imports the client once, prints READY on stderr, then serves one command per stdin line, a
JSON object, with one JSON line on stdout: {"seconds", "errors": [...], ...}. SPEC.json (written
by suites/scale.mjs) is what every command shares:

  {"certs": DIR, "amphora_id": ID, "tools": DIR,
   "agents": [{"name": "reference", "base_url": ..., "namespace": "amphora-haproxy"},
              {"name": "ours", "base_url": ..., "namespace": NS}]}

Every listener is the controller's rendering of an enabled UDP listener without a pool
(heartbeat_client.py's poolless_lvs, Octavia's LvsJinjaTemplater): no virtual_server, so keepalived
really runs it idle on this host without IPVS, and both agents list it and put it in their
heartbeats (a disabled listener is in neither).

The commands:

  {"cmd": "create", "agent": NAME, "listener_ids": [ID, ...], "parallel": 8}
      upload + reload each listener (what the controller does for a new one), up to `parallel`
      at once; {"n", "seconds", "errors"}.
  {"cmd": "pairs", "targets": [{"agent": NAME, "listener_id": ID}, ...], "n": 5}
      n upload + reload pairs on an existing listener of each agent, each with a config no
      earlier pair sent (a new comment line), so every reload applies a change; the agents take
      turns pair by pair, alternating which goes first. {"agents": {NAME: {"upload_ms": [...],
      "reload_ms": [...]}}, "errors"}; a pair counts as failed unless the upload answered 200 and
      the reload 202.
  {"cmd": "list", "agents": [NAME, ...], "n": 20}
      n GET /1.0/listeners per agent (get_all_listeners), taking turns; {"agents": {NAME:
      {"ms": [...], "count": listeners in the last answer, "statuses": {STATUS: count}}}}.
  {"cmd": "delete", "agent": NAME, "listener_ids": [ID, ...], "parallel": 1}
      DELETE /1.0/listeners/<id> for each (a 404 counts as done); {"n", "seconds", "ms": [...]
      (each delete, when parallel is 1), "errors"}.
  {"cmd": "config", "agent": NAME, "text": ...}   the agent's whole configuration, PUT /1.0/config.
"""
import concurrent.futures
import json
import logging
import os
import queue
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import udp_client  # noqa: E402  (its Agent: one real AmphoraAPIClient1_0 per agent)
from heartbeat_client import poolless_lvs  # noqa: E402  (the controller's render of a pool-less listener)


class Server:
    def __init__(self, common):
        self.common = common
        self.oc = udp_client.load_client(common['tools'])
        self.specs = {a['name']: a for a in common['agents']}
        self.agents = {name: udp_client.Agent(self.oc, spec, common) for name, spec in self.specs.items()}
        self.workers = {name: [] for name in self.specs}
        self.variant = 0

    def config(self, agent, listener_id, variant=0):
        text = poolless_lvs(listener_id, agent.namespace)
        return text if not variant else '# bench variant %d\n%s' % (variant, text)

    def next_variant(self):
        self.variant += 1
        return self.variant

    def pool(self, name, size):
        """`size` clients of agent `name`, made once and kept (a requests session each)."""
        clients = self.workers[name]
        while len(clients) < size:
            clients.append(udp_client.Agent(self.oc, self.specs[name], self.common))
        return clients[:size]

    def in_parallel(self, name, ids, parallel, fn):
        """fn(agent, id) -> error or None for each id, up to `parallel` at once: (errors, ms per id)."""
        workers = max(1, min(len(ids), int(parallel)))
        idle = queue.SimpleQueue()
        for a in self.pool(name, workers):
            idle.put(a)
        # every worker talks to the same agent: the port the client reads is set once
        self.agents[name].select()

        def one(item):
            agent = idle.get()
            try:
                t0 = time.perf_counter()
                err = fn(agent, item)
                return err, (time.perf_counter() - t0) * 1000.0
            finally:
                idle.put(agent)

        with concurrent.futures.ThreadPoolExecutor(workers) as ex:
            results = list(ex.map(one, ids))
        errors = ['%s: %s' % (i, e) for i, (e, _) in zip(ids, results) if e]
        return errors, [ms for _, ms in results]

    def cmd_create(self, spec):
        errors, _ = self.in_parallel(spec['agent'], spec['listener_ids'], spec.get('parallel', 8),
                                     lambda a, i: udp_client.pair(a, i, self.config(a, i), select=False)[3])
        return {'n': len(spec['listener_ids']), 'errors': errors}

    def cmd_pairs(self, spec):
        targets = spec['targets']
        out = {t['agent']: {'upload_ms': [], 'reload_ms': []} for t in targets}
        errors = []
        for i in range(int(spec['n'])):
            for t in targets if i % 2 == 0 else list(reversed(targets)):
                a = self.agents[t['agent']]
                text = self.config(a, t['listener_id'], self.next_variant())
                _, up, rl, err = udp_client.pair(a, t['listener_id'], text)
                out[t['agent']]['upload_ms'].append(up)
                out[t['agent']]['reload_ms'].append(rl)
                if err:
                    errors.append('%s pair %d: %s' % (t['agent'], i, err))
        return {'agents': out, 'errors': errors}

    def cmd_list(self, spec):
        names = spec['agents']
        out = {name: {'ms': []} for name in names}
        errors = []
        for i in range(int(spec['n'])):
            for name in names if i % 2 == 0 else list(reversed(names)):
                a = self.agents[name]
                a.select()
                t0 = time.perf_counter()
                try:
                    listed = a.client.get_all_listeners(a.amp)
                except Exception as e:  # APIException, TimeOutException
                    listed = None
                    errors.append('%s GET listeners #%d: %s' % (name, i, udp_client.describe(e)))
                out[name]['ms'].append((time.perf_counter() - t0) * 1000.0)
                if listed is not None:
                    statuses = {}
                    for entry in listed:
                        statuses[entry.get('status')] = statuses.get(entry.get('status'), 0) + 1
                    out[name]['count'] = len(listed)
                    out[name]['statuses'] = statuses
        return {'agents': out, 'errors': errors}

    def cmd_delete(self, spec):
        def delete(a, listener_id):
            try:
                a.delete(listener_id)
                return None
            except Exception as e:
                return udp_client.describe(e)
        errors, ms = self.in_parallel(spec['agent'], spec['listener_ids'], spec.get('parallel', 1), delete)
        return {'n': len(spec['listener_ids']), 'ms': ms if int(spec.get('parallel', 1)) == 1 else [], 'errors': errors}

    def cmd_config(self, spec):
        a = self.agents[spec['agent']]
        a.select()
        try:
            r = a.client.update_agent_config(a.amp, spec['text'])
            err = None if r.status_code == 202 else 'PUT /1.0/config answered %s: %s' % (r.status_code, r.text.strip()[:300])
        except Exception as e:
            err = udp_client.describe(e)
        return {'errors': [err] if err else []}

    def serve(self):
        commands = {'create': self.cmd_create, 'pairs': self.cmd_pairs, 'list': self.cmd_list,
                    'delete': self.cmd_delete, 'config': self.cmd_config}
        for line in sys.stdin:
            if not line.strip():
                continue
            spec = json.loads(line)
            t0 = time.perf_counter()
            try:
                res = commands[spec['cmd']](spec)
            except Exception as e:  # a bug or a bad command: answered, so the suite does not hang
                res = {'errors': ['%s failed: %s' % (spec.get('cmd'), udp_client.describe(e))]}
            res['seconds'] = round(time.perf_counter() - t0, 3)
            print(json.dumps(res), flush=True)


def main():
    if len(sys.argv) != 2:
        raise SystemExit('usage: scale_client.py SPEC.json  (commands on stdin)')
    with open(sys.argv[1]) as f:
        common = json.load(f)
    # The client logs every error status at ERROR; the results carry them instead.
    logging.disable(logging.CRITICAL)
    server = Server(common)
    print('READY', file=sys.stderr, flush=True)
    server.serve()


if __name__ == '__main__':
    main()
