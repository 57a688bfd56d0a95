/**
 * @module test/e2e/guest/scenarios/sctp
 * Scenario `sctp`: listener L3, SCTP with Octavia's SCTP monitor; IPVS has the virtual server,
 * 30 associations (guest/sctp-client.py) split over the 3 members; then it is deleted.
 * `not_done` when the guest kernel has no SCTP.
 */
import { join } from 'node:path';
import { nsx, sh, waitFor } from '../lib/commands.mjs';
import { GUEST, PY } from '../lib/context.mjs';
import { call, pushListener } from '../lib/controller.mjs';
import { ipvs, serviceMatches } from '../lib/ipvs.mjs';
import { killBackend, startBackend } from '../lib/network.mjs';
import { AGENTS, BACKENDS, L3, NS_A, VIP, member } from '../lib/topology.mjs';

export async function scenarioSctp(s) {
  const mod = await sh('modprobe', ['sctp'], { allowFail: true });
  if (mod.code !== 0) {
    s.notDone = `the guest kernel has no SCTP: ${mod.err.trim()}`;
    return;
  }
  const backends = BACKENDS.slice(0, 3);
  for (const b of backends) await startBackend(b, 'sctp', 5002);
  const members = backends.map((b, i) => member(i + 1, 5002));
  const listener = { listener_id: L3, vip: VIP, port: 5002, protocol: 'SCTP', algorithm: 'ROUND_ROBIN', members, hm: { type: 'SCTP', delay: 5, timeout: 3, fall: 2 }, base_path: AGENTS.a.base, namespace: NS_A };
  const r = await pushListener('a', listener);
  s.fig('reload_answer', r.detail);
  s.check(r.ok, `pushing the SCTP listener failed: ${JSON.stringify(r).slice(0, 300)}`);
  const svc = await waitFor(() => serviceMatches(NS_A, 'SCTP', `${VIP}:5002`, members), { timeoutMs: 20_000 });
  s.fig('ipvs_service', svc.value ?? (await ipvs(NS_A)).filter((x) => x.proto === 'SCTP'));
  s.check(svc.ok, 'IPVS has no SCTP service with the 3 members');
  const out = await nsx('client', PY, [join(GUEST, 'sctp-client.py'), VIP, '5002', '30'], { allowFail: true, timeout: 300_000 }); // a bound: 15 s per association (sctp-client.py)
  let res = null;
  try {
    res = JSON.parse(out.out);
  } catch {
    res = { error: out.err.trim() || out.out.trim() };
  }
  s.fig('associations', res);
  s.check(res?.lost === 0 && Object.keys(res.perBackend ?? {}).length === 3, 'SCTP associations were not all answered by the 3 members');
  const ls = await call('a', 'get_all_listeners');
  s.fig('listed_type', ls.body?.find?.((l) => l.uuid === L3));
  // Each SCTP member check runs amphora-health-checker, a Python program that imports Octavia:
  // seconds of CPU per run under UML. Left running, it starves the one-CPU guest (VRRP check
  // scripts time out), so the SCTP listener is deleted here.
  const d = await call('a', 'delete_listener', L3);
  s.check(d.ok, `DELETE of the SCTP listener failed: ${d.error}`);
  s.check(!(await ipvs(NS_A)).some((x) => x.proto === 'SCTP'), 'the SCTP virtual server is still in IPVS after DELETE');
  for (const b of backends) killBackend(b, 'sctp');
}
