/**
 * @module test/controller-vm/runner/scenarios/active-standby
 * ACTIVE_STANDBY, UDP, through octavia-api (a flavor with loadbalancer_topology ACTIVE_STANDBY):
 * the controller builds the pair (two VMs; VRRP configs rendered by the controller, uploaded and
 * started), a UDP listener with 3 members and a monitor. Under a steady stream:
 *  1. the VIP holder's agent is stopped (its keepalived processes go on): its heartbeats stop, and
 *     after heartbeat_timeout the health manager fails it over. The replacement VM is built and
 *     gets the whole configuration (VIP plug, listener, VRRP); the old VM is deleted and the VIP
 *     moves to the surviving amphora.
 *     The replacement, built with the failed amphora's role, takes the VIP when it is the MASTER.
 *  2. the listener keepalived of whichever amphora then holds the VIP is killed: its VRRP check
 *     script fails and the VIP moves to the other one.
 * Figures: the pair's build, the failover (last counted heartbeat to failover start, to the load
 * balancer ACTIVE again, to traffic through the replacement), the takeover after the kill, and
 * the datagrams lost in each phase (each reply names the amphora that forwarded it). Traffic
 * through the replacement must be seen in one phase or the other.
 */
import { HEARTBEAT_TIMEOUT, log, secs, since, sleep, waitFor } from '../lib/context.mjs';
import { Member, burstUntilClean, split, startTraffic } from '../lib/dataplane.mjs';
import { amphorae, api, create, deleteLb, lastHeartbeat, operating, PROJECT, VIP_SUBNET, waitOper, waitProv } from '../lib/octavia.mjs';
import { agentListeningAfterBoot, holdsVip, ipvsOf, isGone, vmExec, vmOf } from '../lib/vms.mjs';

const VIP = '198.51.100.101';
const PORT = 80;
const MEMBER_PORT = 8080;
// Octavia renders misc_timeout = timeout and retry = max_retries_down. Tighter values (3 s, 3 s, 2) made
// keepalived drop every member at once when another process kept the host's cores busy (each
// check forks a shell and nc in a UML guest, one slow CPU): see the tier's README.
const HM = { type: 'UDP-CONNECT', delay: 6, timeout: 5, max_retries: 3, max_retries_down: 3 };
const AGENT_UNIT = { ts: 'amphora-agent.service', ref: 'octavia-agent.service' };

async function flavor(kind) {
  const fp = await create('flavorprofile', { name: `as-${kind}-${Date.now()}`, provider_name: 'amphora', flavor_data: JSON.stringify({ loadbalancer_topology: 'ACTIVE_STANDBY' }) });
  return create('flavor', { name: `as-${kind}-${Date.now()}`, flavor_profile_id: fp.id, enabled: true });
}

async function vipHolder(vms) {
  for (const vm of vms) if (!isGone(vm) && (await holdsVip(vm, VIP).catch(() => false))) return vm;
  return null;
}

/** Datagrams of a stream window [from, to) ms: sent, lost, and replies per amphora. */
function window(stream, from, to) {
  const recs = stream.records.filter((r) => r[0] >= from && r[0] < to);
  return { seconds: secs(to - from), sent: recs.length, lost: recs.filter((r) => !r[2]).length, ...split(Object.fromEntries(Object.entries(recs.reduce((o, r) => (r[2] ? ((o[r[2]] = (o[r[2]] ?? 0) + 1), o) : o), {})))) };
}

export async function activeStandby(s) {
  const members = ['m1', 'm2', 'm3'].map((n, i) => new Member(n, `198.51.100.2${i + 1}`, MEMBER_PORT));
  await Promise.all(members.map((m) => m.start()));
  const traffic = startTraffic();
  let lb;
  try {
    const fl = await flavor(s.kind);
    let t = Date.now();
    lb = await create('loadbalancer', { name: `as-${s.kind}`, vip_subnet_id: VIP_SUBNET, vip_address: VIP, project_id: PROJECT, flavor_id: fl.id });
    await waitProv(`/v2/lbaas/loadbalancers/${lb.id}`, 'loadbalancer', 'ACTIVE', 900);
    s.fig('lb_create_s', since(t));
    const pair = await amphorae(lb.id);
    s.check(pair.length === 2 && new Set(pair.map((a) => a.lb_network_ip)).size === 2, 'two amphorae, each with its own management address');
    const vms = pair.map(vmOf);
    s.fig('pair', vms.map((v) => ({ id: v.amp.id, role: v.amp.role, lb_network_ip: v.amp.lb_network_ip, vrrp_ip: v.amp.vrrp_ip, agent_listening_after_boot_s: agentListeningAfterBoot(v) })));

    t = Date.now();
    const udp = await create('listener', { loadbalancer_id: lb.id, protocol: 'UDP', protocol_port: PORT, name: 'udp80' });
    await waitProv(`/v2/lbaas/listeners/${udp.id}`, 'listener');
    const pool = await create('pool', { listener_id: udp.id, protocol: 'UDP', lb_algorithm: 'ROUND_ROBIN', name: 'udp-pool' });
    await waitProv(`/v2/lbaas/pools/${pool.id}`, 'pool');
    for (const m of members) {
      const mm = await create('member', { address: m.address, protocol_port: MEMBER_PORT, subnet_id: VIP_SUBNET, name: m.name }, `/v2/lbaas/pools/${pool.id}/members`);
      await waitProv(`/v2/lbaas/pools/${pool.id}/members/${mm.id}`, 'member');
    }
    const hm = await create('healthmonitor', { pool_id: pool.id, ...HM, name: 'udp-hm' });
    await waitProv(`/v2/lbaas/healthmonitors/${hm.id}`, 'healthmonitor');
    s.fig('listener_pool_members_hm_s', since(t));
    s.fig('pool_online_s', await waitOper(`/v2/lbaas/pools/${pool.id}`, 'pool', 'ONLINE', 120));

    const holder = await waitFor(() => vipHolder(vms), 30_000, 1000);
    s.check(holder, 'one amphora holds the VIP');
    if (!holder) return;
    s.fig('vip_holder', { role: holder.amp.role, vrrp_ip: holder.amp.vrrp_ip });
    const other = vms.find((v) => v !== holder);
    const b = await burstUntilClean(traffic, { vip: VIP, port: PORT, n: 30 });
    s.fig('split', { lost: b.lost, ...split(b.perBackend) });
    s.check(b.lost === 0 && Object.keys(split(b.perBackend).amphorae).join() === holder.amp.vrrp_ip, `30 datagrams through the VIP holder ${holder.amp.vrrp_ip} reach the members (lost ${b.lost})`);
    for (const vm of vms) s.fig(`ipvs_${vm.amp.role.toLowerCase()}`, (await ipvsOf(vm)).services);

    // 1. the holder's agent stops: failover by the health manager
    const stream0 = Date.now();
    await traffic.request({ cmd: 'stream_start', vip: VIP, port: PORT, rate: 10, flows: 3 });
    await sleep(3000);
    const mStop = (await traffic.request({ cmd: 'mark', label: 'agent_stop' })).t;
    const tStop = Date.now();
    const stop = await vmExec(holder, `systemctl stop ${AGENT_UNIT[s.kind]}`);
    s.check(stop.rc === 0, `systemctl stop ${AGENT_UNIT[s.kind]} in the VIP holder: ${stop.out}`);
    let lastHb = lastHeartbeat(holder.amp.id);
    let failoverStart = null;
    let replacement = null;
    const done = await waitFor(async () => {
      const hb = lastHeartbeat(holder.amp.id);
      if (hb) lastHb = hb;
      const st = (await api('GET', `/v2/lbaas/loadbalancers/${lb.id}`)).json?.loadbalancer?.provisioning_status;
      if (!failoverStart && st === 'PENDING_UPDATE') failoverStart = Date.now();
      const amps = await amphorae(lb.id);
      replacement = amps.find((a) => !pair.some((p) => p.id === a.id)) ?? replacement;
      return st === 'ACTIVE' && replacement && !amps.some((a) => a.id === holder.amp.id) ? true : null;
    }, (HEARTBEAT_TIMEOUT + 420) * 1000, 1000);
    s.check(done, `the health manager failed the silent amphora over (LB ACTIVE, a new amphora, the old one gone) within ${HEARTBEAT_TIMEOUT + 420} s`);
    const tActive = Date.now();
    if (!done || !replacement) return;
    const repl = vmOf(replacement);
    s.fig('failover', {
      agent_stop_to_last_heartbeat_s: lastHb ? secs(lastHb - tStop) : null,
      last_heartbeat_to_failover_start_s: lastHb && failoverStart ? secs(failoverStart - lastHb) : null,
      failover_start_to_lb_active_s: failoverStart ? secs(tActive - failoverStart) : null,
      replacement: { id: replacement.id, role: replacement.role, lb_network_ip: replacement.lb_network_ip, vrrp_ip: replacement.vrrp_ip, slot: repl.req.slot, agent_listening_after_boot_s: agentListeningAfterBoot(repl) },
    });
    s.check(await waitFor(() => isGone(holder), 30_000), 'the failed-over amphora VM is gone');
    const now1 = (await traffic.request({ cmd: 'mark', label: 'failover_done' })).t;
    await sleep(3000);
    s.check((await ipvsOf(repl)).services[`UDP ${VIP}:${PORT}`], 'the replacement has the UDP listener in IPVS (its full configuration)');

    // 2. the VIP holder's listener keepalived dies: its check script fails and the VIP moves
    const pairNow = [other, repl];
    const h = await waitFor(() => vipHolder(pairNow), 60_000, 1000);
    s.check(h, 'one of the survivor and the replacement holds the VIP after the failover');
    if (!h) return;
    const target = pairNow.find((v) => v !== h);
    s.fig('vip_holder_after_failover', h === repl ? 'replacement' : 'survivor');
    const mKill = (await traffic.request({ cmd: 'mark', label: 'kill' })).t;
    const tKill = Date.now();
    const kill = await vmExec(h, `kill -KILL "$(cat /var/lib/octavia/lvs/octavia-keepalivedlvs-${udp.id}.pid)"`);
    s.check(kill.rc === 0, `the holder's listener keepalived killed: ${kill.out}`);
    const moved = await waitFor(() => holdsVip(target, VIP), 60_000, 500);
    s.check(moved, `the VIP moved to the ${target === repl ? 'replacement' : 'survivor'} within 60 s of the kill`);
    s.fig('takeover_s', since(tKill));
    await sleep(5000);
    const stream = await traffic.request({ cmd: 'stream_stop' });
    const viaRepl = stream.records.find((r) => r[0] >= mStop && r[2]?.endsWith(`/${replacement.vrrp_ip}`));
    s.check(viaRepl, `datagrams flow through the replacement (${replacement.vrrp_ip})`);
    const viaTarget = stream.records.find((r) => r[0] >= mKill && r[2]?.endsWith(`/${target.amp.vrrp_ip}`));
    const end = stream.records.at(-1)?.[0] ?? mKill;
    s.fig('stream', {
      before_stop: window(stream, 0, mStop),
      stop_to_failover_done: window(stream, mStop, now1),
      failover_done_to_kill: window(stream, now1, mKill),
      kill_to_end: window(stream, mKill, end + 1),
    });
    if (viaTarget) s.fig('kill_to_first_datagram_via_new_holder_s', secs(viaTarget[0] - mKill));
    if (viaRepl && lastHb) s.fig('last_heartbeat_to_traffic_via_replacement_s', secs(stream0 + viaRepl[0] - lastHb));
    s.fig('replacement_operating', await operating(`/v2/lbaas/loadbalancers/${lb.id}`, 'loadbalancer'));

    t = Date.now();
    await deleteLb(lb.id);
    s.fig('lb_delete_s', since(t));
    lb = null;
    s.check(await waitFor(() => vms.concat([repl]).every(isGone), 30_000), 'every amphora VM is gone after the delete');
  } finally {
    traffic.stop();
    await Promise.all(members.map((m) => m.stop()));
    if (lb) await deleteLb(lb.id).catch((err) => log(`cleanup: ${err.message}`));
  }
}
