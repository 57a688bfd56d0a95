# shellcheck shell=bash
# scenario-lib.sh: what the tier's scenarios (scenario-http.sh, scenario-udp.sh) share; sourced
# after the harness's lib.sh (api, wait_prov, octctl_sql, agent_calls, now, since).
#
# A scenario reports each step as one line on stdout
#   CTLSTEP {"step":..., "outcome":"passed|failed|skipped", "seconds":..., "status":..., "calls":[...]}
# where calls are the "METHOD PATH STATUS" lines the agent logged during the step. Which steps
# must pass is run.mjs's decision, not the scenario's: a scenario only says what happened.
# Ids of the objects it made go to $OUT/ids (NAME=UUID), so run.mjs can name them in the calls.

PROJECT=33333333-0000-0000-0000-000000000001
SUBNET=22222222-0000-0000-0000-000000000001
AMPDIR='' NCALLS=0 LB='' BLOCKED='' STOPPER=''

remember_id() { echo "$1=$2" >> "$OUT/ids"; }

# the agent calls since the previous step, one per line, into $OUT/calls-STEP.txt (not run in a
# subshell: it moves NCALLS on)
new_calls() { # STEP
  : > "$OUT/calls-$1.txt"
  [ -n "$AMPDIR" ] || return 0
  agent_calls "$AMPDIR" > "$OUT/all-calls.txt"
  tail -n +$((NCALLS + 1)) "$OUT/all-calls.txt" > "$OUT/calls-$1.txt"
  NCALLS=$(wc -l < "$OUT/all-calls.txt")
}

# STEP OUTCOME SECONDS STATUS: print the step line (and keep it in $OUT/steps.log)
report_step() {
  local calls
  new_calls "$1"
  calls=$(jq -R . < "$OUT/calls-$1.txt" | jq -cs .)
  jq -cn --arg step "$1" --arg outcome "$2" --arg seconds "$3" --arg status "$4" --argjson calls "$calls" \
    '{step:$step, outcome:$outcome, seconds:($seconds|tonumber? // null), status:$status, calls:$calls}' |
    sed 's/^/CTLSTEP /' | tee -a "$OUT/steps.log"
}
skip_step() { report_step "$1" skipped "" "not run: ${2:-$BLOCKED}"; }

# an amphora's directory once the LB create is over (a failed create deletes the amphora row:
# then the newest agent directory is the one that served it)
find_ampdir() {
  local amp
  amp=$(octctl_sql "$STATE" "SELECT id FROM amphora WHERE load_balancer_id='$LB' AND status<>'DELETED' LIMIT 1" 2>/dev/null || true)
  [ -n "$amp" ] || amp=$(basename "$(ls -td "$STATE"/amps/*/ 2>/dev/null | head -1)")
  [ -n "$amp" ] && [ -d "$STATE/amps/$amp" ] && { AMPDIR=$STATE/amps/$amp; remember_id amp "$amp"; }
  return 0
}

# NAME PATH KEY T0: wait for provisioning ACTIVE, report passed/failed with the final statuses
settle() {
  local name=$1 path=$2 key=$3 t0=$4 st
  case "$path" in */null|*/) report_step "$name" failed "$(since "$t0")" "POST refused"; return 1;; esac
  wait_prov "$path" "$key" ACTIVE "${CTLTIER_PROV_TIMEOUT:-300}" >/dev/null 2>&1
  local rc=$?
  st=$(api GET "$path" | jq -r ".$key | \"\(.provisioning_status)/\(.operating_status)\"")
  if [ $rc = 0 ]; then report_step "$name" passed "$(since "$t0")" "$st"
  else report_step "$name" failed "$(since "$t0")" "$st (LB $(lb_status))"; fi
  return $rc
}
lb_status() { api GET "/v2/lbaas/loadbalancers/$LB" | jq -r '.loadbalancer | "\(.provisioning_status)/\(.operating_status)"'; }

# PATH KEY WANT [LIMIT]: wait for operating_status WANT, which only the health manager sets,
# from the agent's heartbeats. Waits up to LIMIT s (60) while the health manager hears from the
# amphora; with no heartbeat in the last 25 s (two heartbeat intervals and a margin) it gives up
# once the running agent is that old, instead of waiting the full time for an agent that sends
# none. (A swapped-in agent has the same amphora id as the one before it: only a recent
# heartbeat can be its own.) Sets OPER (the last status seen) and OPER_NOTE (why it gave up).
await_oper() {
  local path=$1 key=$2 want=$3 limit=${4:-60} t0 hb started amp
  t0=$(now); amp=$(basename "$AMPDIR"); OPER='' OPER_NOTE=''
  started=$(stat -c %Y "$AMPDIR/kind" 2>/dev/null || date +%s)
  while :; do
    OPER=$(api GET "$path" | jq -r ".$key.operating_status // empty")
    [ "$OPER" = "$want" ] && return 0
    # Octavia writes last_update in UTC
    hb=$(octctl_sql "$STATE" "SELECT COUNT(*) FROM amphora_health WHERE amphora_id='$amp'
           AND last_update > UTC_TIMESTAMP() - INTERVAL 25 SECOND" 2>/dev/null || echo 0)
    if [ "$hb" = 0 ] && [ $(( $(date +%s) - started )) -ge 25 ]; then
      OPER_NOTE="no heartbeat from amphora $amp in 25 s"; return 1
    fi
    awk -v a="$t0" -v b="$(now)" -v m="$limit" 'BEGIN{exit !(b-a>m)}' && {
      OPER_NOTE="after $limit s with heartbeats"; return 1; }
    sleep 0.5
  done
}

# NAME PATH KEY: the step NAME passes when the object's operating_status is ONLINE
wait_online() {
  local t0; t0=$(now)
  if await_oper "$2" "$3" ONLINE; then report_step "$1" passed "$(since "$t0")" ONLINE
  else report_step "$1" failed "$(since "$t0")" "$OPER: $OPER_NOTE"; return 1; fi
}

# POOL: "pool X, LB Y" operating statuses once the LB's has left FROM (or after 3 s): the health
# manager writes member, pool and LB one after the other for the same heartbeat
pool_lb_oper() { # POOL FROM
  local p l
  for _ in $(seq 6); do
    l=$(api GET "/v2/lbaas/loadbalancers/$LB" | jq -r .loadbalancer.operating_status)
    [ "$l" != "$2" ] && break
    sleep 0.5
  done
  p=$(api GET "/v2/lbaas/pools/$1" | jq -r .pool.operating_status)
  echo "pool $p, LB $l"
}

# LB create: ACTIVE, or the scenario's other steps are blocked
create_lb() { # NAME
  local t0
  wait_agent_gone   # the previous amphora's agent holds the address until the launcher stops it
  t0=$(now)
  LB=$(api POST /v2/lbaas/loadbalancers "{\"loadbalancer\":{\"name\":\"$1\",\"vip_subnet_id\":\"$SUBNET\",\"project_id\":\"$PROJECT\"}}" | jq -r .loadbalancer.id)
  [ -n "$LB" ] && [ "$LB" != null ] || { report_step lb-create failed "$(since "$t0")" "POST refused"; BLOCKED="the LB create was refused"; LB=''; return 1; }
  remember_id lb "$LB"
  wait_prov "/v2/lbaas/loadbalancers/$LB" loadbalancer ACTIVE "${CTLTIER_PROV_TIMEOUT:-300}" >/dev/null 2>&1
  local rc=$?
  find_ampdir
  if [ $rc = 0 ]; then report_step lb-create passed "$(since "$t0")" "$(lb_status)"
  else report_step lb-create failed "$(since "$t0")" "$(lb_status)"; BLOCKED="the LB create failed"; fi
  return $rc
}

# LB delete (cascade), whatever state the LB is in; then wait until the launcher has stopped the
# amphora's agent, so that the next scenario's amphora gets an agent of the next kind. While the
# LB is immutable (PENDING_*: a failover of its own the health manager started) the API answers
# 409, and the delete is asked again (up to 300 s).
delete_lb() {
  local t0 code; t0=$(now)
  [ -n "$LB" ] || return 0
  for _ in $(seq 300); do
    code=$(in_ctl curl -s -o /dev/null -w '%{http_code}' -X DELETE "http://127.0.0.1:$API_PORT/v2/lbaas/loadbalancers/$LB?cascade=true")
    [ "$code" = 409 ] || break
    sleep 1
  done
  if wait_prov "/v2/lbaas/loadbalancers/$LB" loadbalancer DELETED "${CTLTIER_PROV_TIMEOUT:-300}" >/dev/null 2>&1; then
    report_step lb-delete passed "$(since "$t0")" DELETED
  else report_step lb-delete failed "$(since "$t0")" "$(lb_status)"; fi
  wait_agent_gone
  [ -z "$STOPPER" ] || wait "$STOPPER"
}
# reference-agent.sh stop takes 20-40 s here (it stats every process's namespaces afterwards)
wait_agent_gone() {
  for _ in $(seq 1800); do [ -e "$STATE/run/agent-running" ] || return 0; sleep 0.1; done
  echo "scenario: the launcher did not stop the agent within 180 s" >&2
}

# With CTLTIER_SWAP_TO=ts (run.mjs's agent "swap"): once the reference agent has made the LB
# ACTIVE (plug/vip included), our agent takes the amphora over (the shared swap-agent.sh: same
# id, certificate and address, no plug/vip state, a fresh VIP NIC outside its namespace), so the
# listener steps show what ours does with them before plug/vip is served.
swap_if_asked() {
  [ -n "${CTLTIER_SWAP_TO:-}" ] && [ -z "$BLOCKED" ] || return 0
  local t0; t0=$(now)
  new_calls swap-agent >/dev/null   # the reference's calls so far belong to the steps before
  if "$HERE/swap-agent.sh" "$CTLTIER_SWAP_TO" "$STATE" >> "$OUT/swap.log" 2>&1; then
    NCALLS=0
    report_step swap-agent passed "$(since "$t0")" "a $CTLTIER_SWAP_TO agent serves amphora $(basename "$AMPDIR") now"
  else report_step swap-agent failed "$(since "$t0")" "swap-agent.sh failed (see swap.log)"; BLOCKED="the swap failed"; fi
}

# Failover: stop the amphora's agent (the amphora itself stays), so that its heartbeats stop. The
# health manager finds the amphora stale [health_manager] heartbeat_timeout s after its last
# heartbeat (CTLTIER_HEARTBEAT_TIMEOUT: run.mjs sets it in octavia-extra.conf before up.sh; the
# harness's 600 s would never fail one over) and fails it over: the old amphora PENDING_DELETE, a
# new one (the launcher starts an agent of the same kind), plug/vip and the listeners' config on
# it, the old one DELETED, the LB ACTIVE. The step passes when the LB is ACTIVE again with a new
# ALLOCATED amphora served by an agent of the kind that was stopped. From then on the scenario's
# calls are the new agent's. Returns 2 when the run has no short heartbeat_timeout.
failover_step() {
  local t0 old d kind age='' fo_t='' new st gone
  t0=$(now); old=$(basename "$AMPDIR"); d=$AMPDIR
  [ -n "${CTLTIER_HEARTBEAT_TIMEOUT:-}" ] || { report_step failover skipped "" "not run: heartbeat_timeout is the harness's 600 s"; return 2; }
  if [ "$(octctl_sql "$STATE" "SELECT COUNT(*) FROM amphora_health WHERE amphora_id='$old'
          AND last_update > UTC_TIMESTAMP() - INTERVAL 25 SECOND" 2>/dev/null || echo 0)" = 0 ]; then
    report_step failover failed "$(since "$t0")" "no heartbeat from amphora $old in 25 s: no failover can follow (agent left running)"
    return 1
  fi
  kind=$(cat "$d/kind")
  # The launcher starts no agent while agent-running names one, and it stops that one only once
  # its amphora is DELETED, which a failover does after the replacement is up. So the step stops
  # the agent itself, and says so first. In the background: the reference's stop spends 20-40 s
  # checking its namespaces after the agent is gone (delete_lb waits for it).
  rm -f "$STATE/run/agent-running"
  case "$kind" in
    ref) "$(octctl_ref_dir)/reference-agent.sh" stop amp "$d";;
    *) "$HERE/ts-agent.sh" stop "$d";;
  esac >> "$OUT/failover-stop.log" 2>&1 &
  STOPPER=$!
  touch "$d/stopped"
  # the start: the health manager marks the amphora's health row busy (and the LB PENDING_UPDATE);
  # the row goes when the failover is over
  for _ in $(seq $(( (CTLTIER_HEARTBEAT_TIMEOUT + 60) * 2 ))); do
    st=$(octctl_sql "$STATE" "SELECT busy, TIMESTAMPDIFF(SECOND, last_update, UTC_TIMESTAMP()) FROM amphora_health
           WHERE amphora_id='$old'" 2>/dev/null) || { sleep 0.5; continue; }   # no answer is not "row gone"
    if [ -z "$st" ] || [ "${st%%$'\t'*}" = 1 ]; then fo_t=$(since "$t0"); age=${st#*$'\t'}; break; fi
    sleep 0.5
  done
  if [ -z "$fo_t" ]; then
    report_step failover failed "$(since "$t0")" "no failover $(( CTLTIER_HEARTBEAT_TIMEOUT + 60 )) s after the agent stopped (LB $(lb_status))"
    BLOCKED="the agent was stopped and no failover came"; return 1
  fi
  wait_prov "/v2/lbaas/loadbalancers/$LB" loadbalancer ACTIVE "${CTLTIER_PROV_TIMEOUT:-300}" >/dev/null 2>&1
  local rc=$?
  new=$(octctl_sql "$STATE" "SELECT id FROM amphora WHERE load_balancer_id='$LB' AND status='ALLOCATED' AND id<>'$old' LIMIT 1" 2>/dev/null)
  gone=$(octctl_sql "$STATE" "SELECT status FROM amphora WHERE id='$old'" 2>/dev/null)
  st="started ${age:-?} s after the last heartbeat (${fo_t} s after the stop); LB $(lb_status); old amphora ${gone:-gone}"
  if [ -n "$new" ] && [ -d "$STATE/amps/$new" ]; then
    AMPDIR=$STATE/amps/$new NCALLS=0; remember_id failover_amp "$new"
    st="$st; new amphora ALLOCATED, $(cat "$AMPDIR/kind" 2>/dev/null || echo no) agent"
  else st="$st; no new ALLOCATED amphora with an agent"; fi
  if [ $rc = 0 ] && [ -n "$new" ] && [ "$(cat "$AMPDIR/kind" 2>/dev/null)" = "$kind" ]; then
    report_step failover passed "$(since "$t0")" "$st"
  else
    report_step failover failed "$(since "$t0")" "$st"; BLOCKED="the failover failed"; return 1
  fi
}
