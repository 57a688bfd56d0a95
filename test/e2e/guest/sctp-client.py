#!/usr/bin/python3
"""SCTP client of the e2e and controller-VM scenarios: N associations to VIP:PORT, one message each;
prints {"sent", "replies", "lost", "perBackend", "slowest_s", "slow", "failures"} as JSON. The echo
backends prefix their name. Each association has 15 s: a starved VM can drop an INIT, and SCTP sends
it again only after its initial RTO (3 s), which a 3 s limit never lets happen (a CI run lost one so).
A refused or aborted association still counts as lost; each failure says its error, its time, the
step that failed (connect or reply), its local port and, when an earlier association of the run used
that port less than 12 s before, how long before: IPVS with conntrack drops the first INIT of such an
association (its closed entry lasts 10 s), so the association waits for the retransmission (measured
with test/e2e/vm/probes/sctp-nat.sh). "slow" lists the associations that took more than 1 s, with the
same facts."""
import json
import socket
import sys
import time

vip, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per, lost, slowest, failures, slow = {}, 0, 0.0, [], []
last_used = {}  # local port -> start (monotonic) of the last association that used it


def facts(s, t, step):
    try:
        lport = s.getsockname()[1]
    except OSError:
        lport = None
    out = {'after_s': round(time.monotonic() - t, 2), 'step': step, 'port': lport}
    if lport in last_used and t - last_used[lport] < 12:
        out['port_reused_after_s'] = round(t - last_used[lport], 2)
    return out


for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
    s.settimeout(15)
    t, step = time.monotonic(), 'connect'
    try:
        s.connect((vip, port))
        step = 'reply'
        s.sendall(b's%d' % i)
        data = s.recv(4096)
        be = data.split(b':', 1)[0].decode()
        per[be] = per.get(be, 0) + 1
        took = time.monotonic() - t
        slowest = max(slowest, took)
        if took > 1:
            slow.append({'i': i, **facts(s, t, 'done')})
    except OSError as err:
        lost += 1
        failures.append({'i': i, 'error': repr(err), **facts(s, t, step)})
    finally:
        try:
            last_used[s.getsockname()[1]] = t
        except OSError:
            pass
        s.close()
print(json.dumps({'sent': n, 'replies': n - lost, 'lost': lost, 'perBackend': per, 'slowest_s': round(slowest, 2), 'slow': slow, 'failures': failures}))
