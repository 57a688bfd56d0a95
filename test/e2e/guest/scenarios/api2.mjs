/**
 * @module test/e2e/guest/scenarios/api2
 * Scenario `api2`: API 2.0 on its own listener L4 (UDP, VIP port 5010), sent as JSON over mTLS
 * (lib/agent-request.mjs): PUT (ETag = md5 of the rendered text, the installed file; IPVS;
 * traffic), the same listener with ONE_PACKET_SCHEDULING (replies from the VIP through the
 * agent's tc filters) and with SOURCE_IP, a body breaking two rules (400, nothing changes),
 * and DELETE. Runs before `active_standby`, which gives the VIP to VRRP.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { agentRequest } from '../lib/agent-request.mjs';
import { nsx, waitFor } from '../lib/commands.mjs';
import { call } from '../lib/controller.mjs';
import { destKey, ipvs, ipvsStats, serviceMatches, statsDelta } from '../lib/ipvs.mjs';
import { copyKeepalivedLogs } from '../lib/logs.mjs';
import { activeState, comm, mainPid } from '../lib/systemd.mjs';
import { AGENTS, BACKENDS, CLIENT_IPS, NS_A, VIP, lvsUnit } from '../lib/topology.mjs';
import { traffic } from '../lib/traffic-client.mjs';

const md5 = (text) => createHash('md5').update(text).digest('hex');

const L4 = '44444444-4444-4444-8444-000000000004';
const API2_PORT = 5010;
const API2_VIP_PORT = `${VIP}:${API2_PORT}`;
// API 2.0 applies Octavia's API rules: timeout < delay, UDP-CONNECT delay >= 3.
const API2_HM = { id: 'cccccccc-0000-4000-8000-000000000004', type: 'UDP-CONNECT', delay: 4, timeout: 3, max_retries: 2 };
const api2Members = [1, 2, 3].map((i) => ({ id: `eeeeeeee-0000-4000-8000-00000000000${i}`, address: `10.1.0.2${i}`, protocol_port: 5000, weight: 1 }));
const api2MemberView = api2Members.map((m) => ({ address: m.address, port: m.protocol_port, weight: m.weight }));
const api2Backend = (addr) => BACKENDS.find((b) => addr.startsWith(`${b.ip}:`))?.name ?? addr;
function api2Listener(sessionPersistence = null, healthMonitor = API2_HM) {
  return {
    loadbalancer_id: 'aaaaaaaa-0000-4000-8000-000000000004',
    name: 'e2e-api2',
    vip_addresses: [VIP],
    protocol: 'UDP',
    protocol_port: API2_PORT,
    default_pool: {
      id: 'bbbbbbbb-0000-4000-8000-000000000004',
      lb_algorithm: 'ROUND_ROBIN',
      session_persistence: sessionPersistence,
      members: api2Members,
      health_monitor: healthMonitor,
    },
  };
}

/** The agent's ONE_PACKET_SCHEDULING filters (tc prefs 4004/4006) on eth1 and eth2 of amphora A: `src_ip:src_port` per filter. */
async function opsFilters() {
  const out = {};
  for (const dev of ['eth1', 'eth2']) {
    const r = await nsx(NS_A, 'tc', ['-j', 'filter', 'show', 'dev', dev, 'egress'], { allowFail: true });
    let list = [];
    try {
      list = JSON.parse(r.out || '[]');
    } catch {
      list = [{ unparsed: r.out.slice(0, 200) }];
    }
    out[dev] = list.filter((f) => (f.pref === 4004 || f.pref === 4006) && f.options).map((f) => `${f.options.keys?.src_ip}:${f.options.keys?.src_port}`);
  }
  return out;
}

/** PUT the listener, check the answer (200, ETag = md5 of the rendered text) and wait for IPVS. */
async function put({ s, unit, path, putFigs }, step, model, ipvsReady) {
  const pidBefore = await mainPid(unit);
  const r = await agentRequest('a', 'PUT', path, model);
  const f = { status: r.status, put_ms: r.ms };
  putFigs[step] = f;
  if (!s.check(r.status === 200, `${step}: PUT ${path} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 400)}`)) return null;
  const rendered = r.body?.rendered ?? {};
  f.etag = r.headers.etag;
  s.check(rendered.kind === 'keepalived-lvs' && r.body.listener_id === L4, `${step}: answer is not a keepalived-lvs rendering of ${L4}: ${JSON.stringify({ ...r.body, rendered: { ...rendered, text: undefined } })}`);
  s.check(typeof rendered.text === 'string' && r.headers.etag === `"${md5(rendered.text)}"` && rendered.etag === md5(rendered.text), `${step}: ETag ${r.headers.etag} / ${rendered.etag} is not the md5 of the rendered text (${md5(rendered.text ?? '')})`);
  s.check(existsSync(rendered.path ?? '') && readFileSync(rendered.path, 'utf8') === rendered.text, `${step}: the installed config ${rendered.path} is not the rendered text`);
  const w = await waitFor(async () => {
    const svc = await serviceMatches(NS_A, 'UDP', API2_VIP_PORT, api2MemberView);
    return svc && ipvsReady(svc) ? svc : null;
  }, { timeoutMs: 20_000, intervalMs: 100 });
  f.put_answer_to_ipvs_ms = Math.round(w.ms);
  f.ipvs = w.value ?? (await ipvs(NS_A)).find((x) => x.vip === API2_VIP_PORT) ?? null;
  f.ipvsadm_line = (await nsx(NS_A, 'ipvsadm', ['-Ln'], { allowFail: true })).out.split('\n').find((l) => l.includes(API2_VIP_PORT))?.trim() ?? null;
  const pidAfter = await mainPid(unit);
  f.keepalived = pidBefore === 0 ? 'started' : pidAfter === pidBefore ? 'same pid (reloaded)' : `replaced ${pidBefore} -> ${pidAfter}`;
  s.check(w.ok, `${step}: IPVS does not show ${API2_VIP_PORT} as expected: ${JSON.stringify(f.ipvs)}`);
  s.check(pidAfter > 0 && comm(pidAfter) === 'keepalived' && (await activeState(unit)) === 'active', `${step}: ${unit} is not an active keepalived (MainPID ${pidAfter})`);
  return r;
}

// 2. one flow (one socket: same source address and port) under each persistence type
const N = 60;
// IPVS copies its packet counters every 2 s (the rate estimator): read them 2.2 s after any traffic.
async function oneFlow(s, label, connected = false) {
  await sleep(2200);
  const before = await ipvsStats(NS_A, API2_VIP_PORT);
  const f = await traffic.request({ cmd: 'flow', vip: VIP, port: API2_PORT, n: N, source: CLIENT_IPS[0], connected });
  await sleep(2200);
  const after = await ipvsStats(NS_A, API2_VIP_PORT);
  const delta = statsDelta(before, after);
  const scheduled = Object.fromEntries(Object.entries(delta).map(([addr, d]) => [api2Backend(addr), d.inPkts]));
  const fig = { sent: f.sent, replies: f.replies, lost: f.lost, replies_per_member: f.perBackend, ipvs_in_packets_per_member: scheduled, ipvs_out_packets_per_member: Object.fromEntries(Object.entries(delta).map(([addr, d]) => [api2Backend(addr), d.outPkts])), reply_sources: f.replyFrom, replies_from_vip: f.replyFrom[API2_VIP_PORT] ?? 0, first_12: f.sequence.slice(0, 12).join(' '), source: `${CLIENT_IPS[0]}:${f.localPort}`, connected_socket: connected };
  s.fig(label, fig);
  return { f, scheduled, fig };
}

/** 1. a UDP listener, round robin over 3 members, UDP-CONNECT monitor; false when the PUT failed. */
async function create(c) {
  const { s, path } = c;
  const first = await put(c, '1_create', api2Listener(), (svc) => svc.sched === 'wrr' && !svc.ops && svc.persistent === null);
  if (!first) return false;
  s.fig('rendered_sample', first.body.rendered.text.split('\n').filter((l) => /virtual_server|lb_algo|protocol|ops|persistence|delay_loop|retry|UDP_CHECK|connect_timeout|payload/.test(l)).map((l) => l.trim()));
  // UDP-CONNECT is keepalived's own UDP checker sending "X" (ADR 0004), with no script to run
  const text = first.body.rendered.text;
  s.check((text.match(/UDP_CHECK \{/g) ?? []).length === 3 && (text.match(/payload 58$/gm) ?? []).length === 3 && !text.includes('MISC_CHECK'), 'the rendered config does not check its 3 members with UDP_CHECK (payload 58)');
  const got = await agentRequest('a', 'GET', path);
  s.check(got.status === 200 && got.headers.etag === first.headers.etag && got.body?.listener?.protocol_port === API2_PORT, `GET ${path}: ${got.status} ${got.headers.etag} (PUT gave ${first.headers.etag})`);
  const listed = await call('a', 'get_all_listeners');
  s.check(listed.body?.some?.((l) => l.uuid === L4 && l.status === 'ACTIVE' && l.type === 'UDP'), `GET /1.0/listeners does not show ${L4} ACTIVE/UDP: ${JSON.stringify(listed.body)}`);
  const spread = await traffic.request({ cmd: 'burst', vip: VIP, port: API2_PORT, n: 30 });
  s.fig('spread_fresh_ports', spread);
  s.check(spread.lost === 0 && Object.keys(spread.perBackend).length === 3, `fresh-port burst: ${spread.lost} lost, members ${Object.keys(spread.perBackend).join(',')}`);
  return true;
}

/** 2a. ONE_PACKET_SCHEDULING: one flow is spread over the members, and the replies come from the VIP. */
async function onePacketScheduling(c) {
  const { s } = c;
  const ops = await put(c, '2_one_packet_scheduling', api2Listener({ type: 'ONE_PACKET_SCHEDULING' }), (svc) => svc.ops && svc.persistent === null);
  if (!ops) return;
  s.check(/^\s*ops\s*$/m.test(ops.body.rendered.text), 'ONE_PACKET_SCHEDULING did not render `ops`');
  // IPVS keeps no connection for a one-packet-scheduled datagram, so it cannot reverse-NAT the
  // member's reply (OutPkts stays 0): the agent's tc egress filters in the namespace rewrite the
  // replies' source to the VIP and listener port (services/one-packet-nat.ts). One flow on an
  // unconnected socket, then one on a socket connected to the VIP, which drops any reply from
  // another source (as DNS resolvers do).
  const filters = await opsFilters();
  s.fig('one_packet_scheduling_tc_filters', filters);
  s.check(filters.eth1.length === api2Members.length && filters.eth2.length === api2Members.length, `ONE_PACKET_SCHEDULING: the namespace does not have one tc egress filter per member on eth1 and eth2: ${JSON.stringify(filters)}`);
  for (const connected of [false, true]) {
    const what = `ONE_PACKET_SCHEDULING, ${connected ? 'connected' : 'unconnected'} socket`;
    const { f, scheduled } = await oneFlow(s, `one_flow_one_packet_scheduling${connected ? '_connected' : ''}`, connected);
    const members = Object.values(scheduled).filter((n) => n > 0).length;
    s.check(members > 1, `${what}: one flow was scheduled to ${members} member(s) only: ${JSON.stringify(scheduled)}`);
    s.check(Object.keys(f.perBackend).length > 1, `${what}: the replies to one flow came from ${Object.keys(f.perBackend).join(',') || 'no member'}`);
    s.check(f.lost === 0, `${what}: ${f.lost} of ${N} datagrams of one flow got no reply`);
    s.check((f.replyFrom[API2_VIP_PORT] ?? 0) === f.replies && f.replies > 0, `${what}: replies not from the VIP: ${JSON.stringify(f.replyFrom)}`);
  }
}

/** 2b. SOURCE_IP: one flow, and fresh ports from the same address, stay on one member. */
async function sourceIp(c) {
  const { s } = c;
  const persistent = await put(c, '3_source_ip_60', api2Listener({ type: 'SOURCE_IP', persistence_timeout: 60 }), (svc) => !svc.ops && svc.persistent === 60);
  if (!persistent) return;
  s.check(/persistence_timeout 60\b/.test(persistent.body.rendered.text), 'SOURCE_IP did not render persistence_timeout 60');
  const left = await opsFilters();
  s.check(left.eth1.length === 0 && left.eth2.length === 0, `SOURCE_IP: tc egress filters of ONE_PACKET_SCHEDULING are left: ${JSON.stringify(left)}`);
  const { f, scheduled } = await oneFlow(s, 'one_flow_source_ip');
  s.check(Object.values(scheduled).filter((n) => n > 0).length === 1, `SOURCE_IP: one flow was scheduled to several members: ${JSON.stringify(scheduled)}`);
  s.check(f.lost === 0 && Object.keys(f.perBackend).length === 1, `SOURCE_IP: one flow: ${f.lost} lost, replies from ${Object.keys(f.perBackend).join(',')}`);
  s.check((f.replyFrom[API2_VIP_PORT] ?? 0) === f.replies, `SOURCE_IP: replies not from the VIP: ${JSON.stringify(f.replyFrom)}`);
  // and fresh source ports from the same address stick to the same member (the persistence template)
  const fresh = await traffic.request({ cmd: 'burst', vip: VIP, port: API2_PORT, n: 15, source: CLIENT_IPS[0] });
  s.fig('fresh_ports_same_ip_source_ip', fresh);
  s.check(fresh.lost === 0 && Object.keys(fresh.perBackend).length === 1 && Object.keys(fresh.perBackend)[0] === Object.keys(f.perBackend)[0], `SOURCE_IP: fresh ports from ${CLIENT_IPS[0]} reached ${Object.keys(fresh.perBackend).join(',')} (the flow: ${Object.keys(f.perBackend).join(',')})`);
}

/** 3. a body that breaks two rules: 400 listing both, nothing changes */
async function rejectedPut({ s, unit, path }) {
  const ipvsBefore = (await ipvs(NS_A)).find((x) => x.vip === API2_VIP_PORT) ?? null;
  const pidBefore = await mainPid(unit);
  const etagBefore = (await agentRequest('a', 'GET', path)).headers.etag;
  const bad = api2Listener({ type: 'SOURCE_IP', persistence_timeout: 60 }, { ...API2_HM, timeout: API2_HM.delay, max_retries: 11 });
  const rej = await agentRequest('a', 'PUT', path, bad);
  const paths = (rej.body?.violations ?? []).map((v) => v.path);
  s.fig('bad_body_answer', { status: rej.status, ms: rej.ms, body: rej.body });
  s.check(rej.status === 400, `a body with timeout >= delay got ${rej.status}`);
  s.check(paths.includes('$.default_pool.health_monitor.timeout') && paths.includes('$.default_pool.health_monitor.max_retries'), `the 400 does not list both violations: ${JSON.stringify(rej.body)}`);
  await sleep(1000);
  const ipvsAfter = (await ipvs(NS_A)).find((x) => x.vip === API2_VIP_PORT) ?? null;
  s.check(ipvsBefore !== null && JSON.stringify({ ...ipvsAfter, dests: destKey(ipvsAfter?.dests ?? []) }) === JSON.stringify({ ...ipvsBefore, dests: destKey(ipvsBefore.dests) }), `IPVS changed after a rejected PUT: ${JSON.stringify(ipvsBefore)} -> ${JSON.stringify(ipvsAfter)}`);
  s.check((await mainPid(unit)) === pidBefore, 'keepalived changed after a rejected PUT');
  s.check((await agentRequest('a', 'GET', path)).headers.etag === etagBefore, 'the stored listener changed after a rejected PUT');
  const still = await traffic.request({ cmd: 'burst', vip: VIP, port: API2_PORT, n: 15 });
  s.fig('burst_after_rejected_put', still);
  s.check(still.lost === 0, `${still.lost} lost after a rejected PUT`);
}

/** 4. DELETE */
async function remove({ s, unit, path }) {
  copyKeepalivedLogs(); // deleting a listener removes its log
  const del = await agentRequest('a', 'DELETE', path);
  s.fig('delete_ms', del.ms);
  s.check(del.status === 200, `DELETE ${path} answered ${del.status}: ${JSON.stringify(del.body)}`);
  const gone = await waitFor(async () => !(await ipvs(NS_A)).some((x) => x.vip === API2_VIP_PORT), { timeoutMs: 15_000, intervalMs: 100 });
  s.fig('delete_answer_to_ipvs_gone_ms', Math.round(gone.ms));
  s.check(gone.ok, `${API2_VIP_PORT} is still in IPVS after DELETE`);
  s.check(!existsSync(join(AGENTS.a.unitDir, `${unit}.service`)), `${unit}.service still exists after DELETE`);
  s.check((await mainPid(unit)) === 0, `${unit} still has a process after DELETE`);
  const after = await agentRequest('a', 'GET', path);
  s.check(after.status === 404, `GET ${path} after DELETE answered ${after.status}`);
  const again = await agentRequest('a', 'DELETE', path);
  s.check(again.status === 404, `a second DELETE answered ${again.status}`);
}

export async function scenarioApi2(s) {
  const c = { s, unit: lvsUnit(AGENTS.a, L4), path: `/2.0/listeners/${L4}`, putFigs: {} };
  if (!(await create(c))) return;
  await onePacketScheduling(c);
  await sourceIp(c);
  s.fig('puts', c.putFigs);
  await rejectedPut(c);
  await remove(c);
}
