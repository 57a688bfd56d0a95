#!/usr/bin/python3
"""An SCTP member server of the controller-VM tier (in the tenant VM: the host has no SCTP).

usage: sctp-member.py NAME ADDRESS PORT
One-to-one SCTP socket; each message of an association is answered with b"NAME/PEER:" + the
message, PEER being the address it came from (the amphora that forwarded it, under LVS NAT and
Octavia's masquerade).
"""
import socket
import sys
import threading

name, address, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((address, port))
s.listen(64)


def serve(conn, peer):
    tag = ('%s/%s:' % (name, peer[0])).encode()
    with conn:
        while True:
            data = conn.recv(65535)
            if not data:
                return
            conn.sendall(tag + data)


while True:
    c, p = s.accept()
    threading.Thread(target=serve, args=(c, p), daemon=True).start()
