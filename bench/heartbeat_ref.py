#!/usr/bin/python3
"""The reference's heartbeat (Debian python3-octavia 11, health_daemon.py), for the bench's
heartbeat suite: its own code, unchanged, with oslo.config set the way its agent would be.

Run with /usr/bin/python3:  heartbeat_ref.py build|sender SPEC.json

SPEC.json (written by suites/heartbeat.mjs):

  {"base_path": DIR,         # [haproxy_amphora] base_path: the reference's layout of our agent's files
   "amphora_id": ID, "heartbeat_key": KEY, "interval": 1,
   "controller": "127.0.0.1:PORT"}   # [health_manager] controller_ip_port_list (sender)

Both print READY on stderr once python3-octavia is imported and configured, then read stdin, so
that the suite can start them early and leave the import out of what it times and counts.

build:  for each stdin line `N`: N + 1 calls of health_daemon.build_stats_message(), `interval`
        seconds apart (its sender's pace), the first one untimed; each timed on its own, and the
        envelope of its message (status_message.wrap_envelope) timed apart. One JSON line on
        stdout per request: {"build_ms": [...], "wrap_ms": [...], "listeners": [ids of the last
        message], "pools": [...], "seq": last seq}.
sender: at the line `start`, health_daemon.run_sender(queue) with heartbeat_interval =
        `interval`, the loop of the reference's health sender process, until a line `shutdown`
        (or EOF) on stdin; then {"stopped": true}.
"""
import json
import queue
import sys
import threading
import time

sys.dont_write_bytecode = True

from oslo_config import cfg  # noqa: E402

from octavia.common import config as octavia_config  # noqa: E402,F401  (registers the options)
from octavia.amphorae.backends.health_daemon import health_daemon  # noqa: E402
from octavia.amphorae.backends.health_daemon import status_message  # noqa: E402

CONF = cfg.CONF


def configure(spec):
    CONF(args=[], project='octavia', default_config_files=[], default_config_dirs=[])
    CONF.set_override('base_path', spec['base_path'], group='haproxy_amphora')
    CONF.set_override('amphora_id', spec['amphora_id'], group='amphora_agent')
    CONF.set_override('heartbeat_key', spec['heartbeat_key'], group='health_manager')
    CONF.set_override('heartbeat_interval', int(spec['interval']), group='health_manager')
    if spec.get('controller'):
        CONF.set_override('controller_ip_port_list', [spec['controller']], group='health_manager')


def build(spec, n):
    key = str(CONF.health_manager.heartbeat_key)
    interval = float(spec['interval'])
    build_ms, wrap_ms = [], []
    msg = health_daemon.build_stats_message()  # untimed: the first opens the counters file
    for _ in range(n):
        time.sleep(interval)
        t0 = time.perf_counter()
        msg = health_daemon.build_stats_message()
        t1 = time.perf_counter()
        status_message.wrap_envelope(msg, key)
        t2 = time.perf_counter()
        build_ms.append((t1 - t0) * 1000.0)
        wrap_ms.append((t2 - t1) * 1000.0)
    return {'build_ms': build_ms, 'wrap_ms': wrap_ms, 'listeners': sorted(msg['listeners']),
            'pools': sorted(msg['pools']), 'seq': msg['seq']}


def serve_builds(spec):
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(build(spec, int(line))), flush=True)


def sender():
    if sys.stdin.readline().strip() != 'start':
        return
    commands = queue.Queue()

    def watch_stdin():
        for line in sys.stdin:
            if line.strip() == 'shutdown':
                break
        commands.put('shutdown')  # also on EOF: the suite went away
    threading.Thread(target=watch_stdin, daemon=True).start()
    health_daemon.run_sender(commands)
    print(json.dumps({'stopped': True}), flush=True)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ('build', 'sender'):
        raise SystemExit('usage: heartbeat_ref.py build|sender SPEC.json')
    with open(sys.argv[2]) as f:
        spec = json.load(f)
    configure(spec)
    print('READY', file=sys.stderr, flush=True)
    if sys.argv[1] == 'build':
        serve_builds(spec)
    else:
        sender()


if __name__ == '__main__':
    main()
