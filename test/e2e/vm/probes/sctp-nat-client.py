#!/usr/bin/python3
"""SCTP client of the sctp-nat probe: like test/e2e/guest/sctp-client.py, with the local address to
bind ('' = none, the kernel binds the wildcard at connect) and the per-association limit as
arguments, and each association's local port and start time in its failure, so that the packet
logs can be searched for it.

usage: sctp-nat-client.py VIP PORT N BIND TIMEOUT_S
prints {"sent", "replies", "lost", "slow", "perBackend", "failures": [{i, port, t0, error, after_s}],
"reused": associations whose local port an earlier one of the run had used less than 12 s before
(IPVS and conntrack keep a closed SCTP entry 10 s), "assocs": [[t0, port, seconds]]}
"""
import json
import socket
import sys
import time

vip, port, n, bind, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
per, lost, slow, failures, assocs = {}, 0, [], [], []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
    if bind:
        s.bind((bind, 0))
    s.settimeout(limit)
    t0, t = time.time(), time.monotonic()
    try:
        s.connect((vip, port))
        s.sendall(b's%d' % i)
        data = s.recv(4096)
        be = data.split(b':', 1)[0].decode()
        per[be] = per.get(be, 0) + 1
        if time.monotonic() - t > 1:
            slow.append({'i': i, 'port': s.getsockname()[1], 't0': round(t0, 3), 'after_s': round(time.monotonic() - t, 2)})
    except OSError as err:
        lost += 1
        try:
            lport = s.getsockname()[1]
        except OSError:
            lport = None
        failures.append({'i': i, 'port': lport, 't0': round(t0, 3), 'error': repr(err), 'after_s': round(time.monotonic() - t, 2)})
    finally:
        try:
            assocs.append([round(t0, 3), s.getsockname()[1], round(time.monotonic() - t, 3)])
        except OSError:
            pass
        s.close()
last, reused = {}, []
for t0, p, dt in assocs:
    if p in last and t0 - last[p] < 12:
        reused.append({'port': p, 'after_s': round(t0 - last[p], 2), 'took_s': dt})
    last[p] = t0
print(json.dumps({'sent': n, 'replies': n - lost, 'lost': lost, 'slow': slow, 'perBackend': per, 'failures': failures, 'reused': reused, 'assocs': assocs}))
