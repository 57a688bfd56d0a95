/**
 * @module test/e2e/guest/scenarios/agent-restart
 * Scenario `agent_restart`: `systemctl restart amphora-agent` under traffic leaves every
 * listener keepalived running with its pid, loses no datagram, and the restarted agent answers,
 * reports L1 ACTIVE and still treats the same config as a no-op (its state survived).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { checkerMark, checkerSince } from '../lib/checker-log.mjs';
import { sh } from '../lib/commands.mjs';
import { call, pushListener } from '../lib/controller.mjs';
import { ensureL1, l1Listener, l1Members } from '../lib/listener-l1.mjs';
import { mainPid } from '../lib/systemd.mjs';
import { AGENTS, L1, STREAM, VIP } from '../lib/topology.mjs';
import { stopStream, traffic, windows } from '../lib/traffic-client.mjs';

export async function scenarioAgentRestart(s) {
  await ensureL1();
  const units = (await sh('systemctl', ['list-units', '--plain', '--no-legend', `${AGENTS.a.prefix}octavia-keepalivedlvs-*`])).out
    .split('\n').map((l) => l.split(/\s+/)[0]).filter((u) => u?.endsWith('.service'));
  const before = Object.fromEntries(await Promise.all(units.map(async (u) => [u, await mainPid(u)])));
  s.fig('keepalived_pids_before', before);
  const checker = checkerMark();
  await traffic.request({ cmd: 'stream_start', vip: VIP, port: 5000, ...STREAM });
  await sleep(1000);
  const agentPid = await mainPid('amphora-agent.service');
  const t = performance.now();
  await sh('systemctl', ['restart', 'amphora-agent.service']);
  const restartMs = performance.now() - t;
  const v = await call('a', 'get_api_version');
  s.fig('systemctl_restart_ms', Math.round(restartMs));
  s.fig('restart_to_api_answer_ms', Math.round(performance.now() - t));
  s.check(v.ok && v.body?.api_version === '1.0', `the agent did not answer GET // after its restart: ${JSON.stringify(v)}`);
  s.check((await mainPid('amphora-agent.service')) !== agentPid, 'the agent pid did not change');
  const after = Object.fromEntries(await Promise.all(units.map(async (u) => [u, await mainPid(u)])));
  s.fig('keepalived_pids_after', after);
  s.check(units.length > 0 && units.every((u) => before[u] > 0 && before[u] === after[u]), 'a listener keepalived was restarted or stopped with the agent');
  const ls = await call('a', 'get_all_listeners');
  s.fig('listeners_after', ls.body);
  s.check(ls.ok && ls.body?.some?.((l) => l.uuid === L1 && l.status === 'ACTIVE'), 'GET /1.0/listeners does not report L1 ACTIVE after the restart');
  // The agent's state survived: the same config again is still a no-op.
  const r = await pushListener('a', l1Listener('a', l1Members));
  s.fig('repush_after_restart', r.detail);
  s.check(r.ok && /unchanged/.test(r.detail ?? ''), `re-pushing L1 after the agent restart was not a no-op: ${r.detail}`);
  await sleep(1000);
  const stream = await stopStream('agent_restart');
  s.fig('stream_skipped_ticks', stream.skipped_ticks);
  const w = windows(stream, [['during_restart', 0, Infinity]]).during_restart;
  s.fig('traffic_during_restart', w);
  s.fig('checker_during_restart', checkerSince(checker));
  s.check(w.fresh_lost + w.flow_lost === 0, 'datagrams lost while the agent restarted');
}
