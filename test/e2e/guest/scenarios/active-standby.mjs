/**
 * @module test/e2e/guest/scenarios/active-standby
 * Scenario `active_standby`: a second agent (amphora-agent-b.service, namespace amphora-b)
 * and agent A switched to ACTIVE_STANDBY by PUT /1.0/config; both get L1 and a controller-
 * rendered VRRP config; killing the master's listener keepalived under traffic moves the VIP
 * to B within fall x interval + 4 s, then A's listener is restarted through the API. Last, the
 * heartbeat's skip rule: A's VRRP keepalived killed, A sends no heartbeat (but the one under way)
 * while B sends four; vrrp/start brings it back and A's heartbeats resume.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sh, shell, waitFor } from '../lib/commands.mjs';
import { secs } from '../lib/context.mjs';
import { call, controller, pushListener } from '../lib/controller.mjs';
import { heartbeatsSince, waitForHeartbeats } from '../lib/heartbeats.mjs';
import { ipvs, serviceMatches } from '../lib/ipvs.mjs';
import { ensureL1, l1Listener, l1Members } from '../lib/listener-l1.mjs';
import { mainPid } from '../lib/systemd.mjs';
import { AGENTS, L1, NS_A, NS_B, STREAM, VIP, lvsUnit } from '../lib/topology.mjs';
import { markAt, stopStream, traffic, windows } from '../lib/traffic-client.mjs';

export async function vipOwner() {
  // one shell, two ip calls: polled often, and every process counts in a one-CPU guest
  const out = (await sh('/bin/sh', ['-c', `ip -n ${NS_A} -o addr show dev eth1; echo @; ip -n ${NS_B} -o addr show dev eth1`], { allowFail: true })).out;
  const [a, b] = out.split('@').map((part) => part.includes(`${VIP}/`));
  return a && b ? 'both' : a ? 'a' : b ? 'b' : 'none';
}
function vrrpStates(agent) {
  try {
    return readFileSync(join(agent.base, 'vrrp', 'octavia-keepalived.log'), 'utf8')
      .split('\n')
      .filter((l) => /Entering \w+ STATE|VRRP_Script\(check_script\) (failed|timed_out|succeeded)/.test(l))
      .map((l) => `${/\d\d:\d\d:\d\d/.exec(l)?.[0]} ${l.replace(/^.*: (\([^)]+\) )?/, '').trim()}`);
  } catch {
    return [];
  }
}

// Octavia's defaults are interval 5, fall 2, rise 2. keepalived's script timeout defaults to
// the interval, and under UML a check run can take more than 1 s: interval 2.
export const vrrp = { vip: VIP, cidr: '10.0.0.0/24', gateway: '10.0.0.1', interface: 'eth1', check_interval: 2, fall: 2, rise: 2, advert_int: 1 };

/**
 * Amphora B (namespace, ports, agent) beside A, and agent A switched to ACTIVE_STANDBY.
 * `listener`: L1's fields that differ from the shared L1 (failover_sync: no health monitor).
 */
export async function setupPair(s, { listener = {} } = {}) {
  await ensureL1(undefined, listener);
  const b = AGENTS.b;
  // Amphora B's ports, and masquerading on both amphorae's member ports as Octavia's
  // octavia-agent-lvs-masquerade does, so that members answer whichever amphora holds the VIP.
  await shell(`
    ip netns add ${NS_B}; ip -n ${NS_B} link set lo up
    ip link add vb1 type veth peer name eth1 netns ${NS_B}
    ip link add vb2 type veth peer name eth2 netns ${NS_B}
    ip link set vb1 master br-vip up; ip link set vb2 master br-mem up
    ip -n ${NS_B} addr add 10.0.0.12/24 dev eth1; ip -n ${NS_B} addr add 10.1.0.12/24 dev eth2
    ip -n ${NS_B} link set eth1 up; ip -n ${NS_B} link set eth2 up
    for ns in ${NS_A} ${NS_B}; do ip netns exec $ns iptables-legacy -t nat -A POSTROUTING -o eth2 -j MASQUERADE; done
    # the VIP now belongs to VRRP
    ip -n ${NS_A} addr del ${VIP}/32 dev eth1
  `);
  // Agent B: the unit file from init-scripts/ under its own name (installed before boot by
  // vm/prepare-root.sh), with its own configuration in /etc/octavia-b.
  await sh('systemctl', ['start', `${b.agentUnit}.service`]);
  // each call retries for 60 s; a guest slowed down by a busy host needs longer for node's start
  let vb;
  for (let i = 0; i < 5 && !vb?.ok; i++) vb = await call('b', 'get_api_version');
  if (!vb.ok) s.fig('agent_b_journal', (await sh('journalctl', ['-u', `${b.agentUnit}.service`, '-n', '40', '--no-pager'], { allowFail: true })).out);
  s.check(vb.ok, `agent B does not answer: ${JSON.stringify(vb)}`);
  if (!vb.ok) throw new Error('agent B does not answer');
  // Agent A becomes part of a pair the way an operator would do it: PUT /1.0/config.
  const confA = readFileSync('/etc/octavia/amphora-agent.conf', 'utf8').replace(/loadbalancer_topology = SINGLE/, 'loadbalancer_topology = ACTIVE_STANDBY');
  const pc = await call('a', 'update_agent_config', confA);
  s.fig('put_config_a', pc.ok ? pc.status : pc.error);
  s.check(pc.ok, `PUT /1.0/config on agent A failed: ${pc.error}`);
}

/**
 * L1 on B, the controller-rendered VRRP configs on both, VRRP started: the VIP on A.
 * `listener`: as for setupPair; `settings`: VRRP check settings other than `vrrp`'s.
 */
export async function startVrrp(s, { listener = {}, settings = {} } = {}) {
  const a = AGENTS.a;
  const b = AGENTS.b;
  const v = { ...vrrp, ...settings };
  const rb = await pushListener('b', l1Listener('b', l1Members, listener));
  s.check(rb.ok, `pushing L1 to agent B failed: ${JSON.stringify(rb).slice(0, 300)}`);
  s.check((await waitFor(() => serviceMatches(NS_B, 'UDP', `${VIP}:5000`, l1Members), { timeoutMs: 120_000 })).ok, 'IPVS in amphora B does not show L1');
  const cfgA = (await controller.request({ op: 'render_vrrp', vrrp: { ...v, vrrp_ip: '10.0.0.11', peer_ip: '10.0.0.12', role: 'MASTER', priority: 100, base_path: a.base } })).text;
  const cfgB = (await controller.request({ op: 'render_vrrp', vrrp: { ...v, vrrp_ip: '10.0.0.12', peer_ip: '10.0.0.11', role: 'BACKUP', priority: 90, base_path: b.base } })).text;
  s.check(cfgA.includes(`${a.base}/vrrp/check_script.sh`) && cfgB.includes(`${b.base}/vrrp/check_script.sh`), 'VRRP configs do not call each agent\'s check_script.sh');
  for (const [name, cfg] of [['a', cfgA], ['b', cfgB]]) {
    const up = await call(name, 'upload_vrrp_config', cfg);
    s.check(up.ok, `vrrp/upload on ${name} failed: ${up.error}`);
  }
  const t = performance.now();
  for (const name of ['a', 'b']) {
    const st = await call(name, 'start_vrrp');
    s.check(st.ok, `vrrp/start on ${name} failed: ${st.error}`);
  }
  const master = await waitFor(async () => ((await vipOwner()) === 'a' ? 'a' : null), { timeoutMs: 30_000, intervalMs: 250 });
  s.fig('vrrp_start_to_vip_on_master_s', secs(performance.now() - t));
  s.check(master.ok, `the VIP is not on amphora A (owner: ${await vipOwner()})`);
  const sanity = await traffic.request({ cmd: 'burst', vip: VIP, port: 5000, n: 30 });
  s.fig('through_master', sanity);
  s.check(sanity.lost === 0, `${sanity.lost} lost through the master`);
}

/** Under a stream, kill A's listener keepalived: the VIP moves to B; then restart A's listener through the API. */
async function killMaster(s) {
  const a = AGENTS.a;
  const flows = STREAM.flows;
  await traffic.request({ cmd: 'stream_start', vip: VIP, port: 5000, ...STREAM });
  await sleep(3000);
  const unitA = lvsUnit(a, L1);
  const victim = await mainPid(unitA);
  await traffic.request({ cmd: 'mark', label: 'kill' });
  const tk = performance.now();
  process.kill(victim, 'SIGKILL');
  const budget = vrrp.check_interval * vrrp.fall + 4; // fall x interval + margin
  const moved = await waitFor(async () => ((await vipOwner()) === 'b' ? 'b' : null), { timeoutMs: 30_000, intervalMs: 200 });
  s.fig('killed_keepalived_pid', victim);
  s.fig('takeover_s', secs(moved.ms));
  s.fig('takeover_budget_s', budget);
  s.check(moved.ok && moved.ms <= budget * 1000, `the VIP moved to B after ${secs(moved.ms)}s (budget ${budget}s; owner ${await vipOwner()})`);
  await traffic.request({ cmd: 'mark', label: 'moved' });
  s.fig('ipvs_a_after_kill', (await ipvs(NS_A)).map((x) => ({ vip: x.vip, dests: x.dests.length })));
  const lsA = await call('a', 'get_all_listeners');
  s.fig('listeners_a_after_kill', lsA.body);
  s.check(lsA.body?.some?.((l) => l.uuid === L1 && l.status === 'ERROR'), 'agent A does not report the killed listener as ERROR');
  await sleep(3000);
  await traffic.request({ cmd: 'mark', label: 'restart' });
  const st = await call('a', 'start_listener', L1);
  s.fig('restart_listener_a', st.ok ? st.body : st.error);
  s.check(st.ok, `PUT /1.0/loadbalancer/L1/start on A failed: ${st.error}`);
  await sleep(6000);
  await traffic.request({ cmd: 'mark', label: 'end' });
}

/** The stream's losses per window, the VRRP states and a last burst. */
async function checkAfterRestart(s) {
  const a = AGENTS.a;
  const b = AGENTS.b;
  const stream = await stopStream('active_standby');
  const w = windows(stream, [
    ['before_kill', 0, markAt(stream, 'kill')],
    ['kill_to_takeover', markAt(stream, 'kill'), markAt(stream, 'moved')],
    ['after_takeover', markAt(stream, 'moved'), markAt(stream, 'restart')],
    ['after_restart_of_a', markAt(stream, 'restart'), markAt(stream, 'end')],
  ]);
  s.fig('traffic', w);
  s.check(w.before_kill.fresh_lost + w.before_kill.flow_lost === 0, 'datagrams lost before the kill');
  s.check(w.after_takeover.fresh_lost === 0, `${w.after_takeover.fresh_lost} fresh datagrams lost after the takeover`);
  s.fig('vip_owner_after_restart_of_a', await vipOwner());
  s.fig('vrrp_states_a', vrrpStates(a));
  s.fig('vrrp_states_b', vrrpStates(b));
  s.fig('listeners_a_after_restart', (await call('a', 'get_all_listeners')).body);
  const final = await traffic.request({ cmd: 'burst', vip: VIP, port: 5000, n: 30 });
  s.fig('burst_after_restart', final);
  s.check(final.lost === 0, `${final.lost} lost after amphora A came back`);
}

/**
 * ADR 0010: the listener keepalived of whichever amphora holds the VIP is killed and nothing is
 * asked of the agents. The VIP must move to the peer first (within fall x interval + 4 s); the
 * owner's reconcile job restarts its keepalived only after the VRRP failover time and a margin.
 * Where the VIP is then is a figure, not a check: an amphora rendered `state MASTER` takes it back
 * once its check passes again (keepalived clears `nopreempt` for an initial state MASTER), as it
 * does after the controller's start. Figures: takeover, kill to new MainPID, the VIP owner 10 s
 * after it, losses per phase, both VRRP state histories.
 */
async function killOwnerAndLetTheAgentRestart(s) {
  const owner = await vipOwner();
  s.fig('agent_restart_vip_owner_before', owner);
  if (owner !== 'a' && owner !== 'b') return void s.check(false, `no single VIP owner before the kill: ${owner}`);
  const peer = owner === 'a' ? 'b' : 'a';
  const unit = lvsUnit(AGENTS[owner], L1);
  await traffic.request({ cmd: 'stream_start', vip: VIP, port: 5000, ...STREAM });
  await sleep(3000);
  const victim = await mainPid(unit);
  await traffic.request({ cmd: 'mark', label: 'kill' });
  const tk = performance.now();
  process.kill(victim, 'SIGKILL');
  const moved = await waitFor(async () => ((await vipOwner()) === peer ? peer : null), { timeoutMs: 30_000, intervalMs: 200 });
  s.fig('agent_restart_takeover_s', moved.ok ? secs(moved.ms) : null);
  s.check(moved.ok, `the VIP did not move to ${peer} after the kill (owner ${await vipOwner()})`);
  await traffic.request({ cmd: 'mark', label: 'moved' });
  const back = await waitFor(async () => {
    const pid = await mainPid(unit);
    return pid > 0 && pid !== victim ? pid : null;
  }, { timeoutMs: 120_000, intervalMs: 250 });
  s.fig('agent_restart_kill_to_new_mainpid_s', back.ok ? secs(performance.now() - tk) : null);
  s.check(back.ok, `agent ${owner} did not restart ${unit}`);
  s.check(!back.ok || moved.ok, 'the agent restarted the keepalived before the VIP moved');
  await traffic.request({ cmd: 'mark', label: 'restarted' });
  await sleep(10_000);
  s.fig('agent_restart_vip_owner_10s_after', await vipOwner());
  await traffic.request({ cmd: 'mark', label: 'end' });
  const stream = await stopStream('active_standby_agent_restart');
  s.fig('agent_restart_traffic', windows(stream, [
    ['kill_to_takeover', markAt(stream, 'kill'), markAt(stream, 'moved')],
    ['takeover_to_restart', markAt(stream, 'moved'), markAt(stream, 'restarted')],
    ['after_restart', markAt(stream, 'restarted'), markAt(stream, 'end')],
  ]));
  s.fig('agent_restart_vrrp_states_a', vrrpStates(AGENTS.a));
  s.fig('agent_restart_vrrp_states_b', vrrpStates(AGENTS.b));
}

/**
 * The reference's rule: an amphora whose VRRP keepalived is configured but dead sends no
 * heartbeat, so that the health manager fails it over. B (its keepalived alive) is the clock:
 * while B sends four heartbeats (three intervals), A may send only the one under way at the kill.
 */
async function deadVrrpSilencesHeartbeats(s) {
  const a = AGENTS.a;
  const b = AGENTS.b;
  const unit = `${a.prefix}octavia-keepalived`;
  const pid = await mainPid(unit);
  s.check(pid > 0, `${unit} has no MainPID`);
  if (!(pid > 0)) return;
  const tk = Date.now();
  process.kill(pid, 'SIGKILL');
  const clock = await waitForHeartbeats(b.id, tk, (msgs) => (msgs.length >= 4 ? msgs : null));
  s.check(clock.ok, `amphora B sent fewer than 4 heartbeats within ${secs(clock.ms)}s`);
  const fromA = (await heartbeatsSince(a.id, tk)).messages;
  s.fig('heartbeats_after_vrrp_kill', { a: fromA.length, b: clock.value?.length, window_s: secs(clock.ms) });
  s.check(fromA.length <= 1, `amphora A sent ${fromA.length} heartbeats with its VRRP keepalived dead`);
  const ts = Date.now();
  const st = await call('a', 'start_vrrp');
  s.check(st.ok, `vrrp/start on A failed: ${st.error}`);
  const resumed = await waitForHeartbeats(a.id, ts, (msgs) => (msgs.length >= 1 ? msgs : null));
  s.fig('vrrp_start_to_heartbeat_of_a_s', resumed.ok ? secs(resumed.value[0].t - ts) : null);
  s.check(resumed.ok, `amphora A sent no heartbeat within ${secs(resumed.ms)}s of vrrp/start`);
}

export async function scenarioActiveStandby(s) {
  await setupPair(s);
  await startVrrp(s);
  await killMaster(s);
  await checkAfterRestart(s);
  await killOwnerAndLetTheAgentRestart(s);
  await deadVrrpSilencesHeartbeats(s);
}
