#!/usr/bin/python3
"""Backend of the e2e scenarios: an echo server that tags each reply with its name.

usage: echo-server.py NAME PORT [udp|sctp]
UDP: reply = b"NAME:" + datagram. SCTP (one-to-one style socket): each message of an
association is answered the same way. Prints "ready" once it listens.
"""
import socket
import sys
import threading

name, port = sys.argv[1], int(sys.argv[2])
proto = sys.argv[3] if len(sys.argv) > 3 else 'udp'
tag = name.encode() + b':'

if proto == 'udp':
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('0.0.0.0', port))
    print('ready', flush=True)
    while True:
        data, addr = s.recvfrom(65535)
        s.sendto(tag + data, addr)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', port))
    s.listen(64)
    print('ready', flush=True)

    def serve(conn):
        with conn:
            while True:
                data = conn.recv(65535)
                if not data:
                    return
                conn.sendall(tag + data)

    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()
