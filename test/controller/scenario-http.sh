#!/bin/bash
# scenario-http.sh STATE OUT: a SINGLE load balancer's life through the Octavia API, with the
# agent of whatever kind $STATE/agent-kind names (amp-launcher.sh starts it for the new amphora).
#
#   lb-create, lb-online (heartbeats), listener-create (HTTP :80), pool-create, member-create
#   (198.51.100.254:8080, an HTTP server in <prefix>-net), hm-create (HTTP), member-online
#   (heartbeats), traffic (curl of the VIP from <prefix>-net), member-update (weight),
#   member-error (the member's server stopped: ERROR from heartbeats), member-recover (started
#   again: ONLINE), failover (the agent stopped: the health manager replaces the amphora),
#   traffic-failover (the member's page through the replacement),
#   listener-delete (the last listener: the agent gets DELETE /1.0/listeners/{lb}), lb-delete
#   (cascade; the launcher then stops the agent).
#
# The steps of the shared lb-http.sh and more, told differently: the ONLINE waits give up when the agent
# sends no heartbeat (scenario-lib.sh), a failed step skips only what depends on it, and the LB
# is always deleted. One CTLSTEP line per step (scenario-lib.sh); exit status 0.
set -uo pipefail
HERE=$(dirname "${BASH_SOURCE[0]}")
. "$HERE/lib.sh"
. "$HERE/scenario-lib.sh"
STATE=$1 OUT=$2
mkdir -p "$OUT"
SRV=''
trap '[ -n "$SRV" ] && kill "$SRV" 2>/dev/null' EXIT

# the member: a small HTTP server in the member network. Started once the LB exists: the
# launcher makes the member network's address (the far end of the new amphora's VIP NIC) only
# when the amphora appears, and the previous amphora's went with it.
start_member() {
  mkdir -p "$OUT/www"; echo member-ok > "$OUT/www/index.html"
  ip netns exec "$NS_NET" /usr/bin/python3 -m http.server 8080 --bind 198.51.100.254 --directory "$OUT/www" \
    > "$OUT/member-http.log" 2>&1 &
  SRV=$!
  for _ in $(seq 150); do
    [ -n "$(ip netns exec "$NS_NET" ss -Hltn 'sport = :8080')" ] && return 0
    kill -0 "$SRV" 2>/dev/null || { echo "scenario-http: the member server did not start: $(tail -1 "$OUT/member-http.log")" >&2; return 1; }
    sleep 0.1
  done
  echo "scenario-http: the member server does not listen after 15 s" >&2; return 1
}

# STEP: the member's page through the VIP, from the member network. haproxy has just been
# reloaded (or started): a busy machine may need a few tries (15 s at most).
traffic() {
  local t body=''; t=$(now)
  for _ in $(seq 15); do
    body=$(ip netns exec "$NS_NET" curl -s -m 3 http://198.51.100.1/ 2>&1) && [ "$body" = member-ok ] && break
    sleep 1
  done
  if [ "$body" = member-ok ]; then report_step "$1" passed "$(since "$t")" "GET http://198.51.100.1/ -> member-ok"
  else report_step "$1" failed "$(since "$t")" "no member page from the VIP: ${body:0:120}"; fi
}

if create_lb h1; then wait_online lb-online "/v2/lbaas/loadbalancers/$LB" loadbalancer
else skip_step lb-online; fi
swap_if_asked
[ -n "$BLOCKED" ] || start_member || BLOCKED="the member server did not start"

L='' P='' M=''
if [ -z "$BLOCKED" ]; then
  t=$(now)
  L=$(api POST /v2/lbaas/listeners "{\"listener\":{\"name\":\"http80\",\"loadbalancer_id\":\"$LB\",\"protocol\":\"HTTP\",\"protocol_port\":80,\"connection_limit\":1000}}" | jq -r .listener.id)
  remember_id listener "$L"
  settle listener-create "/v2/lbaas/listeners/$L" listener "$t" || BLOCKED="the listener create failed"
else skip_step listener-create; fi

if [ -z "$BLOCKED" ]; then
  t=$(now)
  P=$(api POST /v2/lbaas/pools "{\"pool\":{\"name\":\"p1\",\"listener_id\":\"$L\",\"protocol\":\"HTTP\",\"lb_algorithm\":\"ROUND_ROBIN\"}}" | jq -r .pool.id)
  remember_id pool "$P"
  settle pool-create "/v2/lbaas/pools/$P" pool "$t" || BLOCKED="the pool create failed"
else skip_step pool-create; fi

if [ -z "$BLOCKED" ]; then
  t=$(now)
  M=$(api POST "/v2/lbaas/pools/$P/members" "{\"member\":{\"name\":\"m1\",\"address\":\"198.51.100.254\",\"protocol_port\":8080,\"subnet_id\":\"$SUBNET\"}}" | jq -r .member.id)
  remember_id member "$M"
  settle member-create "/v2/lbaas/pools/$P/members/$M" member "$t" || BLOCKED="the member create failed"
else skip_step member-create; fi

if [ -z "$BLOCKED" ]; then
  t=$(now)
  H=$(api POST /v2/lbaas/healthmonitors "{\"healthmonitor\":{\"name\":\"hm1\",\"pool_id\":\"$P\",\"type\":\"HTTP\",\"delay\":3,\"timeout\":2,\"max_retries\":2,\"url_path\":\"/\"}}" | jq -r .healthmonitor.id)
  remember_id healthmonitor "$H"
  settle hm-create "/v2/lbaas/healthmonitors/$H" healthmonitor "$t"
  wait_online member-online "/v2/lbaas/pools/$P/members/$M" member
else skip_step hm-create; skip_step member-online; fi

if [ -z "$BLOCKED" ]; then
  traffic traffic

  t=$(now)
  api PUT "/v2/lbaas/pools/$P/members/$M" '{"member":{"weight":5}}' >/dev/null
  sleep 0.5   # the API answers before the member leaves ACTIVE
  settle member-update "/v2/lbaas/pools/$P/members/$M" member "$t"
else skip_step traffic; skip_step member-update; fi

# member-error: the member's server stops; haproxy's check marks it DOWN and the health manager,
# from the next heartbeat, the member ERROR (and the pool and LB as it decides). member-recover:
# the server again, the member ONLINE. 90 s each: haproxy needs `fall` failed checks (3 s apart)
# and the heartbeat comes every 10 s, on a busy machine later.
if [ -z "$BLOCKED" ]; then
  t=$(now)
  kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; SRV=''
  if await_oper "/v2/lbaas/pools/$P/members/$M" member ERROR 90; then
    report_step member-error passed "$(since "$t")" "member ERROR; $(pool_lb_oper "$P" ONLINE)"
  else report_step member-error failed "$(since "$t")" "member $OPER: $OPER_NOTE"; fi
  t=$(now)
  lb_before=$(api GET "/v2/lbaas/loadbalancers/$LB" | jq -r .loadbalancer.operating_status)
  if start_member && await_oper "/v2/lbaas/pools/$P/members/$M" member ONLINE 90; then
    report_step member-recover passed "$(since "$t")" "member ONLINE; $(pool_lb_oper "$P" "$lb_before")"
  else report_step member-recover failed "$(since "$t")" "member ${OPER:-?}: ${OPER_NOTE:-the member server did not start}"; fi
else skip_step member-error; skip_step member-recover; fi

# failover (scenario-lib.sh): before the listener delete, so that the replacement gets a haproxy
# config and serves the member (traffic-failover), and the listener delete is served by the
# replacement's agent
if [ -z "$BLOCKED" ]; then
  failover_step
  case $? in 0) traffic traffic-failover;; 2) skip_step traffic-failover "no failover in this run";; *) skip_step traffic-failover "${BLOCKED:-no failover}";; esac
else skip_step failover; skip_step traffic-failover; fi

# the listener delete needs the listener and an agent that serves the LB
case "$BLOCKED" in "the listener"*|"the agent was stopped"*|"the failover"*) L='';; esac
if [ -n "$L" ] && [ "$L" != null ]; then
  t=$(now)
  api DELETE "/v2/lbaas/listeners/$L" >/dev/null
  if wait_prov "/v2/lbaas/listeners/$L" listener DELETED 180 >/dev/null 2>&1 &&
     wait_prov "/v2/lbaas/loadbalancers/$LB" loadbalancer ACTIVE 60 >/dev/null 2>&1; then
    report_step listener-delete passed "$(since "$t")" "DELETED (LB $(lb_status))"
  else report_step listener-delete failed "$(since "$t")" "LB $(lb_status)"; fi
else skip_step listener-delete; fi

delete_lb
exit 0
