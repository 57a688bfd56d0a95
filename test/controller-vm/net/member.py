#!/usr/bin/python3
"""A member server of the controller-VM tier: UDP and TCP echo on one address and port.

usage: member.py NAME ADDRESS PORT
Each reply is b"NAME/PEER:" + what came in, where PEER is the address the request came from:
with LVS NAT and Octavia's masquerade (and with haproxy) that is the amphora that forwarded it,
so every reply tells both the member and the amphora. Prints "ready" once both sockets listen.
"""
import socket
import sys
import threading

name, address, port = sys.argv[1], sys.argv[2], int(sys.argv[3])


def tag(peer):
    return ('%s/%s:' % (name, peer)).encode()


def serve_udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((address, port))
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(tag(peer[0]) + data, peer)


def serve_tcp_conn(conn, peer):
    with conn:
        while True:
            data = conn.recv(65535)
            if not data:
                return
            conn.sendall(tag(peer[0]) + data)


t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((address, port))
t.listen(128)
threading.Thread(target=serve_udp, daemon=True).start()
print('ready', flush=True)
while True:
    c, p = t.accept()
    threading.Thread(target=serve_tcp_conn, args=(c, p), daemon=True).start()
