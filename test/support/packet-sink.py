"""Listens inside a test namespace and logs, one line each, what reaches its sockets.

Usage: python3 packet-sink.py <tcp ports,...> <udp ports,...> <log file>
TCP and UDP sockets are dual stack ([::]); a raw socket takes IPv4 protocol 112 (VRRP). Lines:
`ready`, then `tcp <port> <source>`, `udp <port> <source> <payload>`, `ip112 <source> <payload>`
(IPv4) and `ip6-112 <source> <payload>` (IPv6 next header 112).
Sockets are read after the kernel's input hook, so a line means the firewall let it in.
"""
import select
import socket
import sys

tcp_ports = [int(p) for p in sys.argv[1].split(',') if p]
udp_ports = [int(p) for p in sys.argv[2].split(',') if p]
log = open(sys.argv[3], 'a', buffering=1)


def dual(kind, port):
    s = socket.socket(socket.AF_INET6, kind)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('::', port))
    return s


listeners = {}
for port in tcp_ports:
    s = dual(socket.SOCK_STREAM, port)
    s.listen(16)
    listeners[s] = ('tcp', port)
for port in udp_ports:
    listeners[dual(socket.SOCK_DGRAM, port)] = ('udp', port)
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
listeners[raw] = ('ip112', 0)
raw6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 112)
listeners[raw6] = ('ip6-112', 0)
log.write('ready\n')

while True:
    readable, _, _ = select.select(list(listeners), [], [])
    for s in readable:
        kind, port = listeners[s]
        if kind == 'tcp':
            conn, peer = s.accept()
            conn.close()
            log.write(f'tcp {port} {peer[0]}\n')
        elif kind == 'udp':
            data, peer = s.recvfrom(2048)
            log.write(f'udp {port} {peer[0]} {data.decode(errors="replace")}\n')
        elif kind == 'ip112':
            # IPv4 raw sockets hand over the IP header (20 bytes here: no options)
            data, peer = s.recvfrom(2048)
            log.write(f'ip112 {peer[0]} {data[20:].decode(errors="replace")}\n')
        else:
            data, peer = s.recvfrom(2048)
            log.write(f'ip6-112 {peer[0]} {data.decode(errors="replace")}\n')
