/**
 * @module test/controller-vm/runner/scenarios/single
 * SINGLE topology, UDP, through octavia-api: a load balancer (one amphora VM), a UDP listener, a
 * pool of 3 members and a UDP-CONNECT monitor; traffic split by IPVS; ONLINE from heartbeats; a
 * member killed goes ERROR and leaves IPVS, then comes back; a member added and a weight changed
 * under a steady stream lose nothing; then the mixed case: a TCP listener on the same port (haproxy
 * beside keepalived in the same amphora), and UDP still served; an SCTP listener (client and members
 * in the tenant VM: the host's kernel has no SCTP). Ends with the cascade delete and the VM gone.
 */
import { REPO, log, since, waitFor } from '../lib/context.mjs';
import { Member, burstUntilClean, split, startTraffic, tcpBurst } from '../lib/dataplane.mjs';
import { amphorae, api, create, deleteLb, operating, PROJECT, update, VIP_SUBNET, waitOper, waitProv } from '../lib/octavia.mjs';
import { agentListeningAfterBoot, ipvsOf, isGone, markerTime, tenantVm, vmExec, vmOf } from '../lib/vms.mjs';

const VIP = '198.51.100.100';
const PORT = 80;
const MEMBER_PORT = 8080;
const SCTP_PORT = 90;
const SCTP_MEMBER_PORT = 9000;
export const SCTP_MEMBERS = [
  ['s1', '198.51.100.31'],
  ['s2', '198.51.100.32'],
  ['s3', '198.51.100.33'],
];
// Octavia renders misc_timeout = timeout and retry = max_retries_down. Tighter values (3 s, 3 s, 2) made
// keepalived drop every member at once when another process kept the host's cores busy (each
// check forks a shell and nc in a UML guest, one slow CPU): see the tier's README.
const HM = { type: 'UDP-CONNECT', delay: 6, timeout: 5, max_retries: 3, max_retries_down: 3 };

async function settle(s, label, path, key, t) {
  await waitProv(path, key);
  s.fig(`${label}_s`, since(t));
}

/** An SCTP listener on the same load balancer; client and members are in the tenant VM. */
async function sctpListener(s, lb) {
  const tenant = tenantVm();
  const t = Date.now();
  const sctp = await create('listener', { loadbalancer_id: lb.id, protocol: 'SCTP', protocol_port: SCTP_PORT, name: 'sctp90' });
  await waitProv(`/v2/lbaas/listeners/${sctp.id}`, 'listener');
  const pool = await create('pool', { listener_id: sctp.id, protocol: 'SCTP', lb_algorithm: 'ROUND_ROBIN', name: 'sctp-pool' });
  await waitProv(`/v2/lbaas/pools/${pool.id}`, 'pool');
  for (const [name, address] of SCTP_MEMBERS) {
    const m = await create('member', { address, protocol_port: SCTP_MEMBER_PORT, subnet_id: VIP_SUBNET, name }, `/v2/lbaas/pools/${pool.id}/members`);
    await waitProv(`/v2/lbaas/pools/${pool.id}/members/${m.id}`, 'member');
  }
  s.fig('sctp_ready_s', since(t));
  const r = await vmExec(tenant, `/usr/bin/python3 ${REPO}/test/e2e/guest/sctp-client.py ${VIP} ${SCTP_PORT} 30`, 600_000);
  let res = null;
  try {
    res = JSON.parse(r.out.trim().split('\n').at(-1));
  } catch {
    // reported below
  }
  s.fig('sctp_split', res ? { lost: res.lost, ...split(res.perBackend) } : r.out.slice(0, 500));
  // over 1 s: an INIT dropped once (IPVS drops the first INIT from a local port reused within 10 s)
  if (res?.slow?.length) s.fig('sctp_slow', res.slow);
  const ok = res && res.lost === 0 && Object.keys(split(res.perBackend).members).length === 3;
  s.check(ok, `30 SCTP associations to ${VIP}:${SCTP_PORT} reach the 3 members (${res ? `lost ${res.lost}: ${JSON.stringify(res.failures)}, split ${JSON.stringify(res.perBackend)}` : r.out.slice(0, 300)})`);
  if (!ok) s.fig('sctp_failure_diag', await sctpDiagnostics(lb, tenant));
}

const AMPHORA_SCTP_STATE = [
  'ip netns exec amphora-haproxy ipvsadm -Lnc | grep -v ^UDP',
  'ip netns exec amphora-haproxy grep sctp /proc/net/nf_conntrack',
  "ip netns exec amphora-haproxy nstat -az | grep -E '^(Ip|Icmp)(In|Out|Forw)'",
].join('\n');

/**
 * Where a lost association died, read right after the failure: the amphora's SCTP entries in IPVS
 * and conntrack (the failure names the association's local port) and its IP and ICMP counters, and
 * the tenant's nonzero SCTP counters (OutOfBlues, Aborteds, T1 expiries). Each read is bounded by
 * vmExec's 60 s and a failed read is reported as such: the check's verdict does not depend on it.
 */
async function sctpDiagnostics(lb, tenant) {
  const cut = (r) => r.out.slice(-4000);
  const out = {};
  try {
    const vm = vmOf((await amphorae(lb.id))[0]);
    out.amphora = cut(await vmExec(vm, AMPHORA_SCTP_STATE));
  } catch (err) {
    out.amphora = `not read: ${err.message}`;
  }
  try {
    out.tenant = cut(await vmExec(tenant, "awk '$2 != 0' /proc/net/sctp/snmp"));
  } catch (err) {
    out.tenant = `not read: ${err.message}`;
  }
  return out;
}

export async function single(s) {
  const members = ['m1', 'm2', 'm3', 'm4'].map((n, i) => new Member(n, `198.51.100.2${i + 1}`, MEMBER_PORT));
  await Promise.all(members.map((m) => m.start()));
  const traffic = startTraffic();
  let lb;
  try {
    let t = Date.now();
    lb = await create('loadbalancer', { name: `single-${s.kind}`, vip_subnet_id: VIP_SUBNET, vip_address: VIP, project_id: PROJECT });
    await waitProv(`/v2/lbaas/loadbalancers/${lb.id}`, 'loadbalancer', 'ACTIVE', 600);
    s.fig('lb_create_s', since(t));
    const [amp] = await amphorae(lb.id);
    const vm = vmOf(amp);
    s.fig('amphora', { id: amp.id, lb_network_ip: amp.lb_network_ip, vrrp_ip: amp.vrrp_ip, slot: vm.req.slot, booted_after_build_s: Math.round((markerTime(vm, 'running') - vm.req.created * 1000) / 100) / 10, agent_listening_after_boot_s: agentListeningAfterBoot(vm) });
    s.check(amp.lb_network_ip === vm.req.mgmt_ip, `the amphora's lb_network_ip ${amp.lb_network_ip} is its VM's ${vm.req.mgmt_ip}`);
    s.fig('lb_online_s', await waitOper(`/v2/lbaas/loadbalancers/${lb.id}`, 'loadbalancer', 'ONLINE', 60));

    t = Date.now();
    const udp = await create('listener', { loadbalancer_id: lb.id, protocol: 'UDP', protocol_port: PORT, name: 'udp80' });
    await settle(s, 'listener_create', `/v2/lbaas/listeners/${udp.id}`, 'listener', t);
    t = Date.now();
    const pool = await create('pool', { listener_id: udp.id, protocol: 'UDP', lb_algorithm: 'ROUND_ROBIN', name: 'udp-pool' });
    await settle(s, 'pool_create', `/v2/lbaas/pools/${pool.id}`, 'pool', t);
    const ms = {};
    for (const m of members.slice(0, 3)) {
      t = Date.now();
      ms[m.name] = await create('member', { address: m.address, protocol_port: MEMBER_PORT, subnet_id: VIP_SUBNET, name: m.name }, `/v2/lbaas/pools/${pool.id}/members`);
      await settle(s, `member_create_${m.name}`, `/v2/lbaas/pools/${pool.id}/members/${ms[m.name].id}`, 'member', t);
    }
    t = Date.now();
    const hm = await create('healthmonitor', { pool_id: pool.id, ...HM, name: 'udp-hm' });
    await settle(s, 'hm_create', `/v2/lbaas/healthmonitors/${hm.id}`, 'healthmonitor', t);

    // ONLINE from heartbeats: listener, pool, each member
    t = Date.now();
    const online = await waitFor(async () => {
      const st = [await operating(`/v2/lbaas/listeners/${udp.id}`, 'listener'), await operating(`/v2/lbaas/pools/${pool.id}`, 'pool')];
      for (const m of Object.values(ms)) st.push(await operating(`/v2/lbaas/pools/${pool.id}/members/${m.id}`, 'member'));
      return st.every((x) => x === 'ONLINE') ? st : null;
    }, 120_000, 1000);
    s.check(online, 'listener, pool and 3 members ONLINE within 120 s of the monitor');
    s.fig('all_online_s', since(t));

    const ipvs = await ipvsOf(vm);
    const svc = ipvs.services[`UDP ${VIP}:${PORT}`];
    s.check(svc && Object.keys(svc.reals).length === 3, `IPVS has UDP ${VIP}:${PORT} with 3 members: ${ipvs.text}`);
    s.fig('ipvs', svc ?? ipvs.text);
    const b = await burstUntilClean(traffic, { vip: VIP, port: PORT, n: 60 });
    const sp = split(b.perBackend);
    s.fig('split', { lost: b.lost, ...sp });
    s.check(b.lost === 0 && Object.keys(sp.members).length === 3, `60 datagrams reach the 3 members with none lost (${JSON.stringify(sp.members)}, lost ${b.lost})`);
    s.check(Object.keys(sp.amphorae).every((a) => a === amp.vrrp_ip), `every reply came through the amphora (${amp.vrrp_ip}): ${Object.keys(sp.amphorae)}`);

    // a member dies: ERROR in the API, out of IPVS; then back
    await members[1].stop();
    t = Date.now();
    s.fig('member_error_s', await waitOper(`/v2/lbaas/pools/${pool.id}/members/${ms.m2.id}`, 'member', 'ERROR', 90));
    s.check(s.figures.member_error_s !== null, 'the killed member is ERROR in the API within 90 s');
    const out = await waitFor(async () => (await ipvsOf(vm)).services[`UDP ${VIP}:${PORT}`]?.reals?.[`${members[1].address}:${MEMBER_PORT}`] === undefined, 30_000, 1000);
    s.check(out, 'the killed member left IPVS');
    s.fig('member_out_of_ipvs_s', since(t));
    const b2 = await burstUntilClean(traffic, { vip: VIP, port: PORT, n: 30 });
    s.check(b2.lost === 0 && !split(b2.perBackend).members.m2, `30 datagrams with the member out: lost ${b2.lost}, ${JSON.stringify(split(b2.perBackend).members)}`);
    await members[1].start();
    t = Date.now();
    s.fig('member_recover_s', await waitOper(`/v2/lbaas/pools/${pool.id}/members/${ms.m2.id}`, 'member', 'ONLINE', 90));
    s.check(s.figures.member_recover_s !== null, 'the member is ONLINE again within 90 s');
    s.check(await waitFor(async () => (await ipvsOf(vm)).services[`UDP ${VIP}:${PORT}`]?.reals?.[`${members[1].address}:${MEMBER_PORT}`] !== undefined, 30_000, 1000), 'the member is back in IPVS');

    // changes under a steady stream: a member added, a weight changed
    await traffic.request({ cmd: 'stream_start', vip: VIP, port: PORT, rate: 10, flows: 3 });
    await new Promise((r) => setTimeout(r, 3000));
    await traffic.request({ cmd: 'mark', label: 'add' });
    t = Date.now();
    ms.m4 = await create('member', { address: members[3].address, protocol_port: MEMBER_PORT, subnet_id: VIP_SUBNET, name: 'm4' }, `/v2/lbaas/pools/${pool.id}/members`);
    await settle(s, 'member_add', `/v2/lbaas/pools/${pool.id}/members/${ms.m4.id}`, 'member', t);
    await traffic.request({ cmd: 'mark', label: 'weight' });
    t = Date.now();
    await update(`/v2/lbaas/pools/${pool.id}/members/${ms.m1.id}`, 'member', { weight: 5 });
    await settle(s, 'member_weight', `/v2/lbaas/pools/${pool.id}/members/${ms.m1.id}`, 'member', t);
    await new Promise((r) => setTimeout(r, 3000));
    const stream = await traffic.request({ cmd: 'stream_stop' });
    const lost = stream.records.filter((r) => !r[2]);
    s.fig('changes_stream', { sent: stream.records.length, lost: lost.length, lost_fresh: lost.filter((r) => r[1] === -1).length, lost_flows: lost.filter((r) => r[1] >= 0).length });
    s.check(lost.length === 0, `a member added and a weight changed lose no datagram of the stream (${lost.length} of ${stream.records.length} lost)`);
    const after = (await ipvsOf(vm)).services[`UDP ${VIP}:${PORT}`]?.reals ?? {};
    s.fig('ipvs_after_changes', after);
    s.check(after[`${members[3].address}:${MEMBER_PORT}`] !== undefined && after[`${members[0].address}:${MEMBER_PORT}`] === 5, 'IPVS has the new member and weight 5 for m1');

    // mixed: a TCP listener on the same port, served by haproxy in the same amphora
    t = Date.now();
    const tcp = await create('listener', { loadbalancer_id: lb.id, protocol: 'TCP', protocol_port: PORT, name: 'tcp80' });
    await settle(s, 'mixed_tcp_listener_create', `/v2/lbaas/listeners/${tcp.id}`, 'listener', t);
    const tpool = await create('pool', { listener_id: tcp.id, protocol: 'TCP', lb_algorithm: 'ROUND_ROBIN', name: 'tcp-pool' });
    await waitProv(`/v2/lbaas/pools/${tpool.id}`, 'pool');
    for (const m of members.slice(0, 3)) {
      const mm = await create('member', { address: m.address, protocol_port: MEMBER_PORT, subnet_id: VIP_SUBNET, name: `t${m.name}` }, `/v2/lbaas/pools/${tpool.id}/members`);
      await waitProv(`/v2/lbaas/pools/${tpool.id}/members/${mm.id}`, 'member');
    }
    s.fig('mixed_tcp_ready_s', since(t));
    const tb = await tcpBurst(VIP, PORT, 30);
    s.fig('mixed_tcp_split', { lost: tb.lost, ...split(tb.perBackend), slowest_s: tb.slowest_s, failures: tb.failures });
    s.check(tb.lost === 0 && Object.keys(split(tb.perBackend).members).length === 3, `30 TCP connections to ${VIP}:${PORT} reach the 3 members (lost ${tb.lost}${tb.lost ? `: ${JSON.stringify(tb.failures)}` : ''})`);
    const ub = await burstUntilClean(traffic, { vip: VIP, port: PORT, n: 40 });
    s.fig('mixed_udp_split', { lost: ub.lost, ...split(ub.perBackend) });
    s.check(ub.lost === 0, `UDP on the same port still served beside TCP (lost ${ub.lost})`);
    s.fig('mixed_listeners_online', {
      udp: await operating(`/v2/lbaas/listeners/${udp.id}`, 'listener'),
      tcp: await waitOper(`/v2/lbaas/listeners/${tcp.id}`, 'listener', 'ONLINE', 30) === null ? await operating(`/v2/lbaas/listeners/${tcp.id}`, 'listener') : 'ONLINE',
    });

    await sctpListener(s, lb);

    t = Date.now();
    await deleteLb(lb.id);
    s.fig('lb_delete_s', since(t));
    lb = null;
    s.check(await waitFor(() => isGone(vm), 30_000), 'the amphora VM is gone after the delete');
  } finally {
    traffic.stop();
    await Promise.all(members.map((m) => m.stop()));
    if (lb) await deleteLb(lb.id).catch((err) => log(`cleanup: ${err.message}`));
  }
}
