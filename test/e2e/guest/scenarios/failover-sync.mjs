/**
 * @module test/e2e/guest/scenarios/failover-sync
 * Scenario `failover_sync` (opt-in, not in the default run: a measurement for
 * docs/design/0011-ipvs-connection-sync.md, issue 15 items 3 and 4). The ACTIVE_STANDBY pair of
 * `active_standby` (setupPair, startVrrp), plus a SOURCE_IP listener L2 (port 5001) on both.
 *
 * Item 3, two rounds, sync on (the agents' default) then off (`ipvs_sync = false` by PUT
 * /1.0/config and vrrp/start on both, which stops the daemons): long-lived UDP flows on L1
 * (WRR-like ROUND_ROBIN) and SOURCE_IP clients on L2 go through A; A's VRRP keepalived is stopped
 * (systemctl stop: the VIP leaves at once); the flows go on through B. Figures per round: flows
 * whose member changed, clients whose member changed, datagrams lost, B's table before the move.
 * Each round uses its own source ports and client addresses, so nothing one round left in a
 * table decides the other. Checks: with sync, no flow and no client changes member.
 *
 * Item 4: the time from A's listener keepalived dying (SIGKILL) to the VIP on B, for VRRP check
 * settings a controller can render (Octavia's defaults 5/2, and 2/2), and the cost of one run of
 * the agent's check script. Figures only. (keepalived's vrrp_track_process is not measured: the
 * kernel's process events connector refuses a subscriber outside the initial network namespace,
 * so it cannot work in the amphora namespace; ADR 0011.)
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { nsx, shell, waitFor } from '../lib/commands.mjs';
import { secs } from '../lib/context.mjs';
import { call, controller, pushListener } from '../lib/controller.mjs';
import { serviceMatches } from '../lib/ipvs.mjs';
import { l1Members } from '../lib/listener-l1.mjs';
import { mainPid } from '../lib/systemd.mjs';
import { AGENTS, HM, L1, L2, NS_A, NS_B, VIP, lvsUnit } from '../lib/topology.mjs';
import { flowBackends, markAt, stopStream, traffic, windows } from '../lib/traffic-client.mjs';
import { setupPair, startVrrp, vipOwner, vrrp } from './active-standby.mjs';

const FLOWS = 9;
// client addresses of the SOURCE_IP rounds, added to the client namespace: four per round
const ROUND_CLIENTS = { on: ['10.0.0.31', '10.0.0.32', '10.0.0.33', '10.0.0.34'], off: ['10.0.0.35', '10.0.0.36', '10.0.0.37', '10.0.0.38'] };

function l2Listener(name) {
  const a = AGENTS[name];
  return { listener_id: L2, vip: VIP, port: 5001, protocol: 'UDP', algorithm: 'ROUND_ROBIN', members: l1Members, hm: HM, persistence: { type: 'SOURCE_IP', timeout: 120 }, base_path: a.base, namespace: a.ns };
}

async function syncDaemons(ns) {
  return (await nsx(ns, 'ipvsadm', ['-L', '--daemon'], { allowFail: true })).out.trim().split('\n').filter(Boolean);
}

/** The member each client address reaches (3 datagrams from fresh ports each). */
async function clientMembers(s, clients, port) {
  const out = {};
  for (const ip of clients) {
    const b = await traffic.request({ cmd: 'burst', vip: VIP, port, n: 3, source: ip, timeoutMs: 2000 });
    out[ip] = Object.keys(b.perBackend).join('+') || null;
    s.check(b.lost === 0 || Object.keys(b.perBackend).length > 0, `no reply for ${ip}`);
  }
  return out;
}

async function vipOn(owner, timeoutMs = 120_000) {
  return waitFor(async () => ((await vipOwner()) === owner ? owner : null), { timeoutMs, intervalMs: 200 });
}

async function setSync(s, on) {
  for (const [name, file] of [['a', '/etc/octavia/amphora-agent.conf'], ['b', '/etc/octavia-b/amphora-agent.conf']]) {
    const text = readFileSync(file, 'utf8').replace(/\nipvs_sync = \w+/, '').replace('[amphora_agent]', `[amphora_agent]\nipvs_sync = ${on}`);
    const r = await call(name, 'update_agent_config', text);
    s.check(r.ok, `PUT /1.0/config (ipvs_sync = ${on}) on ${name} failed: ${r.error}`);
    const st = await call(name, 'start_vrrp');
    s.check(st.ok, `vrrp/start on ${name} failed: ${st.error}`);
  }
}

/** One round: flows and clients through A, A's VRRP keepalived stopped, the same through B. */
async function round(s, mode) {
  const clients = ROUND_CLIENTS[mode];
  const daemons = { a: await syncDaemons(NS_A), b: await syncDaemons(NS_B) };
  s.fig(`${mode}_sync_daemons`, daemons);
  if (mode === 'on') s.check(daemons.a.length === 2 && daemons.b.length === 2, `sync on: expected a master and a backup daemon on each amphora: ${JSON.stringify(daemons)}`);
  else s.check(daemons.a.length === 0 && daemons.b.length === 0, `sync off: daemons still run: ${JSON.stringify(daemons)}`);
  const before = await clientMembers(s, clients, 5001);
  await traffic.request({ cmd: 'stream_start', vip: VIP, port: 5000, rate: 5, flows: FLOWS, timeoutMs: 2000 });
  // every flow past the kernel's sync threshold (3 packets) and a sync buffer flush (2 s)
  await sleep(6000);
  const bTable = (await nsx(NS_B, 'ipvsadm', ['-Lnc'], { allowFail: true })).out.split('\n');
  s.fig(`${mode}_b_entries_before_move`, { l1_flows: bTable.filter((l) => l.includes(`${VIP}:5000`) && !/\s10\.0\.0\.\d+:0\s/.test(l)).length, l2_templates: bTable.filter((l) => l.includes(`${VIP}:5001`) && /\s10\.0\.0\.3\d:0\s/.test(l)).length });
  await traffic.request({ cmd: 'mark', label: 'move' });
  const t = performance.now();
  await shell(`systemctl stop ${AGENTS.a.prefix}octavia-keepalived`);
  const moved = await vipOn('b', 30_000);
  s.fig(`${mode}_stop_to_vip_on_b_s`, moved.ok ? secs(performance.now() - t) : null);
  s.check(moved.ok, `${mode}: the VIP did not move to B (owner ${await vipOwner()})`);
  await traffic.request({ cmd: 'mark', label: 'moved' });
  await sleep(6000);
  await traffic.request({ cmd: 'mark', label: 'end' });
  const stream = await stopStream(`failover_sync_${mode}`);
  const after = await clientMembers(s, clients, 5001);
  const pairs = flowBackends(stream, FLOWS, markAt(stream, 'move'), markAt(stream, 'moved'));
  const flowsChanged = pairs.filter(([b, a]) => b !== null && a !== null && b !== a).length;
  const clientsChanged = clients.filter((ip) => before[ip] !== after[ip]).length;
  s.fig(`${mode}_flows`, { flows: FLOWS, changed_member: flowsChanged, pairs });
  s.fig(`${mode}_source_ip_clients`, { clients: clients.length, changed_member: clientsChanged, before, after });
  s.fig(`${mode}_traffic`, windows(stream, [
    ['before_move', 0, markAt(stream, 'move')],
    ['move_to_vip_on_b', markAt(stream, 'move'), markAt(stream, 'moved')],
    ['after_move', markAt(stream, 'moved'), markAt(stream, 'end')],
  ]));
  if (mode === 'on') {
    s.check(flowsChanged === 0, `sync on: ${flowsChanged} of ${FLOWS} flows changed member`);
    s.check(clientsChanged === 0, `sync on: ${clientsChanged} of ${clients.length} SOURCE_IP clients changed member`);
  }
  // A back: its VRRP keepalived started again (rendered MASTER, it takes the VIP back)
  const st = await call('a', 'start_vrrp');
  s.check(st.ok, `vrrp/start on A failed: ${st.error}`);
  s.check((await vipOn('a')).ok, `the VIP did not come back to A (owner ${await vipOwner()})`);
}

/** Seconds from A's L1 keepalived killed to the VIP on B, with the given VRRP check settings. */
async function detection(s, label, settings) {
  const a = AGENTS.a;
  const b = AGENTS.b;
  const v = { ...vrrp, ...settings };
  const cfgA = (await controller.request({ op: 'render_vrrp', vrrp: { ...v, vrrp_ip: '10.0.0.11', peer_ip: '10.0.0.12', role: 'MASTER', priority: 100, base_path: a.base } })).text;
  const cfgB = (await controller.request({ op: 'render_vrrp', vrrp: { ...v, vrrp_ip: '10.0.0.12', peer_ip: '10.0.0.11', role: 'BACKUP', priority: 90, base_path: b.base } })).text;
  for (const [name, cfg] of [['a', cfgA], ['b', cfgB]]) {
    const up = await call(name, 'upload_vrrp_config', cfg);
    s.check(up.ok, `${label}: vrrp/upload on ${name} failed: ${up.error}`);
    s.check((await call(name, 'start_vrrp')).ok, `${label}: vrrp/start on ${name} failed`);
  }
  if (!(await vipOn('a')).ok) return void s.check(false, `${label}: the VIP is not on A before the kill`);
  // a few check runs with the new settings
  await sleep(settings.check_interval * 3000);
  const unit = lvsUnit(a, L1);
  const victim = await mainPid(unit);
  const t = performance.now();
  process.kill(victim, 'SIGKILL');
  const moved = await vipOn('b', 60_000);
  const seconds = moved.ok ? secs(performance.now() - t) : null;
  s.fig(`detection_${label}`, { ...settings, kill_to_vip_on_b_s: seconds, bound_s: settings.check_interval * settings.fall + settings.check_interval + 4 });
  s.check(moved.ok, `${label}: the VIP did not move to B`);
  const st = await call('a', 'start_listener', L1);
  s.check(st.ok, `${label}: restarting L1 on A failed: ${st.error}`);
  s.check((await vipOn('a', 120_000)).ok, `${label}: the VIP did not come back to A`);
}

/** Wall time of the agent's VRRP check script, as keepalived runs it (in the namespace), beside `true`. */
async function checkScriptCost(s) {
  const script = `${AGENTS.a.base}/vrrp/check_script.sh`;
  const time = async (file) => {
    const ms = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await nsx(NS_A, file, [], { allowFail: true });
      ms.push(Math.round(performance.now() - t));
    }
    ms.sort((x, y) => x - y);
    return { p50_ms: ms[5], max_ms: ms[9] };
  };
  s.fig('check_script_run', { script: await time(script), netns_exec_true: await time('/bin/true') });
}

export async function scenarioFailoverSync(s) {
  await setupPair(s);
  await startVrrp(s);
  await shell(Object.values(ROUND_CLIENTS).flat().map((ip) => `ip -n client addr add ${ip}/24 dev c0`).join('\n'));
  for (const name of ['a', 'b']) {
    const r = await pushListener(name, l2Listener(name));
    s.check(r.ok, `pushing L2 to ${name} failed: ${JSON.stringify(r).slice(0, 300)}`);
  }
  for (const ns of [NS_A, NS_B]) {
    s.check((await waitFor(() => serviceMatches(ns, 'UDP', `${VIP}:5001`, l1Members), { timeoutMs: 60_000 })).ok, `IPVS in ${ns} does not show L2`);
  }
  await round(s, 'on');
  await setSync(s, false);
  await round(s, 'off');
  await setSync(s, true);
  await checkScriptCost(s);
  await detection(s, 'interval5_fall2', { check_interval: 5, fall: 2, rise: 2 });
  await detection(s, 'interval2_fall2', { check_interval: 2, fall: 2, rise: 2 });
}
