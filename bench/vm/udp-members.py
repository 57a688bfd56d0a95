#!/usr/bin/python3
"""UDP members for the healthcheck_cpu bench suite, in the guest's backend namespace.

usage: udp-members.py ANSWER_PORT SILENT_PORT COUNT_FILE
Binds both ports on every address: datagrams to ANSWER_PORT are echoed back (a member that
answers), datagrams to SILENT_PORT are read and dropped (a UDP service that never answers an
arbitrary payload). Once a second it writes the number of datagrams received on ANSWER_PORT so
far to COUNT_FILE (the probes the checkers sent). One process, so the members cost the guest little.
"""
import os
import selectors
import socket
import sys
import time


def main():
    answer, silent, count_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    sel = selectors.DefaultSelector()
    for port, echo in ((answer, True), (silent, False)):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(('0.0.0.0', port))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, echo)
    received = 0
    written = 0.0
    print('members ready', flush=True)
    while True:
        for key, _ in sel.select(timeout=1.0):
            while True:
                try:
                    data, peer = key.fileobj.recvfrom(2048)
                except BlockingIOError:
                    break
                if key.data:
                    received += 1
                    key.fileobj.sendto(data, peer)
        now = time.monotonic()
        if now - written >= 1.0:
            with open(count_file + '.tmp', 'w') as f:
                f.write('%d\n' % received)
            os.replace(count_file + '.tmp', count_file)
            written = now


if __name__ == '__main__':
    main()
