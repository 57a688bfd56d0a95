#!/usr/bin/python3
"""SCTP client of the e2e scenarios: N associations to VIP:PORT, one message each; prints
{"sent", "replies", "lost", "perBackend"} as JSON. The echo backends prefix their name."""
import json
import socket
import sys

vip, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per, lost = {}, 0
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
    s.settimeout(3)
    try:
        s.connect((vip, port))
        s.sendall(b's%d' % i)
        data = s.recv(4096)
        be = data.split(b':', 1)[0].decode()
        per[be] = per.get(be, 0) + 1
    except OSError:
        lost += 1
    finally:
        s.close()
print(json.dumps({'sent': n, 'replies': n - lost, 'lost': lost, 'perBackend': per}))
