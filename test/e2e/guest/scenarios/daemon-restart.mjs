/**
 * @module test/e2e/guest/scenarios/daemon-restart
 * Scenario `daemon_restart` (SINGLE topology, ADR 0010): under a steady stream, L1's keepalived
 * is killed (SIGKILL) and nothing else is done: the agent's reconcile job must restart it through
 * systemd. Figures: seconds from the kill to a new MainPID and to IPVS holding L1's members again,
 * the datagrams lost and the span of the loss, `/1.0/listeners` before and after, and the agent's
 * `amphora_daemon_restarts_total`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../lib/commands.mjs';
import { secs } from '../lib/context.mjs';
import { call } from '../lib/controller.mjs';
import { serviceMatches } from '../lib/ipvs.mjs';
import { ensureL1, l1Members } from '../lib/listener-l1.mjs';
import { scrape, seriesOf } from '../lib/metrics.mjs';
import { mainPid } from '../lib/systemd.mjs';
import { AGENTS, L1, NS_A, STREAM, VIP, lvsUnit } from '../lib/topology.mjs';
import { markAt, stopStream, traffic, windows } from '../lib/traffic-client.mjs';

/** Two reconcile runs (every 10 s) and a keepalived start under UML, with room for a busy host. */
const BACK_WITHIN_MS = 120_000;

/** From the kill on: the first and last lost datagram, and the first answered one after the last loss. */
function lossSpan(stream, from) {
  const after = stream.records.filter((r) => r[0] >= from);
  const lost = after.filter((r) => !r[2]);
  if (lost.length === 0) return { lost: 0 };
  const last = lost.at(-1)[0];
  const answered = after.find((r) => r[0] > last && r[2]);
  return { lost: lost.length, first_lost_s: secs(lost[0][0] - from), last_lost_s: secs(last - from), first_answer_after_s: answered ? secs(answered[0] - from) : null };
}

export async function scenarioDaemonRestart(s) {
  await ensureL1();
  const unit = lvsUnit(AGENTS.a, L1);
  await traffic.request({ cmd: 'stream_start', vip: VIP, port: 5000, ...STREAM });
  await sleep(3000);
  const victim = await mainPid(unit);
  s.check(victim > 0, `${unit} has no MainPID`);
  await traffic.request({ cmd: 'mark', label: 'kill' });
  const t = performance.now();
  process.kill(victim, 'SIGKILL');
  const error = await waitFor(async () => (await call('a', 'get_all_listeners')).body?.some?.((l) => l.uuid === L1 && l.status === 'ERROR'), { timeoutMs: 10_000, intervalMs: 250 });
  s.fig('listed_error_after_kill', error.ok);
  const back = await waitFor(async () => {
    const pid = await mainPid(unit);
    return pid > 0 && pid !== victim ? pid : null;
  }, { timeoutMs: BACK_WITHIN_MS, intervalMs: 250 });
  s.fig('kill_to_new_mainpid_s', back.ok ? secs(performance.now() - t) : null);
  s.check(back.ok, `the agent did not restart ${unit} within ${BACK_WITHIN_MS / 1000}s`);
  await traffic.request({ cmd: 'mark', label: 'restarted' });
  const ipvsBack = await waitFor(() => serviceMatches(NS_A, 'UDP', `${VIP}:5000`, l1Members), { timeoutMs: 60_000, intervalMs: 250 });
  s.fig('kill_to_ipvs_back_s', ipvsBack.ok ? secs(performance.now() - t) : null);
  s.check(ipvsBack.ok, 'IPVS does not hold L1 again after the restart');
  await sleep(5000);
  await traffic.request({ cmd: 'mark', label: 'end' });
  const stream = await stopStream('daemon_restart');
  const kill = markAt(stream, 'kill');
  s.fig('traffic', windows(stream, [
    ['before_kill', 0, kill],
    ['kill_to_restart', kill, markAt(stream, 'restarted')],
    ['after_restart', markAt(stream, 'restarted'), markAt(stream, 'end')],
  ]));
  s.fig('loss_span', lossSpan(stream, kill));
  const ls = await call('a', 'get_all_listeners');
  s.fig('listeners_after', ls.body);
  s.check(ls.body?.some?.((l) => l.uuid === L1 && l.status === 'ACTIVE'), 'L1 is not ACTIVE after the restart');
  const restarts = seriesOf(await scrape(), 'amphora_daemon_restarts_total').map((x) => [x.labels.daemon, x.labels.outcome, x.value]);
  s.fig('restarts_metric', restarts);
  s.check(restarts.some(([d, o, v]) => d === 'keepalived_lvs' && o === 'started' && v >= 1), 'amphora_daemon_restarts_total has no started keepalived_lvs');
}
