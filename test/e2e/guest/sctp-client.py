#!/usr/bin/python3
"""SCTP client of the e2e and controller-VM scenarios: N associations to VIP:PORT, one message each;
prints {"sent", "replies", "lost", "perBackend", "slowest_s", "failures"} as JSON. The echo backends
prefix their name. Each association has 15 s: a starved VM can drop an INIT, and SCTP sends it again
only after its initial RTO (3 s), which a 3 s limit never lets happen (a CI run lost one so). A
refused or aborted association still counts as lost; each failure says its error and its time."""
import json
import socket
import sys
import time

vip, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per, lost, slowest, failures = {}, 0, 0.0, []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
    s.settimeout(15)
    t = time.monotonic()
    try:
        s.connect((vip, port))
        s.sendall(b's%d' % i)
        data = s.recv(4096)
        be = data.split(b':', 1)[0].decode()
        per[be] = per.get(be, 0) + 1
        slowest = max(slowest, time.monotonic() - t)
    except OSError as err:
        lost += 1
        failures.append({'i': i, 'error': repr(err), 'after_s': round(time.monotonic() - t, 2)})
    finally:
        s.close()
print(json.dumps({'sent': n, 'replies': n - lost, 'lost': lost, 'perBackend': per, 'slowest_s': round(slowest, 2), 'failures': failures}))
