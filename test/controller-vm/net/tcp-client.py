#!/usr/bin/python3
"""TCP client of the controller-VM tier: N connections to VIP:PORT, one message each; prints
{"sent", "replies", "lost", "perBackend"} as JSON (perBackend keyed by the member's "NAME/PEER")."""
import json
import socket
import sys

vip, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per, lost = {}, 0
for i in range(n):
    try:
        with socket.create_connection((vip, port), timeout=3) as s:
            s.sendall(b't%d' % i)
            data = s.recv(4096)
            be = data.split(b':', 1)[0].decode()
            per[be] = per.get(be, 0) + 1
    except OSError:
        lost += 1
print(json.dumps({'sent': n, 'replies': n - lost, 'lost': lost, 'perBackend': per}))
