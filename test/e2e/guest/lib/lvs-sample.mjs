/**
 * @module test/e2e/guest/lib/lvs-sample
 * What the agent's LVS sampler says about agent A's listeners: the LvsIpvsSampler of this
 * repository's dist/ (what the heartbeat and the metrics will report), built in this process
 * from agent A's own configuration and state file, reading the real IPVS of its namespace with
 * the real ipvsadm. The heartbeat is not served yet; when it is, its datagrams replace this.
 * And `compareWithIpvs`: the checks that one sample of a listener agrees with ipvsadm's own
 * listing, read independently (lib/ipvs.mjs).
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { REPO } from './context.mjs';
import { destKey, ipvs, ipvsStats } from './ipvs.mjs';

const dist = (file) => import(pathToFileURL(join(REPO, 'dist', file)).href);

/** Every sample of agent A's LVS listeners, as LvsIpvsSampler.sample() gives them now. */
export async function lvsSamples(confFile = '/etc/octavia/amphora-agent.conf') {
  const [{ loadConfig }, { createPaths }, { ExecaRunner }, { StateStore }, { LvsIpvsSampler }, { silentLogger }] = await Promise.all([
    dist('config/load.js'),
    dist('system/paths.js'),
    dist('system/exec.js'),
    dist('services/state.js'),
    dist('services/telemetry/lvs-sampler.js'),
    dist('log.js'),
  ]);
  const config = (await loadConfig([confFile])).config;
  const paths = createPaths(config);
  const state = new StateStore(paths.stateFile);
  await state.load();
  const log = silentLogger();
  const runner = new ExecaRunner(log, () => ({ ipCmd: config.amphora_agent.ip_cmd, timeoutMs: 60_000 }));
  return new LvsIpvsSampler({ config: () => config, paths, runner, state, log }).sample();
}

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

/**
 * One sample of `listenerId` and ipvsadm's view around it: counters settled first, the listing
 * read before and after the sample (a health check may take a member out or put it back in
 * between: then it tries again, up to 5 times).
 */
async function steadyLook(ns, listenerId, vipPort) {
  let look;
  for (let i = 0; i < 5; i++) {
    const settledMs = await settle(ns, vipPort);
    const before = (await ipvs(ns)).find((x) => x.vip === vipPort);
    const sample = (await lvsSamples()).find((x) => x.listener.id === listenerId);
    const stats = await ipvsStats(ns, vipPort);
    const svc = (await ipvs(ns)).find((x) => x.vip === vipPort);
    look = { settledMs, sample, stats, svc, steady: before !== undefined && svc !== undefined && destKey(before.dests) === destKey(svc.dests), attempts: i + 1 };
    if (look.steady) break;
  }
  return look;
}

/**
 * Records a failed check for each way the sample of `listenerId` disagrees with ipvsadm: the
 * listener's counters and connections; each member's counters, connections, weight and
 * `inIpvs`; each member's status as the reference derives it from IPVS (in IPVS: UP, or DRAIN at
 * weight 0; out: DOWN; the listener's monitor is UDP-CONNECT) and the pool's. Returns the
 * sample, with `settledMs` (how long the counters took to settle) and `attempts`.
 */
export async function compareWithIpvs(s, { ns, listenerId, vipPort, members }) {
  const { settledMs, sample, stats, svc, steady, attempts } = await steadyLook(ns, listenerId, vipPort);
  s.check(steady, `IPVS's real servers of ${vipPort} kept changing while the sampler looked (${attempts} tries)`);
  s.check(sample !== undefined, `the sampler does not report listener ${listenerId}`);
  if (!sample || !stats.service || !svc) {
    s.check(false, `no sample or no ${vipPort} in IPVS: ${JSON.stringify({ sample, stats, svc })}`);
    return sample;
  }
  const want = { bin: stats.service.inBytes, bout: stats.service.outBytes, stot: stats.service.conns, ereq: 0 };
  s.check(JSON.stringify(sample.listener.counters) === JSON.stringify(want), `listener counters ${JSON.stringify(sample.listener.counters)}, ipvsadm ${JSON.stringify(want)}`);
  s.check(sample.listener.status === 'OPEN', `listener status ${sample.listener.status}`);
  const active = svc.dests.reduce((n, d) => n + d.active, 0);
  s.check(sample.listener.scur === active, `scur ${sample.listener.scur}, ipvsadm ActiveConn ${active}`);
  const poolStatus = svc.dests.length > 0 ? 'UP' : 'DOWN';
  s.check(sample.pool?.status === poolStatus, `pool ${sample.pool?.status}, expected ${poolStatus} with ${svc.dests.length} real servers`);
  for (const m of members) {
    const ms = sample.members.find((x) => x.id === m.id);
    const key = `${m.address}:${m.port}`;
    const dest = svc.dests.find((d) => d.addr === key);
    const dstats = stats.dests[key];
    const status = dest === undefined ? 'DOWN' : dest.weight === 0 ? 'DRAIN' : 'UP';
    s.check(sample.pool?.members?.[m.id] === status, `member ${key}: ${sample.pool?.members?.[m.id]}, expected ${status} from ipvsadm`);
    s.check(ms !== undefined, `member ${m.id} missing from the sample`);
    if (!ms) continue;
    s.check(ms.inIpvs === (dest !== undefined), `member ${key}: inIpvs ${ms.inIpvs}, in ipvsadm ${dest !== undefined}`);
    if (!dest || !dstats) continue;
    const got = { weight: ms.weight, active: ms.activeConns, inact: ms.inactiveConns, conns: ms.counters?.conns, inPkts: ms.counters?.inPackets, outPkts: ms.counters?.outPackets, inBytes: ms.counters?.inBytes, outBytes: ms.counters?.outBytes };
    const exp = { weight: dest.weight, active: dest.active, inact: dest.inact, conns: dstats.conns, inPkts: dstats.inPkts, outPkts: dstats.outPkts, inBytes: dstats.inBytes, outBytes: dstats.outBytes };
    s.check(JSON.stringify(got) === JSON.stringify(exp), `member ${key}: sample ${JSON.stringify(got)}, ipvsadm ${JSON.stringify(exp)}`);
  }
  return { ...sample, settledMs, attempts };
}
