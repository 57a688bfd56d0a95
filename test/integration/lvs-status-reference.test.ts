/**
 * The agent's LVS statuses against the reference's own reader, decision by decision: Octavia 11's
 * keepalivedlvs_query.py (python3-octavia, run by test/support/octavia-lvs-query.py with only its
 * file, /proc and ipvsadm reads redirected) and the agent's parseLvsLayout + parseIpvs* +
 * lvsListenerSample, on the same controller-rendered config (src/model/__fixtures__/octavia-lvs/)
 * and the same IPVS table (its /proc/net/ip_vs, `ipvsadm -Ln` and `-Ln --stats --exact`).
 * Listener status and counters, scur, pool and member statuses must be equal, except where the
 * agent differs on purpose, which each such case asserts on both sides.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { inspectKeepalivedConfig } from '../../src/model/keepalived-config.js';
import { parseLvsLayout } from '../../src/model/lvs-layout.js';
import { lvsListenerSample } from '../../src/services/telemetry/lvs-status.js';
import type { LvsListenerSample } from '../../src/services/telemetry/samples.js';
import { mergeIpvs, parseIpvsList, parseIpvsStats } from '../../src/system/ipvs.js';
import { sh, show } from '../support/commands.js';
import { ipvsadmList, ipvsadmStats, procIpVs, type TestVirtualServer } from '../support/ipvsadm-output.js';
import { tierCanRun } from '../support/requirements.js';

const SCRIPT = fileURLToPath(new URL('../support/octavia-lvs-query.py', import.meta.url));
const PYTHON = '/usr/bin/python3';
const L = '11111111-0000-4000-8000-000000000001';
const POOL = 'bbbbbbbb-0000-4000-8000-000000000001';
const m = (n: number) => `dddddddd-0000-4000-8000-00000000000${n}`;
const canRun = tierCanRun('LVS statuses vs the reference reader', { files: [PYTHON], python: 'octavia' });

interface Reference {
  stats: Record<string, { status: string; stats: { bin: number; bout: number; scur: number; stot: number; ereq: number } }>;
  pool: { lvs?: { uuid: string; status: string; members: Record<string, string> } };
}

const fixture = (name: string) => readFileSync(new URL(`../../src/model/__fixtures__/octavia-lvs/${name}.conf`, import.meta.url), 'utf8');

async function both(configName: string, table: TestVirtualServer[], restarting = false): Promise<{ ref: Reference; ours: LvsListenerSample | undefined }> {
  const config = fixture(configName);
  const spec = { listener_id: L, config, restarting, proc_ip_vs: procIpVs(table), ipvsadm_list: ipvsadmList(table), ipvsadm_stats: ipvsadmStats(table), source: null };
  const r = await sh(PYTHON, [SCRIPT], { input: JSON.stringify(spec) });
  if (r.code !== 0) throw new Error(`octavia-lvs-query.py failed: ${show(r)}`);
  const layout = parseLvsLayout(config);
  const ipvs = mergeIpvs(parseIpvsList(spec.ipvsadm_list), parseIpvsStats(spec.ipvsadm_stats));
  const ours = layout.listenerDisabled ? undefined : lvsListenerSample({ id: L, protocol: inspectKeepalivedConfig(config).protocol, layout, ipvs, restarting });
  return { ref: JSON.parse(r.stdout) as Reference, ours };
}

/** The agent's sample in the reference's shapes; null counters are the reference's zeros. */
function asReference(s: LvsListenerSample | undefined): Reference {
  if (!s) return { stats: {}, pool: {} };
  const c = s.listener.counters ?? { bin: 0, bout: 0, stot: 0, ereq: 0 };
  return {
    stats: { [s.listener.id]: { status: s.listener.status, stats: { bin: c.bin, bout: c.bout, scur: s.listener.scur, stot: c.stot, ereq: c.ereq } } },
    pool: s.pool ? { lvs: { uuid: s.pool.poolId, status: s.pool.status, members: { ...s.pool.members } } } : {},
  };
}

const rs = (address: string, port: number, extra: Partial<TestVirtualServer['realServers'][number]> = {}) => ({ address, port, stats: [3, 3, 3, 300, 200] as const, inactive: 3, active: 1, ...extra });
const UDP_CONNECT_TABLE: TestVirtualServer[] = [
  { protocol: 'UDP', address: '203.0.113.10', port: 53, stats: [9, 9, 9, 900, 600], realServers: [rs('198.51.100.11', 5353), rs('198.51.100.12', 5353, { weight: 0 }), rs('198.51.100.14', 5354, { weight: 5 })] },
];

describe.runIf(canRun)('LVS statuses: the agent and the reference reader (Octavia 11) agree', () => {
  it.each([
    ['every member in IPVS, one at weight 0, one disabled', 'udp-connect', UDP_CONNECT_TABLE, false],
    ['a member taken out by its checker', 'udp-connect', [{ ...UDP_CONNECT_TABLE[0]!, realServers: UDP_CONNECT_TABLE[0]!.realServers.slice(1) }], false],
    ['a member out while keepalived runs an older config', 'udp-connect', [{ ...UDP_CONNECT_TABLE[0]!, realServers: UDP_CONNECT_TABLE[0]!.realServers.slice(1) }], true],
    ['every member out: pool DOWN', 'udp-connect', [{ ...UDP_CONNECT_TABLE[0]!, realServers: [] }], false],
    ['no monitor', 'no-monitor', [{ protocol: 'UDP', address: '203.0.113.10', port: 53, realServers: [rs('198.51.100.11', 5353), rs('198.51.100.12', 5353)] }], false],
    ['an empty pool', 'empty-pool', [{ protocol: 'UDP', address: '203.0.113.10', port: 53, realServers: [] }], false],
    ['a pool of disabled members only', 'only-disabled', [{ protocol: 'UDP', address: '203.0.113.10', port: 53, realServers: [] }], false],
    ['a disabled pool', 'pool-disabled', [{ protocol: 'UDP', address: '203.0.113.10', port: 53, stats: [2, 2, 2, 20, 0], realServers: [] }], false],
    ['a disabled listener', 'listener-disabled', [], false],
    ['no pool', 'no-pool', [], false],
    ['an SCTP listener', 'sctp', [{ protocol: 'SCTP', address: '203.0.113.10', port: 5004, realServers: [rs('198.51.100.11', 5353)] }], false],
  ] as [string, string, TestVirtualServer[], boolean][])('%s', async (_name, config, table, restarting) => {
    const { ref, ours } = await both(config, table, restarting);
    expect(asReference(ours)).toEqual(ref);
  });
});

describe.runIf(canRun)('LVS statuses: where the agent differs from the reference on purpose', () => {
  it('no virtual server in IPVS: the reference sends zeros (and stores them as its counters), the agent null', async () => {
    const { ref, ours } = await both('udp-connect', []);
    expect(ref.stats[L]?.stats).toEqual({ bin: 0, bout: 0, scur: 0, stot: 0, ereq: 0 });
    expect(ours?.listener.counters).toBeNull();
    // the statuses agree
    expect(asReference(ours).pool).toEqual(ref.pool);
    expect(ref.pool.lvs?.status).toBe('DOWN');
  });

  it('dual stack with two IPv4 VIPs: the agent sums every VIP and finds the IPv6 members (Octavia 11 reads one block)', async () => {
    const table: TestVirtualServer[] = [
      { protocol: 'UDP', address: '203.0.113.10', port: 53, stats: [1, 1, 1, 100, 10], realServers: [rs('198.51.100.11', 5353), rs('198.51.100.14', 5353)] },
      { protocol: 'UDP', address: '203.0.113.11', port: 53, stats: [2, 2, 2, 200, 20], realServers: [rs('198.51.100.11', 5353), rs('198.51.100.14', 5353)] },
      { protocol: 'UDP', address: '2001:db8::10', port: 53, stats: [4, 4, 4, 400, 40], realServers: [rs('2001:db8:1::12', 5353)] },
    ];
    const { ref, ours } = await both('dual-stack', table);
    // the reference reads the first address of each group: 203.0.113.11 is not counted
    expect(ref.stats[L]?.stats).toMatchObject({ stot: 5, bin: 500, bout: 50 });
    expect(ours?.listener.counters).toMatchObject({ stot: 7, bin: 700, bout: 70 });
    // Octavia 11 stops after the first matching block: the IPv6 member is DOWN there (master fixed it)
    expect(ref.pool.lvs?.members).toEqual({ [m(1)]: 'UP', [m(4)]: 'UP', [m(2)]: 'DOWN', [m(3)]: 'MAINT' });
    expect(ours?.pool?.members).toEqual({ [m(1)]: 'UP', [m(4)]: 'UP', [m(2)]: 'UP', [m(3)]: 'MAINT' });
    expect(ours?.pool?.poolId).toBe(POOL);
  });
});
