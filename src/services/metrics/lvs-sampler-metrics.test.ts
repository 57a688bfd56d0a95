/**
 * /metrics text over the production LVS sampler (LvsIpvsSampler) in a temporary root: a listener
 * uploaded as the controller does (a config Octavia's templater rendered), scripted ipvsadm
 * listings (FakeRunner) and pid files (FakeInit). A member keepalived's checker took out of IPVS
 * (its server stopped answering) shows as down, out of IPVS and without counters; a disabled one
 * as MAINT without an address; the listener's counters are IPVS's.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeInit } from '../../../test/fakes/fake-init.js';
import { FakeRunner } from '../../../test/fakes/fake-runner.js';
import { scriptIpvsadm, type TestVirtualServer } from '../../../test/support/ipvsadm-output.js';
import { parsePromText } from '../../../test/support/prom-text.js';
import { serviceHarness } from '../../../test/support/service-harness.js';
import { silentLogger } from '../../log.js';
import type { Uuid } from '../../model/uuid.js';
import { LvsIpvsSampler } from '../telemetry/lvs-sampler.js';
import { AgentMetrics } from './agent-metrics.js';

// ids and addresses of src/model/__fixtures__/octavia-lvs/udp-connect.conf
const LISTENER = '11111111-0000-4000-8000-000000000001' as Uuid;
const POOL = 'bbbbbbbb-0000-4000-8000-000000000001';
const m = (n: number) => `dddddddd-0000-4000-8000-00000000000${n}`;
const IPVSADM = '/opt/sbin/ipvsadm';

const table = (withFirst: boolean): TestVirtualServer[] => [
  {
    protocol: 'UDP',
    address: '203.0.113.10',
    port: 53,
    stats: [30, 31, 29, 3100, 2900],
    realServers: [
      ...(withFirst ? [{ address: '198.51.100.11', port: 5353, weight: 1, active: 1, inactive: 4, stats: [10, 11, 9, 1100, 900] as const }] : []),
      { address: '198.51.100.12', port: 5353, weight: 0, active: 0, inactive: 2, stats: [5, 5, 5, 500, 500] },
      { address: '198.51.100.14', port: 5354, weight: 5, active: 2, inactive: 6, stats: [15, 15, 15, 1500, 1500] },
    ],
  },
];

describe('/metrics over LvsIpvsSampler', () => {
  it('shows a member taken out of IPVS as down, and IPVS counters per listener and member', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lvs-metrics-'));
    let current = table(true);
    const runner = new FakeRunner().on(['/bin/sh'], { exitCode: 0 }).on(['/usr/sbin/keepalived', '--config-test'], { exitCode: 0 });
    scriptIpvsadm(runner, IPVSADM, () => current);
    const init = new FakeInit(join(root, 'proc'));
    const t = await serviceHarness({
      configText: `[haproxy_amphora]\nbase_path = ${root}/lib\n[amphora_agent]\nproc_dir = ${root}/proc\nnetns_run_dir = ${root}/netns\nprocess_settle_seconds = 0\nprocess_ready_timeout = 2\nipvsadm_cmd = ${IPVSADM}\n`,
      runner,
      init: () => init,
    });
    await t.lvs.upload(LISTENER, Buffer.from(readFileSync(new URL('../../model/__fixtures__/octavia-lvs/udp-connect.conf', import.meta.url), 'utf8')));
    await t.lvs.act(LISTENER, 'start');
    const log = silentLogger();
    const metrics = new AgentMetrics({ lvs: new LvsIpvsSampler({ config: () => t.agentConfig.current, paths: t.paths, runner, state: t.state, log }), processMetrics: false, log });
    const member = (n: number) => ({ listener_id: LISTENER, pool_id: POOL, member_id: m(n), protocol: 'UDP' });

    const before = parsePromText(await metrics.scrape());
    expect(before.value('amphora_lvs_listener_bytes_in_total', { listener_id: LISTENER, protocol: 'UDP' })).toBe(3100);
    expect(before.value('amphora_lvs_listener_active_connections', { listener_id: LISTENER })).toBe(3);
    expect(before.value('amphora_lvs_member_up', member(1))).toBe(1);
    expect(before.find('amphora_lvs_member_packets_in_total', member(1))[0]).toEqual({ name: 'amphora_lvs_member_packets_in_total', labels: { ...member(1), address: '198.51.100.11', port: '5353' }, value: 11 });
    expect(before.value('amphora_lvs_member_status', { ...member(2), status: 'DRAIN' })).toBe(1);
    expect(before.value('amphora_lvs_member_up', member(2))).toBe(1);
    // m3 is disabled: not in the config keepalived runs, so no address or port
    expect(before.find('amphora_lvs_member_status', member(3))[0]?.labels).toEqual({ ...member(3), status: 'MAINT' });

    current = table(false);
    const after = parsePromText(await metrics.scrape());
    expect(after.value('amphora_lvs_member_up', member(1))).toBe(0);
    expect(after.value('amphora_lvs_member_in_ipvs', member(1))).toBe(0);
    expect(after.value('amphora_lvs_member_status', { ...member(1), status: 'DOWN' })).toBe(1);
    expect(after.find('amphora_lvs_member_bytes_in_total', member(1))).toEqual([]);
    expect(after.value('amphora_lvs_pool_up', { listener_id: LISTENER, pool_id: POOL })).toBe(1);
    expect(after.value('amphora_lvs_member_up', member(4))).toBe(1);
  });
});
