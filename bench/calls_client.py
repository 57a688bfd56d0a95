#!/usr/bin/python3
"""Load-balancer creation calls through the real Octavia controller client, for the bench.

The three calls a controller makes to build a load balancer that the other suites do not time:

  plug     POST /1.0/plug/vip/<vip>   a fresh veth end (the "Neutron port") is moved into the
                                      amphora namespace and brought up; timed per plug
  haproxy  PUT /1.0/loadbalancer/<amp>/<lb>/haproxy   the combined haproxy config, two variants
                                      alternating so that every upload is a change
  cert     PUT /1.0/loadbalancer/<lb>/certificates/<name>.pem

Run with /usr/bin/python3 (python3-octavia):  calls_client.py SPEC.json

SPEC.json (written by suites/controller_calls.mjs):

  {"certs": DIR, "amphora_id": ID, "tools": DIR, "ip": "/sbin/ip",
   "agents": [{"name": "reference", "base_url": ..., "namespace": "amphora-haproxy"}, ...],
   "peer_namespace": NS,      # where the far ends of the veths live (created by the suite)
   "n_plug": 5, "n_haproxy": 30, "n_cert": 30, "pem": FILE}

Before each plug a veth pair is made: one end, with a new MAC, in the namespace the agents run
in (the suite's own network namespace, never the host's), the other in peer_namespace, down. After
the plug the peer end is deleted, which deletes the plugged end too, so that the next plug gets
eth1 again. The agents are interleaved call by call. A call counts as failed unless it answered
the status the controller expects (202 for plug and haproxy, 200 for cert); only calls that
succeeded are timed. One JSON document goes to stdout.
"""
import json
import logging
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import udp_client  # noqa: E402  (its Agent: one real AmphoraAPIClient1_0 per agent)

LB = 'aaaaaaaa-0000-0000-0000-00000000bc01'
LISTENER = 'eeeeeeee-0000-0000-0000-00000000bc01'
VIP = '203.0.113.10'
PLUG_BODY = {'subnet_cidr': '203.0.113.0/24', 'gateway': '203.0.113.1', 'mtu': 1500,
             'vrrp_ip': '203.0.113.21', 'host_routes': []}


def timed_call(agent, fn, want):
    agent.select()
    err = None
    t0 = time.perf_counter()
    try:
        r = fn()
        if r.status_code != want:
            err = 'answered %s: %s' % (r.status_code, r.text.strip()[:300])
    except Exception as e:  # APIException or TimeOutException
        err = udp_client.describe(e)
    return (time.perf_counter() - t0) * 1000.0, err


class Veths:
    """veth pairs for plugs: `bp<i>` with a new MAC here, its peer in the peer namespace."""

    def __init__(self, ip, peer_ns):
        self.ip, self.peer_ns, self.count = ip, peer_ns, 0

    def make(self):
        self.count += 1
        name, mac = 'bp%d' % self.count, '02:00:5e:bc:%02x:%02x' % (self.count // 256, self.count % 256)
        subprocess.run([self.ip, 'link', 'add', name, 'address', mac, 'type', 'veth',
                        'peer', 'name', name + 'p', 'netns', self.peer_ns], check=True)
        return name, mac

    def remove(self, name):
        # deleting the peer deletes the end the agent moved, wherever it is now
        subprocess.run([self.ip, '-n', self.peer_ns, 'link', 'del', name + 'p'], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def haproxy_configs(oc, agent_name):
    base = oc.haproxy_cfg(LB, LISTENER)
    return [base, base.replace('\nglobal\n', '\n# bench variant %s\nglobal\n' % agent_name, 1)]


def run_calls(oc, spec):
    agents = [udp_client.Agent(oc, a, spec) for a in spec['agents']]
    veths = Veths(spec['ip'], spec['peer_namespace'])
    with open(spec['pem'], 'rb') as f:
        pem = f.read()
    rec = {a.name: {'plug': [], 'haproxy': [], 'cert': [], 'errors': []} for a in agents}

    def plug(a, i):
        name, mac = veths.make()
        try:
            return timed_call(a, lambda: a.client.plug_vip(a.amp, VIP, dict(PLUG_BODY, mac_address=mac)), 202)
        finally:
            veths.remove(name)

    def haproxy(a, i):
        text = haproxy_configs(oc, a.name)[i % 2]
        return timed_call(a, lambda: a.client.upload_config(a.amp, LB, text), 202)

    def cert(a, i):
        return timed_call(a, lambda: a.client.upload_cert_pem(a.amp, LB, LISTENER + '.pem', pem), 200)

    for kind, fn in (('plug', plug), ('haproxy', haproxy), ('cert', cert)):
        n = int(spec['n_' + kind])
        print('calls_client: %s: %d calls per agent' % (kind, n), file=sys.stderr, flush=True)
        for i in range(n):
            for a in (agents if i % 2 == 0 else list(reversed(agents))):
                ms, err = fn(a, i)
                # a failed call is counted, not timed: a fast 404 is no latency
                if err:
                    rec[a.name]['errors'].append('%s #%d: %s' % (kind, i, err))
                else:
                    rec[a.name][kind].append(ms)

    res = {'n': {k: int(spec['n_' + k]) for k in ('plug', 'haproxy', 'cert')}, 'agents': {}}
    for a in agents:
        a.select()
        for cleanup in (lambda: a.client.delete_cert_pem(a.amp, LB, LISTENER + '.pem'),
                        lambda: a.client.delete_listener(a.amp, LB)):
            try:
                cleanup()
            except Exception as e:
                rec[a.name]['errors'].append('cleanup: %s' % udp_client.describe(e))
        r = rec[a.name]
        res['agents'][a.name] = {k: udp_client.stats(oc, r[k]) for k in ('plug', 'haproxy', 'cert')}
        res['agents'][a.name]['errors'] = r['errors'][:20]
        res['agents'][a.name]['n_errors'] = len(r['errors'])
    return res


def main():
    if len(sys.argv) != 2:
        raise SystemExit('usage: calls_client.py SPEC.json')
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    logging.disable(logging.CRITICAL)
    json.dump(run_calls(udp_client.load_client(spec['tools']), spec), sys.stdout)
    print()


if __name__ == '__main__':
    main()
