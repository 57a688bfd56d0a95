#!/usr/bin/python3
"""TCP client of the controller-VM tier: N connections to VIP:PORT, one message each; prints
{"sent", "replies", "lost", "perBackend", "failures", "slowest_s"} as JSON (perBackend keyed by the
member's "NAME/PEER"; failures: index, error and seconds of each connection that got no reply).

A connection has 15 s: a SYN the starved VM drops is sent again after 1 s and 3 s more, which a
3 s limit cut short on a loaded CI machine. A refused or reset connection still counts as lost."""
import json
import socket
import sys
import time

vip, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per, failures, slowest = {}, [], 0.0
for i in range(n):
    t0 = time.monotonic()
    try:
        with socket.create_connection((vip, port), timeout=15) as s:
            s.sendall(b't%d' % i)
            data = s.recv(4096)
            if not data:
                raise ConnectionError('closed without a reply')
            be = data.split(b':', 1)[0].decode()
            per[be] = per.get(be, 0) + 1
    except OSError as e:
        failures.append({'i': i, 'error': f'{type(e).__name__}: {e}', 'seconds': round(time.monotonic() - t0, 2)})
    slowest = max(slowest, time.monotonic() - t0)
print(json.dumps({'sent': n, 'replies': n - len(failures), 'lost': len(failures), 'perBackend': per,
                  'failures': failures, 'slowest_s': round(slowest, 2)}))
