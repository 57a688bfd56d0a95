#!/usr/bin/python3
"""SCTP packet logger for the sctp-nat probe (the guest has no tcpdump).

usage: sctp-sniff.py IFACE OUTFILE
An AF_PACKET socket on IFACE (in the caller's network namespace); one line per IPv4 SCTP packet:
kernel receive time, direction (in/out), src:port > dst:port, verification tag, chunks (INIT and INIT ACK
with their initiate tag and the IPv4 address parameters they list, ABORT with its T bit). On lo
only the outgoing copy is logged (lo shows every packet twice). Runs until killed.
"""
import socket
import struct
import sys
import time

CHUNKS = {0: 'DATA', 1: 'INIT', 2: 'INIT_ACK', 3: 'SACK', 4: 'HB', 5: 'HB_ACK', 6: 'ABORT', 7: 'SHUTDOWN',
          8: 'SHUTDOWN_ACK', 9: 'ERROR', 10: 'COOKIE_ECHO', 11: 'COOKIE_ACK', 14: 'SHUTDOWN_COMPLETE'}
PACKET_OUTGOING = 4
iface, outfile = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))
s.bind((iface, 0))
# UML gives this process little CPU: a large buffer so that no packet is missed, and the kernel's
# receive time (SO_TIMESTAMPNS) rather than the time this process got to read it
s.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)  # SO_RCVBUFFORCE
s.setsockopt(socket.SOL_SOCKET, 35, 1)  # SO_TIMESTAMPNS
out = open(outfile, 'w', buffering=1)
out.write('# listening on %s\n' % iface)  # the probe waits for this line


def chunks(body):
    res, off = [], 0
    while off + 4 <= len(body):
        ctype, flags, length = struct.unpack('!BBH', body[off:off + 4])
        if length < 4:
            break
        name = CHUNKS.get(ctype, str(ctype))
        if ctype in (1, 2) and length >= 20:
            tag = struct.unpack('!I', body[off + 4:off + 8])[0]
            addrs, p = [], off + 20
            while p + 4 <= off + length:
                ptype, plen = struct.unpack('!HH', body[p:p + 4])
                if plen < 4:
                    break
                if ptype == 5 and plen == 8:
                    addrs.append(socket.inet_ntoa(body[p + 4:p + 8]))
                p += (plen + 3) & ~3
            name += '(tag=%08x addrs=%s)' % (tag, ','.join(addrs))
        elif ctype == 6:
            name += '(T)' if flags & 1 else ''
        res.append(name)
        off += (length + 3) & ~3
    return res


while True:
    frame, anc, _flags, addr = s.recvmsg(65535, 64)
    stamp = time.time()
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == 35 and len(data) >= 16:
            sec, nsec = struct.unpack('qq', data[:16])
            stamp = sec + nsec / 1e9
    if iface == 'lo' and addr[2] != PACKET_OUTGOING:
        continue
    if len(frame) < 34 or frame[12:14] != b'\x08\x00':
        continue
    ip = frame[14:]
    ihl = (ip[0] & 15) * 4
    if ip[9] != 132:
        continue
    src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
    sctp = ip[ihl:]
    sport, dport, vtag = struct.unpack('!HHI', sctp[:8])
    way = 'out' if addr[2] == PACKET_OUTGOING else 'in'
    out.write('%.6f %s %s %s:%d > %s:%d vtag=%08x %s\n' % (stamp, iface, way, src, sport, dst, dport, vtag, ' '.join(chunks(sctp[12:]))))
