/**
 * @module test/integration/lvs-equivalence
 * The agent renders keepalived LVS configs from its listener model (render/lvs-view.ts); the
 * reference is what Octavia's own LvsJinjaTemplater (python3-octavia, through
 * test/support/octavia-render.py) renders for the same listener. Each fixture
 * (test/support/lvs-equivalence-fixtures.ts) is written once, as the agent's listener model
 * JSON; `octaviaSpec` (test/support/octavia-lvs-spec.ts) builds the objects Octavia's templater
 * reads from it. Both renders are parsed (test/support/keepalived-lvs-parse.ts), normalized by
 * the equivalences listed there and compared whole: virtual servers, schedulers, persistence,
 * timers, real servers, weights, thresholds and checks (Octavia's UDP-CONNECT probe script
 * and the agent's UDP_CHECK fold into one, see keepalived-lvs-normalize.ts). Both must pass the real
 * `keepalived --config-test` (test/support/lvs-equivalence-env.ts).
 *
 * Only features Octavia has are compared: no ONE_PACKET_SCHEDULING (Octavia's LVS template has
 * no `ops`), no PING monitor (Octavia renders no check for it, the agent a PING_CHECK; covered
 * by the agent's own tests). Two places where Octavia's render is wrong and the agent's is not
 * are pinned in lvs-octavia-divergences.test.ts; the parser itself is tested in
 * keepalived-lvs-parse.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { LbAlgorithm } from '../../src/model/listener/schema.js';
import { normalizeLvs, parseLvsConfig, type LvsConfig, type NormalizedLvs } from '../support/keepalived-lvs-parse.js';
import { lvsEquivalenceCanRun, lvsEquivalenceEnv } from '../support/lvs-equivalence-env.js';
import { FIXTURES } from '../support/lvs-equivalence-fixtures.js';
import { listenerId, modelOf } from '../support/lvs-fixture-builders.js';

const canRun = lvsEquivalenceCanRun();

/** The IPVS scheduler each renderer picks per algorithm: the agent the weighted ones, Octavia plain lc. */
const OURS: Record<LbAlgorithm, string> = { ROUND_ROBIN: 'wrr', LEAST_CONNECTIONS: 'wlc', SOURCE_IP: 'sh' };
const OCTAVIAS: Record<LbAlgorithm, string> = { ROUND_ROBIN: 'wrr', LEAST_CONNECTIONS: 'lc', SOURCE_IP: 'sh' };

const schedulers = (c: LvsConfig): string[] => [...new Set(c.virtualServers.filter((v) => v.realServers.length > 0).map((v) => v.scheduler ?? '(none)'))];
const rawCheckKinds = (c: LvsConfig): string[] => [...new Set(c.virtualServers.flatMap((v) => v.realServers.flatMap((r) => r.checks.map((k) => k.kind))))];
const checkKinds = (n: NormalizedLvs): string[] => [...new Set(Object.values(n.virtualServers).flatMap((v) => v.realServers.flatMap((r) => r.checks.map((c) => c.kind))))];

describe.skipIf(!canRun)('LVS configs: the agent’s render means what Octavia’s does', () => {
  const env = lvsEquivalenceEnv();

  it('has at least 20 fixtures, covering what the issue lists', () => {
    expect(FIXTURES.length).toBeGreaterThanOrEqual(20);
    const models = FIXTURES.map((f) => modelOf(f.model));
    const pools = models.flatMap((l) => (l.default_pool ? [l.default_pool] : []));
    const members = pools.flatMap((p) => p.members);
    const monitors = pools.flatMap((p) => (p.health_monitor ? [p.health_monitor] : []));
    const persistence = pools.flatMap((p) => (p.session_persistence ? [p.session_persistence] : []));
    const families = models.map((l) => [...new Set(l.vip_addresses.map((a) => (a.includes(':') ? 6 : 4)))].sort().join('+'));
    expect(new Set(models.map((l) => l.protocol))).toEqual(new Set(['UDP', 'SCTP']));
    expect(new Set(pools.map((p) => p.lb_algorithm))).toEqual(new Set(['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP']));
    expect(members.some((m) => m.weight === 0) && members.some((m) => m.weight > 1)).toBe(true);
    expect(models.some((l) => l.connection_limit > 0) && models.some((l) => l.connection_limit === -1)).toBe(true);
    expect(persistence.some((s) => s.persistence_timeout == null && s.persistence_granularity == null)).toBe(true);
    expect(persistence.some((s) => s.persistence_timeout != null && s.persistence_granularity == null)).toBe(true);
    expect(persistence.some((s) => s.persistence_timeout != null && s.persistence_granularity != null)).toBe(true);
    expect(persistence.some((s) => s.persistence_timeout == null && s.persistence_granularity != null)).toBe(true);
    expect(new Set(families)).toEqual(new Set(['4', '6', '4+6']));
    expect(new Set(monitors.map((h) => h.type))).toEqual(new Set(['UDP-CONNECT', 'TCP', 'HTTP', 'SCTP']));
    const codes = monitors.filter((h) => h.type === 'HTTP').map((h) => h.expected_codes ?? '');
    expect(codes.some((c) => /^\d+$/.test(c)) && codes.some((c) => c.includes(',')) && codes.some((c) => c.includes('-'))).toBe(true);
    expect(members.some((m) => m.monitor_address != null) && members.some((m) => m.monitor_port != null)).toBe(true);
    expect(members.some((m) => !m.admin_state_up)).toBe(true);
    expect(monitors.some((h) => !h.admin_state_up)).toBe(true);
    expect(models.some((l) => !l.admin_state_up)).toBe(true);
    expect(pools.some((p) => !p.admin_state_up)).toBe(true);
    expect(models.some((l) => l.default_pool === null)).toBe(true);
    expect(pools.some((p) => p.members.length === 0)).toBe(true);
  });

  it.each(FIXTURES.map((f, i) => [f.name, f, i] as const))('%s', async (_name, f, i) => {
    const listener = modelOf(f.model);
    const id = listenerId(i + 1);
    const ours = env.ours(listener, id);
    const theirs = await env.theirs(listener, id);
    const both = `--- agent\n${ours}\n--- octavia\n${theirs}`;

    const [parsedOurs, parsedTheirs] = [parseLvsConfig(ours), parseLvsConfig(theirs)];
    const [normOurs, normTheirs] = [normalizeLvs(parsedOurs), normalizeLvs(parsedTheirs)];
    expect(normOurs, both).toEqual(normTheirs);
    expect(Object.keys(normOurs.virtualServers), both).toHaveLength(f.virtualServers);
    expect(checkKinds(normOurs), both).toEqual(f.check ? [f.check] : []);
    if (f.check === 'UDP_CHECK') {
      // as written: Octavia runs its probe script, the agent keepalived's own UDP checker (folded alike by normalizeLvs)
      expect(rawCheckKinds(parsedTheirs), both).toEqual(['MISC_CHECK']);
      expect(rawCheckKinds(parsedOurs), both).toEqual(['UDP_CHECK']);
    }
    expect(normOurs.namespace).toBe(env.ns);

    // The schedulers as written: the normalization folds lc into wlc, the agent must use the weighted one.
    const algorithm = listener.default_pool?.lb_algorithm;
    if (algorithm && f.virtualServers > 0) {
      expect(schedulers(parsedOurs)).toEqual([OURS[algorithm]]);
      expect(schedulers(parsedTheirs)).toEqual([OCTAVIAS[algorithm]]);
    }

    await env.accepted('the agent’s', ours);
    await env.accepted('Octavia’s', theirs);
  });
});
