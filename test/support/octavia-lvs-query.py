#!/usr/bin/python3
"""Run the reference's LVS status reader (keepalivedlvs_query.py) on a config and an IPVS table.

Used by test/integration/lvs-status-reference.test.ts to compare the agent's sampler with the
reference, decision by decision. Reads one JSON spec on stdin:

  {"listener_id": str, "config": str (the keepalived config), "restarting": bool,
   "proc_ip_vs": str (/proc/net/ip_vs), "ipvsadm_list": str (ipvsadm -Ln),
   "ipvsadm_stats": str (ipvsadm -Ln --stats --exact), "source": null | str}

and prints {"stats": get_lvs_listeners_stats(), "pool": get_lvs_listener_pool_status(id)}, the
latter only for a listener the former reports, as health_daemon.py asks for it.
"source": the text of another keepalivedlvs_query.py (Octavia master's) to run instead of the
installed one (python3-octavia 11). The module's only ways out are patched: the config and pid
file paths (temporary files; "restarting" makes the config newer than the checker's pid file,
which is the reference's test), the listener list and liveness, the read of /proc/net/ip_vs and
the two ipvsadm runs.
"""
import json
import os
import sys
import tempfile
import types

from octavia.amphorae.backends.agent.api_server import util
from octavia.amphorae.backends.utils import keepalivedlvs_query as installed


def load(source):
    if source is None:
        return installed
    module = types.ModuleType('keepalivedlvs_query_master')
    exec(compile(source, 'keepalivedlvs_query_master.py', 'exec'), module.__dict__)
    return module


def main():
    spec = json.load(sys.stdin)
    q = load(spec.get('source'))
    lid = spec['listener_id']
    work = tempfile.mkdtemp()
    cfg = os.path.join(work, 'listener.conf')
    pids = [os.path.join(work, n) for n in ('listener.pid', 'listener.vrrp.pid', 'listener.check.pid')]
    with open(cfg, 'w', encoding='utf-8') as f:
        f.write(spec['config'])
    for p in pids:
        with open(p, 'w', encoding='utf-8') as f:
            f.write('1\n')
    now = 1_700_000_000
    os.utime(pids[2], (now, now))
    os.utime(cfg, (now + 10, now + 10) if spec['restarting'] else (now - 10, now - 10))

    util.keepalived_lvs_cfg_path = lambda _id: cfg
    util.keepalived_lvs_pids_path = lambda _id: pids
    util.get_lvs_listeners = lambda: [lid]
    util.is_lvs_listener_running = lambda _id: True
    q.read_kernel_file = lambda _ns, _path: spec['proc_ip_vs']

    def check_output(cmd, stderr=None):
        return (spec['ipvsadm_stats'] if '--stats' in cmd else spec['ipvsadm_list']).encode()
    q.subprocess = types.SimpleNamespace(check_output=check_output, STDOUT=None, CalledProcessError=Exception)

    stats = q.get_lvs_listeners_stats()
    # the heartbeat asks for the pool status of the listeners the stats reported only
    pool = q.get_lvs_listener_pool_status(lid) if lid in stats else {}
    json.dump({'stats': stats, 'pool': pool}, sys.stdout)


if __name__ == '__main__':
    main()
