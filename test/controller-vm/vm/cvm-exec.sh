#!/bin/bash
# The test's command channel inside an amphora VM. The host writes DIR/<n>.sh (atomically,
# by rename); this loop runs each once with bash and writes DIR/<n>.out (stdout and stderr)
# and then DIR/<n>.rc (the exit status), which the host waits for. The host never builds a
# script from data it did not choose itself (ids from the Octavia API are checked as UUIDs).
DIR=$1
shopt -s nullglob
while :; do
  for f in "$DIR"/*.sh; do
    n=${f%.sh}
    mv -f "$f" "$n.run" 2>/dev/null || continue
    bash "$n.run" > "$n.out.tmp" 2>&1; rc=$?
    mv -f "$n.out.tmp" "$n.out"
    echo "$rc" > "$n.rc.tmp"; mv -f "$n.rc.tmp" "$n.rc"
  done
  sleep 0.2
done
