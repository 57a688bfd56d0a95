/**
 * @module test/e2e/guest/scenarios/changes
 * Scenario `changes`: listener L1 changed under a steady stream (the same config again, a
 * member added, a weight changed, a member removed, then a plain systemctl restart): per step
 * the losses, whether keepalived kept its pid, IPVS connection entries, the member of each
 * long-lived flow, and the time until IPVS matches the config. Leaves L1 as it found it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { checkerMark, checkerSince } from '../lib/checker-log.mjs';
import { sh, waitFor } from '../lib/commands.mjs';
import { pushListener } from '../lib/controller.mjs';
import { ipvs, ipvsConnections, serviceMatches } from '../lib/ipvs.mjs';
import { ensureL1, l1Listener, l1Members } from '../lib/listener-l1.mjs';
import { mainPid } from '../lib/systemd.mjs';
import { AGENTS, L1, NS_A, STREAM, VIP, lvsUnit, member } from '../lib/topology.mjs';
import { flowBackends, markAt, stopStream, traffic, windows } from '../lib/traffic-client.mjs';

/** How long a step may take to show in IPVS: 0.2-1 s on a quiet machine, only a bound under --hog. */
const IPVS_WAIT_MS = 120_000;

/** The five changes, in order: each pushes `members` (a SIGHUP or nothing) or restarts the unit. */
function changeSteps() {
  const m4 = member(4);
  return [
    { name: 'a_unchanged', members: l1Members, sighup: true },
    { name: 'b_add_member', members: [...l1Members, m4], sighup: true },
    { name: 'c_change_weight', members: [member(1, 5000, 3), member(2), member(3), m4], sighup: true },
    { name: 'd_remove_member', members: [member(1, 5000, 3), member(2), member(3)], sighup: true },
    { name: 'e_systemctl_restart', members: [member(1, 5000, 3), member(2), member(3)], restart: true },
  ];
}

/** One change under the stream: its figures (pid, IPVS connections, times); `state.flows` grows after b_add_member. */
async function runStep(s, unit, step, state) {
  const pidBefore = await mainPid(unit);
  const checker = checkerMark();
  const connsBefore = (await ipvsConnections(NS_A)).length;
  await traffic.request({ cmd: 'mark', label: `${step.name}:start` });
  const f = { pid_before: pidBefore, ipvs_connections_before: connsBefore };
  if (step.restart) {
    const t = performance.now();
    await sh('systemctl', ['restart', unit]);
    f.systemctl_restart_ms = Math.round(performance.now() - t);
  } else {
    const r = await pushListener('a', l1Listener('a', step.members));
    f.upload_ms = r.uploadMs;
    f.reload_ms = r.reloadMs;
    f.answer = r.detail;
    s.check(r.ok, `${step.name}: upload/reload failed: ${JSON.stringify(r).slice(0, 300)}`);
  }
  // how long IPVS takes to match is a figure; the wait is only bounded (a hogged guest is slow)
  const m = await waitFor(() => serviceMatches(NS_A, 'UDP', `${VIP}:5000`, step.members), { timeoutMs: IPVS_WAIT_MS, intervalMs: 100 });
  f.ipvs_matches_config_after_ms = Math.round(m.ms);
  s.check(m.ok, `${step.name}: IPVS does not match the config: ${JSON.stringify(await ipvs(NS_A))}`);
  await sleep(2500);
  await traffic.request({ cmd: 'mark', label: `${step.name}:end` });
  if (step.name === 'b_add_member') {
    // New long-lived flows, scheduled over 4 members: some of them land on be4, whose removal
    // in step d shows what happens to the connections of a removed member.
    const added = await traffic.request({ cmd: 'add_flows', n: 4 });
    state.flows = added.total;
  }
  // what keepalived's checker did meanwhile: a healthy member timed out explains a loss, it does not excuse it
  f.checker = checkerSince(checker);
  f.pid_after = await mainPid(unit);
  f.ipvs_connections_after = (await ipvsConnections(NS_A)).length;
  f.same_keepalived = f.pid_after === pidBefore;
  if (step.sighup) s.check(f.same_keepalived, `${step.name}: keepalived was replaced (${pidBefore} -> ${f.pid_after}); a reload must be a SIGHUP or nothing`);
  else s.check(!f.same_keepalived, `${step.name}: systemctl restart kept the pid`);
  return f;
}

/** The stream cut into the baseline and one window per step, merged into the step figures. */
function stepWindows(s, stream, steps, opFigs, flows) {
  const segs = [['baseline', markAt(stream, 'baseline') - 3000, markAt(stream, 'baseline')]];
  for (const step of steps) segs.push([step.name, markAt(stream, `${step.name}:start`), markAt(stream, `${step.name}:end`)]);
  const w = windows(stream, segs);
  for (const step of steps) {
    Object.assign(opFigs[step.name], w[step.name]);
    opFigs[step.name].flows_member_before_after = flowBackends(stream, flows, markAt(stream, `${step.name}:start`), markAt(stream, `${step.name}:end`) - 500);
  }
  s.fig('baseline', w.baseline);
  s.fig('steps', opFigs);
  return w;
}

/** Where the long-lived flows of the member removed in step d went, and what they lost. */
function checkRemovedMember(s, stream, flows) {
  // The flows that were on the member removed in step d: their datagrams lost during the step
  // and the member they reached afterwards (net.ipv4.vs.expire_nodest_conn=1 in the namespace).
  const dStart = markAt(stream, 'd_remove_member:start');
  const dEnd = markAt(stream, 'e_systemctl_restart:start');
  const onBe4 = flowBackends(stream, flows, dStart, dEnd - 1000).map(([b, a], k) => ({ k, before: b, after: a })).filter((x) => x.before === 'be4');
  const removedFlows = onBe4.map((x) => {
    const recs = stream.records.filter((r) => r[1] === x.k && r[0] >= dStart && r[0] < dEnd);
    return { ...x, sent: recs.length, lost: recs.filter((r) => !r[2]).length };
  });
  s.fig('flows_on_removed_member', removedFlows);
  s.check(removedFlows.length > 0, 'no long-lived flow was on the member removed in step d');
  s.check(removedFlows.every((x) => x.after && x.after !== 'be4'), 'a flow of the removed member did not move to another member');
}

export async function scenarioChanges(s) {
  await ensureL1();
  const unit = lvsUnit(AGENTS.a, L1);
  const state = { flows: STREAM.flows };
  await traffic.request({ cmd: 'stream_start', vip: VIP, port: 5000, ...STREAM });
  await sleep(3000);
  await traffic.request({ cmd: 'mark', label: 'baseline' });
  const steps = changeSteps();
  const opFigs = {};
  for (const step of steps) opFigs[step.name] = await runStep(s, unit, step, state);
  const stream = await stopStream('changes');
  // ticks the traffic generator was too starved to send (a figure: fewer datagrams, none lost for it)
  s.fig('stream_skipped_ticks', stream.skipped_ticks);
  const w = stepWindows(s, stream, steps, opFigs, state.flows);
  checkRemovedMember(s, stream, state.flows);
  s.check(w.baseline.fresh_lost + w.baseline.flow_lost === 0, 'datagrams lost with no change at all');
  for (const name of ['a_unchanged', 'b_add_member', 'c_change_weight']) {
    const x = w[name];
    s.check(x.fresh_lost + x.flow_lost === 0, `${name}: ${x.fresh_lost} fresh and ${x.flow_lost} long-lived-flow datagrams lost`);
  }
  s.check(/unchanged/.test(opFigs.a_unchanged.answer ?? ''), `re-pushing the same config was not a no-op: ${opFigs.a_unchanged.answer}`);
  // Leave L1 as the other scenarios expect it (3 members, weight 1).
  const r = await pushListener('a', l1Listener('a', l1Members));
  s.check(r.ok, 'restoring L1 failed');
  s.check((await waitFor(() => serviceMatches(NS_A, 'UDP', `${VIP}:5000`, l1Members), { timeoutMs: IPVS_WAIT_MS })).ok, 'L1 not restored');
}
