/**
 * @module test/e2e/guest/scenarios/single
 * Scenario `single`: PID 1 is systemd and the agent detected it; listener L1 uploaded and
 * reloaded (its unit active, MainPID keepalived, listed ACTIVE); traffic split evenly; a killed
 * member leaves IPVS within the monitor's budget and comes back when restarted. At each of those
 * three moments the agent's LVS sampler (what the heartbeat will send) agrees with ipvsadm: the
 * listener's and each member's counters, and each member's status (UP while in IPVS, DOWN out of
 * it); the killed member is DOWN while keepalived keeps it out.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sh, waitFor } from '../lib/commands.mjs';
import { secs } from '../lib/context.mjs';
import { call } from '../lib/controller.mjs';
import { ipvs, serviceMatches } from '../lib/ipvs.mjs';
import { ensureL1, l1Members } from '../lib/listener-l1.mjs';
import { compareWithIpvs } from '../lib/lvs-sample.mjs';
import { killBackend, startBackend } from '../lib/network.mjs';
import { activeState, comm, mainPid } from '../lib/systemd.mjs';
import { AGENTS, BACKENDS, HM, L1, NS_A, VIP, lvsUnit } from '../lib/topology.mjs';
import { traffic } from '../lib/traffic-client.mjs';

export async function scenarioSingle(s) {
  const pid1 = readFileSync('/proc/1/comm', 'utf8').trim();
  s.check(pid1 === 'systemd', `PID 1 is ${pid1}, not systemd`);
  const agentLog = (await sh('journalctl', ['-u', 'amphora-agent', '-o', 'cat', '--no-pager'])).out;
  const initLine = agentLog.split('\n').find((l) => l.includes('amphora agent listening')) ?? '';
  s.check(/"init":"systemd"/.test(initLine), `the agent did not detect systemd (init_system auto): ${initLine.slice(0, 200)}`);
  await ensureL1(s);
  const unit = lvsUnit(AGENTS.a, L1);
  const pid = await mainPid(unit);
  s.check(pid > 0 && comm(pid) === 'keepalived', `${unit} MainPID ${pid} is ${comm(pid)}, not keepalived`);
  s.check((await activeState(unit)) === 'active', `${unit} is not active`);
  s.check(existsSync(join(AGENTS.a.unitDir, `${unit}.service`)), 'the listener unit file is missing');
  const cfg = readFileSync(join(AGENTS.a.base, 'lvs', `octavia-keepalivedlvs-${L1}.conf`), 'utf8');
  s.check(cfg.includes(`${AGENTS.a.base}/lvs/check/udp_check.sh`), 'the stored config does not call the agent\'s udp_check.sh');
  const ls = await call('a', 'get_all_listeners');
  s.fig('listeners', ls.body);
  s.check(ls.ok && ls.body?.some?.((l) => l.uuid === L1 && l.status === 'ACTIVE' && l.type === 'UDP'), 'GET /1.0/listeners does not show L1 ACTIVE/UDP');

  const n = 60;
  const spread = await traffic.request({ cmd: 'burst', vip: VIP, port: 5000, n });
  s.fig('spread', spread);
  const counts = ['be1', 'be2', 'be3'].map((b) => spread.perBackend[b] ?? 0);
  s.check(spread.lost === 0, `${spread.lost} of ${n} datagrams lost with 3 healthy members`);
  s.check(Math.max(...counts) - Math.min(...counts) <= 2, `uneven split ${counts.join('/')}`);
  const sampled = { ns: NS_A, listenerId: L1, vipPort: `${VIP}:5000`, members: l1Members };
  const statuses = (sample) => ({ pool: sample?.pool?.status, members: l1Members.map((m) => sample?.pool?.members?.[m.id]) });
  const allUp = await compareWithIpvs(s, sampled);
  s.fig('lvs_sample_all_up', allUp);
  s.fig('lvs_statuses_all_up', statuses(allUp));
  s.check((allUp?.listener.counters?.stot ?? 0) >= spread.sent - spread.lost, `sampler counted ${allUp?.listener.counters?.stot} connections, ${spread.sent - spread.lost} datagrams were answered`);

  // Kill a member: the UDP-CONNECT monitor must take it out of IPVS.
  const victim = BACKENDS[1];
  const budgetS = HM.delay * (HM.fall + 1) + HM.timeout * (HM.fall + 1) + 5;
  s.fig('removal_budget_s', budgetS);
  killBackend(victim);
  const gone = await waitFor(async () => {
    const svc = (await ipvs(NS_A)).find((x) => x.vip === `${VIP}:5000`);
    return svc && !svc.dests.some((d) => d.addr.startsWith(`${victim.ip}:`));
  }, { timeoutMs: (budgetS + 10) * 1000, intervalMs: 100 });
  s.fig('member_killed_to_removed_s', secs(gone.ms));
  s.check(gone.ok && gone.ms <= budgetS * 1000, `the dead member left IPVS after ${secs(gone.ms)}s (budget ${budgetS}s)`);
  const after = await traffic.request({ cmd: 'burst', vip: VIP, port: 5000, n });
  s.fig('spread_after_removal', after);
  s.check(after.lost === 0, `${after.lost} datagrams lost after the dead member was removed`);
  s.check(!after.perBackend[victim.name], 'the dead member still got traffic');
  const oneDown = await compareWithIpvs(s, sampled);
  s.fig('lvs_sample_member_down', { pool: oneDown?.pool, counters: oneDown?.listener.counters, settledMs: oneDown?.settledMs });
  const victimId = l1Members.find((m) => m.address === victim.ip)?.id;
  s.check(oneDown?.pool?.members?.[victimId] === 'DOWN' && oneDown?.pool?.status === 'UP', `sampler with ${victim.name} out of IPVS: ${JSON.stringify(statuses(oneDown))}, expected it DOWN in a pool UP`);

  await startBackend(victim);
  const back = await waitFor(() => serviceMatches(NS_A, 'UDP', `${VIP}:5000`, l1Members), { timeoutMs: (budgetS + 10) * 1000, intervalMs: 100 });
  s.fig('member_restarted_to_readded_s', secs(back.ms));
  s.check(back.ok, `the restarted member did not come back within ${budgetS + 10}s`);
  const again = await traffic.request({ cmd: 'burst', vip: VIP, port: 5000, n });
  s.fig('spread_after_return', again);
  s.check(again.lost === 0 && Object.keys(again.perBackend).length === 3, 'traffic did not spread over 3 members again');
  const backUp = await compareWithIpvs(s, sampled);
  s.fig('lvs_sample_member_back', { pool: backUp?.pool, counters: backUp?.listener.counters, settledMs: backUp?.settledMs });
  s.fig('lvs_statuses_member_back', statuses(backUp));
}
