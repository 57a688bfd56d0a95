#!/bin/bash
# scenario-udp.sh STATE OUT: a SINGLE load balancer with a UDP listener, pool, member and
# UDP-CONNECT health monitor, then a cascade delete (the steps of the shared lb-udp.sh), with
# the agent of whatever kind $STATE/agent-kind names.
#
# A UDP listener is a keepalived LVS config in the amphora. Once a pool gives it a
# virtual_server, keepalived needs IPVS; on a kernel without it keepalived exits as it starts,
# and which answer the agent gives to the reload decides ACTIVE or ERROR. The scenario records
# what happens and goes on (a failed pool create does not stop the member create: the API takes
# members of a pool in ERROR); run.mjs decides which steps count. One CTLSTEP line per step.
set -uo pipefail
HERE=$(dirname "${BASH_SOURCE[0]}")
. "$HERE/lib.sh"
. "$HERE/scenario-lib.sh"
STATE=$1 OUT=$2
mkdir -p "$OUT"

if create_lb u1; then wait_online lb-online "/v2/lbaas/loadbalancers/$LB" loadbalancer
else skip_step lb-online; fi
swap_if_asked

if [ -z "$BLOCKED" ]; then
  t=$(now)
  L=$(api POST /v2/lbaas/listeners "{\"listener\":{\"name\":\"udp5353\",\"loadbalancer_id\":\"$LB\",\"protocol\":\"UDP\",\"protocol_port\":5353}}" | jq -r .listener.id)
  remember_id listener "$L"
  settle listener-create "/v2/lbaas/listeners/$L" listener "$t" || BLOCKED="the listener create failed"
else skip_step listener-create; fi

if [ -z "$BLOCKED" ]; then
  t=$(now)
  P=$(api POST /v2/lbaas/pools "{\"pool\":{\"name\":\"up1\",\"listener_id\":\"$L\",\"protocol\":\"UDP\",\"lb_algorithm\":\"ROUND_ROBIN\"}}" | jq -r .pool.id)
  remember_id pool "$P"
  settle pool-create "/v2/lbaas/pools/$P" pool "$t"
  case "$P" in ''|null) BLOCKED="the pool create was refused";; esac
else skip_step pool-create; fi

if [ -z "$BLOCKED" ]; then
  t=$(now)
  M=$(api POST "/v2/lbaas/pools/$P/members" "{\"member\":{\"name\":\"um1\",\"address\":\"198.51.100.254\",\"protocol_port\":5353,\"subnet_id\":\"$SUBNET\"}}" | jq -r .member.id)
  remember_id member "$M"
  settle member-create "/v2/lbaas/pools/$P/members/$M" member "$t"
  t=$(now)
  H=$(api POST /v2/lbaas/healthmonitors "{\"healthmonitor\":{\"name\":\"uhm1\",\"pool_id\":\"$P\",\"type\":\"UDP-CONNECT\",\"delay\":3,\"timeout\":2,\"max_retries\":2}}" | jq -r .healthmonitor.id)
  remember_id healthmonitor "$H"
  settle hm-create "/v2/lbaas/healthmonitors/$H" healthmonitor "$t"
else skip_step member-create; skip_step hm-create; fi

delete_lb
exit 0
