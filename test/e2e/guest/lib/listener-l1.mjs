/**
 * @module test/e2e/guest/lib/listener-l1
 * Listener L1 on agent A (UDP, VIP port 5000, members be1..be3, the shared UDP-CONNECT
 * monitor), which most scenarios need: the first one that does creates it, `delete` forgets it.
 */
import { waitFor } from './commands.mjs';
import { pushListener } from './controller.mjs';
import { ipvs, serviceMatches } from './ipvs.mjs';
import { AGENTS, HM, L1, L1_POOL, NS_A, VIP, member } from './topology.mjs';

export function l1Listener(agentName, members, extra = {}) {
  const a = AGENTS[agentName];
  return { listener_id: L1, pool_id: L1_POOL, vip: VIP, port: 5000, protocol: 'UDP', algorithm: 'ROUND_ROBIN', members, hm: HM, base_path: a.base, namespace: a.ns, ...extra };
}
export const l1Members = [member(1), member(2), member(3)];
let l1Ready = false;
/** `extra`: listener fields that differ from the shared L1 (failover_sync: no health monitor). */
export async function ensureL1(s, extra = {}) {
  if (l1Ready) return;
  const r = await pushListener('a', l1Listener('a', l1Members, extra));
  if (s) {
    s.fig('upload_ms', r.uploadMs);
    s.fig('first_reload_ms', r.reloadMs);
    s.fig('first_reload_answer', r.detail);
  }
  if (!r.ok) throw new Error(`pushing listener L1 failed: ${JSON.stringify(r)}`);
  // a bound, not a time limit: a guest whose CPU is hogged (run.mjs --hog) takes longer
  const w = await waitFor(() => serviceMatches(NS_A, 'UDP', `${VIP}:5000`, l1Members), { timeoutMs: 120_000 });
  if (s) s.fig('reload_to_ipvs_complete_ms', Math.round(w.ms));
  if (!w.ok) throw new Error(`IPVS never showed the 3 members: ${JSON.stringify(await ipvs(NS_A))}`);
  l1Ready = true;
}
/** After every listener was deleted: the next scenario that needs L1 pushes it again. */
export function forgetL1() {
  l1Ready = false;
}
