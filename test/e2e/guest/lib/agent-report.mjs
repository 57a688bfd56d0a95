/**
 * @module test/e2e/guest/lib/agent-report
 * What agent A reports about a listener, from outside the agent, against what ipvsadm shows in
 * its namespace: its heartbeats (as the health manager stand-in in controller.py opened them,
 * lib/heartbeats.mjs) and its /metrics (lib/metrics.mjs). `compareWithIpvs` takes one steady look
 * (counters settled, nothing changing while it looks) and records a failed check for every
 * disagreement.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { heartbeatsSince, listenerSums, waitForHeartbeats } from './heartbeats.mjs';
import { destKey, ipvs, ipvsStats } from './ipvs.mjs';
import { scrape, seriesOf, value } from './metrics.mjs';

/**
 * IPVS folds its per-CPU counters into what ipvsadm shows on its estimator's tick (every 2 s,
 * later on a busy machine), so counters lag the traffic: waits until a read equals the one taken
 * 3 s before (at most 60 s). Returns how long that took.
 */
async function settle(ns, vipPort) {
  const start = performance.now();
  let before = JSON.stringify(await ipvsStats(ns, vipPort));
  for (let i = 0; i < 20; i++) {
    await sleep(3000);
    const now = JSON.stringify(await ipvsStats(ns, vipPort));
    if (now === before) break;
    before = now;
  }
  return Math.round(performance.now() - start);
}

/** How many times keepalived's checker has taken a real server out or put one back, from its log. */
function checkerMoves(logFile) {
  try {
    return readFileSync(logFile, 'utf8').split('\n').filter((l) => /(Removing|Adding) service /.test(l)).length;
  } catch {
    return -1;
  }
}

/**
 * One look, once the counters settled: ipvsadm at `t`; a scrape of /metrics; the heartbeats
 * until two were received after `t` (the loop starts a heartbeat only after the previous one
 * ended, so the second was sampled after `t`); the listener's summed deltas; ipvsadm again. It is
 * steady when both ipvsadm reads agree (counters only grow: nothing changed in between, so every
 * sample taken in between saw exactly this) and keepalived's checker moved no real server
 * meanwhile (one taken out and put back between the reads would look unchanged: IPVS keeps a
 * removed real server's counters while connections refer to it). A health check may move a
 * member meanwhile: then it looks again, up to 4 times.
 */
async function steadyLook({ ns, vipPort, amphoraId, listenerId, keepalivedLog }) {
  let look;
  for (let i = 0; i < 4; i++) {
    const settledMs = await settle(ns, vipPort);
    const moves = checkerMoves(keepalivedLog);
    const svcBefore = (await ipvs(ns)).find((x) => x.vip === vipPort);
    const statsBefore = await ipvsStats(ns, vipPort);
    const t = Date.now();
    const series = await scrape();
    const beats = await waitForHeartbeats(amphoraId, t, (msgs) => (msgs.length >= 2 ? msgs : null));
    const sums = await listenerSums(amphoraId, listenerId);
    const stats = await ipvsStats(ns, vipPort);
    const svc = (await ipvs(ns)).find((x) => x.vip === vipPort);
    const steady = moves >= 0 && moves === checkerMoves(keepalivedLog) && svcBefore !== undefined && svc !== undefined && destKey(svcBefore.dests) === destKey(svc.dests) && JSON.stringify(statsBefore) === JSON.stringify(stats);
    look = { settledMs, series, beat: beats.value?.at(-1)?.msg, sums, stats, svc, svcBefore, steady, attempts: i + 1 };
    if (steady) break;
  }
  return look;
}

/** The member statuses the reference derives from IPVS (monitor UDP-CONNECT): in IPVS UP, or DRAIN at weight 0; out of it DOWN. */
function expectedStatuses(svc, members) {
  const out = {};
  for (const m of members) {
    const dest = svc.dests.find((d) => d.addr === `${m.address}:${m.port}`);
    out[m.id] = dest === undefined ? 'DOWN' : dest.weight === 0 ? 'DRAIN' : 'UP';
  }
  return out;
}

/**
 * The heartbeat: the listener OPEN, its connections, the pool and member statuses; and the
 * listener's deltas summed over every heartbeat since it was created equal IPVS's counters.
 */
function checkHeartbeat(s, look, { listenerId, poolId, amphoraId, members }) {
  const { beat, sums, stats, svc } = look;
  s.check(beat !== undefined, `no heartbeat of ${amphoraId} after the counters settled`);
  if (!beat) return;
  const l = beat.listeners?.[listenerId];
  s.check(beat.ver === 3 && beat.id === amphoraId, `heartbeat ver ${beat.ver} id ${beat.id}`);
  s.check(l?.status === 'OPEN', `heartbeat listener ${listenerId}: ${JSON.stringify(l)}, expected OPEN`);
  const active = svc.dests.reduce((n, d) => n + d.active, 0);
  s.check(l?.stats?.conns === active, `heartbeat conns ${l?.stats?.conns}, ipvsadm ActiveConn ${active}`);
  const pool = beat.pools?.[poolId];
  const poolStatus = svc.dests.length > 0 ? 'UP' : 'DOWN';
  s.check(pool?.status === poolStatus, `heartbeat pool ${JSON.stringify(pool)}, expected ${poolStatus} with ${svc.dests.length} real servers`);
  const want = expectedStatuses(svc, members);
  const same = Object.keys(pool?.members ?? {}).length === members.length && members.every((m) => pool?.members?.[m.id] === want[m.id]);
  s.check(same, `heartbeat members ${JSON.stringify(pool?.members)}, ipvsadm says ${JSON.stringify(want)}`);
  const ipvsSums = { rx: stats.service.inBytes, tx: stats.service.outBytes, totconns: stats.service.conns, ereq: 0 };
  s.check(JSON.stringify(sums.sums) === JSON.stringify(ipvsSums), `listener deltas summed over ${sums.count} heartbeats ${JSON.stringify(sums.sums)}, ipvsadm ${JSON.stringify(ipvsSums)}`);
}

/** /metrics: the listener's counters and connections, the pool, and per member counters, connections, weight, in IPVS, up and status. */
function checkMetrics(s, look, { listenerId, poolId, members }) {
  const { series, stats, svc } = look;
  const L = { listener_id: listenerId };
  const listener = ['connections', 'bytes_in', 'bytes_out', 'packets_in', 'packets_out'].map((k) => value(series, `amphora_lvs_listener_${k}_total`, L));
  const svcWant = [stats.service.conns, stats.service.inBytes, stats.service.outBytes, stats.service.inPkts, stats.service.outPkts];
  s.check(JSON.stringify(listener) === JSON.stringify(svcWant), `/metrics listener conns/bytes in/out/packets in/out ${listener.join('/')}, ipvsadm ${svcWant.join('/')}`);
  const active = svc.dests.reduce((n, d) => n + d.active, 0);
  s.check(value(series, 'amphora_lvs_listener_active_connections', L) === active, `/metrics listener active connections ${value(series, 'amphora_lvs_listener_active_connections', L)}, ipvsadm ${active}`);
  const poolUp = value(series, 'amphora_lvs_pool_up', { ...L, pool_id: poolId });
  s.check(poolUp === (svc.dests.length > 0 ? 1 : 0), `/metrics pool up ${poolUp} with ${svc.dests.length} real servers`);
  const want = expectedStatuses(svc, members);
  for (const m of members) {
    const M = { ...L, member_id: m.id };
    const key = `${m.address}:${m.port}`;
    const dest = svc.dests.find((d) => d.addr === key);
    const dstats = stats.dests[key];
    const statusSeries = seriesOf(series, 'amphora_lvs_member_status', M).map((x) => x.labels.status);
    const got = {
      up: value(series, 'amphora_lvs_member_up', M),
      status: statusSeries.join(','),
      inIpvs: value(series, 'amphora_lvs_member_in_ipvs', M),
      weight: value(series, 'amphora_lvs_member_weight', M),
      active: value(series, 'amphora_lvs_member_active_connections', M),
      inact: value(series, 'amphora_lvs_member_inactive_connections', M),
      conns: value(series, 'amphora_lvs_member_connections_total', M),
      inPkts: value(series, 'amphora_lvs_member_packets_in_total', M),
      outPkts: value(series, 'amphora_lvs_member_packets_out_total', M),
      inBytes: value(series, 'amphora_lvs_member_bytes_in_total', M),
      outBytes: value(series, 'amphora_lvs_member_bytes_out_total', M),
    };
    // out of IPVS: down, no connections, and neither weight nor counters (left out, not 0)
    const exp = dest && dstats
      ? { up: 1, status: want[m.id], inIpvs: 1, weight: dest.weight, active: dest.active, inact: dest.inact, conns: dstats.conns, inPkts: dstats.inPkts, outPkts: dstats.outPkts, inBytes: dstats.inBytes, outBytes: dstats.outBytes }
      : { up: 0, status: 'DOWN', inIpvs: 0, active: 0, inact: 0 };
    // The connection gauges are no counters: entries of earlier bursts expire between the ipvsadm
    // read before the scrape and the one after it (over a minute apart with the guest hogged), and
    // no traffic runs meanwhile (the counters held still), so the scrape's value lies between them.
    const early = look.svcBefore?.dests.find((d) => d.addr === key);
    for (const g of ['active', 'inact']) {
      if (dest && early && got[g] >= Math.min(dest[g], early[g]) && got[g] <= Math.max(dest[g], early[g])) exp[g] = got[g];
    }
    s.check(JSON.stringify(got) === JSON.stringify(exp), `/metrics member ${key}: ${JSON.stringify(got)}, ipvsadm ${JSON.stringify(exp)}`);
  }
}

/**
 * Records a failed check for each way agent A's heartbeat and /metrics disagree with ipvsadm
 * about `listenerId` (see checkHeartbeat, checkMetrics). `target`: ns, vipPort, amphoraId,
 * listenerId, poolId, members, keepalivedLog (the listener keepalived's log file). Returns the
 * look's figures: the last heartbeat's listener and pool, the summed deltas, ipvsadm's counters,
 * how long the counters took to settle, how many looks it took and whether the last held still.
 */
export async function compareWithIpvs(s, target) {
  const { vipPort, listenerId, poolId, amphoraId } = target;
  const look = await steadyLook(target);
  s.check(look.steady, `IPVS's real servers or counters of ${vipPort} kept changing while the agent was looked at (${look.attempts} tries)`);
  if (!look.stats.service || !look.svc) {
    s.check(false, `no ${vipPort} in IPVS: ${JSON.stringify(look.stats)}`);
    return undefined;
  }
  // a look that never held still compares the agent with another IPVS than the one it saw: that
  // one failure says it, field-by-field differences would only repeat it
  if (look.steady) {
    checkHeartbeat(s, look, target);
    checkMetrics(s, look, target);
  }
  const { rejected } = await heartbeatsSince(amphoraId, Date.now());
  s.check(rejected === 0, `${rejected} heartbeat datagrams did not open with the key`);
  return {
    heartbeat: { seq: look.beat?.seq, listener: look.beat?.listeners?.[listenerId], pool: look.beat?.pools?.[poolId] },
    summed_deltas: { ...look.sums.sums, heartbeats: look.sums.count },
    ipvsadm: look.stats.service,
    settledMs: look.settledMs,
    attempts: look.attempts,
    steady: look.steady,
  };
}
